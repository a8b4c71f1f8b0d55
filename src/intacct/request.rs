//! Request envelopes for the Intacct XML gateway: types and their rendering to XML.
//!
//! Owns the shape of what we send: `<request><control>…</control><operation>…</operation>`
//! with one or more `<function controlid=…>` elements, exactly as the reference describes.
//! Rendering is a pure function from values to a `String`; no IO happens here.
//!
//! Invariants:
//! * every text value and attribute passes through [`escape_text`] / [`escape_attr`], which
//!   first strip characters XML 1.0 forbids (C0 controls except TAB, LF, CR; U+FFFE, U+FFFF)
//!   and then escape `& < > " '`;
//! * secrets are read with [`Secret::expose`] only while writing the body.

use std::borrow::Cow;

use crate::secret::Secret;

/// Sender (Web Services partner) credentials, sent in `<control>` on every request.
#[derive(Clone, Debug)]
pub struct SenderCredentials {
    /// `<senderid>`.
    pub sender_id: String,
    /// `<password>` in `<control>`.
    pub sender_password: Secret,
}

/// The `<authentication>` block of an operation.
#[derive(Clone, Debug)]
pub enum Authentication {
    /// `<login>` with user credentials; used only for `getAPISession`.
    Login {
        /// `<userid>`.
        user_id: String,
        /// `<companyid>`.
        company_id: String,
        /// `<password>`.
        password: Secret,
        /// Optional `<locationid>` (entity).
        location_id: Option<String>,
    },
    /// `<sessionid>` from an earlier `getAPISession`.
    Session(Secret),
}

/// One whole request: control block, one operation, one or more functions.
#[derive(Clone, Debug)]
pub struct Request {
    /// `control/controlid`: correlates the request in logs; not checked for uniqueness.
    pub control_id: String,
    /// `control/uniqueid`: `false` for reads, so a retried read is allowed to run again.
    pub unique_id: bool,
    /// `operation@transaction`.
    pub transaction: bool,
    /// How the operation authenticates.
    pub authentication: Authentication,
    /// The functions, answered by one `<result>` each, in order.
    pub functions: Vec<Function>,
}

/// One `<function controlid=…>` element.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The `controlid` attribute, echoed back as `result/controlid`.
    pub control_id: String,
    /// What the function does.
    pub call: Call,
}

/// The function element inside `<function>`.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// `<getAPISession>` with an optional `<locationid>`.
    GetApiSession {
        /// Entity to scope the session to.
        location_id: Option<String>,
    },
    /// The generic `<query>` function.
    Query(Query),
    /// Legacy `<readByQuery>`.
    ReadByQuery(ReadByQuery),
    /// `<readMore><resultId>…</resultId></readMore>`.
    ReadMore {
        /// The `resultId` of an earlier `readByQuery`.
        result_id: String,
    },
    /// `<read>` by RECORDNO keys.
    Read {
        /// Object name, e.g. `VENDOR`.
        object: String,
        /// RECORDNO values.
        keys: Vec<String>,
        /// Field list; empty means `*`.
        fields: Vec<String>,
    },
    /// `<lookup><object>…</object></lookup>`: field metadata of one object.
    Lookup {
        /// Object name.
        object: String,
    },
    /// `<inspect detail="1|0"><object>…</object></inspect>`.
    Inspect {
        /// Object name, or `*` for the list of objects.
        object: String,
        /// `detail="1"` gives types and lengths.
        detail: bool,
    },
}

/// The generic `query` function.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    /// `<object>`.
    pub object: String,
    /// `<select><field>…` in order; must not be empty.
    pub select: Vec<String>,
    /// `<filter>` with exactly one top-level operator.
    pub filter: Option<Filter>,
    /// `<orderby>` entries, in order.
    pub order_by: Vec<OrderBy>,
    /// `<options><caseinsensitive>`.
    pub case_insensitive: bool,
    /// `<options><showprivate>` (multi-entity).
    pub show_private: bool,
    /// `<pagesize>`, 1..=2000.
    pub page_size: Option<u32>,
    /// `<offset>`.
    pub offset: Option<u32>,
}

/// One `<order>` of an `<orderby>`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    /// Field name.
    pub field: String,
    /// `<ascending/>` when true, `<descending/>` when false.
    pub ascending: bool,
}

/// A comparison operator that takes one field and one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<equalto>`.
    EqualTo,
    /// `<notequalto>`.
    NotEqualTo,
    /// `<lessthan>`.
    LessThan,
    /// `<lessthanorequalto>`.
    LessThanOrEqualTo,
    /// `<greaterthan>`.
    GreaterThan,
    /// `<greaterthanorequalto>`.
    GreaterThanOrEqualTo,
    /// `<like>` (`%` and `_` wildcards).
    Like,
    /// `<notlike>`.
    NotLike,
}

impl Comparison {
    /// The element name used on the wire.
    pub fn element(self) -> &'static str {
        match self {
            Comparison::EqualTo => "equalto",
            Comparison::NotEqualTo => "notequalto",
            Comparison::LessThan => "lessthan",
            Comparison::LessThanOrEqualTo => "lessthanorequalto",
            Comparison::GreaterThan => "greaterthan",
            Comparison::GreaterThanOrEqualTo => "greaterthanorequalto",
            Comparison::Like => "like",
            Comparison::NotLike => "notlike",
        }
    }

    /// The operator named by a wire element, if it is one.
    pub fn from_element(name: &str) -> Option<Comparison> {
        Some(match name {
            "equalto" => Comparison::EqualTo,
            "notequalto" => Comparison::NotEqualTo,
            "lessthan" => Comparison::LessThan,
            "lessthanorequalto" => Comparison::LessThanOrEqualTo,
            "greaterthan" => Comparison::GreaterThan,
            "greaterthanorequalto" => Comparison::GreaterThanOrEqualTo,
            "like" => Comparison::Like,
            "notlike" => Comparison::NotLike,
            _ => return None,
        })
    }
}

/// A `query` filter tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `<and>` with two or more children.
    And(Vec<Filter>),
    /// `<or>` with two or more children.
    Or(Vec<Filter>),
    /// A one-value comparison.
    Compare {
        /// The operator.
        op: Comparison,
        /// Field name.
        field: String,
        /// Value as text, in the tenant's format for dates.
        value: String,
    },
    /// `<between>`: exactly two values, lower first.
    Between {
        /// Field name.
        field: String,
        /// Lower bound.
        low: String,
        /// Upper bound.
        high: String,
    },
    /// `<in>` with 1..=1000 values.
    In {
        /// Field name.
        field: String,
        /// Values.
        values: Vec<String>,
    },
    /// `<notin>` with 1..=1000 values.
    NotIn {
        /// Field name.
        field: String,
        /// Values.
        values: Vec<String>,
    },
    /// `<isnull>`.
    IsNull {
        /// Field name.
        field: String,
    },
    /// `<isnotnull>`.
    IsNotNull {
        /// Field name.
        field: String,
    },
}

impl Filter {
    /// A one-value comparison, for brevity at call sites.
    pub fn compare(op: Comparison, field: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Compare {
            op,
            field: field.into(),
            value: value.into(),
        }
    }
}

/// The legacy `readByQuery` function.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReadByQuery {
    /// `<object>`.
    pub object: String,
    /// `<fields>`; empty means `*`.
    pub fields: Vec<String>,
    /// `<query>` string (may be empty).
    pub query: String,
    /// `<pagesize>`, 1..=1000.
    pub page_size: Option<u32>,
}

/// Renders a request envelope as the XML body to POST.
///
/// Fails with [`crate::Error::InvalidRequest`] when a value breaks a protocol limit.
pub fn render_request(request: &Request, sender: &SenderCredentials) -> crate::Result<String> {
    let _ = (request, sender);
    todo!("render the request envelope")
}

/// True for characters XML 1.0 does not allow in a document, raw or as a reference:
/// C0 controls other than TAB, LF and CR, and the non-characters U+FFFE and U+FFFF.
/// (Lone surrogates cannot occur in a Rust `str`.)
pub fn is_forbidden_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Removes characters XML 1.0 forbids (see [`is_forbidden_xml_char`]); borrows when none.
pub fn strip_forbidden(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_forbidden_xml_char) {
        Cow::Owned(
            text.chars()
                .filter(|c| !is_forbidden_xml_char(*c))
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Text content made safe for an element: forbidden characters stripped first, then
/// `& < > " '` escaped. Stripping comes first so that no escape sequence is ever split.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    let stripped = strip_forbidden(text);
    if !stripped.contains(['&', '<', '>', '"', '\'']) {
        return stripped;
    }
    let mut out = String::with_capacity(stripped.len() + 16);
    for c in stripped.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An attribute value made safe for a double-quoted attribute; the same rule as
/// [`escape_text`], which already escapes both quote characters.
pub fn escape_attr(text: &str) -> Cow<'_, str> {
    escape_text(text)
}
