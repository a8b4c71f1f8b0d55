//! Bodies that are not complete Intacct responses: each gives a specific
//! `MalformedResponse` kind, never a panic, never an empty success, and never shows a
//! session id.

use intacct_snowflake::Error;
use intacct_snowflake::error::MalformedKind;
use intacct_snowflake::intacct::parse_response;
use proptest::prelude::*;

use crate::support::intacct_bodies::{fixture_bytes, one_result};

fn kind_of(body: &[u8]) -> (MalformedKind, String) {
    match parse_response(body) {
        Err(e @ Error::MalformedResponse { .. }) => {
            let message = e.to_string();
            let Error::MalformedResponse { kind, .. } = e else {
                unreachable!()
            };
            (kind, message)
        }
        other => panic!(
            "expected a malformed-response error for {:?}, got {other:?}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ),
    }
}

const CLOUDFLARE_502: &str = r#"<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>api.intacct.com | 502: Bad gateway</title>
</head>
<body>
<div id="cf-wrapper"><div id="cf-error-details" class="p-0">
<h1>Bad gateway <span>Error code 502</span></h1>
</div></div>
</body>
</html>
"#;

#[test]
fn empty_and_blank_bodies() {
    assert_eq!(kind_of(b"").0, MalformedKind::Empty);
    assert_eq!(kind_of(b" \r\n\t ").0, MalformedKind::Empty);
    assert_eq!(kind_of(b"\xEF\xBB\xBF\n").0, MalformedKind::Empty);
}

#[test]
fn html_error_pages() {
    let (kind, message) = kind_of(CLOUDFLARE_502.as_bytes());
    assert_eq!(kind, MalformedKind::Html);
    assert!(message.contains("DOCTYPE"), "{message}");
    assert_eq!(
        kind_of(b"<html><body>Service Unavailable</body></html>").0,
        MalformedKind::Html
    );
    assert_eq!(
        kind_of(b"<?xml version=\"1.0\"?>\n<HTML><BODY>oops</BODY></HTML>").0,
        MalformedKind::Html
    );
    // Latin-1 HTML is still reported as HTML, not as bad UTF-8.
    assert_eq!(
        kind_of(b"<html><body>caf\xE9</body></html>").0,
        MalformedKind::Html
    );
}

#[test]
fn not_xml() {
    assert_eq!(kind_of(b"Bad Gateway").0, MalformedKind::NotXml);
    assert_eq!(
        kind_of(br#"[{"RECORDNO":"1010"}]"#).0,
        MalformedKind::NotXml
    );
    assert_eq!(
        kind_of(b"<response><control></response>").0,
        MalformedKind::NotXml
    );
    assert_eq!(kind_of(b"<!x>").0, MalformedKind::NotXml);
}

#[test]
fn invalid_utf8_names_its_offset() {
    let mut body = one_result(
        "query",
        "<data listtype=\"V\" count=\"1\"><V><A>ab</A></V></data>",
    )
    .into_bytes();
    let at = body.windows(2).position(|w| w == b"ab").unwrap() + 1;
    body[at] = 0xFF;
    let (kind, message) = kind_of(&body);
    assert_eq!(kind, MalformedKind::InvalidUtf8);
    assert!(message.contains(&format!("byte {at}")), "{message}");
}

#[test]
fn well_formed_xml_without_a_response_element() {
    let (kind, message) =
        kind_of(b"<?xml version=\"1.0\"?><result><status>success</status></result>");
    assert_eq!(kind, MalformedKind::NoResponseElement);
    assert!(message.contains("<result>"), "{message}");
}

#[test]
fn unexpected_structures() {
    let cases: &[&str] = &[
        "<response></response>",
        "<response/>",
        "<response><control><status>maybe</status></control></response>",
        "<response><control><status>success</status></control></response>",
        "<response><control><status>success</status></control><operation><result>\
         <status>success</status></result></operation></response>",
        "<response><control><status>success</status></control><operation><authentication>\
         <status>success</status></authentication><result><function>query</function></result>\
         </operation></response>",
        "<response><control><status>success</status></control></response><response/>",
    ];
    for body in cases {
        assert_eq!(
            kind_of(body.as_bytes()).0,
            MalformedKind::UnexpectedStructure,
            "{body}"
        );
    }
    let wrong_count = one_result(
        "query",
        "<data listtype=\"V\" count=\"5\"><V><A>1</A></V></data>",
    );
    assert_eq!(
        kind_of(wrong_count.as_bytes()).0,
        MalformedKind::UnexpectedStructure
    );
    let bad_number = one_result("query", "<data listtype=\"V\" totalcount=\"many\"></data>");
    assert_eq!(
        kind_of(bad_number.as_bytes()).0,
        MalformedKind::UnexpectedStructure
    );
}

#[test]
fn truncation_at_every_offset_of_real_fixtures() {
    for name in [
        "ResultTest.testLegacyReadByQueryClass.readByQuery-page1-of-2.xml",
        "OnlineResponseTest.testGetters.getAPISession-success.xml",
        "ResultTest.testStatusAbort.result-aborted-XL03000009.xml",
        "ResultTest.testLegacyGetListClass.legacy-get_list.xml",
    ] {
        let body = fixture_bytes(name);
        let end = body.windows(11).rposition(|w| w == b"</response>").unwrap() + 11;
        assert!(parse_response(&body[..end]).is_ok(), "{name} complete");
        for cut in 0..end {
            let (kind, message) = kind_of(&body[..cut]);
            let expected = if cut == 0 {
                MalformedKind::Empty
            } else {
                MalformedKind::Truncated
            };
            assert_eq!(kind, expected, "{name} cut at {cut}: {message}");
            assert!(
                !message.contains("fAk"),
                "{name} cut at {cut} shows the session id: {message}"
            );
            assert!(message.len() < 600, "{name} cut at {cut}: detail too long");
        }
    }
}

#[test]
fn truncation_inside_a_multibyte_character() {
    let body = one_result(
        "query",
        "<data listtype=\"V\" count=\"1\"><V><A>caf\u{e9}</A></V></data>",
    );
    let at = body.find('\u{e9}').unwrap() + 1;
    assert_eq!(kind_of(&body.as_bytes()[..at]).0, MalformedKind::Truncated);
}

#[test]
fn session_ids_never_reach_error_messages() {
    // Structure error right after the session id.
    let body = one_result(
        "getAPISession",
        "<data><api><sessionid>SeCrEtSeSsIoN..</sessionid><locationid></locationid></api></data>",
    );
    let (kind, message) = kind_of(body.as_bytes());
    assert_eq!(kind, MalformedKind::UnexpectedStructure);
    assert!(!message.contains("SeCrEt"), "{message}");
    // XML error right after it.
    let body = "<response><control><status>success</status></control><operation><authentication>\
        <status>success</status></authentication><result><status>success</status><data><api>\
        <sessionid>SeCrEtSeSsIoN..</sessionid></endpoint></api></data></result></operation></response>";
    let (kind, message) = kind_of(body.as_bytes());
    assert_eq!(kind, MalformedKind::NotXml);
    assert!(!message.contains("SeCrEt"), "{message}");
    // And a complete session response debug-prints no id.
    let ok = parse_response(&fixture_bytes(
        "OnlineResponseTest.testGetters.getAPISession-success.xml",
    ));
    assert!(!format!("{ok:?}").contains("fAkE"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_or_succeed_emptily(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(response) = parse_response(&body) {
            // Only a real envelope may succeed.
            prop_assert!(response.control.status == "success");
        }
    }

    #[test]
    fn mangled_fixture_bytes_never_panic(
        cut in 0usize..1940,
        flips in proptest::collection::vec((0usize..1940, any::<u8>()), 0..4),
    ) {
        let mut body = fixture_bytes("ResultTest.testLegacyReadByQueryClass.readByQuery-page1-of-2.xml");
        for (at, byte) in flips {
            if at < body.len() {
                body[at] = byte;
            }
        }
        body.truncate(cut.min(body.len()));
        let _ = parse_response(&body);
    }
}
