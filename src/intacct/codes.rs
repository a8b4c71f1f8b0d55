//! What Intacct errors mean for the caller: retry, re-authenticate, or give up.
//!
//! [`classify`] maps an [`IntacctFailure`] to a [`FailureClass`] from the reference's error
//! catalogue (§3.4, §3.5); [`is_retryable`] says whether sending the *same* request again
//! later can help: the rate limit, the concurrency limit and transient failures retry,
//! nothing else. The parser builds every failure through [`failure`], which stores its class
//! in it; that stored class is what `Error::is_retryable` reads. Unknown codes are
//! classified [`FailureClass::Unknown`] and are not retryable: retrying an error nobody
//! understands hides bugs and burns the tenant's quota.
//!
//! Rules, per `<error>` (the first that matches wins):
//! 1. **Concurrency limit** — any text (description, description2, correction) containing
//!    `concurren` (any case), whatever the errorno. The simulator signals an over-limit
//!    request as errorno `GW-0010` with description `Too many concurrent requests` (HTTP 429);
//!    any errorno with such a text is read the same way. Retryable.
//! 2. **Rate limit** — errorno `GW-0010`, or a text containing `rate limit` or
//!    `too many requests`. Retryable.
//! 3. By errorno: `XL03000009` transaction aborted (not retryable by itself: the function
//!    that caused the rollback decides); `DL02000001` transient (retryable: peers see it come
//!    and go); `PL04000005` permission denied; `Query Failed` query failed; `readMore failed`
//!    result id expired (retrying the readMore cannot help; restart the query);
//!    `XL03000006`, `XMLGW_JPP0002`, `GW-0011`, `invalidRequest` bad credentials;
//!    `XL03000003` (request schema error: a bug), `PL04000055` (company expired) and other
//!    `BL…`/`PL…` codes permanent.
//! 4. By text: `Please Try Again Later` or `temporarily` → transient; `permission` →
//!    permission denied; `unknown field` / `invalid field` → query failed.
//! 5. Otherwise unknown.
//!
//! At the authentication level every failure is [`FailureClass::SessionRefused`]: the gateway
//! refused the credentials or the session of this request (an expired session has no known
//! errorno, so the level is what counts). The client decides whether a new session helps (it
//! logs in again once); this layer does not retry it.
//!
//! A failure with several errors takes the most specific class: a transaction rollback
//! (`XL03000009`) only counts when no other error explains it.

pub use crate::error::FailureClass;
use crate::intacct::response::{ErrorDetail, ErrorLevel, IntacctFailure};

/// The failure a response reported, with its class computed once by the rules above, so
/// that `Error::is_retryable` reads the class and needs no knowledge of Intacct's codes.
pub(crate) fn failure(
    level: ErrorLevel,
    function: Option<String>,
    control_id: Option<String>,
    aborted: bool,
    errors: Vec<ErrorDetail>,
) -> IntacctFailure {
    let mut failure = IntacctFailure {
        level,
        function,
        control_id,
        aborted,
        errors,
        class: FailureClass::Unknown,
    };
    failure.class = classify(&failure);
    failure
}

/// The class of a failure (see the module documentation for the rules).
pub fn classify(failure: &IntacctFailure) -> FailureClass {
    if failure.level == ErrorLevel::Authentication {
        return FailureClass::SessionRefused;
    }
    let mut best = None;
    for error in &failure.errors {
        let class = classify_error(error);
        best = Some(match best {
            None => class,
            Some(current) if rank(class) > rank(current) => class,
            Some(current) => current,
        });
    }
    match best {
        Some(class) => class,
        None if failure.aborted => FailureClass::TransactionAborted,
        None => FailureClass::Unknown,
    }
}

/// How much a class explains a failure: a specific cause beats a rollback or an unknown.
fn rank(class: FailureClass) -> u8 {
    match class {
        FailureClass::Unknown => 0,
        FailureClass::TransactionAborted => 1,
        _ => 2,
    }
}

/// True when the same request may succeed if sent again later.
pub fn is_retryable(failure: &IntacctFailure) -> bool {
    classify(failure).is_retryable()
}

fn classify_error(error: &ErrorDetail) -> FailureClass {
    let texts = [&error.description, &error.description2, &error.correction];
    let any_text = |needle: &str| {
        texts
            .iter()
            .copied()
            .flatten()
            .any(|t| t.to_ascii_lowercase().contains(needle))
    };
    let errorno = error.errorno.trim();
    if any_text("concurren") {
        return FailureClass::ConcurrencyLimit;
    }
    if errorno.eq_ignore_ascii_case("GW-0010")
        || any_text("rate limit")
        || any_text("too many requests")
    {
        return FailureClass::RateLimited;
    }
    // The gateway reuses XL03000006 (bad credentials) for fields `query` refuses: "The
    // following fields cannot be queried: [ apbill: [PAYTOCONTACTNAME] ]" (intacct-sdk-js
    // issue 83). That is a query to change, not a session to renew.
    if any_text("cannot be queried") {
        return FailureClass::QueryFailed;
    }
    match errorno {
        "XL03000009" => return FailureClass::TransactionAborted,
        "DL02000001" => return FailureClass::Transient,
        "PL04000005" => return FailureClass::PermissionDenied,
        "XL03000006" | "XMLGW_JPP0002" | "GW-0011" | "invalidRequest" => {
            return FailureClass::BadCredentials;
        }
        "XL03000003" | "PL04000055" => return FailureClass::Permanent,
        _ => {}
    }
    if errorno.eq_ignore_ascii_case("Query Failed") {
        return FailureClass::QueryFailed;
    }
    if errorno.eq_ignore_ascii_case("readMore failed") {
        return FailureClass::ResultIdExpired;
    }
    if any_text("please try again later") || any_text("temporarily") {
        return FailureClass::Transient;
    }
    if any_text("permission") {
        return FailureClass::PermissionDenied;
    }
    if any_text("unknown field") || any_text("invalid field") {
        return FailureClass::QueryFailed;
    }
    let is_code = |prefix: &str| {
        errorno.len() == 10
            && errorno.starts_with(prefix)
            && errorno[2..].bytes().all(|b| b.is_ascii_digit())
    };
    if is_code("BL") || is_code("PL") {
        return FailureClass::Permanent;
    }
    FailureClass::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(errorno: &str, description2: Option<&str>, correction: Option<&str>) -> ErrorDetail {
        ErrorDetail {
            errorno: errorno.to_owned(),
            description: None,
            description2: description2.map(str::to_owned),
            correction: correction.map(str::to_owned),
        }
    }

    fn reported(level: ErrorLevel, aborted: bool, errors: Vec<ErrorDetail>) -> IntacctFailure {
        failure(
            level,
            Some("query".to_owned()),
            Some("c1".to_owned()),
            aborted,
            errors,
        )
    }

    fn result(errors: Vec<ErrorDetail>) -> IntacctFailure {
        reported(ErrorLevel::Result, false, errors)
    }

    #[test]
    fn rate_limit_is_retryable() {
        let f = reported(
            ErrorLevel::Control,
            false,
            vec![error("GW-0010", None, None)],
        );
        assert_eq!(classify(&f), FailureClass::RateLimited);
        assert!(is_retryable(&f));
        let text = result(vec![error("XYZ", Some("API rate limit exceeded"), None)]);
        assert_eq!(classify(&text), FailureClass::RateLimited);
    }

    #[test]
    fn concurrency_limit_is_retryable_and_beats_rate_limit() {
        let mut e = error("GW-0010", None, None);
        e.description = Some("Too many concurrent requests".to_owned());
        let f = reported(ErrorLevel::Control, false, vec![e]);
        assert_eq!(classify(&f), FailureClass::ConcurrencyLimit);
        assert!(is_retryable(&f));
    }

    #[test]
    fn authentication_failures_are_session_refused_not_retryable() {
        let f = reported(
            ErrorLevel::Authentication,
            false,
            vec![error(
                "XL03000006",
                Some("Sign-in information is incorrect"),
                None,
            )],
        );
        assert_eq!(classify(&f), FailureClass::SessionRefused);
        assert_eq!(classify(&f), FailureClass::SessionRefused);
        assert!(!is_retryable(&f));
    }

    #[test]
    fn bad_sender_credentials_at_control_level_are_fatal() {
        for code in ["XL03000006", "XMLGW_JPP0002"] {
            let f = reported(ErrorLevel::Control, false, vec![error(code, None, None)]);
            assert_eq!(classify(&f), FailureClass::BadCredentials, "{code}");
            assert!(!is_retryable(&f));
            assert_ne!(classify(&f), FailureClass::SessionRefused);
        }
    }

    #[test]
    fn rollback_alone_is_not_retryable_and_a_cause_wins() {
        let rollback = || error("XL03000009", Some("The entire transaction …"), None);
        let alone = reported(ErrorLevel::Result, true, vec![rollback()]);
        assert_eq!(classify(&alone), FailureClass::TransactionAborted);
        assert!(!is_retryable(&alone));
        let with_cause = reported(
            ErrorLevel::Result,
            true,
            vec![
                error(
                    "Query Failed",
                    Some("Object definition VENDOR9 not found"),
                    None,
                ),
                rollback(),
            ],
        );
        assert_eq!(classify(&with_cause), FailureClass::QueryFailed);
        let transient_cause = reported(
            ErrorLevel::Result,
            true,
            vec![rollback(), error("DL02000001", None, None)],
        );
        assert_eq!(classify(&transient_cause), FailureClass::Transient);
    }

    #[test]
    fn permanent_query_errors() {
        let cases = [
            (
                error(
                    "Query Failed",
                    Some("Object definition BADOBJECT not found"),
                    None,
                ),
                FailureClass::QueryFailed,
            ),
            (
                error("XYZ", Some("Unknown field FOO on VENDOR"), None),
                FailureClass::QueryFailed,
            ),
            (
                error("PL04000005", None, None),
                FailureClass::PermissionDenied,
            ),
            (
                error("XL03000003", Some("XML Parse schema error"), None),
                FailureClass::Permanent,
            ),
            (
                error(
                    "PL04000055",
                    Some("This company is a demo company and has expired."),
                    None,
                ),
                FailureClass::Permanent,
            ),
            (
                error("BL01001973", Some("Duplicate account number"), None),
                FailureClass::Permanent,
            ),
            (
                error(
                    "readMore failed",
                    Some("Attempt to readMore with an invalid or expired resultId: x"),
                    None,
                ),
                FailureClass::ResultIdExpired,
            ),
        ];
        for (e, expected) in cases {
            let f = result(vec![e.clone()]);
            assert_eq!(classify(&f), expected, "{e:?}");
            assert!(!is_retryable(&f), "{e:?}");
        }
    }

    #[test]
    fn transient_errors_are_retryable() {
        let dl = result(vec![error(
            "DL02000001",
            Some("There was an error processing the request."),
            None,
        )]);
        assert_eq!(classify(&dl), FailureClass::Transient);
        assert!(is_retryable(&dl));
        let later = result(vec![error("XX99", None, Some("Please Try Again Later"))]);
        assert_eq!(classify(&later), FailureClass::Transient);
        assert!(is_retryable(&later));
    }

    #[test]
    fn unknown_codes_are_not_retried() {
        let f = result(vec![error("XYZ123", Some("Something odd"), None)]);
        assert_eq!(classify(&f), FailureClass::Unknown);
        assert!(!is_retryable(&f));
        let none = result(vec![]);
        assert_eq!(classify(&none), FailureClass::Unknown);
        assert!(!is_retryable(&none));
    }
}
