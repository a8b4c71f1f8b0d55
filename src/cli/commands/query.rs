//! `query`: one read-only statement, its rows printed as a table.

use super::super::QueryArgs;
use crate::error::{Error, Result};
use crate::snowflake::{SnowflakeClient, Statement};

/// Runs `query`.
pub(in crate::cli) async fn query(args: QueryArgs) -> Result<()> {
    let spec = crate::config::load(&args.config)?;
    let first = args
        .sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if !matches!(
        first.as_str(),
        "SELECT" | "WITH" | "SHOW" | "DESCRIBE" | "DESC"
    ) {
        return Err(Error::Config {
            location: "query".into(),
            message: "only read-only statements (SELECT, WITH, SHOW, DESCRIBE) are run here; changes go through init, run, load and replay".into(),
        });
    }
    let client = SnowflakeClient::new(crate::pipeline::snowflake_config(&spec))?;
    let outcome = client
        .execute(&Statement::new(
            args.sql.clone(),
            format!("intacct-snowflake:{}:query", spec.name),
        ))
        .await?;
    let headers: Vec<String> = outcome.columns.iter().map(|c| c.name.clone()).collect();
    let rows: Vec<Vec<String>> = (0..outcome.rows.len().min(args.limit))
        .map(|row| {
            headers
                .iter()
                .map(|name| match outcome.decoded(row, name) {
                    Ok(value) => value.to_string(),
                    Err(_) => outcome.value(row, name).unwrap_or("NULL").to_owned(),
                })
                .collect()
        })
        .collect();
    print!("{}", table(&headers, &rows));
    if outcome.rows.len() > args.limit {
        println!(
            "({} of {} rows; --limit to see more)",
            args.limit,
            outcome.rows.len()
        );
    } else {
        println!("({} rows)", outcome.rows.len());
    }
    Ok(())
}

fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count().min(40))
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let cut: String = c.chars().take(40).collect();
                format!("{cut:<w$}")
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
            + "\n"
    };
    let mut out = line(headers);
    for row in rows {
        out.push_str(&line(row));
    }
    out
}
