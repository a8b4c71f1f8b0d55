//! Text decoding for the response parser, and redacted snippets for its error messages.
//!
//! Invariants: decoded text never contains a character XML 1.0 forbids (such characters,
//! raw or as references, are dropped: the parser is lenient there); CR and CR LF become LF
//! as XML requires of raw line ends; a `&#13;` reference still yields CR. Snippets of a body
//! never show the value of a `<sessionid>` or `<password>` element.

use crate::intacct::request::is_forbidden_xml_char;

/// Appends raw character data (no references inside), normalizing line ends and dropping
/// forbidden characters.
#[inline]
pub(super) fn push_literal(out: &mut String, raw: &str) {
    // 0xEF leads every encoding of U+F000..=U+FFFF, which holds U+FFFE and U+FFFF.
    if !raw.bytes().any(|b| b < 0x20 || b == 0xEF) {
        out.push_str(raw);
        return;
    }
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            c if is_forbidden_xml_char(c) => {}
            c => out.push(c),
        }
    }
}

/// Appends what a reference (the text between `&` and `;`) stands for: the five predefined
/// entities and numeric character references. A reference to a forbidden or impossible
/// character is dropped; an unknown entity is kept literally (`&name;`).
pub(super) fn push_reference(out: &mut String, name: &str) {
    match name {
        "lt" => out.push('<'),
        "gt" => out.push('>'),
        "amp" => out.push('&'),
        "apos" => out.push('\''),
        "quot" => out.push('"'),
        _ => {
            if let Some(number) = name.strip_prefix('#') {
                let code = match number.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => number.parse::<u32>().ok(),
                };
                if let Some(c) = code.and_then(char::from_u32)
                    && c != '\0'
                    && !is_forbidden_xml_char(c)
                {
                    out.push(c);
                }
            } else {
                out.push('&');
                out.push_str(name);
                out.push(';');
            }
        }
    }
}

/// Appends raw text that may contain references (attribute values), decoded.
pub(super) fn push_decoded(out: &mut String, raw: &str) {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        push_literal(out, &rest[..amp]);
        let after = &rest[amp + 1..];
        match after.find(';') {
            Some(semi) if !after[..semi].contains(['&', '<']) => {
                push_reference(out, &after[..semi]);
                rest = &after[semi + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    push_literal(out, rest);
}

/// Decoded copy of raw text that may contain references.
pub(super) fn decoded(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    push_decoded(&mut out, raw);
    out
}

/// A one-line excerpt of `body` around byte `at` (about 60 bytes each side), with secret
/// element values replaced by `[redacted]`. The values are found in the whole body before it
/// is cut, so a window that starts inside a secret (its start tag cut off) still hides it.
pub(super) fn redacted_snippet(body: &[u8], at: usize) -> String {
    let at = at.min(body.len());
    let from = at.saturating_sub(60);
    let to = (at + 60).min(body.len());
    let secrets = crate::error::secret_spans(body);
    let mut out = Vec::with_capacity(to - from + 16);
    let mut i = from;
    while i < to {
        if let Some(span) = secrets.iter().find(|s| s.contains(&i)) {
            out.extend_from_slice(b"[redacted]");
            i = span.end;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    crate::error::snippet(&out, 160)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_normalizes_line_ends_and_drops_forbidden_characters() {
        let mut out = String::new();
        push_literal(&mut out, "a\r\nb\rc\u{1}d\u{FFFE}e\u{FF21}\t");
        assert_eq!(out, "a\nb\nc".to_owned() + "de\u{FF21}\t");
    }

    #[test]
    fn references_decode_and_forbidden_ones_vanish() {
        let mut out = String::new();
        for r in [
            "lt", "#39", "#039", "#x41", "#1", "#x0", "#xD800", "#xZZ", "nbsp", "#13",
        ] {
            push_reference(&mut out, r);
        }
        assert_eq!(out, "<''A&nbsp;\r");
    }

    #[test]
    fn attribute_values_decode_inline_references() {
        assert_eq!(decoded("a&amp;b &#039;c&#039; & d"), "a&b 'c' & d");
    }

    #[test]
    fn snippets_hide_session_ids_even_when_cut() {
        let body = b"<api><sessionid>fAkESesSiOnId..</sessionid><endpoint>x</endpoint>";
        let s = redacted_snippet(body, 20);
        assert!(!s.contains("fAkE"), "{s}");
        assert!(s.contains("[redacted]"), "{s}");
        let cut = b"<api><sessionid>fAkESes";
        let s = redacted_snippet(cut, cut.len());
        assert!(!s.contains("fAkE"), "{s}");
    }

    #[test]
    fn snippets_hide_escaped_secrets_whose_start_tag_is_cut_off() {
        // The window (60 bytes each side of byte 90) starts inside the password's escaped
        // start tag, after `&lt;passw`.
        let body = format!(
            "<html><pre>{}&lt;password&gt;S3cr3t-Value-0123456789&lt;/password&gt;</pre>",
            " ".repeat(30)
        );
        let at = body.find("ord&gt;").unwrap() + 60;
        let s = redacted_snippet(body.as_bytes(), at);
        assert!(!s.contains("S3cr3t"), "{s}");
        assert!(s.contains("[redacted]"), "{s}");
    }
}
