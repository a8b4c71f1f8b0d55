//! Parses a request body sent to the simulated gateway into the protocol types of
//! [`intacct_snowflake::intacct`].
//!
//! The body is read with quick-xml's pull reader into a small element tree (requests are a
//! few kilobytes), then mapped onto [`Request`]. Anything that breaks the request schema
//! (reference §1.1) becomes a [`SchemaError`], which the gateway answers with a control-level
//! `XL03000003`. Functions the simulator does not implement are kept, by name, so that they
//! fail alone at the result level like an unsupported call on the real gateway.

use quick_xml::Reader;
use quick_xml::events::Event;

use intacct_snowflake::intacct::{
    Authentication, Call, Comparison, Filter, OrderBy, Query, ReadByQuery, Request,
    SenderCredentials,
};
use intacct_snowflake::secret::Secret;

/// The most values an `<in>`/`<notin>` may carry (the schema's `maxOccurs`).
pub(super) const MAX_IN_VALUES: usize = 1000;

/// Why a body is not a valid request; the text becomes the `description2` of XL03000003.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SchemaError(pub String);

/// A parsed request: the sender credentials from `<control>` plus the operation.
#[derive(Debug)]
pub(super) struct ParsedRequest {
    /// `<senderid>` and `<password>`.
    pub sender: SenderCredentials,
    /// `control/dtdversion`, as sent.
    pub dtd_version: String,
    /// `control/includewhitespace` (default true).
    pub include_whitespace: bool,
    /// `control/controlid`, `unique_id`, `transaction`, authentication (functions left empty:
    /// see [`ParsedRequest::functions`]).
    pub request: Request,
    /// The functions, in order.
    pub functions: Vec<ParsedFunction>,
}

/// One `<function>`: a call the simulator implements, or the name of one it does not.
#[derive(Debug)]
pub(super) struct ParsedFunction {
    /// `controlid` attribute.
    pub control_id: String,
    /// The function element's name (`query`, `readByQuery`, …).
    pub name: String,
    /// The call, or why it cannot run (unsupported function, bad argument).
    pub call: Result<Call, String>,
}

impl ParsedFunction {}

/// A minimal element tree node.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned())
    }

    fn required(&self, name: &str) -> Result<&Element, SchemaError> {
        self.child(name).ok_or_else(|| {
            SchemaError(format!(
                "Element '{}': Missing child element(s). Expected is ( {name} ).",
                self.name
            ))
        })
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads the body into an element tree; errors are XML well-formedness errors.
fn parse_tree(body: &str) -> Result<Element, SchemaError> {
    let mut reader = Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let event = reader.read_event().map_err(|e| {
            SchemaError(format!(
                "XML Parse schema error: Fatal Error at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(start) => stack.push(element_from(&start)?),
            Event::Empty(start) => {
                let element = element_from(&start)?;
                push_child(&mut stack, element);
            }
            Event::End(_) => {
                let element = stack.pop().unwrap_or_default();
                if stack.is_empty() {
                    return Err(SchemaError("XML Parse error: unbalanced end tag".into()));
                }
                push_child(&mut stack, element);
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&data.into_inner());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference.into_inner();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                SchemaError(format!("XML Parse error: Entity '{name}' not defined"))
                            })?
                            .to_owned()
                    }
                    Err(e) => return Err(SchemaError(format!("XML Parse error: {e}"))),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(SchemaError(
            "XML Parse schema error: Premature end of data".into(),
        ));
    }
    let mut root = stack.pop().unwrap_or_default();
    match root.children.len() {
        1 => Ok(root.children.remove(0)),
        0 => Err(SchemaError("XML Parse error: Document is empty".into())),
        _ => Err(SchemaError(
            "XML Parse error: Extra content at the end of the document".into(),
        )),
    }
}

fn element_from(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, SchemaError> {
    let mut element = Element {
        name: start.name().as_ref().to_owned(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| SchemaError(format!("XML Parse error: {e}")))?;
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| SchemaError(format!("XML Parse error: {e}")))?;
        element
            .attrs
            .push((attr.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok(element)
}

fn push_child(stack: &mut [Element], element: Element) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(element);
    }
}

fn parse_bool(text: Option<String>, default: bool) -> bool {
    // Python SDKs write booleans as `True`/`False`.
    match text.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => default,
    }
}

/// Parses a whole request body.
pub(super) fn parse_request(body: &str) -> Result<ParsedRequest, SchemaError> {
    let root = parse_tree(body)?;
    if root.name != "request" {
        return Err(SchemaError(format!(
            "XML Parse schema error: Element '{}': No matching global declaration available for the validation root.",
            root.name
        )));
    }
    let control = root.required("control")?;
    let sender_id = control.child_text("senderid").ok_or_else(|| {
        SchemaError("Element 'control': Missing child element(s). Expected is ( senderid ).".into())
    })?;
    let sender_password = control.child_text("password").unwrap_or_default();
    let control_id = control.child_text("controlid").ok_or_else(|| {
        SchemaError(
            "Element 'control': Missing child element(s). Expected is ( controlid ).".into(),
        )
    })?;
    if control_id.chars().count() > 256 {
        return Err(SchemaError(
            "Element 'controlid': [facet 'maxLength'] The value has a length greater than 256."
                .into(),
        ));
    }
    let unique_id = parse_bool(control.child_text("uniqueid"), true);
    let include_whitespace = parse_bool(control.child_text("includewhitespace"), true);
    let dtd_version = control
        .child_text("dtdversion")
        .unwrap_or_else(|| "3.0".into());

    let operation = root.required("operation")?;
    let transaction = operation.attr("transaction") == Some("true");
    let auth = operation.required("authentication")?;
    let authentication = if let Some(login) = auth.child("login") {
        Authentication::Login {
            user_id: login.child_text("userid").unwrap_or_default(),
            company_id: login.child_text("companyid").unwrap_or_default(),
            password: Secret::new(login.child_text("password").unwrap_or_default()),
            location_id: login.child_text("locationid").filter(|s| !s.is_empty()),
        }
    } else if let Some(session) = auth.child("sessionid") {
        Authentication::Session(Secret::new(session.text.trim()))
    } else {
        return Err(SchemaError(
            "Element 'authentication': Missing child element(s). Expected is one of ( login, sessionid, oauth ).".into(),
        ));
    };

    let content = operation.required("content")?;
    let mut functions = Vec::new();
    for function in content.children.iter().filter(|c| c.name == "function") {
        let control_id = function.attr("controlid").ok_or_else(|| {
            SchemaError(
                "Element 'function': The attribute 'controlid' is required but missing.".into(),
            )
        })?;
        let call_element = match function.children.as_slice() {
            [one] => one,
            _ => {
                return Err(SchemaError(
                    "Element 'function': Expected exactly one function element.".into(),
                ));
            }
        };
        functions.push(ParsedFunction {
            control_id: control_id.to_owned(),
            name: call_element.name.clone(),
            call: parse_call(call_element)?,
        });
    }
    if functions.is_empty() {
        return Err(SchemaError(
            "Element 'content': Missing child element(s). Expected is ( function ).".into(),
        ));
    }
    Ok(ParsedRequest {
        sender: SenderCredentials {
            sender_id,
            sender_password: Secret::new(sender_password),
        },
        dtd_version,
        include_whitespace,
        request: Request {
            control_id,
            unique_id,
            transaction,
            authentication,
            functions: Vec::new(),
        },
        functions,
    })
}

/// Maps one function element; schema violations fail the whole request, unsupported
/// functions only their own result.
fn parse_call(element: &Element) -> Result<Result<Call, String>, SchemaError> {
    Ok(Ok(match element.name.as_str() {
        // An empty `<locationid/>` is kept: from an entity session it asks for the top level.
        "getAPISession" => Call::GetApiSession {
            location_id: element.child_text("locationid"),
        },
        "query" => Call::Query(parse_query(element)?),
        "readByQuery" => {
            let object = element.required("object")?.text.trim().to_owned();
            let query = element.required("query")?.text.trim().to_owned();
            let fields = element
                .child_text("fields")
                .map(|f| split_list(&f))
                .unwrap_or_default();
            let page_size = parse_u32(element, "pagesize")?;
            Call::ReadByQuery(ReadByQuery {
                object,
                fields: fields.into_iter().filter(|f| f != "*").collect(),
                query,
                page_size,
            })
        }
        "readMore" => {
            if let Some(id) = element.child_text("resultId") {
                Call::ReadMore { result_id: id }
            } else if let Some(object) = element.child_text("object") {
                // The legacy form continues the session's last readByQuery on that object.
                Call::ReadMore {
                    result_id: format!("object:{object}"),
                }
            } else {
                return Ok(Err("readMore requires a resultId".into()));
            }
        }
        "read" => {
            let object = element.required("object")?.text.trim().to_owned();
            let keys = split_list(&element.required("keys")?.text);
            let fields = element
                .child_text("fields")
                .map(|f| split_list(&f))
                .unwrap_or_default();
            Call::Read {
                object,
                keys,
                fields: fields.into_iter().filter(|f| f != "*").collect(),
            }
        }
        "readByName" => Call::ReadByName {
            object: element.required("object")?.text.trim().to_owned(),
            keys: split_list(&element.required("keys")?.text),
            fields: element
                .child_text("fields")
                .map(|f| split_list(&f))
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != "*")
                .collect(),
        },
        "readUserFormatting" => Call::ReadUserFormatting {
            key: element.required("key")?.text.trim().to_owned(),
        },
        "lookup" => Call::Lookup {
            object: element.required("object")?.text.trim().to_owned(),
        },
        "inspect" => Call::Inspect {
            object: element
                .child_text("object")
                .or_else(|| element.child_text("name"))
                .unwrap_or_else(|| "*".into()),
            detail: element.attr("detail") == Some("1"),
        },
        other => {
            return Ok(Err(format!(
                "Function {other} is not supported by the simulator"
            )));
        }
    }))
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_u32(element: &Element, name: &str) -> Result<Option<u32>, SchemaError> {
    match element.child_text(name) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            SchemaError(format!(
                "Element '{name}': '{text}' is not a valid value of the atomic type 'xs:integer'."
            ))
        }),
    }
}

fn parse_query(element: &Element) -> Result<Query, SchemaError> {
    let object = element.required("object")?.text.trim().to_owned();
    let select = element
        .required("select")?
        .children
        .iter()
        .filter(|f| f.name == "field")
        .map(|f| f.text.trim().to_owned())
        .collect::<Vec<_>>();
    if select.is_empty() {
        return Err(SchemaError(
            "Element 'select': Missing child element(s). Expected is ( field ).".into(),
        ));
    }
    let filter = match element.child("filter") {
        None => None,
        Some(f) => match f.children.as_slice() {
            [one] => Some(parse_filter(one)?),
            _ => {
                return Err(SchemaError(
                    "Element 'filter': Expected exactly one filter operator.".into(),
                ));
            }
        },
    };
    let mut order_by = Vec::new();
    if let Some(orders) = element.child("orderby") {
        for order in orders.children.iter().filter(|o| o.name == "order") {
            let field = order.required("field")?.text.trim().to_owned();
            let ascending = order.child("descending").is_none();
            order_by.push(OrderBy { field, ascending });
        }
    }
    let options = element.child("options");
    let case_insensitive = options
        .map(|o| parse_bool(o.child_text("caseinsensitive"), false))
        .unwrap_or(false);
    let show_private = options
        .map(|o| parse_bool(o.child_text("showprivate"), false))
        .unwrap_or(false);
    Ok(Query {
        object,
        select,
        filter,
        order_by,
        case_insensitive,
        show_private,
        page_size: parse_u32(element, "pagesize")?,
        offset: parse_u32(element, "offset")?,
    })
}

fn parse_filter(element: &Element) -> Result<Filter, SchemaError> {
    let name = element.name.as_str();
    let field =
        || -> Result<String, SchemaError> { Ok(element.required("field")?.text.trim().to_owned()) };
    let values = || -> Vec<String> {
        element
            .children
            .iter()
            .filter(|c| c.name == "value")
            .map(|c| c.text.clone())
            .collect()
    };
    match name {
        "and" | "or" => {
            let children = element
                .children
                .iter()
                .map(parse_filter)
                .collect::<Result<Vec<_>, _>>()?;
            if children.len() < 2 {
                return Err(SchemaError(format!(
                    "Element '{name}': Missing child element(s). Expected at least two operators."
                )));
            }
            Ok(if name == "and" {
                Filter::And(children)
            } else {
                Filter::Or(children)
            })
        }
        "between" => {
            let values = values();
            match values.as_slice() {
                [low, high] => Ok(Filter::Between {
                    field: field()?,
                    low: low.clone(),
                    high: high.clone(),
                }),
                _ => Err(SchemaError(
                    "Element 'between': exactly two 'value' elements are expected.".into(),
                )),
            }
        }
        "in" | "notin" => {
            let values = values();
            if values.is_empty() {
                return Err(SchemaError(format!(
                    "Element '{name}': Missing child element(s). Expected is ( value )."
                )));
            }
            if values.len() > MAX_IN_VALUES {
                return Err(SchemaError(
                    "XML Parse schema error: Element 'value': This element is not expected.".into(),
                ));
            }
            let field = field()?;
            Ok(if name == "in" {
                Filter::In { field, values }
            } else {
                Filter::NotIn { field, values }
            })
        }
        "isnull" => Ok(Filter::IsNull { field: field()? }),
        "isnotnull" => Ok(Filter::IsNotNull { field: field()? }),
        other => match Comparison::from_element(other) {
            Some(op) => {
                let values = values();
                match values.as_slice() {
                    [value] => Ok(Filter::Compare {
                        op,
                        field: field()?,
                        value: value.clone(),
                    }),
                    _ => Err(SchemaError(format!(
                        "Element '{other}': exactly one 'value' element is expected."
                    ))),
                }
            }
            None => Err(SchemaError(format!(
                "XML Parse schema error: Element '{other}': This element is not expected."
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS_SDK_LOGIN: &str = r#"<?xml version="1.0" encoding="utf-8" ?><request><control><senderid>S</senderid><password>SP</password><controlid>1795463900674</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control><operation transaction="false"><authentication><login><userid>U</userid><companyid>C</companyid><password>P&amp;Q</password></login></authentication><content><function controlid="d5e6"><getAPISession /></function></content></operation></request>"#;

    #[test]
    fn parses_the_js_sdk_login_request() {
        let parsed = parse_request(JS_SDK_LOGIN).unwrap();
        assert_eq!(parsed.sender.sender_id, "S");
        assert_eq!(parsed.sender.sender_password.expose(), "SP");
        assert_eq!(parsed.request.control_id, "1795463900674");
        assert!(!parsed.request.unique_id);
        assert!(!parsed.include_whitespace);
        match &parsed.request.authentication {
            Authentication::Login {
                user_id,
                company_id,
                password,
                ..
            } => {
                assert_eq!(user_id, "U");
                assert_eq!(company_id, "C");
                assert_eq!(password.expose(), "P&Q");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(parsed.functions.len(), 1);
        assert_eq!(parsed.functions[0].control_id, "d5e6");
        assert_eq!(
            parsed.functions[0].call,
            Ok(Call::GetApiSession { location_id: None })
        );
    }

    fn wrap(function: &str) -> String {
        format!(
            "<request><control><senderid>S</senderid><password>SP</password><controlid>c</controlid></control><operation><authentication><sessionid>x..</sessionid></authentication><content><function controlid=\"f\">{function}</function></content></operation></request>"
        )
    }

    #[test]
    fn parses_a_query_with_nested_filters() {
        let body = wrap(
            "<query><object>VENDOR</object><select><field>RECORDNO</field><field>NAME</field></select>\
             <filter><or><and><equalto><field>WHENMODIFIED</field><value>01/02/2026 03:04:05</value></equalto>\
             <greaterthan><field>RECORDNO</field><value>7</value></greaterthan></and>\
             <in><field>NAME</field><value>a &lt; b</value><value>c</value></in></or></filter>\
             <orderby><order><field>WHENMODIFIED</field><ascending/></order><order><field>RECORDNO</field><descending/></order></orderby>\
             <options><caseinsensitive>true</caseinsensitive></options><pagesize>2000</pagesize><offset>10</offset></query>",
        );
        let parsed = parse_request(&body).unwrap();
        let Ok(Call::Query(query)) = &parsed.functions[0].call else {
            panic!("not a query")
        };
        assert_eq!(query.object, "VENDOR");
        assert_eq!(query.select, vec!["RECORDNO", "NAME"]);
        assert_eq!(
            query.filter,
            Some(Filter::Or(vec![
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, "WHENMODIFIED", "01/02/2026 03:04:05"),
                    Filter::compare(Comparison::GreaterThan, "RECORDNO", "7"),
                ]),
                Filter::In {
                    field: "NAME".into(),
                    values: vec!["a < b".into(), "c".into()]
                },
            ]))
        );
        assert_eq!(
            query.order_by,
            vec![
                OrderBy {
                    field: "WHENMODIFIED".into(),
                    ascending: true
                },
                OrderBy {
                    field: "RECORDNO".into(),
                    ascending: false
                },
            ]
        );
        assert!(query.case_insensitive);
        assert_eq!(query.page_size, Some(2000));
        assert_eq!(query.offset, Some(10));
    }

    #[test]
    fn rejects_malformed_xml_and_oversized_in_lists() {
        assert!(parse_request("<request><control>").is_err());
        assert!(parse_request("<request></wrong>").is_err());
        let values: String = (0..1001).map(|i| format!("<value>{i}</value>")).collect();
        let body = wrap(&format!(
            "<query><object>VENDOR</object><select><field>RECORDNO</field></select><filter><in><field>RECORDNO</field>{values}</in></filter></query>"
        ));
        let err = parse_request(&body).unwrap_err();
        assert!(err.0.contains("This element is not expected"), "{err:?}");
    }

    #[test]
    fn unsupported_functions_fail_alone() {
        let parsed = parse_request(&wrap(
            "<getUserPermissions><userId>u</userId></getUserPermissions>",
        ))
        .unwrap();
        assert_eq!(parsed.functions[0].name, "getUserPermissions");
        assert!(parsed.functions[0].call.is_err());
        // readUserFormatting is served (the client reads the user's preferences with it).
        let parsed = parse_request(&wrap(
            "<readUserFormatting><key>1</key></readUserFormatting>",
        ))
        .unwrap();
        assert!(parsed.functions[0].call.is_ok());
    }
}
