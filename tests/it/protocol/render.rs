//! Request rendering: exact bodies, every protocol limit, and the escaping round trip.

use intacct_snowflake::Error;
use intacct_snowflake::intacct::ResultData;
use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{
    Authentication, Call, Comparison, Filter, Function, OrderBy, Query, ReadByQuery, Request,
    SenderCredentials, escape_attr, escape_text, is_forbidden_xml_char, render_request,
};
use intacct_snowflake::secret::Secret;
use proptest::prelude::*;
use quick_xml::events::Event;

use crate::support::intacct_bodies::{one_result, records};

fn sender() -> SenderCredentials {
    SenderCredentials {
        sender_id: "SENDER_ID".to_owned(),
        sender_password: Secret::new("SENDER_PASSWORD"),
    }
}

fn request(authentication: Authentication, calls: Vec<Call>) -> Request {
    Request {
        control_id: "req-1".to_owned(),
        unique_id: false,
        transaction: false,
        authentication,
        functions: calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| Function {
                control_id: format!("f{i}"),
                call,
            })
            .collect(),
    }
}

fn session() -> Authentication {
    Authentication::Session(Secret::new("sess.."))
}

fn query(object: &str) -> Query {
    Query {
        object: object.to_owned(),
        select: vec!["RECORDNO".to_owned()],
        ..Query::default()
    }
}

fn render_error(call: Call) -> String {
    match render_request(&request(session(), vec![call]), &sender()) {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn get_api_session_with_login_renders_exactly() {
    let login = Authentication::Login {
        user_id: "USER_ID".to_owned(),
        company_id: "COMPANY_ID".to_owned(),
        password: Secret::new("USER_PASSWORD"),
        location_id: Some("ENTITY".to_owned()),
    };
    let body = render_request(
        &request(login, vec![Call::GetApiSession { location_id: None }]),
        &sender(),
    )
    .unwrap();
    let expected = concat!(
        r#"<?xml version="1.0" encoding="utf-8" ?>"#,
        "<request><control><senderid>SENDER_ID</senderid><password>SENDER_PASSWORD</password>",
        "<controlid>req-1</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>",
        "<includewhitespace>false</includewhitespace></control>",
        r#"<operation transaction="false"><authentication><login><userid>USER_ID</userid>"#,
        "<companyid>COMPANY_ID</companyid><password>USER_PASSWORD</password>",
        "<locationid>ENTITY</locationid></login></authentication>",
        r#"<content><function controlid="f0"><getAPISession/></function></content>"#,
        "</operation></request>"
    );
    assert_eq!(body, expected);
}

#[test]
fn get_api_session_with_session_and_entity() {
    let body = render_request(
        &request(
            session(),
            vec![Call::GetApiSession {
                location_id: Some("East & West".to_owned()),
            }],
        ),
        &sender(),
    )
    .unwrap();
    assert!(body.contains("<authentication><sessionid>sess..</sessionid></authentication>"));
    assert!(
        body.contains("<getAPISession><locationid>East &amp; West</locationid></getAPISession>")
    );
}

#[test]
fn query_with_nested_filter_renders_exactly() {
    let q = Query {
        object: "APBILL".to_owned(),
        select: vec!["RECORDNO".to_owned(), "VENDOR.NAME".to_owned()],
        filter: Some(Filter::And(vec![
            Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                "WHENMODIFIED",
                "01/31/2024 13:05:00",
            ),
            Filter::Or(vec![
                Filter::In {
                    field: "STATE".to_owned(),
                    values: vec!["Posted".to_owned(), "Paid".to_owned()],
                },
                Filter::IsNull {
                    field: "WHENPAID".to_owned(),
                },
                Filter::compare(Comparison::Like, "VENDORNAME", "Erik's <&> %"),
            ]),
            Filter::Between {
                field: "RECORDNO".to_owned(),
                low: "1".to_owned(),
                high: "9".to_owned(),
            },
            Filter::NotIn {
                field: "RECORDNO".to_owned(),
                values: vec!["5".to_owned()],
            },
            Filter::IsNotNull {
                field: "VENDORID".to_owned(),
            },
            Filter::compare(Comparison::NotLike, "MEMO", "x%"),
        ])),
        order_by: vec![
            OrderBy {
                field: "WHENMODIFIED".to_owned(),
                ascending: true,
            },
            OrderBy {
                field: "RECORDNO".to_owned(),
                ascending: false,
            },
        ],
        case_insensitive: true,
        show_private: true,
        page_size: Some(2000),
        offset: Some(0),
    };
    let body = render_request(&request(session(), vec![Call::Query(q)]), &sender()).unwrap();
    let expected = concat!(
        r#"<content><function controlid="f0"><query><object>APBILL</object>"#,
        "<select><field>RECORDNO</field><field>VENDOR.NAME</field></select>",
        "<filter><and>",
        "<greaterthanorequalto><field>WHENMODIFIED</field><value>01/31/2024 13:05:00</value></greaterthanorequalto>",
        "<or><in><field>STATE</field><value>Posted</value><value>Paid</value></in>",
        "<isnull><field>WHENPAID</field></isnull>",
        "<like><field>VENDORNAME</field><value>Erik&apos;s &lt;&amp;&gt; %</value></like></or>",
        "<between><field>RECORDNO</field><value>1</value><value>9</value></between>",
        "<notin><field>RECORDNO</field><value>5</value></notin>",
        "<isnotnull><field>VENDORID</field></isnotnull>",
        "<notlike><field>MEMO</field><value>x%</value></notlike>",
        "</and></filter>",
        "<orderby><order><field>WHENMODIFIED</field><ascending/></order>",
        "<order><field>RECORDNO</field><descending/></order></orderby>",
        "<options><caseinsensitive>true</caseinsensitive><showprivate>true</showprivate></options>",
        "<pagesize>2000</pagesize><offset>0</offset></query></function></content>"
    );
    assert!(body.contains(expected), "{body}");
}

#[test]
fn other_functions_render() {
    let calls = vec![
        Call::ReadByQuery(ReadByQuery {
            object: "VENDOR".to_owned(),
            fields: vec![],
            query: String::new(),
            page_size: Some(1000),
        }),
        Call::ReadByQuery(ReadByQuery {
            object: "APBILL".to_owned(),
            fields: vec!["RECORDNO".to_owned(), "WHENMODIFIED".to_owned()],
            query: "WHENMODIFIED >= '01/31/2024 13:05:00'".to_owned(),
            page_size: None,
        }),
        Call::ReadMore {
            result_id: "7765623330Vqb8".to_owned(),
        },
        Call::Read {
            object: "VENDOR".to_owned(),
            keys: vec!["1".to_owned(), "2".to_owned()],
            fields: vec![],
        },
        Call::Lookup {
            object: "GLBATCH".to_owned(),
        },
        Call::Inspect {
            object: "CUSTOMER".to_owned(),
            detail: true,
        },
        Call::Inspect {
            object: "*".to_owned(),
            detail: false,
        },
    ];
    let mut r = request(session(), calls);
    r.transaction = true;
    r.unique_id = true;
    let body = render_request(&r, &sender()).unwrap();
    for part in [
        "<uniqueid>true</uniqueid>",
        r#"<operation transaction="true">"#,
        r#"<function controlid="f0"><readByQuery><object>VENDOR</object><fields>*</fields><query/><pagesize>1000</pagesize></readByQuery></function>"#,
        "<readByQuery><object>APBILL</object><fields>RECORDNO,WHENMODIFIED</fields><query>WHENMODIFIED &gt;= &apos;01/31/2024 13:05:00&apos;</query></readByQuery>",
        "<readMore><resultId>7765623330Vqb8</resultId></readMore>",
        "<read><object>VENDOR</object><keys>1,2</keys><fields>*</fields></read>",
        "<lookup><object>GLBATCH</object></lookup>",
        r#"<inspect detail="1"><object>CUSTOMER</object></inspect>"#,
        "<inspect><object>*</object></inspect>",
    ] {
        assert!(body.contains(part), "missing {part} in {body}");
    }
}

#[test]
fn every_limit_is_enforced() {
    let with_page = |size| {
        Call::Query(Query {
            page_size: Some(size),
            ..query("VENDOR")
        })
    };
    assert!(render_error(with_page(0)).contains("pagesize 0"));
    assert!(render_error(with_page(2001)).contains("1..=2000"));
    assert!(render_request(&request(session(), vec![with_page(1)]), &sender()).is_ok());
    assert!(render_request(&request(session(), vec![with_page(2000)]), &sender()).is_ok());

    let rbq = |size| {
        Call::ReadByQuery(ReadByQuery {
            object: "VENDOR".to_owned(),
            page_size: Some(size),
            ..ReadByQuery::default()
        })
    };
    assert!(render_error(rbq(1001)).contains("1..=1000"));
    assert!(render_error(rbq(0)).contains("readByQuery pagesize 0"));
    assert!(render_request(&request(session(), vec![rbq(1000)]), &sender()).is_ok());

    let with_filter = |filter| {
        Call::Query(Query {
            filter: Some(filter),
            ..query("VENDOR")
        })
    };
    let values = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    let in_filter = |n| Filter::In {
        field: "RECORDNO".to_owned(),
        values: values(n),
    };
    assert!(render_error(with_filter(in_filter(1001))).contains("1001 values"));
    assert!(render_error(with_filter(in_filter(0))).contains("<in>"));
    assert!(
        render_error(with_filter(Filter::NotIn {
            field: "RECORDNO".to_owned(),
            values: values(1001),
        }))
        .contains("<notin>")
    );
    assert!(
        render_request(
            &request(session(), vec![with_filter(in_filter(1000))]),
            &sender()
        )
        .is_ok()
    );

    let leaf = || Filter::IsNull {
        field: "X".to_owned(),
    };
    assert!(render_error(with_filter(Filter::And(vec![leaf()]))).contains("<and>"));
    assert!(render_error(with_filter(Filter::Or(vec![]))).contains("<or>"));
    // Nested too.
    assert!(
        render_error(with_filter(Filter::And(vec![
            leaf(),
            Filter::Or(vec![leaf()])
        ])))
        .contains("<or>")
    );

    let empty_select = Call::Query(Query {
        select: vec![],
        ..query("VENDOR")
    });
    assert!(render_error(empty_select).contains("select"));

    let mut long_id = request(
        session(),
        vec![Call::Lookup {
            object: "X".to_owned(),
        }],
    );
    long_id.control_id = "x".repeat(257);
    assert!(
        matches!(render_request(&long_id, &sender()), Err(Error::InvalidRequest(m)) if m.contains("257"))
    );
    long_id.control_id = "x".repeat(256);
    assert!(render_request(&long_id, &sender()).is_ok());
    long_id.functions[0].control_id = "é".repeat(257);
    assert!(
        matches!(render_request(&long_id, &sender()), Err(Error::InvalidRequest(m)) if m.contains("function controlid"))
    );

    let mixed = request(
        session(),
        vec![
            Call::GetApiSession { location_id: None },
            Call::Lookup {
                object: "X".to_owned(),
            },
        ],
    );
    assert!(
        matches!(render_request(&mixed, &sender()), Err(Error::InvalidRequest(m)) if m.contains("getAPISession must be alone"))
    );
}

/// The text of every `<value>` element of a rendered request, read back by quick-xml.
fn values_read_back(body: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(body);
    let mut values = Vec::new();
    let mut current: Option<String> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(tag) if tag.name().0 == "value" => current = Some(String::new()),
            Event::Text(text) => {
                if let Some(v) = current.as_mut() {
                    v.push_str(&text.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(v) = current.as_mut() {
                    match r.resolve_char_ref().unwrap() {
                        Some(c) => v.push(c),
                        None => v.push_str(match &*r {
                            "lt" => "<",
                            "gt" => ">",
                            "amp" => "&",
                            "apos" => "'",
                            "quot" => "\"",
                            other => panic!("unexpected entity {other}"),
                        }),
                    }
                }
            }
            Event::End(tag) if tag.name().0 == "value" => values.push(current.take().unwrap()),
            Event::Eof => return values,
            _ => {}
        }
    }
}

fn without_forbidden(s: &str) -> String {
    s.chars().filter(|c| !is_forbidden_xml_char(*c)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn escaped_values_round_trip_through_a_rendered_request(s in any::<String>()) {
        let call = Call::Query(Query {
            filter: Some(Filter::compare(Comparison::EqualTo, "NAME", s.clone())),
            ..query("VENDOR")
        });
        let body = render_request(&request(session(), vec![call]), &sender()).unwrap();
        prop_assert_eq!(values_read_back(&body), vec![without_forbidden(&s)]);
    }

    #[test]
    fn escaped_values_round_trip_through_the_response_parser(s in any::<String>()) {
        let data = format!(
            "<data listtype=\"V\" count=\"1\"><V><A>{}</A><B x=\"{}\">{}</B></V></data>",
            escape_text(&s), escape_attr(&s), escape_text(&s),
        );
        let page = records(one_result("query", &data).as_bytes());
        let expected = without_forbidden(&s);
        let expected = if expected.is_empty() { None } else { Some(expected.as_str()) };
        prop_assert_eq!(page.get(0, "A"), expected);
        prop_assert_eq!(page.get(0, "B"), expected);
    }

    #[test]
    fn escaped_control_ids_round_trip(s in "[^\u{0}]{0,40}") {
        let mut r = request(session(), vec![Call::ReadMore { result_id: "r".to_owned() }]);
        r.functions[0].control_id = s.clone();
        let body = render_request(&r, &sender()).unwrap();
        let mut reader = quick_xml::Reader::from_str(&body);
        loop {
            match reader.read_event().unwrap() {
                Event::Start(tag) if tag.name().0 == "function" => {
                    let attr = tag.try_get_attribute("controlid").unwrap().unwrap();
                    let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap();
                    let expected = without_forbidden(&s);
                    prop_assert_eq!(value.as_ref(), expected.as_str());
                    break;
                }
                Event::Eof => panic!("no function element"),
                _ => {}
            }
        }
    }
}

#[test]
fn a_session_response_body_parses_after_rendering_its_request() {
    // Sanity: the parser reads what a simulator would answer to a rendered request.
    let body = one_result(
        "getAPISession",
        "<data><api><sessionid>abc..</sessionid><endpoint>http://127.0.0.1:1/ia/xml/xmlgw.phtml</endpoint><locationid></locationid></api></data>",
    );
    let response = parse_response(body.as_bytes()).unwrap();
    assert!(
        matches!(&response.results[0].outcome, Ok(ResultData::Session(s)) if s.session_id.expose() == "abc..")
    );
}
