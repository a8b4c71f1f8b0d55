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

/// A response envelope put together from parts, any of which may be missing, misnamed or
/// say failure; every other element is as Intacct writes it.
#[derive(Clone, Debug)]
struct Envelope {
    root: &'static str,
    /// `<control>` with this status; `None`: no `<control>`.
    control: Option<&'static str>,
    /// An `<errormessage>` beside `<control>`.
    control_error: bool,
    operation: Option<Operation>,
    /// An `<acknowledgement>` (the answer to an asynchronous request).
    acknowledgement: bool,
    /// An element the parser does not know, holding a `<status>` of its own.
    unknown: bool,
    /// An element after the root's end.
    trailing: bool,
}

#[derive(Clone, Debug)]
struct Operation {
    /// `<authentication>` with this status; `None`: no `<authentication>`.
    authentication: Option<&'static str>,
    /// An `<errormessage>` beside `<authentication>`.
    error: bool,
    /// One `<result>` each: true for one that succeeded, false for one that failed.
    results: Vec<bool>,
}

const ERROR: &str = "<errormessage><error><errorno>XL03000006</errorno>\
    <description>d</description><description2>d2</description2><correction/></error></errormessage>";

impl Envelope {
    fn body(&self) -> String {
        let mut inner = String::new();
        if self.unknown {
            inner.push_str("<note><status>failure</status></note>");
        }
        if let Some(status) = self.control {
            inner.push_str(&format!(
                "<control><status>{status}</status><senderid>s</senderid>\
                 <controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
            ));
        }
        if self.control_error {
            inner.push_str(ERROR);
        }
        if let Some(operation) = &self.operation {
            inner.push_str("<operation>");
            if let Some(status) = operation.authentication {
                inner.push_str(&format!(
                    "<authentication><status>{status}</status><userid>u</userid>\
                     <companyid>co</companyid></authentication>"
                ));
            }
            if operation.error {
                inner.push_str(ERROR);
            }
            for (i, succeeded) in operation.results.iter().enumerate() {
                let (status, data) = if *succeeded {
                    ("success", "<data listtype=\"X\" count=\"0\"></data>")
                } else {
                    ("failure", ERROR)
                };
                inner.push_str(&format!(
                    "<result><status>{status}</status><function>query</function>\
                     <controlid>f{i}</controlid>{data}</result>"
                ));
            }
            inner.push_str("</operation>");
        }
        if self.acknowledgement {
            inner.push_str("<acknowledgement><status>success</status></acknowledgement>");
        }
        let root = self.root;
        let mut body =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>{inner}</{root}>\n");
        if self.trailing {
            body.push_str("<response/>");
        }
        body
    }

    /// Intacct's rule (reference §3): a response is `<response>` and nothing after it, whose
    /// control level said success with no error, and whose authentication level did too, or
    /// which acknowledges an asynchronous request instead of holding an operation.
    fn is_response(&self) -> bool {
        let success = |status: &str| status.trim() == "success";
        let control = self.control.is_some_and(success) && !self.control_error;
        let rest = match &self.operation {
            Some(operation) => operation.authentication.is_some_and(success) && !operation.error,
            None => self.acknowledgement,
        };
        self.root == "response" && !self.trailing && control && rest
    }
}

/// Statuses as a level might write them; most say success, so whole envelopes often do.
fn status() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just("success"),
        1 => Just(" success\n"),
        2 => Just("failure"),
        1 => Just(""),
        1 => Just("SUCCESS"),
        1 => Just("aborted"),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    let operation = (
        prop::option::weighted(0.9, status()),
        prop::bool::weighted(0.15),
        prop::collection::vec(prop::bool::weighted(0.7), 0..3),
    )
        .prop_map(|(authentication, error, results)| Operation {
            authentication,
            error,
            results,
        });
    (
        prop_oneof![8 => Just("response"), 1 => Just("Response"), 1 => Just("html")],
        prop::option::weighted(0.9, status()),
        prop::bool::weighted(0.15),
        prop::option::weighted(0.85, operation),
        prop::bool::weighted(0.3),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(root, control, control_error, operation, acknowledgement, unknown, trailing)| {
                Envelope {
                    root,
                    control,
                    control_error,
                    operation,
                    acknowledgement,
                    unknown,
                    trailing,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn only_a_response_whose_every_level_succeeded_parses(envelope in envelope()) {
        match parse_response(envelope.body().as_bytes()) {
            Ok(response) => {
                prop_assert!(envelope.is_response(), "parsed: {:?}", envelope);
                prop_assert_eq!(response.control.status.trim(), "success");
                prop_assert_eq!(response.authentication.is_some(), envelope.operation.is_some());
                // Every result kept, in order, with its own outcome.
                let outcomes: Vec<bool> =
                    response.results.iter().map(|r| r.outcome.is_ok()).collect();
                let results = envelope.operation.map(|o| o.results).unwrap_or_default();
                prop_assert_eq!(outcomes, results);
            }
            Err(error) => prop_assert!(!envelope.is_response(), "{:?}: {}", envelope, error),
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
