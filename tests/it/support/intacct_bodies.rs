//! Intacct response bodies for the parser tests: Sage's vendored fixtures, and envelopes
//! written by hand around a `<data>` element.

use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{RecordPage, ResultData};

use super::intacct_fixture;

/// The bytes of `tests/fixtures/intacct/<name>`.
pub(crate) fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(intacct_fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A successful response with one result whose `<data>` is `data`.
pub(crate) fn one_result(function: &str, data: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><control><status>success</status>\
         <senderid>s</senderid><controlid>c</controlid><uniqueid>false</uniqueid>\
         <dtdversion>3.0</dtdversion></control><operation><authentication><status>success</status>\
         <userid>u</userid><companyid>co</companyid></authentication><result><status>success</status>\
         <function>{function}</function><controlid>f1</controlid>{data}</result></operation></response>\n"
    )
}

/// The record page of a body holding one successful result.
pub(crate) fn records(body: &[u8]) -> RecordPage {
    let response = parse_response(body).unwrap_or_else(|e| panic!("{e}"));
    match response.results.into_iter().next().unwrap().outcome {
        Ok(ResultData::Records(page)) => page,
        other => panic!("expected records, got {other:?}"),
    }
}
