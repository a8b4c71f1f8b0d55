//! Finding the secrets in text quoted from a response body, whatever escaping the text went
//! through on its way back.
//!
//! A proxy or gateway that echoes the request in an error page may quote it plain
//! (`<password>…</password>`), HTML-escaped (`&lt;password&gt;`, `&#60;`, `&#x3C;`, escaped
//! again as `&amp;lt;`), JSON-escaped (`\u003c`, `\/`) or percent-encoded (`%3C`, `%253C`), and
//! may mix these. A secret element's value is everything from the end of its start tag to the
//! start of its end tag (`</password>` in any of those forms), or to the end of the text when
//! the end tag is missing (a body cut short); a JSON member's value (`"password":"…"`, with
//! its quotes in any of those forms) runs to the next quote of the same form.
//!
//! Invariant: every span starts right after and ends right before an ASCII delimiter (or at
//! the end of the text), so spans of a UTF-8 text fall on character boundaries.

use std::ops::Range;

/// Elements and JSON members whose values are secrets, wherever a body carries them.
const SECRET_NAMES: [&str; 5] = [
    "password",
    "sessionid",
    "sender_password",
    "user_password",
    "private_key_passphrase",
];

/// Byte ranges of the values of secret elements and members in `text`, in order, not
/// overlapping.
pub(crate) fn secret_spans(text: &[u8]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let found = element_value(text, at).or_else(|| member_value(text, at));
        match found {
            Some(span) => {
                at = span.end.max(at + 1);
                if !span.is_empty() {
                    spans.push(span);
                }
            }
            None => at += 1,
        }
    }
    spans
}

/// `text` with every span of [`secret_spans`] replaced by `[redacted]`.
pub(super) fn redact_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in secret_spans(text.as_bytes()) {
        out.push_str(&text[at..span.start]);
        out.push_str("[redacted]");
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The value of a secret element whose start tag begins at `at`.
fn element_value(text: &[u8], at: usize) -> Option<Range<usize>> {
    let name_at = at + encoded_char(text, at, b'<')?;
    let (name, name_end) = secret_name_at(text, name_at)?;
    // Attributes, if any, up to the start tag's `>`; never past another `<`.
    let mut i = name_end;
    let value_start = loop {
        if i >= text.len() {
            return Some(text.len()..text.len());
        }
        if let Some(len) = encoded_char(text, i, b'>') {
            if i > name_end && encoded_char_ending_at(text, i, b'/') {
                // `<password/>`: no value.
                return Some(i + len..i + len);
            }
            break i + len;
        }
        if encoded_char(text, i, b'<').is_some() {
            return None;
        }
        i += 1;
    };
    let mut j = value_start;
    while j < text.len() {
        if let Some(lt) = encoded_char(text, j, b'<')
            && let Some(slash) = encoded_char(text, j + lt, b'/')
            && let Some((closing, _)) = secret_name_at(text, j + lt + slash)
            && closing == name
        {
            return Some(value_start..j);
        }
        j += 1;
    }
    Some(value_start..text.len())
}

/// The value of a secret JSON member whose name's opening quote begins at `at`.
fn member_value(text: &[u8], at: usize) -> Option<Range<usize>> {
    let quote = encoded_char(text, at, b'"')?;
    let (_, name_end) = secret_name_at(text, at + quote)?;
    let mut i = name_end + encoded_char(text, name_end, b'"')?;
    i = skip_spaces(text, i);
    if text.get(i) != Some(&b':') {
        return None;
    }
    i = skip_spaces(text, i + 1);
    let open_len = encoded_char(text, i, b'"')?;
    let open = &text[i..i + open_len];
    let value_start = i + open_len;
    let mut j = value_start;
    while j + open.len() <= text.len() {
        let same = text[j..j + open.len()].eq_ignore_ascii_case(open);
        // A plain quote preceded by a backslash is part of the value.
        let escaped = open == b"\"" && j > value_start && text[j - 1] == b'\\';
        if same && !escaped {
            return Some(value_start..j);
        }
        j += 1;
    }
    Some(value_start..text.len())
}

fn skip_spaces(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The secret name (ASCII case-insensitive) at `at`, when no name character follows it, and
/// where it ends.
fn secret_name_at(text: &[u8], at: usize) -> Option<(&'static str, usize)> {
    let is_name_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
    SECRET_NAMES.into_iter().find_map(|name| {
        let end = at + name.len();
        let candidate = text.get(at..end)?;
        (candidate.eq_ignore_ascii_case(name.as_bytes())
            && !text.get(end).copied().is_some_and(is_name_char))
        .then_some((name, end))
    })
}

/// The length of the encoding of `ch` (`<`, `>`, `/` or `"`) starting at `at`, in any of
/// the forms of the module docs.
fn encoded_char(text: &[u8], at: usize, ch: u8) -> Option<usize> {
    let rest = text.get(at..)?;
    match rest.first()? {
        b if *b == ch => Some(1),
        b'&' => html_reference(rest, ch),
        b'\\' => {
            let slashes = rest.iter().take_while(|&&b| b == b'\\').count();
            let after = &rest[slashes..];
            if after.first() == Some(&ch) && matches!(ch, b'/' | b'"') {
                return Some(slashes + 1);
            }
            // `\u003c`
            let hex = after
                .strip_prefix(b"u00")
                .or_else(|| after.strip_prefix(b"U00"))?;
            (hex_value(hex.get(..2)?)? == u32::from(ch)).then_some(slashes + 5)
        }
        b'%' => {
            // `%3C`, or `%253C` when encoded twice.
            let mut len = 1;
            while rest.get(len..len + 2) == Some(b"25") {
                len += 2;
            }
            (hex_value(rest.get(len..len + 2)?)? == u32::from(ch)).then_some(len + 2)
        }
        _ => None,
    }
}

/// True when the encoding of `ch` ends right before `at`.
fn encoded_char_ending_at(text: &[u8], at: usize, ch: u8) -> bool {
    (1..=12.min(at)).any(|len| encoded_char(text, at - len, ch) == Some(len))
}

/// `&lt;`, `&#60;`, `&#x3C;` (the `;` optional after a number, as browsers read it), each
/// possibly escaped again as `&amp;…`.
fn html_reference(rest: &[u8], ch: u8) -> Option<usize> {
    let mut len = 1;
    while rest
        .get(len..len + 4)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"amp;"))
    {
        len += 4;
    }
    let body = &rest[len..];
    let named: &[u8] = match ch {
        b'<' => b"lt;",
        b'>' => b"gt;",
        b'"' => b"quot;",
        b'/' => b"sol;",
        _ => return None,
    };
    if body
        .get(..named.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(named))
    {
        return Some(len + named.len());
    }
    let number = body.strip_prefix(b"#")?;
    let (digits, radix_len, hex) = match number.first() {
        Some(b'x' | b'X') => (&number[1..], 2, true),
        _ => (number, 1, false),
    };
    let count = digits
        .iter()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if count == 0 || count > 8 {
        return None;
    }
    let value = if hex {
        hex_value(&digits[..count])?
    } else {
        std::str::from_utf8(&digits[..count]).ok()?.parse().ok()?
    };
    if value != u32::from(ch) {
        return None;
    }
    let semicolon = usize::from(digits.get(count) == Some(&b';'));
    Some(len + radix_len + count + semicolon)
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> String {
        redact_values(text)
    }

    #[test]
    fn plain_elements_and_members_lose_their_values() {
        assert_eq!(
            redacted("<a><password>pw</password><userid>u</userid></a>"),
            "<a><password>[redacted]</password><userid>u</userid></a>"
        );
        assert_eq!(
            redacted(r#"{"user_password" : "a\"b", "user":"u"}"#),
            r#"{"user_password" : "[redacted]", "user":"u"}"#
        );
        assert_eq!(redacted("<password/><x>1</x>"), "<password/><x>1</x>");
        assert_eq!(
            redacted("<passwordx>1</passwordx>"),
            "<passwordx>1</passwordx>"
        );
    }

    #[test]
    fn escaped_echoes_lose_their_values_whole() {
        // A password holding `&` and `<` is itself escaped inside the echo: the value runs to
        // the end tag, not to the first `&`.
        for (text, secret) in [
            (
                "&lt;password&gt;p&amp;w&amp;lt;d&lt;/password&gt;",
                "p&amp;w",
            ),
            ("&#60;password&#62;pw1&#60;/password&#62;", "pw1"),
            ("&#060;PASSWORD&#062;pw2&#060;&#047;PASSWORD&#062;", "pw2"),
            ("&#x3C;sessionid&#x3e;sid3&#x3c;/sessionid&#X3E;", "sid3"),
            ("&#60sessionid&#62sid4&#60/sessionid&#62", "sid4"),
            (
                "&amp;lt;password&amp;gt;pw5&amp;lt;/password&amp;gt;",
                "pw5",
            ),
            (r"\u003cpassword\u003epw6\u003c\/password\u003e", "pw6"),
            ("%3Cpassword%3Epw7%3C%2Fpassword%3E", "pw7"),
            ("%253Cpassword%253Epw8%253C%252Fpassword%253E", "pw8"),
            ("&lt;sender_password&gt;pw9", "pw9"),
            ("&quot;user_password&quot;:&quot;pw10&quot;,", "pw10"),
            (r#"{\"password\":\"pw11\"}"#, "pw11"),
            (
                "&lt;password type=&quot;x&quot;&gt;pw12&lt;/password&gt;",
                "pw12",
            ),
        ] {
            let out = redacted(text);
            assert!(!out.contains(secret), "{secret} in {out}");
            assert!(out.contains("[redacted]"), "{out}");
        }
        assert_eq!(
            redacted("&lt;password&gt;pw&lt;/password&gt;&lt;userid&gt;u&lt;/userid&gt;"),
            "&lt;password&gt;[redacted]&lt;/password&gt;&lt;userid&gt;u&lt;/userid&gt;"
        );
    }

    #[test]
    fn text_without_secret_names_is_unchanged() {
        for text in [
            "&lt;userid&gt;u&lt;/userid&gt;",
            "100% &amp; &#60; \\u003c",
            "é&lt;",
        ] {
            assert_eq!(redacted(text), text);
        }
    }
}
