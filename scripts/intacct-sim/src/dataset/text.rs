//! Words, names, addresses and hostile strings.
//!
//! Invariants: nothing produced here contains a character XML 1.0 cannot carry (C0 controls
//! other than TAB, LF and CR; U+FFFE; U+FFFF), because the ground truth must equal what a
//! correct client can receive. Hostile strings do carry TAB, LF, CR, `&`, `<`, `>`, `]]>`,
//! both quotes, emoji, CJK, combining marks, right-to-left text, zero-width characters,
//! edge whitespace and, rarely, more than 10 000 characters.

use super::hash::Draw;

const COMPANY_FIRST: &[&str] = &[
    "Acme",
    "Summit",
    "Pioneer",
    "Keystone",
    "Harbor",
    "Granite",
    "Liberty",
    "Atlas",
    "Evergreen",
    "Northwind",
    "Bluewater",
    "Redwood",
    "Ironclad",
    "Silverline",
    "Cascade",
    "Frontier",
    "Heritage",
    "Sterling",
    "Meridian",
    "Beacon",
    "Tri-State",
    "Great Lakes",
    "Coastal",
    "Prairie",
    "Bay State",
    "Lone Star",
    "Capitol",
    "Midway",
    "Union",
    "Allied",
];
const COMPANY_CORE: &[&str] = &[
    "Industrial",
    "Packaging",
    "Logistics",
    "Fasteners",
    "Electrical",
    "Plumbing",
    "Janitorial",
    "Office",
    "Safety",
    "Hydraulics",
    "Tooling",
    "Freight",
    "Paper",
    "Chemical",
    "Lighting",
    "HVAC",
    "Pallet",
    "Bearing",
    "Steel",
    "Label",
];
const COMPANY_LAST: &[&str] = &[
    "Supply Co.",
    "Inc.",
    "LLC",
    "Corp.",
    "Distributors",
    "Group",
    "Partners",
    "Wholesale",
    "Ltd.",
    "Services",
];
const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Maria",
    "Wei",
    "Priya",
    "Ahmed",
    "Olga",
    "Kenji",
    "Fatima",
    "Luis",
    "Grace",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Nguyen",
    "Patel",
    "Kowalski",
    "Okafor",
    "Chen",
];
const JOB_TITLES: &[&str] = &[
    "Warehouse Associate",
    "Forklift Operator",
    "Inside Sales Rep",
    "AP Specialist",
    "Purchasing Manager",
    "Branch Manager",
    "Driver",
    "Controller",
    "Customer Service Rep",
    "Inventory Analyst",
    "Dispatcher",
    "Staff Accountant",
];
const STREETS: &[&str] = &[
    "Main St",
    "Industrial Pkwy",
    "Commerce Dr",
    "Harbor Blvd",
    "Elm St",
    "Warehouse Rd",
    "Route 9",
    "Distribution Way",
    "Enterprise Ave",
    "Railroad St",
    "Depot Ln",
    "Mill Rd",
];
const UNITS: &[&str] = &[
    "Suite 100",
    "Unit B",
    "Dock 4",
    "Bldg 2",
    "PO Box 118",
    "Floor 3",
];

/// (city, state, first three ZIP digits); about half the ZIPs start with `0`.
const CITIES: &[(&str, &str, &str)] = &[
    ("Boston", "MA", "021"),
    ("Worcester", "MA", "016"),
    ("Providence", "RI", "029"),
    ("Hartford", "CT", "061"),
    ("Newark", "NJ", "071"),
    ("Trenton", "NJ", "086"),
    ("Portland", "ME", "041"),
    ("Burlington", "VT", "054"),
    ("Manchester", "NH", "031"),
    ("San Juan", "PR", "009"),
    ("Mayaguez", "PR", "006"),
    ("Springfield", "MA", "011"),
    ("Chicago", "IL", "606"),
    ("Dallas", "TX", "752"),
    ("Atlanta", "GA", "303"),
    ("Denver", "CO", "802"),
    ("Seattle", "WA", "981"),
    ("Phoenix", "AZ", "850"),
    ("Columbus", "OH", "432"),
    ("Memphis", "TN", "381"),
    ("Reno", "NV", "895"),
    ("Kansas City", "MO", "641"),
    ("Charlotte", "NC", "282"),
    ("Sacramento", "CA", "958"),
];

const ITEMS: &[&str] = &[
    "pallet wrap",
    "corrugated boxes",
    "forklift tires",
    "LED high-bay fixtures",
    "nitrile gloves",
    "packing tape",
    "floor scrubber parts",
    "shelving uprights",
    "inbound freight",
    "dock seals",
    "label stock",
    "hydraulic hoses",
    "janitorial supplies",
    "safety vests",
];
const VERBS: &[&str] = &[
    "Restock of",
    "Replacement",
    "Quarterly order:",
    "Rush order",
    "Monthly service for",
    "Blanket PO release:",
    "Credit rebill for",
];

/// GL account titles.
pub(crate) const ACCOUNT_TITLES: &[&str] = &[
    "Cash - Operating",
    "Accounts Receivable",
    "Inventory - Finished Goods",
    "Prepaid Expenses",
    "Accounts Payable",
    "Accrued Liabilities",
    "Sales - Wholesale",
    "Cost of Goods Sold",
    "Freight In",
    "Freight Out",
    "Warehouse Supplies",
    "Rent Expense",
    "Utilities",
    "Repairs & Maintenance",
    "Vehicle Fuel",
    "Office Supplies",
    "Professional Fees",
    "Insurance",
    "Depreciation",
    "Bank Fees",
];
/// Department titles.
pub(crate) const DEPARTMENT_TITLES: &[&str] = &[
    "Warehouse Operations",
    "Purchasing",
    "Sales",
    "Finance",
    "Fleet",
    "Customer Service",
    "IT",
    "Human Resources",
    "Receiving",
    "Shipping",
];
/// Location names.
pub(crate) const LOCATION_NAMES: &[&str] = &[
    "Boston DC",
    "Newark DC",
    "Chicago DC",
    "Dallas DC",
    "Atlanta Branch",
    "Denver Branch",
    "San Juan Branch",
    "Seattle Branch",
    "Hartford Branch",
    "Phoenix Branch",
];
/// Class names.
pub(crate) const CLASS_NAMES: &[&str] = &[
    "Industrial",
    "Janitorial",
    "Packaging",
    "Safety",
    "Electrical",
    "Plumbing",
    "Retail",
    "Government",
];
/// Project names.
pub(crate) const PROJECT_NAMES: &[&str] = &[
    "Racking Upgrade",
    "WMS Rollout",
    "Fleet Refresh",
    "Dock Expansion",
    "Solar Retrofit",
    "Vendor Consolidation",
    "Customer Portal",
];

/// A company name from a draw.
pub(crate) fn company_name(d: &mut Draw) -> String {
    format!(
        "{} {} {}",
        d.pick(COMPANY_FIRST),
        d.pick(COMPANY_CORE),
        d.pick(COMPANY_LAST)
    )
}

/// A company's web domain from the same draw position as [`company_name`].
pub(crate) fn company_domain(d: &mut Draw) -> String {
    let first = d.pick(COMPANY_FIRST);
    let core = d.pick(COMPANY_CORE);
    let mut domain: String = first
        .chars()
        .chain(core.chars())
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    domain.push_str(".com");
    domain
}

/// (first, last) from a draw.
pub(crate) fn person(d: &mut Draw) -> (&'static str, &'static str) {
    (*d.pick(FIRST_NAMES), *d.pick(LAST_NAMES))
}

/// A job title.
pub(crate) fn job_title(d: &mut Draw) -> &'static str {
    JOB_TITLES[d.below(JOB_TITLES.len() as u64) as usize]
}

/// An address from a draw: (line 1, line 2, city, state, zip, country).
pub(crate) struct Address {
    pub(crate) line1: String,
    pub(crate) line2: Option<&'static str>,
    pub(crate) city: &'static str,
    pub(crate) state: &'static str,
    pub(crate) zip: String,
    pub(crate) country: &'static str,
}

/// An address; ZIP codes keep their leading zeros, some are ZIP+4.
pub(crate) fn address(d: &mut Draw) -> Address {
    let number = d.range(1, 9_999);
    let street = d.pick(STREETS);
    let line2 = if d.per_mille(250) {
        Some(*d.pick(UNITS))
    } else {
        None
    };
    let (city, state, zip3) = *d.pick(CITIES);
    let mut zip = format!("{zip3}{:02}", d.below(100));
    if d.per_mille(150) {
        zip.push_str(&format!("-{:04}", d.below(10_000)));
    }
    Address {
        line1: format!("{number} {street}"),
        line2,
        city,
        state,
        zip,
        country: "United States",
    }
}

/// A short business description.
pub(crate) fn sentence(d: &mut Draw) -> String {
    let (city, _, _) = *d.pick(CITIES);
    format!(
        "{} {} {} for {} DC",
        d.pick(VERBS),
        d.range(1, 400),
        d.pick(ITEMS),
        city
    )
}

/// Hostile fragments; `{}` is replaced by the ordinary value.
const HOSTILE: &[&str] = &[
    "{} & Sons",
    "<b>{}</b> <script>alert('x')</script>",
    "{} ]]> <![CDATA[ nested ]]>",
    "\"{}\" O'Brien's",
    "{}\tTabbed\tvalue",
    "{}\nsecond line\r\nthird line",
    "{} 📦🚚✨",
    "{} 東京都港区 株式会社",
    "Cafe\u{301} {} Zo\u{308}e",
    "{} שלום مرحبا",
    "{}\u{200B}zero\u{200D}width",
    "  {}  ",
    "&amp; {} &lt;not an entity&gt; &#39;",
    "{} 100% \\ back\\slash",
    "{} Ⅻ ½ № €",
];

/// With probability 1 %, makes `value` hostile; with `long` allowed, 1 in 8 hostile values
/// is a string of more than 10 000 characters. `d` is a draw dedicated to this decision.
pub(crate) fn maybe_hostile(value: String, long: bool, d: &mut Draw) -> String {
    if !d.per_mille(10) {
        return value;
    }
    if long && d.below(8) == 0 {
        return long_text(&value, d);
    }
    d.pick(HOSTILE).replacen("{}", &value, 1)
}

/// More than 10 000 characters mixing ASCII, markup, multi-byte characters and newlines.
fn long_text(value: &str, d: &mut Draw) -> String {
    const PIECES: &[&str] = &[
        "lorem ipsum dolor sit amet ",
        "R&D <spec> ",
        "ünïcödé ",
        "長い文字列 ",
        "🚚 ",
        "\n",
        "]]> ",
    ];
    let target = 10_000 + d.below(6_000) as usize;
    let mut out = String::with_capacity(target * 2);
    out.push_str(value);
    out.push(' ');
    while out.chars().count() < target {
        for _ in 0..64 {
            out.push_str(PIECES[d.below(PIECES.len() as u64) as usize]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hostile_template_has_exactly_one_placeholder() {
        for h in HOSTILE {
            assert_eq!(h.matches("{}").count(), 1, "{h}");
        }
    }

    #[test]
    fn zips_are_five_digits_or_zip_plus_four_and_some_start_with_zero() {
        let mut leading_zero = 0;
        for i in 0..500 {
            let a = address(&mut Draw::new(&[i]));
            let (five, rest) = a.zip.split_at(5);
            assert!(five.chars().all(|c| c.is_ascii_digit()), "{}", a.zip);
            assert!(
                rest.is_empty() || rest.len() == 5 && rest.starts_with('-'),
                "{}",
                a.zip
            );
            leading_zero += usize::from(a.zip.starts_with('0'));
        }
        assert!(leading_zero > 100);
    }

    #[test]
    fn long_hostile_text_is_long() {
        let s = long_text("x", &mut Draw::new(&[7]));
        assert!(s.chars().count() >= 10_000);
    }
}
