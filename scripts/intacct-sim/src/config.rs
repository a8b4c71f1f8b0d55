//! The simulator's configuration and its documented test defaults.

use chrono::{DateTime, TimeZone, Utc};

use intacct_snowflake::secret::Secret;

use crate::dataset::{DatasetConfig, Scale};

/// Default Web Services sender id.
pub const DEFAULT_SENDER_ID: &str = "sim-sender";
/// Default sender password.
pub const DEFAULT_SENDER_PASSWORD: &str = "sim-sender-password";
/// Default company id.
pub const DEFAULT_COMPANY_ID: &str = "sim-company";
/// Default user id.
pub const DEFAULT_USER_ID: &str = "sim-user";
/// Default user password.
pub const DEFAULT_USER_PASSWORD: &str = "sim-user-password";

/// The credentials the simulator accepts (test values, never real ones).
#[derive(Clone, Debug)]
pub struct SimCredentials {
    /// `control/senderid`.
    pub sender_id: String,
    /// `control/password`.
    pub sender_password: Secret,
    /// `login/companyid` (compared case-insensitively, like Intacct).
    pub company_id: String,
    /// `login/userid` (compared case-insensitively).
    pub user_id: String,
    /// `login/password`.
    pub user_password: Secret,
}

impl Default for SimCredentials {
    fn default() -> Self {
        SimCredentials {
            sender_id: DEFAULT_SENDER_ID.into(),
            sender_password: Secret::new(DEFAULT_SENDER_PASSWORD),
            company_id: DEFAULT_COMPANY_ID.into(),
            user_id: DEFAULT_USER_ID.into(),
            user_password: Secret::new(DEFAULT_USER_PASSWORD),
        }
    }
}

/// The fixed default start of the simulated clock, so runs are reproducible.
pub(crate) fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Accepted credentials.
    pub credentials: SimCredentials,
    /// The dataset (seed, scale, start, tenant time zone).
    pub dataset: DatasetConfig,
    /// Session duration; the timeout slides with every request.
    pub session_timeout_secs: u64,
    /// How long a `readByQuery` resultId stays valid after its last use.
    pub result_id_ttl_secs: u64,
    /// Time each page of records takes to answer, counted from admission: the simulator's own
    /// work is part of it, so a page is never faster and no slower than this unless the work
    /// itself takes longer (models the real gateway's response time).
    pub latency_ms: u64,
    /// Requests in flight per company above which the gateway answers HTTP 429.
    pub max_concurrent: usize,
    /// Fault spec (see `crate::faults`); empty for none.
    pub faults: String,
    /// What `getAPISession` returns as `<endpoint>`; `None` for the server's own URL.
    pub advertised_endpoint: Option<String>,
    /// For benchmarks on `large`: count at most this many `query` matches past the page
    /// (when the order streams), making `totalcount`/`numremaining` lower bounds that stay
    /// non-zero while rows remain. `None` (the default) counts exactly.
    pub count_limit: Option<u64>,
    /// How long after its ACCESSTIME an AUDITHISTORY row becomes readable, in seconds (the
    /// real audit trail lags by up to two hours; default
    /// `dataset::DEFAULT_AUDIT_LAG_SECS`).
    pub audit_lag_secs: i64,
    /// The API user's formatting preferences, as `readUserFormatting` reports them.
    pub user_formatting: SimUserFormatting,
    /// A `query` of a line object with more records than this, sorted by anything but its
    /// RECORDNO, times out (`DL02000001`) as the real gateway's does on large line objects;
    /// `u64::MAX` never (default [`DEFAULT_SORT_TIMEOUT_ROWS`]).
    pub sort_timeout_rows: u64,
    /// A multi-entity company (see `crate::entities`); `None` (the default): one
    /// company whose every record every session sees.
    pub multi_entity: Option<crate::entities::MultiEntity>,
    /// Objects the API user's role may not read (upper case): `query`, `readByQuery` and
    /// `read` of them fail with the gateway's permission refusal (`read_refusal`); `lookup`
    /// still describes them, as it does on a real tenant.
    pub denied_objects: Vec<String>,
}

/// The result-level error (errorno, description2) a read of `object` gets when the API user's
/// role may not read it, for the function `operation` (`QUERY`, `READ_BY_QUERY`, `READ`).
///
/// Evidence, and what is guessed: a role without an object's permission gets `PL04000005`
/// "You do not have permission for API operation READ_BY_QUERY" (reported by an integration
/// blocked on it for weeks; estuary's source-sage-intacct probes every object for PL04000005).
/// AUDITHISTORY is different: its denials "arrive without an errorno" and carry the text "do
/// not have permission to view audit history" (estuary's connector matches that text, case
/// folded, for exactly this reason). The full sentences and their capitalisation are guesses
/// built around those fragments.
pub(crate) fn read_refusal(object: &str, operation: &str) -> (String, String) {
    if object.eq_ignore_ascii_case("AUDITHISTORY") {
        (
            String::new(),
            "You do not have permission to view audit history.".to_owned(),
        )
    } else {
        (
            "PL04000005".to_owned(),
            format!(
                "You do not have permission for API operation {operation} on objects of type {}.",
                object.to_ascii_lowercase()
            ),
        )
    }
}

/// The default [`SimConfig::sort_timeout_rows`]: the size of line object past which a sort on
/// a non-key field is refused. The real threshold depends on the tenant's data and load and is
/// not published; connectors report timeouts on line objects of a few hundred thousand rows,
/// and the harsher (smaller) guess here makes every large-data test and benchmark meet it.
pub const DEFAULT_SORT_TIMEOUT_ROWS: u64 = 20_000;

/// The API user's preferences (Company > Admin > Users > preferences on a real tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUserFormatting {
    /// `locale`, e.g. `en_US`.
    pub locale: String,
    /// `dateformat`: `/mdY` is MM/DD/YYYY; `/dmY` DD/MM/YYYY; `-Ymd` YYYY-MM-DD.
    pub date_format: String,
    /// `clock`: `24` or `12`.
    pub clock: String,
    /// `gmtoffset` (`-0800`); `None`: the dataset time zone's offset at the simulated now.
    pub gmt_offset: Option<String>,
}

impl Default for SimUserFormatting {
    fn default() -> Self {
        SimUserFormatting {
            locale: "en_US".into(),
            date_format: "/mdY".into(),
            clock: "24".into(),
            gmt_offset: None,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            credentials: SimCredentials::default(),
            dataset: DatasetConfig {
                seed: 1,
                scale: Scale::Demo,
                start: default_start(),
                time_zone: chrono_tz::America::Los_Angeles,
            },
            session_timeout_secs: 3600,
            result_id_ttl_secs: 1800,
            latency_ms: 0,
            max_concurrent: 4,
            faults: String::new(),
            advertised_endpoint: None,
            count_limit: None,
            audit_lag_secs: crate::dataset::DEFAULT_AUDIT_LAG_SECS,
            sort_timeout_rows: DEFAULT_SORT_TIMEOUT_ROWS,
            user_formatting: SimUserFormatting::default(),
            multi_entity: None,
            denied_objects: Vec::new(),
        }
    }
}
