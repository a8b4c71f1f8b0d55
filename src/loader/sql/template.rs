//! Parsing a template and filling it with values: the language the parent module's docs
//! describe. A template is parsed into nodes (text, a value, an optional or a repeated section)
//! and written out with scopes of values, the template's and, inside a repeated section, the
//! item's; every value a scope holds must be used by what is written.

use super::{Ident, Part, Sql};
use crate::error::{Error, Result};

/// Renders `template` (named `name` in errors) with `bindings`, in the language [`super`]'s
/// docs describe.
pub(crate) fn render(name: &str, template: &str, bindings: &[(&str, Part)]) -> Result<Sql> {
    let fail = |message: String| Error::InvalidRequest(format!("SQL template {name}: {message}"));
    let body = join_lines(template);
    let nodes = parse(&mut body.as_str(), None).map_err(fail)?;
    let mut out = String::with_capacity(body.len() + 256);
    let mut scopes = vec![Scope::new(bindings)];
    write_nodes(&nodes, &mut scopes, &mut out).map_err(fail)?;
    if let Some(unused) = scopes[0].unused() {
        return Err(fail(format!(
            "value {unused} is not a placeholder of the template (or only of a section left out)"
        )));
    }
    let text = out.trim().trim_end_matches(';').trim_end().to_owned();
    Ok(Sql(text))
}

/// The template without its `--` comment lines, each line that ends in `\` joined with the
/// next one (whose indentation is dropped).
fn join_lines(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut continued = false;
    for line in template
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
    {
        let line = if continued { line.trim_start() } else { line };
        match line.strip_suffix('\\') {
            Some(head) => {
                out.push_str(head);
                continued = true;
            }
            None => {
                out.push_str(line);
                out.push('\n');
                continued = false;
            }
        }
    }
    out
}

/// One piece of a parsed template.
#[derive(Debug)]
enum Node<'t> {
    Text(&'t str),
    Value {
        alias: Option<&'t str>,
        name: &'t str,
    },
    If {
        name: &'t str,
        body: Vec<Node<'t>>,
    },
    Each {
        name: &'t str,
        separator: String,
        body: Vec<Node<'t>>,
    },
}

/// Parses `text` from the cursor on, up to its end (`open` is `None`) or up to the
/// `{{/kind}}` that closes the section `open` (the cursor is then after it).
fn parse<'t>(text: &mut &'t str, open: Option<&str>) -> std::result::Result<Vec<Node<'t>>, String> {
    let mut nodes = Vec::new();
    loop {
        let Some(start) = text.find("{{") else {
            if !text.is_empty() {
                nodes.push(Node::Text(text));
                *text = "";
            }
            return match open {
                None => Ok(nodes),
                Some(kind) => Err(format!("a {{{{#{kind} …}}}} section is never closed")),
            };
        };
        if start > 0 {
            nodes.push(Node::Text(&text[..start]));
        }
        let after = &text[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unclosed placeholder".to_owned())?;
        let tag = after[..end].trim();
        *text = &after[end + 2..];
        if let Some(kind) = tag.strip_prefix('/') {
            return match open {
                Some(open) if open == kind => Ok(nodes),
                _ => Err(format!("{{{{{tag}}}}} closes no open section")),
            };
        }
        if let Some(section) = tag.strip_prefix('#') {
            let (kind, args) = section.split_once(' ').unwrap_or((section, ""));
            let args = args.trim();
            nodes.push(match kind {
                "if" => {
                    check_name(args, tag)?;
                    Node::If {
                        name: args,
                        body: parse(text, Some(kind))?,
                    }
                }
                "each" => {
                    let (name, separator) = args.split_once(' ').unwrap_or((args, ""));
                    check_name(name, tag)?;
                    Node::Each {
                        name,
                        separator: separator_of(separator.trim(), tag)?,
                        body: parse(text, Some(kind))?,
                    }
                }
                _ => {
                    return Err(format!(
                        "{{{{{tag}}}}} is not a section this renderer knows"
                    ));
                }
            });
            continue;
        }
        let (alias, name) = match tag.split_once('.') {
            Some((alias, name)) => {
                check_name(alias, tag)?;
                (Some(alias), name)
            }
            None => (None, tag),
        };
        check_name(name, tag)?;
        nodes.push(Node::Value { alias, name });
    }
}

/// The separator of `{{#each name "separator"}}`: a double-quoted string in which `\n` is a
/// line break (and no other escape exists).
fn separator_of(quoted: &str, tag: &str) -> std::result::Result<String, String> {
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .map(|inner| inner.replace("\\n", "\n"))
        .filter(|inner| !inner.contains(['"', '\\']))
        .ok_or_else(|| format!("{{{{{tag}}}}} needs its separator in double quotes"))
}

/// A placeholder or alias name: letters, digits and `_`, not starting with a digit.
fn check_name(name: &str, tag: &str) -> std::result::Result<(), String> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{{{{{tag}}}}} is not a placeholder"))
    }
}

/// The values one level of the template sees (the template's, or one `each` item's) and
/// which of them the rendered text used.
struct Scope<'b> {
    bindings: &'b [(&'b str, Part)],
    used: Vec<bool>,
}

impl<'b> Scope<'b> {
    fn new(bindings: &'b [(&'b str, Part)]) -> Scope<'b> {
        Scope {
            bindings,
            used: vec![false; bindings.len()],
        }
    }

    /// The first value the rendered text did not use.
    fn unused(&self) -> Option<&'b str> {
        let index = self.used.iter().position(|used| !used)?;
        Some(self.bindings[index].0)
    }
}

/// The value of `name`, innermost scope first, marked used.
fn lookup<'b>(scopes: &mut [Scope<'b>], name: &str) -> std::result::Result<&'b Part, String> {
    for scope in scopes.iter_mut().rev() {
        if let Some(index) = scope.bindings.iter().position(|(k, _)| *k == name) {
            scope.used[index] = true;
            let bindings: &'b [(&'b str, Part)] = scope.bindings;
            return Ok(&bindings[index].1);
        }
    }
    Err(format!("placeholder {{{{{name}}}}} has no value"))
}

fn write_nodes<'b>(
    nodes: &[Node<'_>],
    scopes: &mut Vec<Scope<'b>>,
    out: &mut String,
) -> std::result::Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Value { alias, name } => write_value(lookup(scopes, name)?, *alias, name, out)?,
            Node::If { name, body } => match lookup(scopes, name)? {
                Part::Bool(true) => write_nodes(body, scopes, out)?,
                Part::Bool(false) => {}
                _ => return Err(format!("{{{{#if {name}}}}} needs a true or false value")),
            },
            Node::Each {
                name,
                separator,
                body,
            } => {
                let Part::Each(items) = lookup(scopes, name)? else {
                    return Err(format!("{{{{#each {name}}}}} needs a list of items"));
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(separator);
                    }
                    scopes.push(Scope::new(item));
                    write_nodes(body, scopes, out)?;
                    let scope = scopes.pop().expect("the item's scope");
                    if let Some(unused) = scope.unused() {
                        return Err(format!(
                            "value {unused} of an item of {name} is not a placeholder of its section"
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn write_value(
    part: &Part,
    alias: Option<&str>,
    name: &str,
    out: &mut String,
) -> std::result::Result<(), String> {
    let ident = |out: &mut String, ident: &Ident| {
        if let Some(alias) = alias {
            out.push_str(alias);
            out.push('.');
        }
        out.push_str(ident.sql().as_str());
    };
    let list = |out: &mut String, idents: &[Ident]| {
        for (i, one) in idents.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            ident(out, one);
        }
    };
    let empty = || format!("placeholder {{{{{name}}}}} has an empty list");
    match part {
        Part::Ident(one) => ident(out, one),
        Part::Idents(idents) if idents.is_empty() => return Err(empty()),
        Part::Idents(idents) => list(out, idents),
        Part::Coalesce(idents) => match idents.as_slice() {
            [] => return Err(empty()),
            [one] => ident(out, one),
            several => {
                out.push_str("COALESCE(");
                list(out, several);
                out.push(')');
            }
        },
        _ if alias.is_some() => {
            return Err(format!(
                "placeholder {{{{{}.{name}}}}}: only identifiers take an alias",
                alias.unwrap_or_default()
            ));
        }
        Part::Literal(literal) => out.push_str(literal.sql().as_str()),
        Part::Literals(literals) if literals.is_empty() => return Err(empty()),
        Part::Literals(literals) => {
            for (i, literal) in literals.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(literal.sql().as_str());
            }
        }
        Part::Bool(value) => out.push_str(if *value { "TRUE" } else { "FALSE" }),
        Part::Sql(sql) => out.push_str(sql.as_str()),
        Part::Each(_) => {
            return Err(format!(
                "placeholder {{{{{name}}}}} holds a list of items: write {{{{#each {name} \", \"}}}}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Literal;
    use super::*;

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

    fn idents(names: &[&str]) -> Vec<Ident> {
        names.iter().map(|n| Ident::new(n).unwrap()).collect()
    }

    #[test]
    fn aliases_qualify_every_identifier_of_a_value() {
        let sql = render(
            "a",
            "SELECT {{columns}}, {{s.columns}}, {{s.key}}, {{s.time}}, {{t.one}}, {{t.key}} FROM x",
            &[
                ("columns", Part::Idents(idents(&["a", "b\""]))),
                ("key", Ident::new("k").unwrap().into()),
                ("time", Part::Coalesce(idents(&["m", "c"]))),
                ("one", Part::Coalesce(idents(&["m"]))),
            ],
        )
        .unwrap();
        assert_eq!(
            sql.as_str(),
            r#"SELECT "A", "B""", s."A", s."B""", s."K", COALESCE(s."M", s."C"), t."M", t."K" FROM x"#
        );
    }

    #[test]
    fn literal_lists_and_booleans_render_as_sql_values() {
        let sql = render(
            "l",
            "FILES = ({{files}}) FORCE = {{force}}",
            &[
                (
                    "files",
                    Part::Literals(vec![
                        Literal::new("a/1").unwrap(),
                        Literal::new("it's").unwrap(),
                    ]),
                ),
                ("force", true.into()),
            ],
        )
        .unwrap();
        assert_eq!(sql.as_str(), "FILES = ('a/1', 'it''s') FORCE = TRUE");
    }

    #[test]
    fn optional_sections_render_only_when_true() {
        let template = "SELECT 1{{#if more}} UNION SELECT {{x}}{{/if}}";
        let with = render(
            "i",
            template,
            &[("more", true.into()), ("x", Sql::number(2).into())],
        )
        .unwrap();
        assert_eq!(with.as_str(), "SELECT 1 UNION SELECT 2");
        let without = render("i", template, &[("more", false.into())]).unwrap();
        assert_eq!(without.as_str(), "SELECT 1");
        // A value only a left-out section would use is refused like any unused value.
        let extra = render(
            "i",
            template,
            &[("more", false.into()), ("x", Sql::number(2).into())],
        )
        .unwrap_err();
        assert!(
            extra.to_string().contains("value x is not a placeholder"),
            "{extra}"
        );
        let missing = render("i", template, &[("more", true.into())]).unwrap_err();
        assert!(
            missing.to_string().contains("{{x}} has no value"),
            "{missing}"
        );
    }

    #[test]
    fn repeated_sections_render_each_item_with_its_values() {
        let items = |names: &[&str]| {
            Part::Each(
                names
                    .iter()
                    .map(|n| {
                        vec![
                            ("column", Ident::new(n).unwrap().into()),
                            ("first", (*n == "a").into()),
                        ]
                    })
                    .collect(),
            )
        };
        let template = "SET {{#each set \", \"}}{{column}} = {{#if first}}TRUE{{/if}}{{alias}}.{{column}}{{/each}};";
        let sql = render(
            "e",
            template,
            &[
                ("set", items(&["a", "b"])),
                ("alias", Sql::trusted("s").into()),
            ],
        )
        .unwrap();
        assert_eq!(sql.as_str(), r#"SET "A" = TRUEs."A", "B" = s."B""#);
        let lines = render(
            "n",
            "(\n  {{#each set \",\\n  \"}}{{column}}{{#if first}}{{/if}}{{/each}}\n)",
            &[("set", items(&["a", "b"]))],
        )
        .unwrap();
        assert_eq!(lines.as_str(), "(\n  \"A\",\n  \"B\"\n)");
        let empty = render(
            "n",
            "SET {{#each set \", \"}}{{column}}{{/each}}",
            &[("set", Part::Each(vec![]))],
        )
        .unwrap();
        assert_eq!(empty.as_str(), "SET");
        // Every value of an item must be used by the section.
        let unused = render(
            "e",
            "{{#each set \", \"}}{{column}}{{/each}}",
            &[("set", items(&["a"]))],
        )
        .unwrap_err();
        assert!(
            unused.to_string().contains("value first of an item of set"),
            "{unused}"
        );
    }

    #[test]
    fn a_line_ending_in_a_backslash_goes_on_with_the_next() {
        let sql = render(
            "c",
            "-- one line\nSELECT a, \\\n       b \\\n  FROM (\\\n    t\\\n  )\nWHERE x;\n",
            &[],
        )
        .unwrap();
        assert_eq!(sql.as_str(), "SELECT a, b FROM (t)\nWHERE x");
    }

    #[test]
    fn values_of_the_wrong_kind_are_refused() {
        let refused = |template: &str, part: Part, needle: &str| {
            let error = render("k", template, &[("x", part)]).unwrap_err();
            assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
            assert!(error.to_string().contains(needle), "{template}: {error}");
        };
        refused(
            "{{#if x}}a{{/if}}",
            Sql::trusted("TRUE").into(),
            "needs a true or false",
        );
        refused(
            "{{#each x \", \"}}a{{/each}}",
            true.into(),
            "needs a list of items",
        );
        refused("{{x}}", Part::Each(vec![]), "holds a list of items");
        refused(
            "{{s.x}}",
            Literal::new("v").unwrap().into(),
            "only identifiers take an alias",
        );
        refused("{{s.x}}", true.into(), "only identifiers take an alias");
        refused("{{x}}", Part::Idents(vec![]), "empty list");
        refused("{{s.x}}", Part::Coalesce(vec![]), "empty list");
        refused("{{x}}", Part::Literals(vec![]), "empty list");
    }

    #[test]
    fn malformed_templates_are_refused() {
        for (template, needle) in [
            ("{{#if x}}a", "never closed"),
            ("a{{/if}}", "closes no open section"),
            ("{{#if x}}a{{/each}}", "closes no open section"),
            ("{{#unless x}}a{{/unless}}", "not a section"),
            ("{{#each x}}a{{/each}}", "separator in double quotes"),
            (
                "{{#each x \"a\\tb\"}}a{{/each}}",
                "separator in double quotes",
            ),
            ("{{x y}}", "is not a placeholder"),
            ("{{a.b.c}}", "is not a placeholder"),
            ("{{}}", "is not a placeholder"),
        ] {
            let error = render("m", template, &[("x", true.into())]).unwrap_err();
            assert!(error.to_string().contains(needle), "{template}: {error}");
        }
    }

    #[test]
    fn comments_and_the_final_semicolon_are_dropped() {
        let sql = render("c", "-- what it does\nSELECT 1;\n", &[]).unwrap();
        assert_eq!(sql.as_str(), "SELECT 1");
    }
}
