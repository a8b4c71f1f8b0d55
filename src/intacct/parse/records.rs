//! Records of a `<data>` element into a [`RecordPage`]: the parser's hot loop.
//!
//! Each child element of `<data>` is one record; each leaf element inside a record is one
//! value, in the column named by [`column_name_of_path`] of its path below the record (so
//! `<VENDOR.NAME>` and `<VENDOR><NAME>` land in the same column `VENDOR__NAME`). An empty
//! leaf (`<X></X>` or `<X/>`) is `None` but still creates its column. Columns appear in
//! first-seen order across the page. A leaf repeated within one record keeps the last value.
//!
//! Speed: element names are borrowed from the body, never copied per record; a field is
//! matched to its column first by position (records of one page list their fields in the
//! same order), then by a hash of its raw name, and only a new name pays for
//! [`column_name_of_path`]. Values are decoded straight into the page's text arena.
//!
//! Most records are simple: `<F>text</F>`, `<F/>` and `<F><![CDATA[raw]]></F>` leaves with
//! plain names, elements that only hold elements (`<VENDOR><NAME>…</NAME></VENDOR>`), quoted
//! attributes, whitespace between tags. A fast path reads such a record straight from the
//! (already UTF-8-checked) text, without an XML event per tag, then restarts the event reader
//! after it. At anything else (a space in a name, comments, mixed content, a CDATA section
//! beside other text, a reference it does not end, a mismatched end tag, the end of the body)
//! it gives the record back untouched to the event reader, which reads it as before and
//! reports any error at its true position; cells and columns the fast path set are set again
//! to the same values, in the same order.

use std::collections::HashMap;

use super::text;
use super::{Child, Ev, Parser};
use crate::error::Result;
use crate::intacct::names::column_name_of_path;
use crate::intacct::response::RecordPage;

/// Column lookup for one page.
#[derive(Default)]
struct Columns<'a> {
    /// Raw top-level element name → column.
    by_raw: HashMap<&'a str, usize>,
    /// Column name → column (collisions between raw names, nested paths).
    by_name: HashMap<String, usize>,
    /// Raw top-level name of each column (`""` when only nested paths use it).
    raw_of: Vec<&'a str>,
    /// Columns of the previous record, in the order its fields came.
    previous: Vec<usize>,
    /// Columns of the current record so far.
    current: Vec<usize>,
}

impl<'a> Columns<'a> {
    fn begin_record(&mut self) {
        std::mem::swap(&mut self.previous, &mut self.current);
        self.current.clear();
    }

    /// The column of a top-level field.
    #[inline]
    fn top_level(&mut self, page: &mut RecordPage, raw: &'a str) -> usize {
        let position = self.current.len();
        let column = match self.previous.get(position) {
            Some(&c) if self.raw_of[c] == raw => c,
            _ => match self.by_raw.get(raw) {
                Some(&c) => c,
                None => {
                    let c = self.by_name_or_new(page, column_name_of_path([raw]));
                    if self.raw_of[c].is_empty() {
                        self.raw_of[c] = raw;
                    }
                    self.by_raw.insert(raw, c);
                    c
                }
            },
        };
        self.current.push(column);
        column
    }

    /// The column of a nested field: `ancestors` below the record element, then the leaf.
    fn nested(&mut self, page: &mut RecordPage, ancestors: &[&'a str], leaf: &'a str) -> usize {
        let name = column_name_of_path(ancestors.iter().copied().chain([leaf]));
        let column = self.by_name_or_new(page, name);
        self.current.push(column);
        column
    }

    fn by_name_or_new(&mut self, page: &mut RecordPage, name: String) -> usize {
        if let Some(&c) = self.by_name.get(&name) {
            return c;
        }
        let c = page.push_column(name.clone());
        self.by_name.insert(name, c);
        self.raw_of.push("");
        c
    }
}

/// Text of the leaf being read: most leaves are one borrowed chunk.
enum Pending<'a> {
    Nothing,
    One(&'a str),
    /// Several chunks (split by references), already decoded into the scratch buffer.
    Scratch,
}

/// The name a field element is known by: its tag name, or the whole tag content when the
/// name had a space in it and no attribute follows (`<My Field>`).
#[inline]
fn field_name<'a>(name: &'a str, content: &'a str) -> &'a str {
    if name.len() == content.len() || content.contains('=') {
        name
    } else {
        content.trim_end()
    }
}

impl<'a> Parser<'a> {
    /// Reads every record of a `<data>` element, `first` being the first record's start.
    pub(super) fn records(&mut self, page: &mut RecordPage, first: Child<'a>) -> Result<()> {
        let mut columns = Columns::default();
        let mut scratch = String::new();
        let mut next = Some(first);
        while let Some(record) = next {
            page.start_row();
            if page.len() == 2 {
                page.reserve_rows(page.count.unwrap_or(0).min(10_000) as usize);
            }
            columns.begin_record();
            if !record.empty && !self.flat_record(page, &mut columns, record.name) {
                columns.current.clear();
                self.record(page, &mut columns, &mut scratch)?;
            }
            next = self.child()?;
        }
        Ok(())
    }

    /// Reads one record's fields, the record's start tag being consumed.
    fn record(
        &mut self,
        page: &mut RecordPage,
        columns: &mut Columns<'a>,
        scratch: &mut String,
    ) -> Result<()> {
        // Depth of the record's fields: the record element is at `base - 1`.
        let base = self.open.len();
        let mut pending = Pending::Nothing;
        // True while the innermost open element has had no child element: a leaf so far.
        let mut leaf = false;
        loop {
            match self.next()? {
                Ev::Start { .. } => {
                    pending = Pending::Nothing;
                    leaf = true;
                }
                Ev::Text(raw) if leaf => match (&pending, raw) {
                    (Pending::Nothing, std::borrow::Cow::Borrowed(raw)) => {
                        pending = Pending::One(raw);
                    }
                    (_, raw) => {
                        if let Pending::One(first) = pending {
                            scratch.clear();
                            text::push_literal(scratch, first);
                        } else if let Pending::Nothing = pending {
                            scratch.clear();
                        }
                        text::push_literal(scratch, &raw);
                        pending = Pending::Scratch;
                    }
                },
                Ev::Ref(name) if leaf => {
                    match pending {
                        Pending::Nothing => scratch.clear(),
                        Pending::One(first) => {
                            scratch.clear();
                            text::push_literal(scratch, first);
                        }
                        Pending::Scratch => {}
                    }
                    text::push_reference(scratch, &name);
                    pending = Pending::Scratch;
                }
                Ev::Text(_) | Ev::Ref(_) => {}
                Ev::Empty { name, content, .. } => {
                    let name = field_name(name, content);
                    let column = if self.open.len() == base {
                        columns.top_level(page, name)
                    } else {
                        let ancestors = self.ancestors(base);
                        columns.nested(page, &ancestors, name)
                    };
                    page.set_none(column);
                    leaf = false;
                }
                Ev::End { name, content } => {
                    if self.open.len() < base {
                        return Ok(());
                    }
                    if !leaf {
                        continue;
                    }
                    leaf = false;
                    let name = field_name(name, content);
                    let column = if self.open.len() == base {
                        columns.top_level(page, name)
                    } else {
                        let ancestors = self.ancestors(base);
                        columns.nested(page, &ancestors, name)
                    };
                    match std::mem::replace(&mut pending, Pending::Nothing) {
                        Pending::Nothing => page.set_none(column),
                        Pending::One(raw) => {
                            page.set_value_with(column, |out| text::push_literal(out, raw));
                        }
                        Pending::Scratch => {
                            page.set_value_with(column, |out| out.push_str(scratch));
                        }
                    }
                }
                Ev::Eof => return Err(self.truncated()),
            }
        }
    }

    /// Reads a record whose start tag was just consumed straight from the text, without XML
    /// events; false (reader untouched) when the record needs the event reader.
    ///
    /// It reads leaves (`<F>text</F>`, `<F/>`, `<F><![CDATA[raw]]></F>`), elements holding
    /// only elements and whitespace (`<VENDOR>` around `<NAME>`), and attributes with quoted
    /// values on any of them, between whitespace, giving each value to the same column the
    /// event reader would (see `record`).
    fn flat_record(
        &mut self,
        page: &mut RecordPage,
        columns: &mut Columns<'a>,
        record_name: &str,
    ) -> bool {
        let text: &'a str = self.text;
        let start = self.offset();
        let bytes = text.as_bytes();
        let mut at = start;
        // Open elements below the record: names of the parents of the next field.
        let mut parents: Vec<&'a str> = Vec::new();
        loop {
            while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r' | b'\n') {
                at += 1;
            }
            if bytes.get(at) != Some(&b'<') {
                return false;
            }
            at += 1;
            if bytes.get(at) == Some(&b'/') {
                // A parent's or the record's end tag.
                let Some(name) = plain_name(bytes, at + 1) else {
                    return false;
                };
                let end = at + 1 + name;
                let closes = parents.last().copied().unwrap_or(record_name);
                if bytes.get(end) != Some(&b'>') || &text[at + 1..end] != closes {
                    return false;
                }
                at = end + 1;
                if parents.pop().is_none() {
                    self.open.pop();
                    self.resume_at(at);
                    return true;
                }
                continue;
            }
            let Some(len) = plain_name(bytes, at) else {
                return false;
            };
            let name: &'a str = &text[at..at + len];
            at += len;
            let empty = match bytes.get(at) {
                Some(b'/') if bytes.get(at + 1) == Some(&b'>') => {
                    at += 2;
                    true
                }
                Some(b'>') => {
                    at += 1;
                    false
                }
                Some(b' ' | b'\t' | b'\r' | b'\n') => match attributes_end(bytes, at) {
                    Some((end, empty)) => {
                        at = end;
                        empty
                    }
                    None => return false,
                },
                _ => return false,
            };
            if empty {
                let column = field_column(page, columns, &parents, name);
                page.set_none(column);
                continue;
            }
            let Some(lt) = text[at..].find('<').map(|i| at + i) else {
                return false;
            };
            if bytes.get(lt + 1) != Some(&b'/') {
                if text[at..].starts_with(CDATA_OPEN) {
                    // `<F><![CDATA[raw]]></F>`: raw text, no references.
                    let from = at + CDATA_OPEN.len();
                    let Some(to) = text[from..].find("]]>").map(|i| from + i) else {
                        return false;
                    };
                    if !closes_leaf(bytes, to + 3, name) {
                        return false;
                    }
                    let column = field_column(page, columns, &parents, name);
                    page.set_value_with(column, |out| text::push_literal(out, &text[from..to]));
                    at = to + 6 + len;
                    continue;
                }
                // An element holding elements: only whitespace before its first child.
                if !text[at..lt]
                    .bytes()
                    .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    return false;
                }
                if self.open.len() + parents.len() + 1 >= super::MAX_DEPTH {
                    // The event reader refuses it with its position.
                    return false;
                }
                parents.push(name);
                at = lt;
                continue;
            }
            let value = &text[at..lt];
            // `</name>` must close the leaf; anything else is for the event reader.
            if !closes_leaf(bytes, lt, name) {
                return false;
            }
            if value.contains('&') && !references_end(value) {
                return false;
            }
            let column = field_column(page, columns, &parents, name);
            page.set_value_with(column, |out| push_with_references(out, value));
            at = lt + 3 + len;
        }
    }

    /// Names of the open elements below the record element.
    fn ancestors(&self, base: usize) -> Vec<&'a str> {
        self.open[base..]
            .iter()
            .map(|(name, content)| field_name(name, content))
            .collect()
    }
}

const CDATA_OPEN: &str = "<![CDATA[";

/// The column of a field read by the fast path, as `record` would find it.
#[inline]
fn field_column<'a>(
    page: &mut RecordPage,
    columns: &mut Columns<'a>,
    parents: &[&'a str],
    name: &'a str,
) -> usize {
    if parents.is_empty() {
        columns.top_level(page, name)
    } else {
        columns.nested(page, parents, name)
    }
}

/// True when `</name>` starts at `at`.
#[inline]
fn closes_leaf(bytes: &[u8], at: usize, name: &str) -> bool {
    let close = at + 2 + name.len();
    bytes.get(at) == Some(&b'<')
        && bytes.get(at + 1) == Some(&b'/')
        && bytes.get(close) == Some(&b'>')
        && &bytes[at + 2..close] == name.as_bytes()
}

/// The end of a start tag's attributes, `at` being just after its name: the offset after its
/// `>` and whether it was `/>`. `None` unless every attribute is `name="value"` or
/// `name='value'` (a tag without `=` names a field with a space in it: `field_name`).
fn attributes_end(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut attributes = 0;
    loop {
        while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            at += 1;
        }
        match bytes.get(at)? {
            b'>' if attributes > 0 => return Some((at + 1, false)),
            b'/' if attributes > 0 && bytes.get(at + 1) == Some(&b'>') => {
                return Some((at + 2, true));
            }
            b'>' | b'/' | b'<' | b'=' | b'"' | b'\'' | b'&' => return None,
            _ => {}
        }
        let name = bytes[at..]
            .iter()
            .position(|b| matches!(b, b'=' | b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/' | b'<'))?;
        at += name;
        if bytes.get(at) != Some(&b'=') {
            return None;
        }
        let quote = *bytes.get(at + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = bytes[at + 2..]
            .iter()
            .position(|&b| b == quote || b == b'<')?;
        if bytes[at + 2 + close] != quote {
            return None;
        }
        at += 2 + close + 1;
        attributes += 1;
    }
}

/// The length of a plain element name at `at`: up to `>`, `/` or whitespace, none of which
/// may start it; `None` for `!`, `?` (comments, CDATA, instructions) or the end of the text.
#[inline]
fn plain_name(bytes: &[u8], at: usize) -> Option<usize> {
    let len = bytes[at.min(bytes.len())..]
        .iter()
        .position(|b| matches!(b, b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n' | b'<' | b'='))?;
    let first = *bytes.get(at)?;
    (len > 0 && first != b'!' && first != b'?').then_some(len)
}

/// True when every `&` in `value` starts a well-formed reference (`&name;`, `&#N;`,
/// `&#xH;`) closed before the next `&`.
fn references_end(value: &str) -> bool {
    value.split('&').skip(1).all(|part| {
        part.split_once(';').is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .bytes()
                    .enumerate()
                    .all(|(i, b)| b.is_ascii_alphanumeric() || (i == 0 && b == b'#'))
        })
    })
}

/// Appends a leaf's text: literal runs as the event reader's text, each `&name;` as its
/// reference.
fn push_with_references(out: &mut String, value: &str) {
    let mut parts = value.split('&');
    if let Some(first) = parts.next() {
        text::push_literal(out, first);
    }
    for part in parts {
        let (name, rest) = part.split_once(';').unwrap_or((part, ""));
        text::push_reference(out, name);
        text::push_literal(out, rest);
    }
}
