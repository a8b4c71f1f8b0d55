//! The streaming parser for Intacct response bodies.
//!
//! One pass of `quick_xml` events over the body, no DOM. It owns the reading of the envelope
//! (reference §3): control, authentication and per-`<result>` status, each of which can
//! report failure under HTTP 200, and hands `<data>` to `records` (record pages) or
//! `metadata` (`lookup`/`inspect`).
//!
//! Every HTTP 200 is suspect. Invariants:
//! * a body either parses into a [`Response`] whose every level said `success` (failed
//!   results are kept per function), or gives an error: [`Error::Intacct`] for a control or
//!   authentication failure, [`Error::MalformedResponse`] with a specific kind for anything
//!   that is not a complete Intacct response. Never a panic, never an empty success;
//! * the gateway's own `GW-nnnn` / `XMLGW_*` blocks (an `<errormessage>` outside
//!   `<operation>`) are control-level failures; an [`Error::Intacct`] carries the level and
//!   each error's errorno, description, description2 and correction;
//! * each `<result>` carries its own outcome, so one failed function does not hide the others;
//! * the kinds of [`Error::MalformedResponse`]: Empty, InvalidUtf8, Html, NotXml, Truncated,
//!   NoResponseElement, UnexpectedStructure;
//! * records become columns by the rule of `names` (see `records`): empty elements are NULL,
//!   unknown and custom fields are kept;
//! * error details name a byte offset, the element path and a short snippet of the body in
//!   which `<sessionid>` and `<password>` values are redacted;
//! * lenient where real responses are known to be odd: element names that are not XML names
//!   (`<GLDIMBuild/Disassemble_Kits>`), characters XML forbids (raw or as references: dropped),
//!   unknown entities (kept literally), unknown elements (skipped).

mod metadata;
mod records;
mod text;

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, MalformedKind, Result};
use crate::intacct::codes;
use crate::intacct::response::{
    ApiSession, AuthenticationBlock, ControlBlock, ErrorDetail, ErrorLevel, FunctionResult,
    RecordPage, Response, ResultData,
};
use crate::secret::Secret;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The deepest nesting of elements read: Sage's recorded responses nest at most 8 levels
/// (`<response>` … a field of a line of a record), so 64 leaves room for custom objects while
/// a body that nests without end (a hostile gateway) is refused with
/// [`Error::XmlTooDeep`] instead of building column names from thousand-level paths.
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses a whole response body.
///
/// Returns the response when the control and authentication levels succeeded (each
/// `<result>` then carries its own outcome), [`Error::Intacct`] for a control- or
/// authentication-level failure, and [`Error::MalformedResponse`] for a body that is not a
/// complete Intacct response.
pub fn parse_response(body: &[u8]) -> Result<Response> {
    let (bom, text) = precheck(body)?;
    let mut parser = Parser::new(body, bom, text);
    parser.document()
}

/// Classifies bodies that are not XML before any parsing; returns the BOM length and the
/// body as text.
fn precheck(body: &[u8]) -> Result<(usize, &str)> {
    let bom = if body.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    let content = &body[bom..];
    let Some(first) = content.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(malformed(
            MalformedKind::Empty,
            format!("{} bytes, none but whitespace", body.len()),
        ));
    };
    if looks_like_html(&content[first..]) {
        return Err(malformed(
            MalformedKind::Html,
            format!(
                "at byte {}: {}",
                bom + first,
                text::redacted_snippet(body, bom + first + 60)
            ),
        ));
    }
    let text = match std::str::from_utf8(content) {
        Ok(text) => text,
        Err(e) => {
            let at = bom + e.valid_up_to();
            let kind = if e.error_len().is_none() {
                MalformedKind::Truncated
            } else {
                MalformedKind::InvalidUtf8
            };
            let what = if kind == MalformedKind::Truncated {
                "body ends inside a UTF-8 sequence"
            } else {
                "invalid UTF-8"
            };
            return Err(malformed(
                kind,
                format!("{what} at byte {at}: {}", text::redacted_snippet(body, at)),
            ));
        }
    };
    if content[first] != b'<' {
        return Err(malformed(
            MalformedKind::NotXml,
            format!(
                "body starts with text at byte {}: {}",
                bom + first,
                text::redacted_snippet(body, bom + first + 60)
            ),
        ));
    }
    Ok((bom, text))
}

/// True for a body that starts like an HTML page (a CDN or proxy error page).
fn looks_like_html(start: &[u8]) -> bool {
    let head: Vec<u8> = start
        .iter()
        .take(1024)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    head.starts_with(b"<!doctype html")
        || head.starts_with(b"<html")
        || head.starts_with(b"<head")
        || head.starts_with(b"<body")
        || (contains(b"<html") && !contains(b"<response"))
}

fn malformed(kind: MalformedKind, detail: String) -> Error {
    Error::MalformedResponse { kind, detail }
}

/// One event, reduced to what the envelope and record readers need.
enum Ev<'a> {
    /// A start tag; `name` borrows from the body.
    Start { name: &'a str, tag: BytesStart<'a> },
    /// A self-closing tag; `content` (all between `<` and `/>`) borrows from the body.
    Empty {
        name: &'a str,
        content: &'a str,
        tag: BytesStart<'a>,
    },
    /// The end of the element whose start tag had this name and content.
    End { name: &'a str, content: &'a str },
    /// Character data without references (text or CDATA).
    Text(Cow<'a, str>),
    /// A reference: the text between `&` and `;`.
    Ref(Cow<'a, str>),
    /// End of input.
    Eof,
}

/// A child element the envelope reader is positioned on (its start tag consumed).
struct Child<'a> {
    name: &'a str,
    tag: BytesStart<'a>,
    /// A self-closing tag: it has no content and no end tag to consume.
    empty: bool,
}

struct Parser<'a> {
    body: &'a [u8],
    bom: usize,
    text: &'a str,
    /// Where in `text` the reader's input starts (the reader is restarted past records read
    /// by the fast path, see `records`).
    base: usize,
    reader: Reader<&'a [u8]>,
    /// Open elements: (name, full tag content), both borrowed from the body.
    open: Vec<(&'a str, &'a str)>,
}

/// What the envelope held, before the levels are judged.
#[derive(Default)]
struct Envelope {
    control: Option<ControlBlock>,
    control_errors: Vec<ErrorDetail>,
    operation_seen: bool,
    authentication: Option<(String, AuthenticationBlock)>,
    operation_errors: Vec<ErrorDetail>,
    results: Vec<FunctionResult>,
    acknowledged: bool,
}

impl<'a> Parser<'a> {
    fn new(body: &'a [u8], bom: usize, text: &'a str) -> Parser<'a> {
        Parser {
            body,
            bom,
            text,
            base: 0,
            reader: Self::reader(text),
            open: Vec::with_capacity(16),
        }
    }

    fn reader(text: &'a str) -> Reader<&'a [u8]> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.trim_text(false);
        // End tags are matched here, leniently (see `next`), against `open`, which also
        // holds the elements opened before a restart (see `resume_at`).
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        reader
    }

    /// Byte offset in `text` of the reader's next byte.
    #[inline]
    fn offset(&self) -> usize {
        self.base + self.reader.buffer_position() as usize
    }

    /// Moves the reader to byte `offset` of `text`, past what the fast path consumed.
    fn resume_at(&mut self, offset: usize) {
        self.reader = Self::reader(&self.text[offset..]);
        self.base = offset;
    }

    // ---- events -------------------------------------------------------------------------

    /// The next event; comments, processing instructions and the declaration are skipped.
    #[inline]
    fn next(&mut self) -> Result<Ev<'a>> {
        loop {
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => return Err(self.xml_error(&e)),
            };
            return Ok(match event {
                Event::Start(tag) => {
                    let (name, content) = self.tag_name(&tag, 1);
                    if self.open.len() >= MAX_DEPTH {
                        return Err(self.too_deep(content));
                    }
                    self.open.push((name, content));
                    Ev::Start { name, tag }
                }
                Event::Empty(tag) => {
                    let (name, content) = self.tag_name(&tag, 2);
                    Ev::Empty { name, content, tag }
                }
                Event::End(end) => {
                    let Some((name, content)) = self.open.pop() else {
                        return Err(self.structure_error("end tag without a start tag"));
                    };
                    let found = end.name().0;
                    // Lenient for names with spaces (`<My Field>…</My Field>`): the end tag
                    // may repeat the whole start-tag content.
                    if found != name && found != content.trim_end() {
                        return Err(self.error_here(
                            MalformedKind::NotXml,
                            &format!("end tag </{found}> does not close <{name}>"),
                        ));
                    }
                    Ev::End { name, content }
                }
                Event::Text(text) => Ev::Text(text.into_inner()),
                Event::CData(data) => Ev::Text(data.into_inner()),
                Event::GeneralRef(reference) => Ev::Ref(reference.into_inner()),
                Event::Eof => Ev::Eof,
                Event::DocType(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => continue,
            });
        }
    }

    /// The name of a start or empty tag and its whole content, borrowed from the body
    /// (`closing` is the length of `>` or `/>`).
    #[inline]
    fn tag_name(&self, tag: &BytesStart<'_>, closing: usize) -> (&'a str, &'a str) {
        let end = self.offset();
        let len = tag.len();
        let start = end - closing - len;
        let name_len = tag.name().0.len();
        (
            &self.text[start..start + name_len],
            &self.text[start..start + len],
        )
    }

    /// The next child element of the current element, or `None` at its end tag.
    fn child(&mut self) -> Result<Option<Child<'a>>> {
        loop {
            match self.next()? {
                Ev::Start { name, tag, .. } => {
                    return Ok(Some(Child {
                        name,
                        tag,
                        empty: false,
                    }));
                }
                Ev::Empty { name, tag, .. } => {
                    return Ok(Some(Child {
                        name,
                        tag,
                        empty: true,
                    }));
                }
                Ev::End { .. } => return Ok(None),
                Ev::Eof => return Err(self.truncated()),
                Ev::Text(_) | Ev::Ref(_) => {}
            }
        }
    }

    /// Consumes the rest of `child`, whatever it holds.
    fn skip(&mut self, child: &Child<'a>) -> Result<()> {
        if child.empty {
            return Ok(());
        }
        let depth = self.open.len();
        loop {
            match self.next()? {
                Ev::End { .. } if self.open.len() < depth => return Ok(()),
                Ev::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
    }

    /// The decoded text of `child`; text inside grandchildren is ignored.
    fn text_of(&mut self, child: &Child<'a>) -> Result<String> {
        let mut out = String::new();
        if child.empty {
            return Ok(out);
        }
        let depth = self.open.len();
        loop {
            match self.next()? {
                Ev::Text(raw) if self.open.len() == depth => text::push_literal(&mut out, &raw),
                Ev::Ref(name) if self.open.len() == depth => text::push_reference(&mut out, &name),
                Ev::End { .. } if self.open.len() < depth => return Ok(out),
                Ev::Eof => return Err(self.truncated()),
                _ => {}
            }
        }
    }

    /// Like [`Parser::text_of`], `None` when empty or whitespace.
    fn optional_text_of(&mut self, child: &Child<'a>) -> Result<Option<String>> {
        let text = self.text_of(child)?;
        Ok(if text.trim().is_empty() {
            None
        } else {
            Some(text)
        })
    }

    /// Decoded value of attribute `key` of a tag.
    fn attribute(&self, tag: &BytesStart<'_>, key: &str) -> Result<Option<String>> {
        for attribute in tag.attributes().with_checks(false) {
            let attribute = attribute.map_err(|e| {
                self.error_here(MalformedKind::NotXml, &format!("bad attribute: {e}"))
            })?;
            if attribute.key.0 == key {
                return Ok(Some(text::decoded(&attribute.value)));
            }
        }
        Ok(None)
    }

    // ---- errors -------------------------------------------------------------------------

    fn position(&self) -> usize {
        self.bom + self.offset()
    }

    /// `<response>/<operation>/<result>`: where the parser is.
    fn path(&self) -> String {
        if self.open.is_empty() {
            return "document".to_owned();
        }
        let names: Vec<String> = self.open.iter().map(|(n, _)| format!("<{n}>")).collect();
        names.join("/")
    }

    fn error_at(&self, kind: MalformedKind, at: usize, what: &str) -> Error {
        malformed(
            kind,
            format!(
                "{what} at byte {at} in {}: {}",
                self.path(),
                text::redacted_snippet(self.body, at)
            ),
        )
    }

    fn error_here(&self, kind: MalformedKind, what: &str) -> Error {
        self.error_at(kind, self.position(), what)
    }

    /// [`Error::XmlTooDeep`] at the start tag just read (`content`: all between its `<` and
    /// `>`), which would open one level past [`MAX_DEPTH`].
    fn too_deep(&self, content: &str) -> Error {
        let at_byte = self.position().saturating_sub(content.len() + 2);
        let names: Vec<String> = self.open.iter().map(|(n, _)| format!("<{n}>")).collect();
        let path = if names.len() > 8 {
            format!(
                "{}/…/{}",
                names[..4].join("/"),
                names[names.len() - 3..].join("/")
            )
        } else {
            names.join("/")
        };
        Error::XmlTooDeep {
            max_depth: MAX_DEPTH,
            at_byte,
            path,
        }
    }

    fn structure_error(&self, what: &str) -> Error {
        self.error_here(MalformedKind::UnexpectedStructure, what)
    }

    fn truncated(&self) -> Error {
        self.error_at(
            MalformedKind::Truncated,
            self.body.len(),
            "body ends before the document does",
        )
    }

    fn xml_error(&self, e: &quick_xml::Error) -> Error {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        let at = self.bom + self.base + self.reader.error_position() as usize;
        let kind = match e {
            quick_xml::Error::Syntax(SyntaxError::InvalidBangMarkup) => MalformedKind::NotXml,
            quick_xml::Error::Syntax(_)
            | quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
                return self.truncated();
            }
            quick_xml::Error::Encoding(_) => MalformedKind::InvalidUtf8,
            _ => MalformedKind::NotXml,
        };
        self.error_at(kind, at, &format!("XML error ({e})"))
    }

    // ---- envelope -----------------------------------------------------------------------

    fn document(&mut self) -> Result<Response> {
        let root = loop {
            match self.next()? {
                Ev::Start { name, tag, .. } => {
                    break Child {
                        name,
                        tag,
                        empty: false,
                    };
                }
                Ev::Empty { name, tag, .. } => {
                    break Child {
                        name,
                        tag,
                        empty: true,
                    };
                }
                Ev::Text(raw) if raw.trim().is_empty() => {}
                Ev::Text(_) | Ev::Ref(_) => {
                    return Err(
                        self.error_here(MalformedKind::NotXml, "text before the root element")
                    );
                }
                Ev::End { .. } => {
                    return Err(self.error_here(MalformedKind::NotXml, "end tag first"));
                }
                Ev::Eof => return Err(self.truncated()),
            }
        };
        if root.name.eq_ignore_ascii_case("html") {
            return Err(self.error_here(MalformedKind::Html, "root element is <html>"));
        }
        if root.name != "response" {
            return Err(self.error_here(
                MalformedKind::NoResponseElement,
                &format!("root element is <{}>", root.name),
            ));
        }
        if root.empty {
            return Err(self.structure_error("empty <response/>"));
        }
        let mut envelope = Envelope::default();
        while let Some(child) = self.child()? {
            match child.name {
                "control" => envelope.control = Some(self.control(&child)?),
                "errormessage" => envelope.control_errors.extend(self.errormessage(&child)?),
                "operation" => self.operation(&child, &mut envelope)?,
                "acknowledgement" => {
                    envelope.acknowledged = true;
                    self.skip(&child)?;
                }
                _ => self.skip(&child)?,
            }
        }
        loop {
            match self.next()? {
                Ev::Eof => break,
                Ev::Start { .. } | Ev::Empty { .. } => {
                    return Err(self.structure_error("content after </response>"));
                }
                _ => {}
            }
        }
        self.judge(envelope)
    }

    /// Turns the envelope into the response or the level that failed.
    fn judge(&self, envelope: Envelope) -> Result<Response> {
        let Some(control) = envelope.control else {
            return Err(self.structure_error("no <control> in <response>"));
        };
        let control_failed = match control.status.trim() {
            "success" => false,
            "failure" => true,
            other => {
                return Err(self.structure_error(&format!("control status {other:?}")));
            }
        };
        if control_failed || !envelope.control_errors.is_empty() {
            return Err(Error::Intacct(codes::failure(
                ErrorLevel::Control,
                None,
                control.control_id.clone(),
                false,
                envelope.control_errors,
            )));
        }
        let authentication = match envelope.authentication {
            Some((status, block)) => {
                let failed = match status.trim() {
                    "success" => false,
                    "failure" => true,
                    other => {
                        return Err(
                            self.structure_error(&format!("authentication status {other:?}"))
                        );
                    }
                };
                if failed || !envelope.operation_errors.is_empty() {
                    return Err(Error::Intacct(codes::failure(
                        ErrorLevel::Authentication,
                        None,
                        control.control_id.clone(),
                        false,
                        envelope.operation_errors,
                    )));
                }
                Some(block)
            }
            None if envelope.operation_seen => {
                return Err(self.structure_error("<operation> without <authentication>"));
            }
            None if envelope.acknowledged => None,
            None => {
                return Err(self.structure_error("neither <operation> nor <acknowledgement>"));
            }
        };
        Ok(Response {
            control,
            authentication,
            results: envelope.results,
        })
    }

    fn control(&mut self, element: &Child<'a>) -> Result<ControlBlock> {
        let mut control = ControlBlock::default();
        if element.empty {
            return Ok(control);
        }
        while let Some(child) = self.child()? {
            match child.name {
                "status" => control.status = self.text_of(&child)?,
                "senderid" => control.sender_id = self.optional_text_of(&child)?,
                "controlid" => control.control_id = self.optional_text_of(&child)?,
                _ => self.skip(&child)?,
            }
        }
        Ok(control)
    }

    fn errormessage(&mut self, element: &Child<'a>) -> Result<Vec<ErrorDetail>> {
        let mut errors = Vec::new();
        if element.empty {
            return Ok(errors);
        }
        while let Some(child) = self.child()? {
            if child.name != "error" {
                self.skip(&child)?;
                continue;
            }
            let mut error = ErrorDetail::default();
            if !child.empty {
                while let Some(field) = self.child()? {
                    match field.name {
                        "errorno" => error.errorno = self.text_of(&field)?.trim().to_owned(),
                        "description" => error.description = self.optional_text_of(&field)?,
                        "description2" => error.description2 = self.optional_text_of(&field)?,
                        "correction" => error.correction = self.optional_text_of(&field)?,
                        _ => self.skip(&field)?,
                    }
                }
            }
            errors.push(error);
        }
        Ok(errors)
    }

    fn operation(&mut self, element: &Child<'a>, envelope: &mut Envelope) -> Result<()> {
        envelope.operation_seen = true;
        if element.empty {
            return Ok(());
        }
        while let Some(child) = self.child()? {
            match child.name {
                "authentication" => envelope.authentication = Some(self.authentication(&child)?),
                "errormessage" => envelope.operation_errors.extend(self.errormessage(&child)?),
                "result" => envelope.results.push(self.result(&child)?),
                _ => self.skip(&child)?,
            }
        }
        Ok(())
    }

    fn authentication(&mut self, element: &Child<'a>) -> Result<(String, AuthenticationBlock)> {
        let mut status = String::new();
        let mut block = AuthenticationBlock::default();
        if element.empty {
            return Ok((status, block));
        }
        while let Some(child) = self.child()? {
            match child.name {
                "status" => status = self.text_of(&child)?,
                "userid" => block.user_id = self.optional_text_of(&child)?,
                "companyid" => block.company_id = self.optional_text_of(&child)?,
                "locationid" => block.location_id = self.optional_text_of(&child)?,
                "sessiontimestamp" => block.session_timestamp = self.optional_text_of(&child)?,
                "sessiontimeout" => block.session_timeout = self.optional_text_of(&child)?,
                _ => self.skip(&child)?,
            }
        }
        Ok((status, block))
    }

    fn result(&mut self, element: &Child<'a>) -> Result<FunctionResult> {
        let mut status = None;
        let mut function = String::new();
        let mut control_id = String::new();
        let mut data = None;
        let mut legacy = None;
        let mut errors = Vec::new();
        if !element.empty {
            while let Some(child) = self.child()? {
                match child.name {
                    "status" => status = Some(self.text_of(&child)?),
                    "function" => function = self.text_of(&child)?.trim().to_owned(),
                    "controlid" => control_id = self.text_of(&child)?,
                    "listtype" => legacy = Some(self.legacy_list(&child)?),
                    "data" => data = Some(self.data(&child)?),
                    "errormessage" => errors.extend(self.errormessage(&child)?),
                    _ => self.skip(&child)?,
                }
            }
        }
        let Some(status) = status else {
            return Err(self.structure_error("<result> without <status>"));
        };
        let outcome = match status.trim() {
            "success" => {
                let mut data = data.unwrap_or(ResultData::Empty);
                if let Some(legacy) = legacy {
                    legacy.apply(&mut data);
                }
                Ok(data)
            }
            aborted @ ("failure" | "aborted") => Err(codes::failure(
                ErrorLevel::Result,
                Some(function.clone()),
                Some(control_id.clone()),
                aborted == "aborted",
                errors,
            )),
            other => {
                return Err(self.structure_error(&format!("result status {other:?}")));
            }
        };
        Ok(FunctionResult {
            function,
            control_id,
            outcome,
        })
    }

    /// `<data …>` of a result: a session, object metadata, or a page of records.
    fn data(&mut self, element: &Child<'a>) -> Result<ResultData> {
        let mut page = RecordPage::default();
        let mut is_list = false;
        for attribute in element.tag.attributes().with_checks(false) {
            let attribute = attribute.map_err(|e| {
                self.error_here(MalformedKind::NotXml, &format!("bad attribute: {e}"))
            })?;
            let value = text::decoded(&attribute.value);
            let number = |what: &str| {
                value.trim().parse::<u64>().map_err(|_| {
                    self.structure_error(&format!(
                        "<data> attribute {what}={value:?} is not a count"
                    ))
                })
            };
            match attribute.key.0 {
                "listtype" => page.list_type = Some(value.clone()),
                "count" => page.count = Some(number("count")?),
                "totalcount" => page.total_count = Some(number("totalcount")?),
                "numremaining" => page.num_remaining = Some(number("numremaining")?),
                "offset" => page.offset = Some(number("offset")?),
                "resultId" => {
                    page.result_id = (!value.trim().is_empty()).then(|| value.clone());
                }
                _ => continue,
            }
            is_list = true;
        }
        let first = if element.empty { None } else { self.child()? };
        let Some(first) = first else {
            return Ok(if is_list {
                self.check_count(&page)?;
                ResultData::Records(page)
            } else {
                ResultData::Empty
            });
        };
        match first.name {
            "api" => {
                let session = self.api_session(&first)?;
                while let Some(rest) = self.child()? {
                    self.skip(&rest)?;
                }
                Ok(ResultData::Session(session))
            }
            "Type" => Ok(ResultData::Objects(self.objects(first)?)),
            _ => {
                self.records(&mut page, first)?;
                self.check_count(&page)?;
                Ok(ResultData::Records(page))
            }
        }
    }

    /// A page whose reported `count` disagrees with its rows is not trusted.
    fn check_count(&self, page: &RecordPage) -> Result<()> {
        match page.count {
            Some(count) if count != page.len() as u64 => Err(self.structure_error(&format!(
                "<data count=\"{count}\"> holds {} records",
                page.len()
            ))),
            _ => Ok(()),
        }
    }

    fn api_session(&mut self, element: &Child<'a>) -> Result<ApiSession> {
        let mut session_id = None;
        let mut endpoint = None;
        let mut location_id = None;
        if !element.empty {
            while let Some(child) = self.child()? {
                match child.name {
                    "sessionid" => session_id = self.optional_text_of(&child)?.map(Secret::new),
                    "endpoint" => endpoint = self.optional_text_of(&child)?,
                    "locationid" => location_id = self.optional_text_of(&child)?,
                    _ => self.skip(&child)?,
                }
            }
        }
        let Some(session_id) = session_id else {
            return Err(self.structure_error("getAPISession data without a <sessionid>"));
        };
        let Some(endpoint) = endpoint else {
            return Err(self.structure_error("getAPISession data without an <endpoint>"));
        };
        Ok(ApiSession {
            session_id,
            endpoint: endpoint.trim().to_owned(),
            location_id,
        })
    }

    /// Legacy `<listtype start end total>name</listtype>` of a 2.1-style `get_list`.
    fn legacy_list(&mut self, element: &Child<'a>) -> Result<LegacyList> {
        let number = |parser: &Self, key: &str| -> Result<Option<u64>> {
            match parser.attribute(&element.tag, key)? {
                None => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    parser.structure_error(&format!(
                        "<listtype> attribute {key}={v:?} is not a count"
                    ))
                }),
            }
        };
        let start = number(self, "start")?;
        let total = number(self, "total")?;
        let name = self.optional_text_of(element)?;
        Ok(LegacyList { name, start, total })
    }
}

/// The list description a legacy `get_list` result gives outside `<data>`.
struct LegacyList {
    name: Option<String>,
    start: Option<u64>,
    total: Option<u64>,
}

impl LegacyList {
    /// Fills the page's list fields: `count` is the rows received, `offset` the `start`,
    /// `num_remaining` what `total` leaves after this page.
    fn apply(self, data: &mut ResultData) {
        if matches!(data, ResultData::Empty) {
            *data = ResultData::Records(RecordPage::default());
        }
        if let ResultData::Records(page) = data {
            let rows = page.len() as u64;
            page.list_type = page.list_type.take().or(self.name);
            page.count = Some(rows);
            page.offset = self.start;
            page.total_count = self.total;
            page.num_remaining = self
                .total
                .map(|total| total.saturating_sub(self.start.unwrap_or(0) + rows));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-record page whose record holds a field nested `levels` elements below the
    /// record element (`<response>` … `<X>` are six levels).
    fn nested_page(levels: usize) -> String {
        let open: String = (0..levels).map(|i| format!("<L{i}>")).collect();
        let close: String = (0..levels).rev().map(|i| format!("</L{i}>")).collect();
        format!(
            "<response><control><status>success</status></control><operation><authentication>\
             <status>success</status></authentication><result><status>success</status>\
             <function>query</function><controlid>a</controlid>\
             <data listtype=\"X\" count=\"1\"><X><N>1</N>{open}v{close}</X></data></result>\
             </operation></response>"
        )
    }

    #[test]
    fn nesting_up_to_the_cap_is_read_and_past_it_is_refused_with_its_place() {
        // `<response>/<operation>/<result>/<data>/<X>` is five levels; the fields go on.
        let deepest = MAX_DEPTH - 5;
        let response = parse_response(nested_page(deepest).as_bytes()).unwrap();
        let ResultData::Records(page) = response.results[0].outcome.as_ref().unwrap() else {
            panic!("a record page");
        };
        assert_eq!(page.len(), 1);
        let body = nested_page(deepest + 1);
        match parse_response(body.as_bytes()) {
            Err(Error::XmlTooDeep {
                max_depth,
                at_byte,
                path,
            }) => {
                assert_eq!(max_depth, MAX_DEPTH);
                let last = format!("<L{deepest}>");
                assert_eq!(at_byte, body.find(&last).unwrap());
                assert!(
                    path.starts_with("<response>/<operation>/<result>/<data>/…/"),
                    "{path}"
                );
                assert!(path.ends_with(&format!("<L{}>", deepest - 1)), "{path}");
            }
            other => panic!("expected XmlTooDeep, got {other:?}"),
        }
        // A body that nests without end is refused the same way.
        let endless = format!("<response>{}", "<a>".repeat(100_000));
        assert!(matches!(
            parse_response(endless.as_bytes()),
            Err(Error::XmlTooDeep { .. })
        ));
    }
}
