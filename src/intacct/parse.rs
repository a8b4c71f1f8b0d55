//! The streaming parser for Intacct response bodies.

use crate::error::Result;
use crate::intacct::response::Response;

/// Parses a whole response body.
pub fn parse_response(body: &[u8]) -> Result<Response> {
    let _ = body;
    todo!("streaming response parser")
}
