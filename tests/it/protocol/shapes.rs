//! Documented response shapes with no Sage fixture (query, lookup, inspect without detail)
//! and the parser's leniencies, on hand-written bodies.

use intacct_snowflake::intacct::parse_response;
use intacct_snowflake::intacct::{IntacctType, ObjectMeta, RecordPage, ResultData};

use crate::support::intacct_bodies::{one_result, records};

fn objects(body: &str) -> Vec<ObjectMeta> {
    let response = parse_response(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    match response.results.into_iter().next().unwrap().outcome {
        Ok(ResultData::Objects(objects)) => objects,
        other => panic!("expected objects, got {other:?}"),
    }
}

#[test]
fn query_page_with_dotted_nested_custom_and_late_columns() {
    let body = one_result(
        "query",
        "<data listtype=\"VENDOR\" totalcount=\"18\" offset=\"4\" count=\"3\" numremaining=\"11\">\
         <VENDOR><RECORDNO>1010</RECORDNO><PAYTOCONTACT.CONTACTNAME>Ackman, Alice</PAYTOCONTACT.CONTACTNAME>\
         <TOTALDUE>3797</TOTALDUE></VENDOR>\
         <VENDOR><RECORDNO>1011</RECORDNO><DISPLAYCONTACT><EMAIL1>b@x.test</EMAIL1><PHONE1/></DISPLAYCONTACT>\
         <TOTALDUE></TOTALDUE><CUSTOMER_HEALTH>green</CUSTOMER_HEALTH></VENDOR>\
         <VENDOR/>\
         </data>",
    );
    let page = records(body.as_bytes());
    assert_eq!(page.list_type.as_deref(), Some("VENDOR"));
    assert_eq!(
        (
            page.count,
            page.total_count,
            page.offset,
            page.num_remaining
        ),
        (Some(3), Some(18), Some(4), Some(11))
    );
    assert_eq!(page.result_id, None);
    assert_eq!(
        page.columns(),
        [
            "RECORDNO",
            "PAYTOCONTACT__CONTACTNAME",
            "TOTALDUE",
            "DISPLAYCONTACT__EMAIL1",
            "DISPLAYCONTACT__PHONE1",
            "CUSTOMER_HEALTH"
        ]
    );
    assert_eq!(page.len(), 3);
    assert_eq!(
        page.get(0, "PAYTOCONTACT__CONTACTNAME"),
        Some("Ackman, Alice")
    );
    assert_eq!(page.get(0, "CUSTOMER_HEALTH"), None);
    assert_eq!(page.get(1, "DISPLAYCONTACT__EMAIL1"), Some("b@x.test"));
    assert_eq!(page.get(1, "DISPLAYCONTACT__PHONE1"), None);
    assert_eq!(page.get(1, "TOTALDUE"), None);
    assert_eq!(page.get(1, "CUSTOMER_HEALTH"), Some("green"));
    assert!(page.row(2).all(|v| v.is_none()));
    assert_eq!(page.rows().count(), 3);
}

#[test]
fn entities_and_character_references_are_decoded() {
    let body = one_result(
        "query",
        "<data listtype=\"VENDOR\" count=\"1\"><VENDOR>\
         <A>Erik&#39;s &#039;Deli&#039;</A><B>&amp;lt; stays text</B><C>x &lt;&gt;&amp;&quot;&apos; y</C>\
         <D><![CDATA[<raw & text>]]></D><E>caf\u{e9} &#x263A; &#9731;</E><F>line1\r\nline2</F><G>&#13;</G>\
         <H>&nbsp;</H><I>  padded  </I></VENDOR></data>",
    );
    let page = records(body.as_bytes());
    assert_eq!(page.get(0, "A"), Some("Erik's 'Deli'"));
    assert_eq!(page.get(0, "B"), Some("&lt; stays text"));
    assert_eq!(page.get(0, "C"), Some("x <>&\"' y"));
    assert_eq!(page.get(0, "D"), Some("<raw & text>"));
    assert_eq!(page.get(0, "E"), Some("caf\u{e9} \u{263A} \u{2603}"));
    assert_eq!(page.get(0, "F"), Some("line1\nline2"));
    assert_eq!(page.get(0, "G"), Some("\r"));
    assert_eq!(
        page.get(0, "H"),
        Some("&nbsp;"),
        "unknown entities are kept literally"
    );
    assert_eq!(page.get(0, "I"), Some("  padded  "));
}

#[test]
fn error_texts_decode_numeric_references() {
    let body = "<response><control><status>success</status></control><operation><authentication>\
        <status>failure</status></authentication><errormessage><error><errorno>XL03000006</errorno>\
        <description>Invalid Web Services Authorization</description><description2>The sender ID \
        &#039;test_sender_id&#039; is not authorized to make Web Services requests to company ID \
        &#039;test_company_id&#039;.</description2><correction>Contact the company administrator.</correction>\
        </error></errormessage></operation></response>";
    match parse_response(body.as_bytes()) {
        Err(intacct_snowflake::Error::Intacct(f)) => assert_eq!(
            f.errors[0].description2.as_deref(),
            Some(
                "The sender ID 'test_sender_id' is not authorized to make Web Services requests to company ID 'test_company_id'."
            )
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_element_names_do_not_crash_the_parser() {
    let body = one_result(
        "query",
        "<data listtype=\"GLDETAIL\" count=\"2\"><GLDETAIL><RECORDNO>1</RECORDNO>\
         <GLDIMBuild/Disassemble_Kits_Transaction_Detail>kit-7</GLDIMBuild/Disassemble_Kits_Transaction_Detail>\
         <1099TYPE>NEC</1099TYPE><My Field>spaced</My Field></GLDETAIL>\
         <GLDETAIL><RECORDNO>2</RECORDNO><GLDIMBuild/Disassemble_Kits_Transaction_Detail></GLDIMBuild/Disassemble_Kits_Transaction_Detail></GLDETAIL></data>",
    );
    let page = records(body.as_bytes());
    assert_eq!(
        page.columns(),
        [
            "RECORDNO",
            "GLDIMBUILD_DISASSEMBLE_KITS_TRANSACTION_DETAIL",
            "F1099TYPE",
            "MY_FIELD"
        ]
    );
    assert_eq!(
        page.get(0, "GLDIMBUILD_DISASSEMBLE_KITS_TRANSACTION_DETAIL"),
        Some("kit-7")
    );
    assert_eq!(page.get(0, "F1099TYPE"), Some("NEC"));
    assert_eq!(page.get(0, "MY_FIELD"), Some("spaced"));
    assert_eq!(
        page.get(1, "GLDIMBUILD_DISASSEMBLE_KITS_TRANSACTION_DETAIL"),
        None
    );
}

#[test]
fn forbidden_characters_are_dropped_raw_or_referenced() {
    let body = one_result(
        "query",
        "<data listtype=\"V\" count=\"1\"><V><A>a\u{1}b\u{8}c\u{B}d\u{FFFE}e</A>\
         <B>x&#x1;y&#0;z&#xFFFF;w&#xD800;v</B><C>&#x1F;</C><D>tab\there</D></V></data>",
    );
    let page = records(body.as_bytes());
    assert_eq!(page.get(0, "A"), Some("abcde"));
    assert_eq!(page.get(0, "B"), Some("xyzwv"));
    assert_eq!(page.get(0, "C"), None);
    assert_eq!(page.get(0, "D"), Some("tab\there"));
}

#[test]
fn lookup_fields_with_types_valid_values_and_custom_flag() {
    let body = one_result(
        "lookup",
        "<data><Type Name=\"GLBATCH\" DocumentType=\"\"><Fields>\
         <Field><ID>RECORDNO</ID><LABEL>Record number</LABEL><DESCRIPTION>Record Number</DESCRIPTION>\
         <REQUIRED>false</REQUIRED><READONLY>true</READONLY><DATATYPE>INTEGER</DATATYPE><ISCUSTOM>false</ISCUSTOM></Field>\
         <Field><ID>STATE</ID><LABEL>State</LABEL><DESCRIPTION></DESCRIPTION><REQUIRED>true</REQUIRED>\
         <READONLY>false</READONLY><DATATYPE>TEXT</DATATYPE><VALIDVALUES><VALIDVALUE>Draft</VALIDVALUE>\
         <VALIDVALUE>Posted</VALIDVALUE></VALIDVALUES><ISCUSTOM>false</ISCUSTOM></Field>\
         <Field><ID>AMOUNT</ID><DATATYPE>CURRENCY</DATATYPE></Field>\
         <Field><ID>RATE</ID><DATATYPE>PERCENT</DATATYPE></Field>\
         <Field><ID>QTY</ID><DATATYPE>DECIMAL</DATATYPE></Field>\
         <Field><ID>ACTIVE</ID><DATATYPE>BOOLEAN</DATATYPE></Field>\
         <Field><ID>BATCH_DATE</ID><DATATYPE>DATE</DATATYPE></Field>\
         <Field><ID>WHENMODIFIED</ID><DATATYPE>TIMESTAMP</DATATYPE></Field>\
         <Field><ID>KIND</ID><DATATYPE>ENUM</DATATYPE></Field>\
         <Field><ID>DOCNO</ID><DATATYPE>SEQUENCE</DATATYPE></Field>\
         <Field><ID>BLOBBY</ID><DATATYPE>BLOB</DATATYPE></Field>\
         <Field><ID>CUSTOMER_HEALTH</ID><DATATYPE>TEXT</DATATYPE><ISCUSTOM>true</ISCUSTOM></Field>\
         </Fields><Relationships><Relationship><OBJECTPATH>JOURNAL</OBJECTPATH></Relationship></Relationships>\
         </Type></data>",
    );
    let objects = objects(&body);
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].name, "GLBATCH");
    let types: Vec<(&str, IntacctType)> = objects[0]
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.data_type.clone()))
        .collect();
    assert_eq!(
        types,
        [
            ("RECORDNO", IntacctType::Integer),
            ("STATE", IntacctType::Text),
            ("AMOUNT", IntacctType::Currency),
            ("RATE", IntacctType::Percent),
            ("QTY", IntacctType::Decimal),
            ("ACTIVE", IntacctType::Boolean),
            ("BATCH_DATE", IntacctType::Date),
            ("WHENMODIFIED", IntacctType::Timestamp),
            ("KIND", IntacctType::Enum),
            ("DOCNO", IntacctType::Sequence),
            ("BLOBBY", IntacctType::Other("BLOB".to_owned())),
            ("CUSTOMER_HEALTH", IntacctType::Text),
        ]
    );
    let fields = &objects[0].fields;
    assert!(fields[0].read_only && !fields[0].required);
    assert_eq!(fields[0].label.as_deref(), Some("Record number"));
    assert!(fields[1].required);
    assert_eq!(fields[1].valid_values, ["Draft", "Posted"]);
    assert!(fields[11].is_custom);
    assert!(!fields[0].is_custom);
}

#[test]
fn inspect_without_detail_lists_bare_names_of_unreported_type() {
    let body = one_result(
        "inspect",
        "<data listtype='All' count='1'><Type Name='EMPLOYEE'><Fields><Field>RECORDNO</Field>\
         <Field>EMPLOYEEID</Field><Field>CONTACT.EMAIL1</Field></Fields></Type></data>",
    );
    let objects = objects(&body);
    assert_eq!(objects[0].name, "EMPLOYEE");
    let names: Vec<&str> = objects[0].fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["RECORDNO", "EMPLOYEEID", "CONTACT.EMAIL1"]);
    assert!(
        objects[0]
            .fields
            .iter()
            .all(|f| f.data_type == IntacctType::Other(String::new()))
    );
}

#[test]
fn several_results_keep_request_order_and_their_own_outcomes() {
    let body = "<response><control><status>success</status></control><operation><authentication>\
        <status>success</status></authentication>\
        <result><status>success</status><function>query</function><controlid>a</controlid>\
        <data listtype=\"X\" count=\"1\"><X><N>1</N></X></data></result>\
        <result><status>failure</status><function>query</function><controlid>b</controlid>\
        <data listtype=\"objects\" count=\"0\"/><errormessage><error><errorno>PL04000005</errorno>\
        </error></errormessage></result>\
        <result><status>success</status><function>query</function><controlid>c</controlid>\
        <data listtype=\"X\" count=\"2\"><X><N>2</N></X><X><N>3</N><M>m</M></X></data></result>\
        </operation></response>";
    let response = parse_response(body.as_bytes()).unwrap();
    let ids: Vec<&str> = response
        .results
        .iter()
        .map(|r| r.control_id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(response.results[1].outcome.is_err());
    match &response.results[2].outcome {
        Ok(ResultData::Records(page)) => {
            assert_eq!(page.columns(), ["N", "M"]);
            assert_eq!(page.get(1, "N"), Some("3"));
            assert_eq!(page.get(0, "M"), None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn record_page_from_rows_matches_accessors() {
    let page = RecordPage::from_rows(
        vec!["A".to_owned(), "B".to_owned()],
        vec![vec![Some("1".to_owned())], vec![None, Some("x".to_owned())]],
    );
    assert_eq!(page.len(), 2);
    assert_eq!(page.value(0, 0), Some("1"));
    assert_eq!(page.value(0, 1), None);
    assert_eq!(page.value(1, 0), None);
    assert_eq!(page.get(1, "B"), Some("x"));
    assert_eq!(page.value(2, 0), None);
}

mod flat_records {
    use intacct_snowflake::intacct::escape_text;
    use proptest::prelude::*;

    use crate::support::intacct_bodies::{one_result, records};

    /// Flat records are read without XML events, other records by the event reader; a
    /// comment after a record's start tag sends it to the event reader, which must read the
    /// same values.
    fn bodies(rows: &[Vec<Option<String>>]) -> (String, String) {
        let mut flat = format!("<data listtype=\"X\" count=\"{}\">", rows.len());
        let mut evented = flat.clone();
        for row in rows {
            let mut fields = String::new();
            for (i, value) in row.iter().enumerate() {
                match value {
                    None => fields.push_str(&format!("<F{i}/>")),
                    Some(v) => fields.push_str(&format!("<F{i}>{}</F{i}>", escape_text(v))),
                }
                fields.push_str("\n  ");
            }
            flat.push_str(&format!("<X>{fields}</X>"));
            evented.push_str(&format!("<X><!-- events -->{fields}</X>"));
        }
        flat.push_str("</data>");
        evented.push_str("</data>");
        (one_result("query", &flat), one_result("query", &evented))
    }

    /// The same records as Intacct also writes them: indented, every third field inside a
    /// parent element, even fields as CDATA (when the value allows), odd fields and every
    /// parent with an attribute; and the evented twin of that body.
    fn nested_bodies(rows: &[Vec<Option<String>>]) -> (String, String) {
        let mut fast = format!("<data listtype=\"X\" count=\"{}\">", rows.len());
        let mut evented = fast.clone();
        for row in rows {
            let mut fields = String::new();
            for (i, value) in row.iter().enumerate() {
                let attribute = if i % 2 == 1 {
                    format!(" a{i}=\"v>{i}\" b='&amp;'")
                } else {
                    String::new()
                };
                let leaf = match value {
                    None => format!("<F{i}{attribute}/>"),
                    Some(v) if i % 2 == 0 && !v.contains("]]>") && !v.contains('\r') => {
                        format!("<F{i}><![CDATA[{v}]]></F{i}>")
                    }
                    Some(v) => format!("<F{i}{attribute}>{}</F{i}>", escape_text(v)),
                };
                if i % 3 == 1 {
                    fields.push_str(&format!(
                        "\n    <P{i} k=\"{i}\">\n      {leaf}\n    </P{i}>"
                    ));
                } else {
                    fields.push_str(&format!("\n    {leaf}"));
                }
            }
            fast.push_str(&format!("\n  <X>{fields}\n  </X>"));
            evented.push_str(&format!("\n  <X><!-- events -->{fields}\n  </X>"));
        }
        fast.push_str("\n</data>");
        evented.push_str("\n</data>");
        (one_result("query", &fast), one_result("query", &evented))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nested_cdata_and_attributed_records_read_the_same_both_ways(
            rows in prop::collection::vec(
                prop::collection::vec(
                    prop::option::of("[a-z &<>\"'\\]\n\t;#é😀\u{1}\u{FFFE}]{0,12}"),
                    1..6,
                ),
                1..5,
            )
        ) {
            let (fast, evented) = nested_bodies(&rows);
            prop_assert_eq!(records(fast.as_bytes()), records(evented.as_bytes()));
        }

        #[test]
        fn flat_and_evented_records_read_the_same(
            rows in prop::collection::vec(
                prop::collection::vec(
                    prop::option::of("[a-z &<>\"'\\]\r\n\t;#é😀\u{1}\u{FFFE}]{0,12}"),
                    1..6,
                ),
                1..5,
            )
        ) {
            let (flat, evented) = bodies(&rows);
            prop_assert_eq!(records(flat.as_bytes()), records(evented.as_bytes()));
        }
    }

    #[test]
    fn references_and_line_ends_in_flat_records_decode() {
        let body = one_result(
            "query",
            "<data listtype=\"X\" count=\"1\"><X><A>a &amp; b &#13;&#10;c\r\nd &#x1F600;</A>\
             <B>&lt;tag&gt; &quot;q&quot; &apos;</B><C></C><D/></X></data>",
        );
        let page = records(body.as_bytes());
        assert_eq!(page.get(0, "A"), Some("a & b \r\nc\nd 😀"));
        assert_eq!(page.get(0, "B"), Some("<tag> \"q\" '"));
        assert_eq!(page.get(0, "C"), None);
        assert_eq!(page.get(0, "D"), None);
        assert_eq!(page.columns(), ["A", "B", "C", "D"]);
    }
}
