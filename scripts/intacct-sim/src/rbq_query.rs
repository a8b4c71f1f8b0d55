//! Parses the `readByQuery` query string into the same [`Filter`] tree `query` uses.
//!
//! Supported subset (what real users send): `FIELD op VALUE` with `= != <> < <= > >=`,
//! `FIELD [NOT] LIKE 'pattern'`, `FIELD [NOT] IN (v, …)`, `FIELD IS [NOT] NULL`, `AND`,
//! `OR`, `NOT`, parentheses. Values are single-quoted strings (`\'` escapes a quote; date
//! literals `'MM/DD/YYYY HH:MM:SS'` are strings typed by their field) or bare numbers.
//! Keywords are case-insensitive. `NOT` is pushed down to the leaves, so the result uses
//! only the operators of [`Filter`]. An empty query string means "no filter".

use intacct_snowflake::intacct::{Comparison, Filter};

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' | '"' => {
                let quote = c;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\\') if chars.get(i + 1).is_some() => {
                            value.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&q) if q == quote => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Quoted(value));
            }
            '<' | '>' | '=' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<=" => "<=",
                    ">=" => ">=",
                    "<>" => "<>",
                    "!=" => "!=",
                    _ => match c {
                        '<' => "<",
                        '>' => ">",
                        '=' => "=",
                        _ => return Err("unexpected '!'".into()),
                    },
                };
                i += op.len();
                tokens.push(Token::Op(op));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(
                        chars[i],
                        '(' | ')' | ',' | '<' | '>' | '=' | '!' | '\'' | '"'
                    )
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), String> {
        if self.keyword(word) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {word}"))
        }
    }

    fn expr(&mut self) -> Result<Filter, String> {
        let mut terms = vec![self.term()?];
        while self.keyword("OR") {
            self.pos += 1;
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Filter::Or(terms)
        })
    }

    fn term(&mut self) -> Result<Filter, String> {
        let mut factors = vec![self.factor()?];
        while self.keyword("AND") {
            self.pos += 1;
            factors.push(self.factor()?);
        }
        Ok(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Filter::And(factors)
        })
    }

    fn factor(&mut self) -> Result<Filter, String> {
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(negate(self.factor()?));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.expr()?;
            if self.next() != Some(Token::Close) {
                return Err("expected ')'".into());
            }
            return Ok(inner);
        }
        self.predicate()
    }

    fn value(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Quoted(v)) | Some(Token::Word(v)) => Ok(v),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }

    fn predicate(&mut self) -> Result<Filter, String> {
        let field = match self.next() {
            Some(Token::Word(w)) => w,
            other => return Err(format!("expected a field name, found {other:?}")),
        };
        match self.next() {
            Some(Token::Op(op)) => {
                let value = self.value()?;
                let op = match op {
                    "=" => Comparison::EqualTo,
                    "!=" | "<>" => Comparison::NotEqualTo,
                    "<" => Comparison::LessThan,
                    "<=" => Comparison::LessThanOrEqualTo,
                    ">" => Comparison::GreaterThan,
                    _ => Comparison::GreaterThanOrEqualTo,
                };
                Ok(Filter::Compare { op, field, value })
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => {
                let not = self.keyword("NOT");
                if not {
                    self.pos += 1;
                }
                self.expect_keyword("NULL")?;
                Ok(if not {
                    Filter::IsNotNull { field }
                } else {
                    Filter::IsNull { field }
                })
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => {
                let positive = self.after_field(field)?;
                Ok(negate(positive))
            }
            Some(Token::Word(w)) => {
                self.pos -= 1;
                let _ = w;
                self.after_field(field)
            }
            other => Err(format!("expected an operator, found {other:?}")),
        }
    }

    /// `LIKE 'p'` or `IN (…)` after a field (and an optional `NOT`).
    fn after_field(&mut self, field: String) -> Result<Filter, String> {
        if self.keyword("LIKE") {
            self.pos += 1;
            let value = self.value()?;
            return Ok(Filter::Compare {
                op: Comparison::Like,
                field,
                value,
            });
        }
        if self.keyword("IN") {
            self.pos += 1;
            if self.next() != Some(Token::Open) {
                return Err("expected '(' after IN".into());
            }
            let mut values = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Token::Comma) => values.push(self.value()?),
                    Some(Token::Close) => break,
                    other => return Err(format!("expected ',' or ')', found {other:?}")),
                }
            }
            return Ok(Filter::In { field, values });
        }
        Err(format!("expected an operator after {field}"))
    }
}

/// The negation of a filter, with `NOT` pushed to the leaves (De Morgan).
fn negate(filter: Filter) -> Filter {
    match filter {
        Filter::And(children) => Filter::Or(children.into_iter().map(negate).collect()),
        Filter::Or(children) => Filter::And(children.into_iter().map(negate).collect()),
        Filter::Compare { op, field, value } => {
            let op = match op {
                Comparison::EqualTo => Comparison::NotEqualTo,
                Comparison::NotEqualTo => Comparison::EqualTo,
                Comparison::LessThan => Comparison::GreaterThanOrEqualTo,
                Comparison::LessThanOrEqualTo => Comparison::GreaterThan,
                Comparison::GreaterThan => Comparison::LessThanOrEqualTo,
                Comparison::GreaterThanOrEqualTo => Comparison::LessThan,
                Comparison::Like => Comparison::NotLike,
                Comparison::NotLike => Comparison::Like,
            };
            Filter::Compare { op, field, value }
        }
        Filter::Between { field, low, high } => Filter::Or(vec![
            Filter::Compare {
                op: Comparison::LessThan,
                field: field.clone(),
                value: low,
            },
            Filter::Compare {
                op: Comparison::GreaterThan,
                field,
                value: high,
            },
        ]),
        Filter::In { field, values } => Filter::NotIn { field, values },
        Filter::NotIn { field, values } => Filter::In { field, values },
        Filter::IsNull { field } => Filter::IsNotNull { field },
        Filter::IsNotNull { field } => Filter::IsNull { field },
    }
}

/// Parses a readByQuery query string; `Ok(None)` for an empty one. The error text names the
/// problem for the `Query Failed` result.
pub(super) fn parse_query_string(text: &str) -> Result<Option<Filter>, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser { tokens, pos: 0 };
    let filter = parser.expr()?;
    if parser.pos < parser.tokens.len() {
        return Err(format!(
            "unexpected {:?} in query",
            parser.tokens[parser.pos]
        ));
    }
    Ok(Some(filter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comparisons_with_precedence_and_parentheses() {
        let f = parse_query_string(
            "STATUS = 'T' AND (WHENMODIFIED >= '01/31/2024 13:05:00' OR NAME like 'Erik\\'s%')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            f,
            Filter::And(vec![
                Filter::compare(Comparison::EqualTo, "STATUS", "T"),
                Filter::Or(vec![
                    Filter::compare(
                        Comparison::GreaterThanOrEqualTo,
                        "WHENMODIFIED",
                        "01/31/2024 13:05:00"
                    ),
                    Filter::compare(Comparison::Like, "NAME", "Erik's%"),
                ]),
            ])
        );
        // AND binds tighter than OR.
        let f = parse_query_string("A = 1 OR B = 2 AND C = 3")
            .unwrap()
            .unwrap();
        assert_eq!(
            f,
            Filter::Or(vec![
                Filter::compare(Comparison::EqualTo, "A", "1"),
                Filter::And(vec![
                    Filter::compare(Comparison::EqualTo, "B", "2"),
                    Filter::compare(Comparison::EqualTo, "C", "3"),
                ]),
            ])
        );
    }

    #[test]
    fn parses_null_in_and_not() {
        assert_eq!(
            parse_query_string("WHENMODIFIED IS NULL").unwrap(),
            Some(Filter::IsNull {
                field: "WHENMODIFIED".into()
            })
        );
        assert_eq!(
            parse_query_string("x is not null").unwrap(),
            Some(Filter::IsNotNull { field: "x".into() })
        );
        assert_eq!(
            parse_query_string("RECORDNO NOT IN (1, 2,'3')").unwrap(),
            Some(Filter::NotIn {
                field: "RECORDNO".into(),
                values: vec!["1".into(), "2".into(), "3".into()]
            })
        );
        assert_eq!(
            parse_query_string("NOT (A < 1 AND B IS NULL)").unwrap(),
            Some(Filter::Or(vec![
                Filter::compare(Comparison::GreaterThanOrEqualTo, "A", "1"),
                Filter::IsNotNull { field: "B".into() },
            ]))
        );
        assert_eq!(parse_query_string("  ").unwrap(), None);
        assert!(parse_query_string("A = ").is_err());
        assert!(parse_query_string("A = 'x").is_err());
        assert!(parse_query_string("(A = 1").is_err());
    }
}
