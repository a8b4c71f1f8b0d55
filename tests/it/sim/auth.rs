//! Sender and login checks, sessions, multi-function requests, transactions, uniqueid.

use intacct_sim::Scale;
use intacct_snowflake::Error;
use intacct_snowflake::intacct::{Authentication, Call, ReadByQuery};
use intacct_snowflake::intacct::{ErrorLevel, ResultData};

use super::*;

fn session_auth(id: &str) -> Authentication {
    Authentication::Session(Secret::new(id))
}

fn lookup(control_id: &str, object: &str) -> Function {
    function(
        control_id,
        Call::Lookup {
            object: object.into(),
        },
    )
}

fn failure(
    result: intacct_snowflake::Result<Response>,
) -> intacct_snowflake::intacct::IntacctFailure {
    match result {
        Err(Error::Intacct(failure)) => failure,
        other => panic!("expected an Intacct failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_sender_fails_at_the_control_level() {
    let sim = start(config(Scale::Tiny)).await;
    let wrong = SenderCredentials {
        sender_id: DEFAULT_SENDER_ID.into(),
        sender_password: Secret::new("wrong"),
    };
    let body = render_request(
        &request(
            login(),
            vec![function("s", Call::GetApiSession { location_id: None })],
        ),
        &wrong,
    )
    .unwrap();
    let (status, _, text) = sim.post_raw(body).await;
    assert_eq!(status, 200);
    assert!(
        !text.contains("<operation>"),
        "no operation after a control failure"
    );
    let failure = failure(parse_response(text.as_bytes()));
    assert_eq!(failure.level, ErrorLevel::Control);
    assert_eq!(failure.errors[0].errorno, "XL03000006");
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("Incorrect Intacct XML Partner ID or password.")
    );
}

#[tokio::test]
async fn a_bad_login_fails_at_the_authentication_level_like_the_fixture() {
    let sim = start(config(Scale::Tiny)).await;
    let bad = Authentication::Login {
        user_id: DEFAULT_USER_ID.into(),
        company_id: DEFAULT_COMPANY_ID.into(),
        password: Secret::new("nope"),
        location_id: None,
    };
    let failure = failure(
        sim.send(&request(
            bad,
            vec![function("s", Call::GetApiSession { location_id: None })],
        ))
        .await,
    );
    assert_eq!(failure.level, ErrorLevel::Authentication);
    assert_eq!(failure.errors[0].errorno, "XL03000006");
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("Sign-in information is incorrect")
    );
    assert_eq!(sim.handle.counters().await.unwrap()["sessions_opened"], 0);
}

#[tokio::test]
async fn a_session_is_reused_and_unknown_or_expired_sessions_fail_authentication() {
    let mut config = config(Scale::Tiny);
    config.session_timeout_secs = 1;
    let sim = start(config).await;
    let (session, _) = sim.session().await;
    // Reuse: two requests on one session.
    for _ in 0..2 {
        let response = sim
            .send(&request(
                session_auth(&session),
                vec![lookup("l", "VENDOR")],
            ))
            .await
            .expect("session works");
        let auth = response.authentication.expect("authentication block");
        assert!(auth.session_timestamp.is_some() && auth.session_timeout.is_some());
    }
    assert_eq!(sim.handle.counters().await.unwrap()["sessions_opened"], 1);

    let unknown = failure(
        sim.send(&request(
            session_auth("made-up.."),
            vec![lookup("l", "VENDOR")],
        ))
        .await,
    );
    assert_eq!(unknown.level, ErrorLevel::Authentication);
    assert_eq!(unknown.errors[0].errorno, "XL03000006");

    // Idle longer than the (sliding) timeout.
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let expired = failure(
        sim.send(&request(
            session_auth(&session),
            vec![lookup("l", "VENDOR")],
        ))
        .await,
    );
    assert_eq!(expired.level, ErrorLevel::Authentication);
    assert_eq!(expired.errors[0].errorno, "XL03000006");
}

#[tokio::test]
async fn sessions_can_be_expired_through_the_admin_api() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    assert_eq!(sim.handle.expire_sessions().await.unwrap()["expired"], 1);
    let expired = failure(
        sim.send(&request(
            session_auth(&session),
            vec![lookup("l", "VENDOR")],
        ))
        .await,
    );
    assert_eq!(expired.level, ErrorLevel::Authentication);
}

#[tokio::test]
async fn several_functions_get_one_result_each_in_order() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let response = sim
        .send(&request(
            session_auth(&session),
            vec![
                lookup("a", "VENDOR"),
                lookup("b", "NOSUCHOBJECT"),
                lookup("c", "APBILL"),
            ],
        ))
        .await
        .unwrap();
    let ids: Vec<&str> = response
        .results
        .iter()
        .map(|r| r.control_id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(response.results[0].outcome.is_ok());
    let failed = response.results[1].outcome.as_ref().unwrap_err();
    assert_eq!(failed.errors[0].errorno, "Query Failed");
    assert_eq!(
        failed.errors[0].description2.as_deref(),
        Some("Object definition NOSUCHOBJECT not found")
    );
    assert!(matches!(
        response.results[2].outcome,
        Ok(ResultData::Objects(_))
    ));
}

#[tokio::test]
async fn a_failing_function_in_a_transaction_aborts_the_others_with_xl03000009() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let mut req = request(
        session_auth(&session),
        vec![
            lookup("a", "VENDOR"),
            lookup("b", "VENDOR9"),
            lookup("c", "APBILL"),
        ],
    );
    req.transaction = true;
    let response = sim.send(&req).await.unwrap();
    assert_eq!(response.results.len(), 3);
    let a = response.results[0].outcome.as_ref().unwrap_err();
    assert!(a.aborted);
    assert_eq!(a.errors.last().unwrap().errorno, "XL03000009");
    let b = response.results[1].outcome.as_ref().unwrap_err();
    assert!(!b.aborted, "the failing function keeps status failure");
    let codes: Vec<&str> = b.errors.iter().map(|e| e.errorno.as_str()).collect();
    assert_eq!(codes, ["Query Failed", "XL03000009"]);
    assert_eq!(
        b.errors[1].description2.as_deref(),
        Some("The entire transaction in this operation has been rolled back due to an error.")
    );
    let c = response.results[2].outcome.as_ref().unwrap_err();
    assert!(c.aborted);
    assert_eq!(c.errors[0].errorno, "XL03000009");
}

#[tokio::test]
async fn uniqueid_true_refuses_a_repeated_function_controlid() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let mut req = request(session_auth(&session), vec![lookup("once", "VENDOR")]);
    req.unique_id = true;
    assert!(sim.send(&req).await.unwrap().results[0].outcome.is_ok());
    let again = sim.send(&req).await.unwrap();
    let failure = again.results[0].outcome.as_ref().unwrap_err();
    assert_eq!(failure.errors[0].errorno, "XL03000010");
    // With uniqueid=false the same controlid runs again.
    req.unique_id = false;
    assert!(sim.send(&req).await.unwrap().results[0].outcome.is_ok());
}

#[tokio::test]
async fn malformed_xml_fails_at_the_control_level_with_a_support_id() {
    let sim = start(config(Scale::Tiny)).await;
    let (status, _, text) = sim
        .post_raw("<request><control><senderid>x</senderid></contro></request>".into())
        .await;
    assert_eq!(status, 200);
    let failure = failure(parse_response(text.as_bytes()));
    assert_eq!(failure.level, ErrorLevel::Control);
    assert_eq!(failure.errors[0].errorno, "XL03000003");
    assert!(
        failure.errors[0]
            .description2
            .as_deref()
            .unwrap()
            .contains("[Support ID: ")
    );
}

#[tokio::test]
async fn an_in_list_over_1000_values_is_a_schema_error() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let values: String = (0..1001).map(|i| format!("<value>{i}</value>")).collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><request><control><senderid>{DEFAULT_SENDER_ID}</senderid>\
         <password>{DEFAULT_SENDER_PASSWORD}</password><controlid>c</controlid><uniqueid>false</uniqueid>\
         <dtdversion>3.0</dtdversion></control><operation><authentication><sessionid>{session}</sessionid>\
         </authentication><content><function controlid=\"q\"><query><object>VENDOR</object><select>\
         <field>RECORDNO</field></select><filter><in><field>RECORDNO</field>{values}</in></filter></query>\
         </function></content></operation></request>"
    );
    let (_, _, text) = sim.post_raw(body).await;
    let failure = failure(parse_response(text.as_bytes()));
    assert_eq!(failure.errors[0].errorno, "XL03000003");
}

#[tokio::test]
async fn unknown_fields_and_oversized_pages_fail_the_result() {
    let sim = start(config(Scale::Tiny)).await;
    let (session, _) = sim.session().await;
    let mut bad_select = query("VENDOR", None, &[]);
    bad_select.select = vec!["RECORDNO".into(), "FOO".into()];
    let mut big_page = query("VENDOR", None, &[]);
    big_page.page_size = Some(2001);
    let bad_rbq = ReadByQuery {
        object: "VENDOR".into(),
        fields: vec![],
        query: String::new(),
        page_size: Some(1001),
    };
    let mut bad_filter = query("VENDOR", None, &[]);
    bad_filter.filter = Some(intacct_snowflake::intacct::Filter::IsNull {
        field: "BAR".into(),
    });
    for (call, expected) in [
        (Call::Query(bad_select), "Invalid field(s) in select: FOO"),
        (Call::Query(big_page), "pagesize must be between 1 and 2000"),
        (
            Call::ReadByQuery(bad_rbq),
            "pagesize must be between 1 and 1000",
        ),
        (Call::Query(bad_filter), "Invalid field(s) in filter: BAR"),
    ] {
        // The protocol renderer refuses oversized pages, so these go out hand-rendered.
        let body = render_unchecked(&session, call);
        let (_, _, text) = sim.post_raw(body).await;
        let response = parse_response(text.as_bytes()).unwrap();
        let failure = response.results[0].outcome.as_ref().unwrap_err();
        assert_eq!(failure.errors[0].errorno, "Query Failed");
        assert!(
            failure.errors[0]
                .description2
                .as_deref()
                .unwrap()
                .starts_with(expected),
            "{:?}",
            failure.errors[0]
        );
    }
}

/// Renders a one-function request without the protocol layer's limit checks.
fn render_unchecked(session: &str, call: Call) -> String {
    let inner = match call {
        Call::Query(q) => {
            let fields: String = q
                .select
                .iter()
                .map(|f| format!("<field>{f}</field>"))
                .collect();
            let filter = match q.filter {
                Some(intacct_snowflake::intacct::Filter::IsNull { field }) => {
                    format!("<filter><isnull><field>{field}</field></isnull></filter>")
                }
                _ => String::new(),
            };
            format!(
                "<query><object>{}</object><select>{fields}</select>{filter}<pagesize>{}</pagesize></query>",
                q.object,
                q.page_size.unwrap_or(100)
            )
        }
        Call::ReadByQuery(r) => format!(
            "<readByQuery><object>{}</object><fields>*</fields><query></query><pagesize>{}</pagesize></readByQuery>",
            r.object,
            r.page_size.unwrap_or(100)
        ),
        other => panic!("not rendered here: {other:?}"),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><request><control><senderid>{DEFAULT_SENDER_ID}</senderid>\
         <password>{DEFAULT_SENDER_PASSWORD}</password><controlid>c</controlid><uniqueid>false</uniqueid>\
         <dtdversion>3.0</dtdversion></control><operation><authentication><sessionid>{session}</sessionid>\
         </authentication><content><function controlid=\"f\">{inner}</function></content></operation></request>"
    )
}
