//! What Intacct error numbers mean for the caller: retry, re-authenticate, or give up.

use crate::intacct::response::IntacctFailure;

/// True when the same request may succeed if sent again later.
pub fn is_retryable(failure: &IntacctFailure) -> bool {
    let _ = failure;
    todo!("classify Intacct error codes")
}
