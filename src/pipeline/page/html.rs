//! The smallest HTML writing the page needs: escaping and a table builder. Every text that
//! reaches the page goes through [`esc`] (object names, errors and quarantined values come
//! from Intacct and may hold `<script>` or `&`).

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, safe in element content and in quoted
/// attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One table cell: escaped text, or markup the page built itself.
pub(crate) enum Cell {
    /// Text from data: escaped.
    Text(String),
    /// Right-aligned figure (escaped).
    Number(String),
    /// Markup the page made (a badge): written as it is.
    Markup(String),
}

/// A `<table>` with a header row and body rows.
pub(crate) fn table(class: &str, headers: &[&str], rows: Vec<Vec<Cell>>) -> String {
    let mut out = format!("<table class=\"{}\">\n<thead><tr>", esc(class));
    for h in headers {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            match cell {
                Cell::Text(t) => out.push_str(&format!("<td>{}</td>", esc(&t))),
                Cell::Number(t) => out.push_str(&format!("<td class=\"n\">{}</td>", esc(&t))),
                Cell::Markup(m) => out.push_str(&format!("<td>{m}</td>")),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let t = table(
            "t",
            &["a<b"],
            vec![vec![
                Cell::Text("<i>".into()),
                Cell::Markup("<b>ok</b>".into()),
            ]],
        );
        assert!(
            t.contains("<th>a&lt;b</th>") && t.contains("<td>&lt;i&gt;</td><td><b>ok</b></td>"),
            "{t}"
        );
    }
}
