//! The SQL renderer: templates under `sql/` with `{{name}}` placeholders become statements.
//!
//! Nothing is ever concatenated into SQL by hand. A placeholder is bound to a [`Part`]:
//!
//! * an [`Ident`] — checked when it is made (not empty, at most 255 characters, no control
//!   characters) and always emitted double-quoted in canonical upper case, with `"` doubled, so
//!   a custom field named `x"; DROP TABLE y; --` becomes the one identifier
//!   `"X""; DROP TABLE Y; --"` and can neither inject nor break a statement;
//! * a [`Literal`] — a string literal, single-quoted with `'` doubled and `\` doubled
//!   (Snowflake reads backslash escapes inside string literals); control characters are refused;
//! * a [`Sql`] fragment — the output of this renderer (or of the pure builders in
//!   [`super::statements`] and [`super::ddl`], which use it), so composed statements are
//!   rendered all the way down.
//!
//! [`render`] refuses a template placeholder without a binding and a binding the template does
//! not use (a misspelt name fails loudly instead of leaving `{{x}}` in a statement). Rendering is
//! pure: same template and bindings, same text.

use std::fmt;

use crate::error::{Error, Result};

/// A rendered SQL text (or fragment). Only the renderer and the builders make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sql(String);

impl Sql {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Joins fragments with a separator (`", "`, `" AND "`, …).
    pub(crate) fn join(parts: impl IntoIterator<Item = Sql>, separator: &str) -> Sql {
        Sql(parts
            .into_iter()
            .map(|p| p.0)
            .collect::<Vec<_>>()
            .join(separator))
    }

    /// A fragment written in this crate's source: SQL keywords and fixed text only.
    pub(crate) fn trusted(text: &'static str) -> Sql {
        Sql(text.to_owned())
    }

    /// A path on the stage (written by this tool: letters, digits, `/`, `-`, `_`, `.`, and
    /// never `..`); anything else means the manifest was tampered with.
    pub(crate) fn stage_path(path: &str) -> Result<Sql> {
        let ok = !path.is_empty()
            && !path.contains("..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        if ok {
            Ok(Sql(path.to_owned()))
        } else {
            Err(Error::InvalidRequest(format!(
                "stage path {:?} has characters a stage path never has",
                crate::error::snippet(path.as_bytes(), 80)
            )))
        }
    }

    /// A number (never text from outside).
    pub(crate) fn number(value: u64) -> Sql {
        Sql(value.to_string())
    }
}

impl fmt::Display for Sql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A checked identifier in canonical upper case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(String);

impl Ident {
    /// Checks `name` and makes it canonical (upper case).
    pub fn new(name: &str) -> Result<Ident> {
        let problem = if name.is_empty() {
            Some("is empty".to_owned())
        } else if name.chars().count() > 255 {
            Some("is longer than 255 characters".to_owned())
        } else if name.chars().any(char::is_control) {
            Some("contains a control character".to_owned())
        } else {
            None
        };
        match problem {
            Some(problem) => Err(Error::InvalidRequest(format!(
                "SQL identifier {:?} {problem}",
                crate::error::snippet(name.as_bytes(), 60)
            ))),
            None => Ok(Ident(name.to_uppercase())),
        }
    }

    /// The canonical name, unquoted (for comparisons and messages).
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The quoted form, as a fragment.
    pub fn sql(&self) -> Sql {
        Sql(format!("\"{}\"", self.0.replace('"', "\"\"")))
    }

    /// `qualifier.name`, each part quoted.
    pub fn qualified(&self, qualifier: &Ident) -> Sql {
        Sql(format!("{}.{}", qualifier.sql(), self.sql()))
    }
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string literal's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal(String);

impl Literal {
    /// Checks the text (no control characters).
    pub fn new(text: &str) -> Result<Literal> {
        if text.chars().any(char::is_control) {
            return Err(Error::InvalidRequest(format!(
                "SQL string literal {:?} contains a control character",
                crate::error::snippet(text.as_bytes(), 60)
            )));
        }
        Ok(Literal(text.to_owned()))
    }

    /// The quoted, escaped form.
    pub fn sql(&self) -> Sql {
        Sql(format!(
            "'{}'",
            self.0.replace('\\', "\\\\").replace('\'', "''")
        ))
    }
}

/// What a placeholder is bound to.
#[derive(Clone, Debug)]
pub(crate) enum Part {
    /// A quoted identifier.
    Ident(Ident),
    /// A quoted string literal.
    Literal(Literal),
    /// Already-rendered SQL.
    Sql(Sql),
}

impl From<Ident> for Part {
    fn from(value: Ident) -> Self {
        Part::Ident(value)
    }
}

impl From<&Ident> for Part {
    fn from(value: &Ident) -> Self {
        Part::Ident(value.clone())
    }
}

impl From<Literal> for Part {
    fn from(value: Literal) -> Self {
        Part::Literal(value)
    }
}

impl From<Sql> for Part {
    fn from(value: Sql) -> Self {
        Part::Sql(value)
    }
}

/// Renders `template` (named `name` in errors) with `bindings`.
///
/// `--` comment lines are dropped, so templates can document themselves without sending their
/// comments to Snowflake; a trailing `;` is dropped too (the SQL API runs one statement per
/// request).
pub(crate) fn render(name: &str, template: &str, bindings: &[(&str, Part)]) -> Result<Sql> {
    let body: Vec<&str> = template
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect();
    let body = body.join("\n");
    let mut out = String::with_capacity(body.len() + 64);
    let mut used = vec![false; bindings.len()];
    let mut rest = body.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            Error::InvalidRequest(format!("SQL template {name}: unclosed placeholder"))
        })?;
        let key = after[..end].trim();
        let index = bindings
            .iter()
            .position(|(k, _)| *k == key)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "SQL template {name}: placeholder {{{{{key}}}}} has no value"
                ))
            })?;
        used[index] = true;
        let text = match &bindings[index].1 {
            Part::Ident(ident) => ident.sql(),
            Part::Literal(literal) => literal.sql(),
            Part::Sql(sql) => sql.clone(),
        };
        out.push_str(text.as_str());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(Error::InvalidRequest(format!(
            "SQL template {name}: value {} is not a placeholder of the template",
            bindings[unused].0
        )));
    }
    let text = out.trim().trim_end_matches(';').trim_end().to_owned();
    Ok(Sql(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_identifier_is_one_quoted_name() {
        let ident = Ident::new("x\"; DROP TABLE y; --").unwrap();
        assert_eq!(ident.sql().as_str(), "\"X\"\"; DROP TABLE Y; --\"");
        let sql = render(
            "t",
            "SELECT {{c}} FROM {{t}}",
            &[
                ("c", ident.into()),
                ("t", Ident::new("vendor").unwrap().into()),
            ],
        )
        .unwrap();
        assert_eq!(
            sql.as_str(),
            "SELECT \"X\"\"; DROP TABLE Y; --\" FROM \"VENDOR\""
        );
    }

    #[test]
    fn identifiers_are_checked() {
        for bad in ["", "a\nb", "tab\there", &"x".repeat(256)] {
            assert!(
                matches!(Ident::new(bad), Err(Error::InvalidRequest(_))),
                "{bad:?}"
            );
        }
        assert_eq!(Ident::new("Rebate_Tier-2").unwrap().name(), "REBATE_TIER-2");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        let lit = Literal::new(r"it's a \ path").unwrap();
        assert_eq!(lit.sql().as_str(), r"'it''s a \\ path'");
        assert!(matches!(
            Literal::new("a\u{0}b"),
            Err(Error::InvalidRequest(_))
        ));
    }

    #[test]
    fn unknown_and_unused_placeholders_are_refused() {
        let missing = render("m", "SELECT {{x}}", &[]).unwrap_err();
        assert!(
            missing.to_string().contains("{{x}} has no value"),
            "{missing}"
        );
        let unused = render("u", "SELECT 1", &[("x", Sql::trusted("2").into())]).unwrap_err();
        assert!(
            unused.to_string().contains("value x is not a placeholder"),
            "{unused}"
        );
        let open = render("o", "SELECT {{x", &[]).unwrap_err();
        assert!(open.to_string().contains("unclosed"), "{open}");
    }

    #[test]
    fn comments_and_the_final_semicolon_are_dropped() {
        let sql = render("c", "-- what it does\nSELECT 1;\n", &[]).unwrap();
        assert_eq!(sql.as_str(), "SELECT 1");
    }
}
