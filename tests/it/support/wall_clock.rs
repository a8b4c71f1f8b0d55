//! Tenant wall-clock text as UTC instants, worked out without the crate's time code and
//! without chrono-tz, so a wrong daylight-saving choice in the code under test cannot confirm
//! itself.
//!
//! Two sources, each independent of `intacct::tenant_time`:
//! * [`DST_EDGES`]: local times around both DST changes of the zones the tests configure
//!   (the simulator's Los Angeles, the stage tests' New York) and of zones that change the
//!   other way round (London's offset of zero, Sydney's southern summer, Lord Howe's
//!   half-hour shift), each with its UTC instant worked out by hand;
//! * [`WallClock`]: any other text, converted by Python's `zoneinfo` (the pinned pytools venv,
//!   over the system's tz database).
//!
//! The rule both follow, as `intacct::tenant_time` documents it:
//! * a local time that happens twice (the autumn change) is the **earlier** instant, the one
//!   still on summer time. The text cannot say which of the two it meant; the earlier one never
//!   dates a change after it happened, so a window or cursor built on it can only re-read a
//!   record (which the MERGE absorbs), never pass one by; the later one could date a change an
//!   hour after it was made;
//! * a local time that never happens (the spring gap) is read with the offset in force before
//!   the gap, as a clock that has not jumped yet would mean it: 02:30 in a one-hour gap is the
//!   instant shown as 03:30 after it.
//!
//! That is PEP 495's `fold=0` reading, which is what the Python side asks `zoneinfo` for.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};

/// One local time with the instant it must be read as.
pub(crate) struct Edge {
    /// IANA zone name.
    pub(crate) zone: &'static str,
    /// Wall-clock text as Intacct writes it.
    pub(crate) local: &'static str,
    /// The instant it must be read as, RFC 3339 in UTC, worked out by hand from the offsets
    /// in the comments.
    pub(crate) utc: &'static str,
    pub(crate) kind: Kind,
}

/// What kind of local time an [`Edge`] is.
pub(crate) enum Kind {
    /// Happens once.
    Once,
    /// A date: its midnight, which happens once.
    Date,
    /// Happens twice: `utc` is the earlier instant, `later` the other one, which a clock
    /// shows as the same text.
    Twice { later: &'static str },
    /// Never happens (the spring gap): `utc` is read with the offset before the gap, and a
    /// clock shows that instant as `shown`.
    Skipped { shown: &'static str },
}

const fn once(zone: &'static str, local: &'static str, utc: &'static str) -> Edge {
    Edge {
        zone,
        local,
        utc,
        kind: Kind::Once,
    }
}

const fn date(zone: &'static str, local: &'static str, utc: &'static str) -> Edge {
    Edge {
        zone,
        local,
        utc,
        kind: Kind::Date,
    }
}

const fn twice(
    zone: &'static str,
    local: &'static str,
    utc: &'static str,
    later: &'static str,
) -> Edge {
    Edge {
        zone,
        local,
        utc,
        kind: Kind::Twice { later },
    }
}

const fn skipped(
    zone: &'static str,
    local: &'static str,
    utc: &'static str,
    shown: &'static str,
) -> Edge {
    Edge {
        zone,
        local,
        utc,
        kind: Kind::Skipped { shown },
    }
}

const LA: &str = "America/Los_Angeles";
const NY: &str = "America/New_York";
const LONDON: &str = "Europe/London";
const SYDNEY: &str = "Australia/Sydney";
const LORD_HOWE: &str = "Australia/Lord_Howe";

/// Local times around the DST changes, and the instants they must be read as.
#[rustfmt::skip]
pub(crate) const DST_EDGES: &[Edge] = &[
    // Los Angeles: PST is UTC-8, PDT UTC-7. 2024-03-10 02:00 PST jumps to 03:00 PDT;
    // 2024-11-03 02:00 PDT falls back to 01:00 PST.
    once(LA, "01/15/2024 12:00:00", "2024-01-15T20:00:00Z"),
    once(LA, "07/15/2024 12:00:00", "2024-07-15T19:00:00Z"),
    date(LA, "03/10/2024", "2024-03-10T08:00:00Z"),
    once(LA, "03/10/2024 01:59:59", "2024-03-10T09:59:59Z"),
    skipped(LA, "03/10/2024 02:00:00", "2024-03-10T10:00:00Z", "03/10/2024 03:00:00"),
    skipped(LA, "03/10/2024 02:30:00", "2024-03-10T10:30:00Z", "03/10/2024 03:30:00"),
    skipped(LA, "03/10/2024 02:59:59", "2024-03-10T10:59:59Z", "03/10/2024 03:59:59"),
    once(LA, "03/10/2024 03:00:00", "2024-03-10T10:00:00Z"),
    date(LA, "11/03/2024", "2024-11-03T07:00:00Z"),
    once(LA, "11/03/2024 00:59:59", "2024-11-03T07:59:59Z"),
    twice(LA, "11/03/2024 01:00:00", "2024-11-03T08:00:00Z", "2024-11-03T09:00:00Z"),
    twice(LA, "11/03/2024 01:30:00", "2024-11-03T08:30:00Z", "2024-11-03T09:30:00Z"),
    // In the simulator's demo data.
    twice(LA, "11/03/2024 01:33:42", "2024-11-03T08:33:42Z", "2024-11-03T09:33:42Z"),
    twice(LA, "11/03/2024 01:59:59", "2024-11-03T08:59:59Z", "2024-11-03T09:59:59Z"),
    once(LA, "11/03/2024 02:00:00", "2024-11-03T10:00:00Z"),
    // New York: EST is UTC-5, EDT UTC-4. 2020-11-01 02:00 EDT falls back to 01:00 EST;
    // 2021-03-14 02:00 EST jumps to 03:00 EDT.
    twice(NY, "11/01/2020 01:30:00", "2020-11-01T05:30:00Z", "2020-11-01T06:30:00Z"),
    once(NY, "11/01/2020 02:00:00", "2020-11-01T07:00:00Z"),
    skipped(NY, "03/14/2021 02:30:00", "2021-03-14T07:30:00Z", "03/14/2021 03:30:00"),
    once(NY, "03/14/2021 03:00:00", "2021-03-14T07:00:00Z"),
    // London: GMT is UTC+0, BST UTC+1. 2024-03-31 01:00 GMT jumps to 02:00 BST;
    // 2024-10-27 02:00 BST falls back to 01:00 GMT.
    skipped(LONDON, "03/31/2024 01:30:00", "2024-03-31T01:30:00Z", "03/31/2024 02:30:00"),
    once(LONDON, "03/31/2024 02:00:00", "2024-03-31T01:00:00Z"),
    twice(LONDON, "10/27/2024 01:30:00", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"),
    once(LONDON, "10/27/2024 02:00:00", "2024-10-27T02:00:00Z"),
    // Sydney, summer at the turn of the calendar year: AEST is UTC+10, AEDT UTC+11.
    // 2024-04-07 03:00 AEDT falls back to 02:00 AEST; 2024-10-06 02:00 AEST jumps to 03:00.
    twice(SYDNEY, "04/07/2024 02:30:00", "2024-04-06T15:30:00Z", "2024-04-06T16:30:00Z"),
    once(SYDNEY, "04/07/2024 03:00:00", "2024-04-06T17:00:00Z"),
    skipped(SYDNEY, "10/06/2024 02:30:00", "2024-10-05T16:30:00Z", "10/06/2024 03:30:00"),
    once(SYDNEY, "10/06/2024 03:00:00", "2024-10-05T16:00:00Z"),
    // Lord Howe moves by half an hour: UTC+10:30 in winter, UTC+11 in summer.
    // 2024-04-07 02:00 (+11) falls back to 01:30; 2024-10-06 02:00 (+10:30) jumps to 02:30.
    twice(LORD_HOWE, "04/07/2024 01:45:00", "2024-04-06T14:45:00Z", "2024-04-06T15:15:00Z"),
    skipped(LORD_HOWE, "10/06/2024 02:15:00", "2024-10-05T15:45:00Z", "10/06/2024 02:45:00"),
];

/// The DST edges of `zone`.
pub(crate) fn dst_edges(zone: &str) -> impl Iterator<Item = &'static Edge> {
    DST_EDGES.iter().filter(move |e| e.zone == zone)
}

/// Converts tenant text (`MM/DD/YYYY HH:MM:SS`, or `MM/DD/YYYY` for midnight) in one zone:
/// reads a JSON `{"zone", "texts"}` on stdin, writes `{text: unix seconds}`.
const CONVERT: &str = r#"
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo

request = json.load(sys.stdin)
zone = ZoneInfo(request["zone"])
out = {}
for text in request["texts"]:
    for form in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            local = datetime.strptime(text.strip(), form)
            break
        except ValueError:
            pass
    else:
        sys.exit(f"not tenant wall-clock text: {text!r}")
    # fold=0: the earlier of a repeated time; a skipped time with the offset before the gap.
    out[text] = int(local.replace(tzinfo=zone, fold=0).timestamp())
json.dump(out, sys.stdout)
"#;

/// An instant written as the table writes them, RFC 3339.
pub(crate) fn instant(text: &str) -> DateTime<Utc> {
    text.parse().expect("a pinned instant is RFC 3339")
}

/// Tenant wall-clock texts of one zone, each with its instant by Python's `zoneinfo`.
pub(crate) struct WallClock {
    zone: String,
    instants: BTreeMap<String, DateTime<Utc>>,
}

impl WallClock {
    /// Converts every text of `texts` (one Python process for all of them).
    pub(crate) fn of<'a>(zone: &str, texts: impl IntoIterator<Item = &'a str>) -> WallClock {
        let texts: Vec<&str> = texts.into_iter().collect();
        let mut child = Command::new(super::pytools_python())
            .args(["-c", CONVERT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python starts");
        let request = serde_json::json!({ "zone": zone, "texts": texts });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.to_string().as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "zoneinfo: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let seconds: BTreeMap<String, i64> = serde_json::from_slice(&output.stdout).unwrap();
        let instants = seconds
            .into_iter()
            .map(|(text, secs)| (text, DateTime::from_timestamp(secs, 0).unwrap()))
            .collect();
        WallClock {
            zone: zone.to_owned(),
            instants,
        }
    }

    /// The instant of `text`, which must be one of the texts converted.
    pub(crate) fn instant(&self, text: &str) -> DateTime<Utc> {
        *self
            .instants
            .get(text)
            .unwrap_or_else(|| panic!("{text:?} was not converted in {}", self.zone))
    }
}
