//! The SQL renderer: a template under `sql/` is the text of a statement, and rendering fills
//! its typed placeholders with values. Nothing is ever concatenated into SQL by hand.
//!
//! The values ([`Part`]) are of a few kinds, each with one way to render:
//!
//! * an [`Ident`] — checked when it is made (not empty, at most 255 characters, no control
//!   characters) and always emitted double-quoted in canonical upper case, with `"` doubled, so
//!   a custom field named `x"; DROP TABLE y; --` becomes the one identifier
//!   `"X""; DROP TABLE Y; --"` and can neither inject nor break a statement; identifiers also
//!   come as a list (`"A", "B"`) and as the first non-null of a few (`COALESCE("A", "B")`, or
//!   `"A"` alone when there is one);
//! * a [`Literal`] — a string literal, single-quoted with `'` doubled and `\` doubled
//!   (Snowflake reads backslash escapes inside string literals); control characters are
//!   refused; literals also come as a list (`'a', 'b'`);
//! * a boolean — `TRUE` or `FALSE`, and the condition of an optional section;
//! * a [`Sql`] name or type — what this crate's names and column types render to (qualified
//!   names, `NUMBER(38,0)`, stage paths), never text from outside;
//! * the items of a repeated section, each with its own values.
//!
//! # Templates
//!
//! | form | renders |
//! |---|---|
//! | `{{name}}` | the value |
//! | `{{x.name}}` | an identifier value qualified by the alias `x`: `x."A"`; a list `x."A", x."B"`; a first non-null `COALESCE(x."A", x."B")` |
//! | `{{#if name}}…{{/if}}` | the text between, only when `name` is true |
//! | `{{#each name ", "}}…{{/each}}` | the text between once per item of `name`, with the item's values (and the template's), the separator in double quotes between items (`\n` in it is a line break) |
//!
//! Lines that start with `--` are dropped, so templates document themselves without sending
//! their comments to Snowflake; a line that ends in `\` goes on with the next line, whose
//! indentation is dropped, so a long statement reads in lines and is sent as one; a trailing
//! `;` is dropped too (the SQL API runs one statement per request).
//!
//! [`render`] refuses a placeholder without a value, a value the rendered text does not use
//! (one only a left-out section would use included: the caller gives exactly what the
//! statement it asks for needs), a value of the wrong kind for its form (`{{#if}}` on
//! anything but a boolean, an alias on anything but identifiers, an empty list), and a
//! template that does not parse (an unclosed `{{`, a section never closed or closed twice, an
//! unknown section). A misspelt name fails loudly instead of leaving `{{x}}` in a statement.
//! Rendering is pure: same template and values, same text.

use std::fmt;

use crate::error::{Error, Result};

mod template;
pub(crate) use template::render;

/// A rendered statement, or a name or type this crate renders into one (a qualified name, a
/// column type, a stage path). Only the renderer and this type's constructors make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sql(String);

impl Sql {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Joins the parts of a name or type (`"DB"."SCHEMA"."T"`, `NUMBER(38,0)`).
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
        Ident::exact(&name.to_uppercase())
    }

    /// Checks `name` and keeps it exactly: a name as Snowflake stores it (a pipeline's
    /// database, schema, stage and format, which its settings resolved already).
    pub fn exact(name: &str) -> Result<Ident> {
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
            None => Ok(Ident(name.to_owned())),
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

    /// The name as a person writes it in SQL: bare when it reads the same unquoted, else
    /// quoted (for messages and the `FORMAT_NAME` literal).
    pub fn written(&self) -> String {
        crate::snowflake::identifier_as_written(&self.0)
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

/// What a placeholder is bound to. Each kind renders one way, so a template says by the form
/// of its placeholder what kind of value it takes.
#[derive(Clone, Debug)]
pub(crate) enum Part {
    /// One identifier: `"NAME"`, or `alias."NAME"` as `{{alias.name}}`.
    Ident(Ident),
    /// Identifiers separated by `, `, each qualified by the alias of `{{alias.name}}` if any.
    Idents(Vec<Ident>),
    /// The first non-null of identifiers: `COALESCE(a."X", a."Y")`, or `a."X"` alone when
    /// there is one.
    Coalesce(Vec<Ident>),
    /// One string literal.
    Literal(Literal),
    /// String literals separated by `, `.
    Literals(Vec<Literal>),
    /// `TRUE` or `FALSE` as `{{name}}`; the condition of `{{#if name}}`.
    Bool(bool),
    /// What a name or type of this crate renders to (qualified names, column types, stage
    /// paths): never text from outside.
    Sql(Sql),
    /// The items of `{{#each name "separator"}}`: each item's own values.
    Each(Vec<Vec<(&'static str, Part)>>),
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

impl From<bool> for Part {
    fn from(value: bool) -> Self {
        Part::Bool(value)
    }
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
}
