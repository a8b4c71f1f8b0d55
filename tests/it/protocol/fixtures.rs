//! Every XML fixture in `tests/fixtures/intacct/` and what it must parse into. Expected
//! values are read off the fixture files by hand.

use intacct_snowflake::Error;
use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{
    ErrorLevel, IntacctFailure, IntacctType, RecordPage, Response, ResultData,
};
use intacct_snowflake::intacct::{FailureClass, classify};

use crate::support::intacct_bodies::fixture_bytes;
use crate::support::intacct_fixture;

/// Every fixture with a test below; `every_fixture_has_a_test` keeps this list honest.
const COVERED: &[&str] = &[
    "AccountTest.testGetAllByQuerySuccess.1.readByQuery-page1.xml",
    "AccountTest.testGetAllByQuerySuccess.2.readMore-page2-last.xml",
    "InspectClassResponse.xml",
    "OnlineClientTest.testExecuteBatchTransactionResultException.transaction-rollback-multi-result.xml",
    "OnlineClientTest.testLogger.readByQuery-single-page.xml",
    "OnlineResponseTest.testAuthenticationFailure.auth-failure-XL03000006.xml",
    "OnlineResponseTest.testGetters.getAPISession-success.xml",
    "OnlineResponseTest.testResponseExceptionWithErrors.control-failure-PL04000055.xml",
    "QueryClientTest.testUnsuccessfulReadMore.2.readMore-expired-resultId.xml",
    "RequestHandlerTest.testMock400LevelErrorWithXmlResponse.http401-XMLGW_JPP0002.xml",
    "RequestHandlerTest.testMockExecuteAsynchronous.offline-acknowledgement.xml",
    "ResultTest.setUp.readByQuery-empty.xml",
    "ResultTest.testGetErrors.result-failure-query-failed.xml",
    "ResultTest.testLegacyGetListClass.legacy-get_list.xml",
    "ResultTest.testLegacyReadByQueryClass.readByQuery-page1-of-2.xml",
    "ResultTest.testReadClass.read-success.xml",
    "ResultTest.testStatusAbort.result-aborted-XL03000009.xml",
    "SdkTest.testReadByQueryFailure.result-failure-DL02000001.xml",
    "SessionProviderTest.testFromLoginCredentialsWithEntity.getAPISession-entity.xml",
];

fn parse(name: &str) -> Result<Response, Error> {
    parse_response(&fixture_bytes(name))
}

fn ok(name: &str) -> Response {
    parse(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The single result's record page.
fn page(name: &str) -> RecordPage {
    let response = ok(name);
    assert_eq!(response.results.len(), 1, "{name}");
    match response.results.into_iter().next().unwrap().outcome {
        Ok(ResultData::Records(page)) => page,
        other => panic!("{name}: expected records, got {other:?}"),
    }
}

/// The single result's failure.
fn result_failure(name: &str) -> IntacctFailure {
    let response = ok(name);
    assert_eq!(response.results.len(), 1, "{name}");
    let result = response.results.into_iter().next().unwrap();
    let failure = result.outcome.expect_err("the result failed");
    assert_eq!(failure.level, ErrorLevel::Result);
    assert_eq!(failure.function.as_deref(), Some(result.function.as_str()));
    assert_eq!(
        failure.control_id.as_deref(),
        Some(result.control_id.as_str())
    );
    failure
}

fn envelope_failure(name: &str) -> IntacctFailure {
    match parse(name) {
        Err(Error::Intacct(failure)) => failure,
        other => panic!("{name}: expected an Intacct failure, got {other:?}"),
    }
}

#[test]
fn every_fixture_has_a_test() {
    let dir = intacct_fixture("");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".xml") && !COVERED.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fixtures without a test: {missing:?}");
    for name in COVERED {
        assert!(dir.join(name).exists(), "{name} is listed but missing");
    }
}

#[test]
fn readbyquery_page_1_of_2_class() {
    let name = "ResultTest.testLegacyReadByQueryClass.readByQuery-page1-of-2.xml";
    let response = ok(name);
    assert_eq!(response.control.status, "success");
    assert_eq!(
        response.control.control_id.as_deref(),
        Some("ControlIdHere")
    );
    let auth = response.authentication.as_ref().unwrap();
    assert_eq!(auth.user_id.as_deref(), Some("fakeuser"));
    assert_eq!(auth.location_id, None);
    assert_eq!(
        auth.session_timeout.as_deref(),
        Some("2015-10-26T10:08:34-07:00")
    );
    assert_eq!(response.results[0].function, "readByQuery");
    assert_eq!(
        response.results[0].control_id,
        "818b0a96-3faf-4931-97e6-1cf05818ea44"
    );
    let page = page(name);
    assert_eq!(page.list_type.as_deref(), Some("class"));
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(page.offset, None);
    assert_eq!(page.result_id.as_deref(), Some("myResultId"));
    assert_eq!(page.len(), 1);
    let expected_columns = [
        "RECORDNO",
        "CLASSID",
        "NAME",
        "DESCRIPTION",
        "STATUS",
        "PARENTKEY",
        "PARENTID",
        "PARENTNAME",
        "WHENCREATED",
        "WHENMODIFIED",
        "CREATEDBY",
        "MODIFIEDBY",
        "MEGAENTITYKEY",
        "MEGAENTITYID",
        "MEGAENTITYNAME",
    ];
    assert_eq!(page.columns(), expected_columns);
    assert_eq!(page.get(0, "RECORDNO"), Some("8"));
    assert_eq!(page.get(0, "CLASSID"), Some("C1234"));
    assert_eq!(page.get(0, "NAME"), Some("hello world"));
    assert_eq!(page.get(0, "DESCRIPTION"), None);
    assert_eq!(page.get(0, "STATUS"), Some("active"));
    assert_eq!(page.get(0, "PARENTKEY"), None);
    assert_eq!(page.get(0, "WHENCREATED"), Some("07/24/2017 15:19:46"));
    assert_eq!(page.get(0, "WHENMODIFIED"), Some("07/24/2017 15:19:46"));
    assert_eq!(page.get(0, "CREATEDBY"), Some("9"));
    assert_eq!(page.get(0, "MEGAENTITYNAME"), None);
    assert_eq!(page.get(0, "NOSUCHCOLUMN"), None);
    let row: Vec<Option<&str>> = page.row(0).collect();
    assert_eq!(row[1], Some("C1234"));
    assert_eq!(row.len(), 15);
}

#[test]
fn readbyquery_page_1_glaccount() {
    let page = page("AccountTest.testGetAllByQuerySuccess.1.readByQuery-page1.xml");
    assert_eq!(page.list_type.as_deref(), Some("glaccount"));
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(
        page.result_id.as_deref(),
        Some("7765623330Vqb8pMCoA4IAAEnuglgAAAAL5")
    );
    assert_eq!(page.columns(), ["RECORDNO", "ACCOUNTNO", "TITLE"]);
    assert_eq!(page.get(0, "RECORDNO"), Some("47"));
    assert_eq!(page.get(0, "ACCOUNTNO"), Some("1010"));
    assert_eq!(page.get(0, "TITLE"), Some("Cash in Bank, Checking, BA1145"));
}

#[test]
fn readmore_page_2_last() {
    let name = "AccountTest.testGetAllByQuerySuccess.2.readMore-page2-last.xml";
    assert_eq!(ok(name).results[0].function, "readMore");
    let page = page(name);
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(
        page.result_id.as_deref(),
        Some("7765623330Vqb8pMCoA4IAAEnuglgAAAAL5")
    );
    assert_eq!(page.get(0, "RECORDNO"), Some("55"));
    assert_eq!(page.get(0, "ACCOUNTNO"), Some("1020"));
    assert_eq!(page.get(0, "TITLE"), Some("Cash in Bank, Checking, BA1343"));
}

#[test]
fn readbyquery_single_page_has_no_result_id() {
    let page = page("OnlineClientTest.testLogger.readByQuery-single-page.xml");
    assert_eq!(page.list_type.as_deref(), Some("customer"));
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(page.result_id, None);
    assert_eq!(page.columns(), ["CUSTOMERID", "NAME"]);
    assert_eq!(page.get(0, "CUSTOMERID"), Some("C0001"));
    assert_eq!(page.get(0, "NAME"), Some("Sage Intacct, Inc"));
}

#[test]
fn readbyquery_empty() {
    let page = page("ResultTest.setUp.readByQuery-empty.xml");
    assert_eq!(page.list_type.as_deref(), Some("department"));
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(page.result_id, None);
    assert!(page.is_empty());
    assert!(page.columns().is_empty());
}

#[test]
fn read_customer() {
    let name = "ResultTest.testReadClass.read-success.xml";
    assert_eq!(ok(name).results[0].function, "read");
    let page = page(name);
    assert_eq!(page.list_type.as_deref(), Some("CUSTOMER"));
    assert_eq!(page.count, Some(1));
    assert_eq!(page.total_count, None);
    assert_eq!(page.columns(), ["RECORDNO", "CUSTOMERID", "STATUS"]);
    assert_eq!(page.get(0, "RECORDNO"), Some("149"));
    assert_eq!(page.get(0, "CUSTOMERID"), Some("10074"));
    assert_eq!(page.get(0, "STATUS"), Some("active"));
}

#[test]
fn legacy_get_list() {
    let name = "ResultTest.testLegacyGetListClass.legacy-get_list.xml";
    assert_eq!(ok(name).results[0].function, "get_list");
    let page = page(name);
    assert_eq!(page.list_type.as_deref(), Some("class"));
    assert_eq!(page.len(), 2);
    assert_eq!(
        (page.count, page.total_count, page.num_remaining),
        (Some(2), Some(2), Some(0))
    );
    assert_eq!(page.offset, Some(0));
    assert_eq!(
        page.columns(),
        [
            "KEY",
            "NAME",
            "DESCRIPTION",
            "PARENTID",
            "WHENMODIFIED",
            "STATUS"
        ]
    );
    assert_eq!(page.get(0, "KEY"), Some("C1234"));
    assert_eq!(page.get(1, "KEY"), Some("C1235"));
    assert_eq!(page.get(1, "NAME"), Some("hello world"));
    assert_eq!(page.get(0, "DESCRIPTION"), None);
    assert_eq!(page.get(0, "WHENMODIFIED"), Some("07/24/2017 15:19:46"));
    assert_eq!(page.get(1, "WHENMODIFIED"), Some("07/24/2017 15:20:27"));
}

#[test]
fn get_api_session() {
    let response = ok("OnlineResponseTest.testGetters.getAPISession-success.xml");
    let auth = response.authentication.as_ref().unwrap();
    assert_eq!(auth.company_id.as_deref(), Some("fakecompany"));
    assert_eq!(
        auth.session_timestamp.as_deref(),
        Some("2015-10-22T20:58:27-07:00")
    );
    assert_eq!(
        auth.session_timeout.as_deref(),
        Some("2015-10-23T20:58:27-07:00")
    );
    let result = &response.results[0];
    assert_eq!(result.function, "getAPISession");
    assert_eq!(result.control_id, "testControlId");
    match &result.outcome {
        Ok(ResultData::Session(session)) => {
            assert_eq!(session.session_id.expose(), "fAkESesSiOnId..");
            assert_eq!(
                session.endpoint,
                "https://api.intacct.com/ia/xml/xmlgw.phtml"
            );
            assert_eq!(session.location_id, None);
            assert!(!format!("{session:?}").contains("fAkE"));
        }
        other => panic!("expected a session, got {other:?}"),
    }
}

#[test]
fn get_api_session_for_an_entity() {
    let response =
        ok("SessionProviderTest.testFromLoginCredentialsWithEntity.getAPISession-entity.xml");
    let auth = response.authentication.as_ref().unwrap();
    assert_eq!(auth.location_id.as_deref(), Some("testentity"));
    assert_eq!(
        auth.session_timeout.as_deref(),
        Some("2015-12-07T15:57:08-08:00")
    );
    let result = &response.results[0];
    assert_eq!(result.function, "getSession");
    match &result.outcome {
        Ok(ResultData::Session(session)) => {
            assert_eq!(session.session_id.expose(), "fAkESesSiOnId..");
            assert_eq!(
                session.endpoint,
                "https://unittest.intacct.com/ia/xml/xmlgw.phtml"
            );
            assert_eq!(session.location_id.as_deref(), Some("testentity"));
        }
        other => panic!("expected a session, got {other:?}"),
    }
}

#[test]
fn authentication_failure() {
    let failure = envelope_failure(
        "OnlineResponseTest.testAuthenticationFailure.auth-failure-XL03000006.xml",
    );
    assert_eq!(failure.level, ErrorLevel::Authentication);
    assert_eq!(failure.control_id.as_deref(), Some("ControlIdHere"));
    assert_eq!(failure.errors.len(), 1);
    let e = &failure.errors[0];
    assert_eq!(e.errorno, "XL03000006");
    assert_eq!(e.description, None);
    assert_eq!(
        e.description2.as_deref(),
        Some("Sign-in information is incorrect")
    );
    assert_eq!(e.correction, None);
    assert_eq!(classify(&failure), FailureClass::SessionRefused);
    let message = Error::Intacct(failure).to_string();
    assert!(message.contains("authentication"), "{message}");
    assert!(message.contains("XL03000006"), "{message}");
    assert!(
        message.contains("Sign-in information is incorrect"),
        "{message}"
    );
}

#[test]
fn control_failure() {
    let failure = envelope_failure(
        "OnlineResponseTest.testResponseExceptionWithErrors.control-failure-PL04000055.xml",
    );
    assert_eq!(failure.level, ErrorLevel::Control);
    assert_eq!(failure.control_id, None);
    assert_eq!(failure.errors.len(), 1);
    assert_eq!(failure.errors[0].errorno, "PL04000055");
    assert_eq!(failure.errors[0].description, None);
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("This company is a demo company and has expired.")
    );
    assert_eq!(classify(&failure), FailureClass::Permanent);
}

#[test]
fn gateway_401_minimal_control_block() {
    let failure = envelope_failure(
        "RequestHandlerTest.testMock400LevelErrorWithXmlResponse.http401-XMLGW_JPP0002.xml",
    );
    assert_eq!(failure.level, ErrorLevel::Control);
    assert_eq!(failure.control_id, None);
    assert_eq!(failure.errors.len(), 1);
    assert_eq!(failure.errors[0].errorno, "XMLGW_JPP0002");
    assert_eq!(
        failure.errors[0].description.as_deref(),
        Some("Sign-in information is incorrect. Please check your request.")
    );
    assert_eq!(failure.errors[0].description2, None);
    assert_eq!(classify(&failure), FailureClass::BadCredentials);
}

#[test]
fn asynchronous_acknowledgement() {
    let response = ok("RequestHandlerTest.testMockExecuteAsynchronous.offline-acknowledgement.xml");
    assert!(response.authentication.is_none());
    assert!(response.results.is_empty());
    assert_eq!(
        response.control.control_id.as_deref(),
        Some("requestUnitTest")
    );
}

#[test]
fn result_failure_query_failed() {
    let failure = result_failure("ResultTest.testGetErrors.result-failure-query-failed.xml");
    assert_eq!(failure.function.as_deref(), Some("readByQuery"));
    assert_eq!(failure.control_id.as_deref(), Some("testControlId"));
    assert!(!failure.aborted);
    assert_eq!(failure.errors.len(), 1);
    assert_eq!(failure.errors[0].errorno, "Query Failed");
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("Object definition BADOBJECT not found")
    );
    assert_eq!(classify(&failure), FailureClass::QueryFailed);
}

#[test]
fn result_failure_dl02000001_is_transient() {
    let failure = result_failure("SdkTest.testReadByQueryFailure.result-failure-DL02000001.xml");
    assert_eq!(failure.control_id.as_deref(), Some("readByQuery"));
    assert_eq!(failure.errors[0].errorno, "DL02000001");
    assert_eq!(failure.errors[0].description.as_deref(), Some("Error"));
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("There was an error processing the request.")
    );
    assert!(Error::Intacct(failure).is_retryable());
}

#[test]
fn readmore_with_expired_result_id() {
    let failure =
        result_failure("QueryClientTest.testUnsuccessfulReadMore.2.readMore-expired-resultId.xml");
    assert_eq!(failure.function.as_deref(), Some("readMore"));
    assert_eq!(failure.control_id.as_deref(), Some("testFunctionId"));
    assert_eq!(failure.errors[0].errorno, "readMore failed");
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some(
            "Attempt to readMore with an invalid or expired resultId: 6465763031V2wi28CoHYQAAF0HcP8AAAAc5"
        )
    );
    assert_eq!(classify(&failure), FailureClass::ResultIdExpired);
}

#[test]
fn result_aborted_with_two_errors() {
    let failure = result_failure("ResultTest.testStatusAbort.result-aborted-XL03000009.xml");
    assert!(failure.aborted);
    assert_eq!(failure.control_id.as_deref(), Some("testFunctionId"));
    let numbers: Vec<&str> = failure.errors.iter().map(|e| e.errorno.as_str()).collect();
    assert_eq!(numbers, ["Query Failed", "XL03000009"]);
    assert_eq!(
        failure.errors[0].description2.as_deref(),
        Some("Object definition VENDOR9 not found")
    );
    assert_eq!(
        failure.errors[1].description2.as_deref(),
        Some("The entire transaction in this operation has been rolled back due to an error.")
    );
    assert_eq!(classify(&failure), FailureClass::QueryFailed);
}

#[test]
fn transaction_rollback_over_two_results() {
    let response = ok(
        "OnlineClientTest.testExecuteBatchTransactionResultException.transaction-rollback-multi-result.xml",
    );
    assert_eq!(response.results.len(), 2);
    let first = response.results[0].outcome.as_ref().unwrap_err();
    assert_eq!(response.results[0].control_id, "func1UnitTest");
    assert!(first.aborted);
    assert_eq!(first.errors.len(), 1);
    assert_eq!(first.errors[0].errorno, "XL03000009");
    assert_eq!(classify(first), FailureClass::TransactionAborted);
    assert!(!intacct_snowflake::intacct::is_retryable(first));
    let second = response.results[1].outcome.as_ref().unwrap_err();
    assert_eq!(response.results[1].control_id, "func2UnitTest");
    assert_eq!(second.function.as_deref(), Some("getAPISession"));
    assert!(!second.aborted);
    let numbers: Vec<&str> = second.errors.iter().map(|e| e.errorno.as_str()).collect();
    assert_eq!(numbers, ["Get API Session Failed", "XL03000009"]);
    assert_eq!(
        second.errors[0].description2.as_deref(),
        Some("Something went wrong")
    );
}

#[test]
fn inspect_customer_with_detail() {
    let response = ok("InspectClassResponse.xml");
    assert_eq!(response.results[0].function, "inspect");
    let objects = match &response.results[0].outcome {
        Ok(ResultData::Objects(objects)) => objects,
        other => panic!("expected objects, got {other:?}"),
    };
    assert_eq!(objects.len(), 1);
    let customer = &objects[0];
    assert_eq!(customer.name, "CUSTOMER");
    // `grep -c '<Field>'` on the fixture.
    assert_eq!(customer.fields.len(), 174);
    let field = |name: &str| customer.fields.iter().find(|f| f.name == name).unwrap();
    let recordno = field("RECORDNO");
    assert_eq!(recordno.data_type, IntacctType::Integer);
    assert_eq!(recordno.max_length, Some(8));
    assert_eq!(recordno.label.as_deref(), Some("Record Number"));
    assert!(!recordno.required && !recordno.read_only);
    let customerid = field("CUSTOMERID");
    assert_eq!(customerid.data_type, IntacctType::Text);
    assert_eq!(customerid.max_length, Some(20));
    assert!(customerid.required);
    assert_eq!(
        field("NAME").max_length,
        None,
        "maxLength 0 means no stated limit"
    );
    assert!(field("ENTITY").read_only);
    assert_eq!(
        field("DISPLAYCONTACT.TAXABLE").data_type,
        IntacctType::Boolean
    );
    assert_eq!(field("DISPLAYCONTACT.EMAIL1").max_length, Some(200));
    assert_eq!(field("MEGAENTITYNAME").max_length, Some(40));
    let count = |t: IntacctType| customer.fields.iter().filter(|f| f.data_type == t).count();
    // Counts of externalDataName values in the fixture.
    assert_eq!(count(IntacctType::Text), 140);
    assert_eq!(count(IntacctType::Integer), 18);
    assert_eq!(count(IntacctType::Boolean), 11);
    assert_eq!(count(IntacctType::Decimal), 3);
    assert_eq!(count(IntacctType::Timestamp), 2);
    assert_eq!(customer.fields.last().unwrap().name, "RECORD_URL");
}
