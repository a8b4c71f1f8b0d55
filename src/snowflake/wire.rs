//! SQL API v2 request and response bodies (pure): the POST body, and the reading of a response
//! (status + body) into what the client does next.
//!
//! The classification follows the retry table of the reference notes: 200 is a result; 202
//! (`333334`) means poll; 408 and 422 are statement failures with `code`, `sqlState`,
//! `message`, `statementHandle`; 401 means mint a new token; 429, 500, 502, 503, 504 are
//! transient; anything else fails fast.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Service, snippet};
use crate::snowflake::values::WireStats;

/// The POST body of `/api/v2/statements`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub(crate) struct SubmitBody<'a> {
    pub(crate) statement: &'a str,
    pub(crate) timeout: u64,
    pub(crate) database: &'a str,
    pub(crate) schema: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) warehouse: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<&'a str>,
    pub(crate) parameters: BTreeMap<&'static str, String>,
}

impl<'a> SubmitBody<'a> {
    /// One statement, UTC session time zone, tagged.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        statement: &'a str,
        timeout_secs: u64,
        database: &'a str,
        schema: &'a str,
        warehouse: Option<&'a str>,
        role: Option<&'a str>,
        query_tag: &str,
    ) -> SubmitBody<'a> {
        let mut parameters = BTreeMap::new();
        parameters.insert("TIMEZONE", "UTC".to_owned());
        parameters.insert("QUERY_TAG", query_tag.to_owned());
        parameters.insert("MULTI_STATEMENT_COUNT", "1".to_owned());
        SubmitBody {
            statement,
            timeout: timeout_secs,
            database,
            schema,
            warehouse,
            role,
            parameters,
        }
    }
}

/// One column of `resultSetMetaData.rowType`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub(crate) struct WireColumn {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    #[serde(default)]
    pub(crate) scale: Option<i64>,
    #[serde(default)]
    pub(crate) precision: Option<i64>,
    #[serde(default)]
    pub(crate) nullable: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PartitionInfo {
    #[serde(default)]
    pub(crate) row_count: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultSetMetaData {
    #[serde(default)]
    pub(crate) num_rows: Option<u64>,
    #[serde(default)]
    pub(crate) row_type: Vec<WireColumn>,
    #[serde(default)]
    pub(crate) partition_info: Option<Vec<PartitionInfo>>,
}

/// Any statement response body: a result (200), a status (202, 408, 422) or an error.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResponseBody {
    #[serde(default)]
    pub(crate) result_set_meta_data: Option<ResultSetMetaData>,
    #[serde(default)]
    pub(crate) data: Option<Vec<Vec<Option<String>>>>,
    #[serde(default)]
    pub(crate) code: Option<String>,
    #[serde(default)]
    pub(crate) sql_state: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) statement_handle: Option<String>,
    #[serde(default)]
    pub(crate) statement_status_url: Option<String>,
    #[serde(default)]
    pub(crate) stats: Option<WireStats>,
}

/// What a response means for the client.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 200: the statement finished; partition 0 (or the requested partition) is in the body.
    Done(ResponseBody),
    /// 202: still running; poll this handle.
    Running {
        handle: String,
        status_url: Option<String>,
    },
    /// 401: the token was refused; the server's message.
    Unauthorized(String),
    /// 429, 500, 502, 503, 504: try again later (the error carries `Retry-After`).
    Transient(Error),
    /// Everything else: give up with this error.
    Failed(Error),
}

/// Reads one response. `retry_after_secs` is the parsed `Retry-After` header.
pub(crate) fn classify(status: u16, body: &[u8], retry_after_secs: Option<u64>) -> Reply {
    let parsed = || serde_json::from_slice::<ResponseBody>(body);
    let http = |status: u16| Error::HttpStatus {
        service: Service::Snowflake,
        status,
        retry_after_secs,
        detail: snippet(body, 300),
    };
    match status {
        200 => match parsed() {
            Ok(b) => Reply::Done(b),
            Err(e) => Reply::Failed(Error::SnowflakeResponse {
                detail: format!("200 body is not a result ({e}): {}", snippet(body, 200)),
            }),
        },
        202 => match parsed() {
            Ok(ResponseBody {
                statement_handle: Some(handle),
                statement_status_url,
                ..
            }) => Reply::Running {
                handle,
                status_url: statement_status_url,
            },
            _ => Reply::Failed(Error::SnowflakeResponse {
                detail: format!("202 without a statementHandle: {}", snippet(body, 200)),
            }),
        },
        401 => {
            let message = parsed()
                .ok()
                .and_then(|b| match (b.code, b.message) {
                    (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                    (None, Some(m)) => Some(m),
                    _ => None,
                })
                .unwrap_or_else(|| snippet(body, 200));
            Reply::Unauthorized(message)
        }
        408 | 422 => match parsed() {
            Ok(b) => Reply::Failed(Error::Statement {
                code: b.code.unwrap_or_default(),
                sql_state: b.sql_state.unwrap_or_default(),
                message: b.message.unwrap_or_default(),
                statement_handle: b.statement_handle,
                http_status: status,
            }),
            Err(_) => Reply::Failed(http(status)),
        },
        429 | 500 | 502 | 503 | 504 => Reply::Transient(http(status)),
        _ => Reply::Failed(http(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_body_has_every_field() {
        let body = SubmitBody::new(
            "SELECT 1",
            3600,
            "SAGE",
            "RAW",
            Some("LOAD_WH"),
            None,
            "tag:1",
        );
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "statement": "SELECT 1", "timeout": 3600, "database": "SAGE", "schema": "RAW",
                "warehouse": "LOAD_WH",
                "parameters": {"TIMEZONE": "UTC", "QUERY_TAG": "tag:1", "MULTI_STATEMENT_COUNT": "1"}
            })
        );
    }

    #[test]
    fn a_documented_result_parses() {
        let body = br#"{ "resultSetMetaData": { "numRows": 56090, "format": "jsonv2",
            "rowType": [ {"name":"SEQ8()","database":"","schema":"","table":"","scale":0,"precision":19,"length":null,
                          "type":"fixed","nullable":false,"byteLength":null,"collation":null},
                         {"name":"RANDSTR(1000, RANDOM())","type":"text","length":16777216,"byteLength":16777216,
                          "scale":null,"precision":null,"nullable":false,"collation":null} ],
            "partitionInfo": [ {"rowCount": 12344, "uncompressedSize": 14384873},
                               {"rowCount": 43746, "uncompressedSize": 43748274, "compressedSize": 746323} ] },
          "data": [ ["0","QqKow2xzdJ"], ["98",null] ],
          "code": "090001", "sqlState": "00000", "message": "Statement executed successfully.",
          "statementHandle": "h1", "statementStatusUrl": "/api/v2/statements/h1?requestId=r",
          "createdOn": 1620151693299 }"#;
        let Reply::Done(b) = classify(200, body, None) else {
            panic!()
        };
        let meta = b.result_set_meta_data.unwrap();
        assert_eq!(meta.row_type[0].type_name, "fixed");
        assert_eq!(meta.row_type[0].precision, Some(19));
        assert_eq!(meta.row_type[1].scale, None);
        assert_eq!(meta.partition_info.unwrap().len(), 2);
        assert_eq!(b.data.unwrap()[1], vec![Some("98".to_owned()), None]);
        assert_eq!(b.statement_handle.as_deref(), Some("h1"));
    }

    #[test]
    fn a_dml_result_decodes_under_either_name_of_the_duplicate_count() {
        // The spec's ResultSet with its `stats` (specifications/sqlapi.yaml), and the same
        // answer as Snowflake's drivers read it.
        for (name, expected) in [("numDuplicateRowsUpdated", 20), ("numDmlDuplicates", 7)] {
            let body = format!(
                r#"{{"code":"090001","sqlState":"00000","message":"successfully executed",
                    "statementHandle":"536fad38-b564-4dc5-9892-a4543504df6c","createdOn":1597090533987,
                    "statementStatusUrl":"/api/v2/statements/536fad38-b564-4dc5-9892-a4543504df6c",
                    "resultSetMetaData":{{"format":"jsonv2","numRows":1,
                        "rowType":[{{"name":"number of rows inserted","type":"FIXED","length":0,"precision":19,"scale":0,"nullable":false}}],
                        "partitionInfo":[{{"rowCount":1,"uncompressedSize":7}}]}},
                    "data":[["12"]],
                    "stats":{{"numRowsInserted":12,"numRowsUpdated":9,"numRowsDeleted":8,"{name}":{expected}}}}}"#
            );
            let Reply::Done(b) = classify(200, body.as_bytes(), None) else {
                panic!("{body}")
            };
            let stats = crate::snowflake::DmlStats::from(b.stats.unwrap());
            assert_eq!(
                (
                    stats.inserted,
                    stats.updated,
                    stats.deleted,
                    stats.duplicates_updated
                ),
                (12, 9, 8, expected),
                "{name}"
            );
        }
        // The spec's CancelStatus example: a 200 without a result.
        let Reply::Done(cancel) = classify(
            200,
            br#"{"message":"successfully canceled","statementHandle":"536fad38-b564-4dc5-9892-a4543504df6c"}"#,
            None,
        ) else {
            panic!()
        };
        assert_eq!(cancel.result_set_meta_data, None);
    }

    #[test]
    fn running_and_errors_are_typed() {
        let running = br#"{ "code": "333334", "message": "Asynchronous execution in progress.",
            "statementHandle": "019c06a4-0000-df4f-0000-00100006589e",
            "statementStatusUrl": "/api/v2/statements/019c06a4-0000-df4f-0000-00100006589e" }"#;
        let Reply::Running { handle, status_url } = classify(202, running, None) else {
            panic!()
        };
        assert_eq!(handle, "019c06a4-0000-df4f-0000-00100006589e");
        assert_eq!(
            status_url.as_deref(),
            Some("/api/v2/statements/019c06a4-0000-df4f-0000-00100006589e")
        );

        let failed = br#"{ "code": "000904", "message": "SQL compilation error: error line 1 at position 7\ninvalid identifier 'AFAF'",
            "sqlState": "42000", "statementHandle": "019c0728-0000-df4f-0000-00100006606e" }"#;
        let Reply::Failed(err) = classify(422, failed, None) else {
            panic!()
        };
        assert!(!err.is_retryable());
        let Error::Statement {
            code,
            sql_state,
            statement_handle,
            http_status,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (code.as_str(), sql_state.as_str(), http_status),
            ("000904", "42000", 422)
        );
        assert_eq!(
            statement_handle.as_deref(),
            Some("019c0728-0000-df4f-0000-00100006606e")
        );

        let Reply::Failed(timeout) = classify(
            408,
            br#"{"code":"000630","sqlState":"57014","message":"timeout","statementHandle":"h"}"#,
            None,
        ) else {
            panic!()
        };
        assert!(matches!(
            timeout,
            Error::Statement {
                http_status: 408,
                ..
            }
        ));
        assert!(!timeout.is_retryable());

        for status in [429, 500, 502, 503, 504] {
            let Reply::Transient(err) = classify(status, b"{}", Some(3)) else {
                panic!("{status}")
            };
            assert!(err.is_retryable(), "{status}");
            assert_eq!(err.retry_after_secs(), Some(3));
        }
        for status in [400, 403, 404, 405, 415] {
            let Reply::Failed(err) = classify(status, br#"{"code":"390142","message":"Incoming request does not contain a valid payload."}"#, None) else { panic!("{status}") };
            assert!(matches!(err, Error::HttpStatus { status: s, .. } if s == status));
            assert!(!err.is_retryable());
        }
        let Reply::Unauthorized(message) = classify(
            401,
            br#"{"code":"390144","message":"JWT token is invalid."}"#,
            None,
        ) else {
            panic!()
        };
        assert_eq!(message, "390144: JWT token is invalid.");
    }
}
