//! An error Intacct reported inside a response body, as the crate error carries it.
//!
//! The types are the parser's output (see `crate::intacct::response`), kept here so the crate
//! error names them without importing the protocol. What a failure means for the caller (its
//! [`FailureClass`]) follows Intacct's error catalogue, which only the protocol knows: it is
//! computed once, when the parser builds the failure (`crate::intacct::codes`), and stored in
//! it, so `Error::is_retryable` reads the class instead of the codes.

use std::fmt;

/// Which of the three levels an Intacct error was reported at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorLevel {
    /// `response/control/status = failure`, or a gateway error (`GW-nnnn`).
    Control,
    /// `operation/authentication/status = failure`.
    Authentication,
    /// A `<result>` whose status is `failure` or `aborted`.
    Result,
}

/// One `<error>` of an `<errormessage>`, entities decoded, texts kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// `<errorno>`, as text (codes like `XL03000006`, `GW-0010`, or phrases like `Query Failed`).
    pub errorno: String,
    /// `<description>`; `None` when empty.
    pub description: Option<String>,
    /// `<description2>`; `None` when empty.
    pub description2: Option<String>,
    /// `<correction>`; `None` when empty.
    pub correction: Option<String>,
}

/// What kind of failure Intacct reported (the rules are in `crate::intacct::codes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// Too many requests in a short time (`GW-0010`). Retry after a backoff.
    RateLimited,
    /// Too many concurrent requests for the company. Retry with less concurrency.
    ConcurrencyLimit,
    /// Authentication refused (login or session). A new session may help once.
    SessionRefused,
    /// Sender or user credentials are wrong. Fatal.
    BadCredentials,
    /// Rolled back because another function in the transaction failed (`XL03000009`).
    TransactionAborted,
    /// The query itself is wrong: unknown object or field. Fatal for this query.
    QueryFailed,
    /// A `readMore` result id that is invalid or expired: restart the query.
    ResultIdExpired,
    /// The user lacks permission on the object (`PL04000005`).
    PermissionDenied,
    /// A server-side hiccup (`DL02000001`, "Please Try Again Later"). Retryable.
    Transient,
    /// A known error that retrying will not fix.
    Permanent,
    /// Nothing recognisable; treated as not retryable.
    Unknown,
}

impl FailureClass {
    /// True for the classes that a later retry of the same request may cure.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureClass::RateLimited | FailureClass::ConcurrencyLimit | FailureClass::Transient
        )
    }
}

/// An error reported inside a response body.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IntacctFailure {
    /// Where it was reported.
    pub level: ErrorLevel,
    /// `result/function` for result-level failures.
    pub function: Option<String>,
    /// `result/controlid` (result level) or `control/controlid` (control level).
    pub control_id: Option<String>,
    /// `true` when the result status was `aborted` (a rolled-back transaction).
    pub aborted: bool,
    /// Every `<error>`, in order; may be empty when Intacct sent none.
    pub errors: Vec<ErrorDetail>,
    /// The class of the failure, computed from the fields above when it was built.
    #[serde(skip)]
    pub(crate) class: FailureClass,
}

impl IntacctFailure {
    /// What the failure means for the caller: retry, re-authenticate, or give up.
    pub fn class(&self) -> FailureClass {
        self.class
    }
}

impl fmt::Display for IntacctFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            ErrorLevel::Control => "control",
            ErrorLevel::Authentication => "authentication",
            ErrorLevel::Result => "result",
        };
        write!(f, "Intacct {level}-level ")?;
        f.write_str(if self.aborted { "abort" } else { "failure" })?;
        if let Some(function) = &self.function {
            write!(f, " in {function}")?;
        }
        if let Some(id) = &self.control_id {
            write!(f, " (controlid {id})")?;
        }
        if self.errors.is_empty() {
            f.write_str(": no error detail in the response")?;
        }
        for (i, e) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            f.write_str(&e.errorno)?;
            for text in [&e.description, &e.description2, &e.correction]
                .into_iter()
                .flatten()
            {
                write!(f, " — {text}")?;
            }
        }
        Ok(())
    }
}
