//! Request envelopes for the Intacct XML gateway: types and their rendering to XML.
//!
//! Owns the shape of what we send: `<request><control>…</control><operation>…</operation>`
//! with one or more `<function controlid=…>` elements, exactly as the reference describes.
//! Rendering is a pure function from values to a `String`; no IO happens here.
//!
//! [`render_request`] writes the envelope with `dtdversion` 3.0, `includewhitespace` false and
//! `uniqueid=false` for reads, and refuses a request that breaks a protocol limit: query
//! pagesize 1..=2000, readByQuery 1..=1000, `in`/`notin` 1..=1000 values, `and`/`or` with at
//! least two children, a non-empty select, a controlid of at most 256 characters,
//! getAPISession alone in its request.
//!
//! Invariants:
//! * every text value and attribute passes through [`escape_text`] / [`escape_attr`], which
//!   first strip characters XML 1.0 forbids (C0 controls except TAB, LF, CR; U+FFFE, U+FFFF)
//!   and *then* escape `& < > " '`; CR is written as `&#13;` (and TAB and LF in attributes as
//!   references), because XML parsers normalise them;
//! * secrets are read with [`Secret::expose`] only while writing the body.

use std::borrow::Cow;

use crate::secret::Secret;

/// Sender (Web Services partner) credentials, sent in `<control>` on every request.
#[derive(Clone, Debug)]
pub struct SenderCredentials {
    /// `<senderid>`.
    pub sender_id: String,
    /// `<password>` in `<control>`.
    pub sender_password: Secret,
}

/// The `<authentication>` block of an operation.
#[derive(Clone, Debug)]
pub enum Authentication {
    /// `<login>` with user credentials; used only for `getAPISession`.
    Login {
        /// `<userid>`.
        user_id: String,
        /// `<companyid>`.
        company_id: String,
        /// `<password>`.
        password: Secret,
        /// Optional `<locationid>` (entity).
        location_id: Option<String>,
    },
    /// `<sessionid>` from an earlier `getAPISession`.
    Session(Secret),
}

/// One whole request: control block, one operation, one or more functions.
#[derive(Clone, Debug)]
pub struct Request {
    /// `control/controlid`: correlates the request in logs; not checked for uniqueness.
    pub control_id: String,
    /// `control/uniqueid`: `false` for reads, so a retried read is allowed to run again.
    pub unique_id: bool,
    /// `operation@transaction`.
    pub transaction: bool,
    /// How the operation authenticates.
    pub authentication: Authentication,
    /// The functions, answered by one `<result>` each, in order.
    pub functions: Vec<Function>,
}

/// One `<function controlid=…>` element.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The `controlid` attribute, echoed back as `result/controlid`.
    pub control_id: String,
    /// What the function does.
    pub call: Call,
}

/// The function element inside `<function>`.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// `<getAPISession>` with an optional `<locationid>`.
    GetApiSession {
        /// Entity to scope the session to.
        location_id: Option<String>,
    },
    /// The generic `<query>` function.
    Query(Query),
    /// Legacy `<readByQuery>`.
    ReadByQuery(ReadByQuery),
    /// `<readMore><resultId>…</resultId></readMore>`.
    ReadMore {
        /// The `resultId` of an earlier `readByQuery`.
        result_id: String,
    },
    /// `<read>` by RECORDNO keys.
    Read {
        /// Object name, e.g. `VENDOR`.
        object: String,
        /// RECORDNO values.
        keys: Vec<String>,
        /// Field list; empty means `*`.
        fields: Vec<String>,
    },
    /// `<lookup><object>…</object></lookup>`: field metadata of one object.
    Lookup {
        /// Object name.
        object: String,
    },
    /// `<inspect detail="1|0"><object>…</object></inspect>`.
    Inspect {
        /// Object name, or `*` for the list of objects.
        object: String,
        /// `detail="1"` gives types and lengths.
        detail: bool,
    },
    /// `<readByName>`: records by their name key (USERINFO by USERID).
    ReadByName {
        /// Object name.
        object: String,
        /// Name keys.
        keys: Vec<String>,
        /// Field list; empty means `*`.
        fields: Vec<String>,
    },
    /// `<readUserFormatting><key>…</key></readUserFormatting>`: the date, time and time zone
    /// preferences of a user, by USERINFO RECORDNO.
    ReadUserFormatting {
        /// The user's USERINFO RECORDNO.
        key: String,
    },
}

/// The generic `query` function.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    /// `<object>`.
    pub object: String,
    /// `<select><field>…` in order; must not be empty.
    pub select: Vec<String>,
    /// `<filter>` with exactly one top-level operator.
    pub filter: Option<Filter>,
    /// `<orderby>` entries, in order.
    pub order_by: Vec<OrderBy>,
    /// `<options><caseinsensitive>`.
    pub case_insensitive: bool,
    /// `<options><showprivate>` (multi-entity).
    pub show_private: bool,
    /// `<pagesize>`, 1..=2000.
    pub page_size: Option<u32>,
    /// `<offset>`.
    pub offset: Option<u32>,
}

/// One `<order>` of an `<orderby>`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    /// Field name.
    pub field: String,
    /// `<ascending/>` when true, `<descending/>` when false.
    pub ascending: bool,
}

/// A comparison operator that takes one field and one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `<equalto>`.
    EqualTo,
    /// `<notequalto>`.
    NotEqualTo,
    /// `<lessthan>`.
    LessThan,
    /// `<lessthanorequalto>`.
    LessThanOrEqualTo,
    /// `<greaterthan>`.
    GreaterThan,
    /// `<greaterthanorequalto>`.
    GreaterThanOrEqualTo,
    /// `<like>` (`%` and `_` wildcards).
    Like,
    /// `<notlike>`.
    NotLike,
}

impl Comparison {
    /// The element name used on the wire.
    pub fn element(self) -> &'static str {
        match self {
            Comparison::EqualTo => "equalto",
            Comparison::NotEqualTo => "notequalto",
            Comparison::LessThan => "lessthan",
            Comparison::LessThanOrEqualTo => "lessthanorequalto",
            Comparison::GreaterThan => "greaterthan",
            Comparison::GreaterThanOrEqualTo => "greaterthanorequalto",
            Comparison::Like => "like",
            Comparison::NotLike => "notlike",
        }
    }

    /// The operator named by a wire element, if it is one.
    pub fn from_element(name: &str) -> Option<Comparison> {
        Some(match name {
            "equalto" => Comparison::EqualTo,
            "notequalto" => Comparison::NotEqualTo,
            "lessthan" => Comparison::LessThan,
            "lessthanorequalto" => Comparison::LessThanOrEqualTo,
            "greaterthan" => Comparison::GreaterThan,
            "greaterthanorequalto" => Comparison::GreaterThanOrEqualTo,
            "like" => Comparison::Like,
            "notlike" => Comparison::NotLike,
            _ => return None,
        })
    }
}

/// A `query` filter tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `<and>` with two or more children.
    And(Vec<Filter>),
    /// `<or>` with two or more children.
    Or(Vec<Filter>),
    /// A one-value comparison.
    Compare {
        /// The operator.
        op: Comparison,
        /// Field name.
        field: String,
        /// Value as text, in the tenant's format for dates.
        value: String,
    },
    /// `<between>`: exactly two values, lower first.
    Between {
        /// Field name.
        field: String,
        /// Lower bound.
        low: String,
        /// Upper bound.
        high: String,
    },
    /// `<in>` with 1..=1000 values.
    In {
        /// Field name.
        field: String,
        /// Values.
        values: Vec<String>,
    },
    /// `<notin>` with 1..=1000 values.
    NotIn {
        /// Field name.
        field: String,
        /// Values.
        values: Vec<String>,
    },
    /// `<isnull>`.
    IsNull {
        /// Field name.
        field: String,
    },
    /// `<isnotnull>`.
    IsNotNull {
        /// Field name.
        field: String,
    },
}

impl Filter {
    /// A one-value comparison, for brevity at call sites.
    pub fn compare(op: Comparison, field: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::Compare {
            op,
            field: field.into(),
            value: value.into(),
        }
    }
}

/// The legacy `readByQuery` function.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReadByQuery {
    /// `<object>`.
    pub object: String,
    /// `<fields>`; empty means `*`.
    pub fields: Vec<String>,
    /// `<query>` string (may be empty).
    pub query: String,
    /// `<pagesize>`, 1..=1000.
    pub page_size: Option<u32>,
}

/// Longest `controlid` (element or attribute) the schema allows.
pub(crate) const MAX_CONTROL_ID_CHARS: usize = 256;
/// Largest `pagesize` of a `query`.
pub(crate) const MAX_QUERY_PAGE_SIZE: u32 = 2000;
/// Largest `pagesize` of a `readByQuery`.
pub(crate) const MAX_READ_BY_QUERY_PAGE_SIZE: u32 = 1000;
/// Most values one `in` / `notin` operator may carry.
pub(crate) const MAX_IN_VALUES: usize = 1000;

/// Renders a request envelope as the XML body to POST.
///
/// The body is written without whitespace, in the element order of reference §1.2 (control)
/// and §4.4 (query: object, select, filter, orderby, options, pagesize, offset; the schema
/// accepts any order there). Fails with [`crate::Error::InvalidRequest`] naming the broken
/// limit: page sizes (query 1..=2000, readByQuery 1..=1000), `in`/`notin` 1..=1000 values,
/// `and`/`or` with fewer than two children, an empty `select`, a `controlid` over 256
/// characters, empty object names, or `getAPISession` sharing its request.
pub fn render_request(request: &Request, sender: &SenderCredentials) -> crate::Result<String> {
    validate_request(request)?;
    let mut out = String::with_capacity(768 + estimate_functions_len(&request.functions));
    out.push_str(r#"<?xml version="1.0" encoding="utf-8" ?>"#);
    out.push_str("<request><control>");
    element(&mut out, "senderid", &sender.sender_id);
    element(&mut out, "password", sender.sender_password.expose());
    element(&mut out, "controlid", &request.control_id);
    element(&mut out, "uniqueid", bool_text(request.unique_id));
    element(&mut out, "dtdversion", "3.0");
    element(&mut out, "includewhitespace", "false");
    out.push_str("</control><operation transaction=\"");
    out.push_str(bool_text(request.transaction));
    out.push_str("\"><authentication>");
    match &request.authentication {
        Authentication::Login {
            user_id,
            company_id,
            password,
            location_id,
        } => {
            out.push_str("<login>");
            element(&mut out, "userid", user_id);
            element(&mut out, "companyid", company_id);
            element(&mut out, "password", password.expose());
            if let Some(location) = location_id {
                element(&mut out, "locationid", location);
            }
            out.push_str("</login>");
        }
        Authentication::Session(session_id) => {
            element(&mut out, "sessionid", session_id.expose());
        }
    }
    out.push_str("</authentication><content>");
    for function in &request.functions {
        out.push_str("<function controlid=\"");
        out.push_str(&escape_attr(&function.control_id));
        out.push_str("\">");
        render_call(&mut out, &function.call);
        out.push_str("</function>");
    }
    out.push_str("</content></operation></request>");
    Ok(out)
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn estimate_functions_len(functions: &[Function]) -> usize {
    functions
        .iter()
        .map(|f| match &f.call {
            Call::Query(q) => 256 + q.select.iter().map(|s| s.len() + 16).sum::<usize>(),
            _ => 256,
        })
        .sum()
}

/// `<name>escaped text</name>`.
fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape_text(text));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn render_call(out: &mut String, call: &Call) {
    match call {
        Call::GetApiSession { location_id } => match location_id {
            None => out.push_str("<getAPISession/>"),
            Some(location) => {
                out.push_str("<getAPISession>");
                element(out, "locationid", location);
                out.push_str("</getAPISession>");
            }
        },
        Call::Query(query) => render_query(out, query),
        Call::ReadByQuery(read) => {
            out.push_str("<readByQuery>");
            element(out, "object", &read.object);
            element(out, "fields", &field_list(&read.fields));
            if read.query.is_empty() {
                out.push_str("<query/>");
            } else {
                element(out, "query", &read.query);
            }
            if let Some(size) = read.page_size {
                element(out, "pagesize", &size.to_string());
            }
            out.push_str("</readByQuery>");
        }
        Call::ReadMore { result_id } => {
            out.push_str("<readMore>");
            element(out, "resultId", result_id);
            out.push_str("</readMore>");
        }
        Call::Read {
            object,
            keys,
            fields,
        } => {
            out.push_str("<read>");
            element(out, "object", object);
            element(out, "keys", &keys.join(","));
            element(out, "fields", &field_list(fields));
            out.push_str("</read>");
        }
        Call::Lookup { object } => {
            out.push_str("<lookup>");
            element(out, "object", object);
            out.push_str("</lookup>");
        }
        Call::Inspect { object, detail } => {
            out.push_str(if *detail {
                "<inspect detail=\"1\">"
            } else {
                "<inspect>"
            });
            element(out, "object", object);
            out.push_str("</inspect>");
        }
        Call::ReadByName {
            object,
            keys,
            fields,
        } => {
            out.push_str("<readByName>");
            element(out, "object", object);
            element(out, "keys", &keys.join(","));
            element(out, "fields", &field_list(fields));
            out.push_str("</readByName>");
        }
        Call::ReadUserFormatting { key } => {
            out.push_str("<readUserFormatting>");
            element(out, "key", key);
            out.push_str("</readUserFormatting>");
        }
    }
}

/// Comma-separated field names, `*` when none are named.
fn field_list(fields: &[String]) -> String {
    if fields.is_empty() {
        "*".to_owned()
    } else {
        fields.join(",")
    }
}

fn render_query(out: &mut String, query: &Query) {
    out.push_str("<query>");
    element(out, "object", &query.object);
    out.push_str("<select>");
    for field in &query.select {
        element(out, "field", field);
    }
    out.push_str("</select>");
    if let Some(filter) = &query.filter {
        out.push_str("<filter>");
        render_filter(out, filter);
        out.push_str("</filter>");
    }
    if !query.order_by.is_empty() {
        out.push_str("<orderby>");
        for order in &query.order_by {
            out.push_str("<order>");
            element(out, "field", &order.field);
            out.push_str(if order.ascending {
                "<ascending/>"
            } else {
                "<descending/>"
            });
            out.push_str("</order>");
        }
        out.push_str("</orderby>");
    }
    if query.case_insensitive || query.show_private {
        out.push_str("<options>");
        if query.case_insensitive {
            out.push_str("<caseinsensitive>true</caseinsensitive>");
        }
        if query.show_private {
            out.push_str("<showprivate>true</showprivate>");
        }
        out.push_str("</options>");
    }
    if let Some(size) = query.page_size {
        element(out, "pagesize", &size.to_string());
    }
    if let Some(offset) = query.offset {
        element(out, "offset", &offset.to_string());
    }
    out.push_str("</query>");
}

fn render_filter(out: &mut String, filter: &Filter) {
    let (name, field, values): (&str, &str, &[String]) = match filter {
        Filter::And(children) | Filter::Or(children) => {
            let name = if matches!(filter, Filter::And(_)) {
                "and"
            } else {
                "or"
            };
            out.push('<');
            out.push_str(name);
            out.push('>');
            for child in children {
                render_filter(out, child);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
            return;
        }
        Filter::Compare { op, field, value } => (op.element(), field, std::slice::from_ref(value)),
        Filter::Between { field, low, high } => {
            out.push_str("<between>");
            element(out, "field", field);
            element(out, "value", low);
            element(out, "value", high);
            out.push_str("</between>");
            return;
        }
        Filter::In { field, values } => ("in", field, values),
        Filter::NotIn { field, values } => ("notin", field, values),
        Filter::IsNull { field } => ("isnull", field, &[]),
        Filter::IsNotNull { field } => ("isnotnull", field, &[]),
    };
    out.push('<');
    out.push_str(name);
    out.push('>');
    element(out, "field", field);
    for value in values {
        element(out, "value", value);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn invalid(message: impl Into<String>) -> crate::Error {
    crate::Error::InvalidRequest(message.into())
}

fn check_control_id(what: &str, id: &str) -> crate::Result<()> {
    let chars = id.chars().count();
    if chars > MAX_CONTROL_ID_CHARS {
        return Err(invalid(format!(
            "{what} controlid is {chars} characters long; the limit is {MAX_CONTROL_ID_CHARS}"
        )));
    }
    Ok(())
}

fn check_named(what: &str, value: &str) -> crate::Result<()> {
    if value.trim().is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

/// Checks every protocol limit before anything is written.
pub(crate) fn validate_request(request: &Request) -> crate::Result<()> {
    check_control_id("request", &request.control_id)?;
    if request.functions.is_empty() {
        return Err(invalid("a request needs at least one function"));
    }
    let has_session_call = request
        .functions
        .iter()
        .any(|f| matches!(f.call, Call::GetApiSession { .. }));
    if has_session_call && request.functions.len() > 1 {
        return Err(invalid(format!(
            "getAPISession must be alone in its request, but the request has {} functions",
            request.functions.len()
        )));
    }
    for function in &request.functions {
        check_control_id("function", &function.control_id)?;
        validate_call(&function.call)?;
    }
    Ok(())
}

fn validate_call(call: &Call) -> crate::Result<()> {
    match call {
        Call::GetApiSession { .. } => Ok(()),
        Call::Query(query) => validate_query(query),
        Call::ReadByQuery(read) => {
            check_named("readByQuery object", &read.object)?;
            match read.page_size {
                Some(size) if !(1..=MAX_READ_BY_QUERY_PAGE_SIZE).contains(&size) => {
                    Err(invalid(format!(
                        "readByQuery pagesize {size} on {} is outside 1..={MAX_READ_BY_QUERY_PAGE_SIZE}",
                        read.object
                    )))
                }
                _ => Ok(()),
            }
        }
        Call::ReadMore { result_id } => check_named("readMore resultId", result_id),
        Call::Read { object, keys, .. } => {
            check_named("read object", object)?;
            if keys.is_empty() {
                return Err(invalid(format!("read of {object} names no keys")));
            }
            Ok(())
        }
        Call::Lookup { object } => check_named("lookup object", object),
        Call::Inspect { object, .. } => check_named("inspect object", object),
        Call::ReadByName { object, keys, .. } => {
            check_named("readByName object", object)?;
            if keys.is_empty() {
                return Err(invalid(format!("readByName of {object} names no keys")));
            }
            Ok(())
        }
        Call::ReadUserFormatting { key } => check_named("readUserFormatting key", key),
    }
}

fn validate_query(query: &Query) -> crate::Result<()> {
    check_named("query object", &query.object)?;
    if query.select.is_empty() {
        return Err(invalid(format!(
            "query on {} selects no field; select must not be empty",
            query.object
        )));
    }
    for field in &query.select {
        check_named("query select field", field)?;
    }
    if let Some(size) = query.page_size
        && !(1..=MAX_QUERY_PAGE_SIZE).contains(&size)
    {
        return Err(invalid(format!(
            "query pagesize {size} on {} is outside 1..={MAX_QUERY_PAGE_SIZE}",
            query.object
        )));
    }
    for order in &query.order_by {
        check_named("query orderby field", &order.field)?;
    }
    if let Some(filter) = &query.filter {
        validate_filter(filter)?;
    }
    Ok(())
}

fn validate_filter(filter: &Filter) -> crate::Result<()> {
    match filter {
        Filter::And(children) | Filter::Or(children) => {
            if children.len() < 2 {
                let name = if matches!(filter, Filter::And(_)) {
                    "and"
                } else {
                    "or"
                };
                return Err(invalid(format!(
                    "filter <{name}> has {} child(ren); it needs at least 2",
                    children.len()
                )));
            }
            children.iter().try_for_each(validate_filter)
        }
        Filter::Compare { field, .. }
        | Filter::Between { field, .. }
        | Filter::IsNull { field }
        | Filter::IsNotNull { field } => check_named("filter field", field),
        Filter::In { field, values } | Filter::NotIn { field, values } => {
            check_named("filter field", field)?;
            let name = if matches!(filter, Filter::In { .. }) {
                "in"
            } else {
                "notin"
            };
            if values.is_empty() || values.len() > MAX_IN_VALUES {
                return Err(invalid(format!(
                    "filter <{name}> on {field} has {} values; it needs 1..={MAX_IN_VALUES}",
                    values.len()
                )));
            }
            Ok(())
        }
    }
}

/// True for characters XML 1.0 does not allow in a document, raw or as a reference:
/// C0 controls other than TAB, LF and CR, and the non-characters U+FFFE and U+FFFF.
/// (Lone surrogates cannot occur in a Rust `str`.)
pub fn is_forbidden_xml_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Removes characters XML 1.0 forbids (see [`is_forbidden_xml_char`]); borrows when none.
pub(crate) fn strip_forbidden(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_forbidden_xml_char) {
        Cow::Owned(
            text.chars()
                .filter(|c| !is_forbidden_xml_char(*c))
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Text content made safe for an element: forbidden characters stripped first, then
/// `& < > " '` escaped. Stripping comes first so that no escape sequence is ever split.
/// A carriage return is written as `&#13;`: XML parsers turn a raw CR (and CR LF) into LF,
/// so only the reference carries it through.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// An attribute value made safe for a double-quoted attribute: the rule of [`escape_text`],
/// plus TAB and LF as references, because attribute-value normalization turns raw
/// whitespace into spaces.
pub fn escape_attr(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, attribute: bool) -> Cow<'_, str> {
    let stripped = strip_forbidden(text);
    let needs_escape = |c: char| {
        matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || (attribute && matches!(c, '\t' | '\n'))
    };
    if !stripped.contains(needs_escape) {
        return stripped;
    }
    let mut out = String::with_capacity(stripped.len() + 16);
    for c in stripped.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
