//! The cap on a whole statement result, over all its partitions.
//!
//! Each partition's body is already capped as it is read (`http_body`), but a result is
//! returned whole, so a statement with many partitions could still fill memory: a wrong
//! query, or a server that announces partition after partition. [`ResultBudget`] counts rows
//! and value bytes across partitions and refuses the result with
//! [`Error::ResultTooLarge`] (which partition, which limit) as soon as either passes its cap,
//! and before any partition past the first is fetched when the announced row count already
//! does. Pure: the client feeds it what arrived.

use crate::error::{Error, Result, ResultLimit};

/// The most rows a result may hold: `verify` reads every key of an object (millions at
/// most for the objects this tool loads), everything else reads a few rows.
pub(crate) const MAX_RESULT_ROWS: u64 = 50_000_000;
/// The most bytes of values (their text on the wire) a result may hold.
pub(crate) const MAX_RESULT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What one result has used of its caps so far.
#[derive(Debug)]
pub(crate) struct ResultBudget<'a> {
    statement_handle: &'a str,
    partitions: usize,
    max_rows: u64,
    max_bytes: u64,
    rows: u64,
    bytes: u64,
}

impl<'a> ResultBudget<'a> {
    /// A budget for a result of `partitions` partitions.
    pub(crate) fn new(
        statement_handle: &'a str,
        partitions: usize,
        max_rows: u64,
        max_bytes: u64,
    ) -> ResultBudget<'a> {
        ResultBudget {
            statement_handle,
            partitions,
            max_rows,
            max_bytes,
            rows: 0,
            bytes: 0,
        }
    }

    /// Refuses a result whose announced row count (`numRows`, or the partitions' row
    /// counts) passes the cap, before anything more is fetched.
    pub(crate) fn check_announced(&self, announced_rows: u64) -> Result<()> {
        if announced_rows > self.max_rows {
            return Err(self.too_large(ResultLimit::Rows(self.max_rows), 0));
        }
        Ok(())
    }

    /// Counts the rows of `partition`; an error once the result passes a cap.
    pub(crate) fn add(&mut self, partition: usize, rows: &[Vec<Option<String>>]) -> Result<()> {
        self.rows += rows.len() as u64;
        if self.rows > self.max_rows {
            return Err(self.too_large(ResultLimit::Rows(self.max_rows), partition));
        }
        self.bytes += rows
            .iter()
            .flatten()
            .map(|v| v.as_ref().map_or(0, |s| s.len() as u64))
            .sum::<u64>();
        if self.bytes > self.max_bytes {
            return Err(self.too_large(ResultLimit::Bytes(self.max_bytes), partition));
        }
        Ok(())
    }

    fn too_large(&self, limit: ResultLimit, partition: usize) -> Error {
        Error::ResultTooLarge {
            statement_handle: self.statement_handle.to_owned(),
            limit,
            partition,
            partitions: self.partitions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, value: &str) -> Vec<Vec<Option<String>>> {
        (0..n).map(|_| vec![Some(value.to_owned()), None]).collect()
    }

    fn limit_of(error: Error) -> (ResultLimit, usize) {
        match error {
            Error::ResultTooLarge {
                limit,
                partition,
                partitions,
                statement_handle,
            } => {
                assert_eq!(partitions, 3);
                assert_eq!(statement_handle, "h-1");
                (limit, partition)
            }
            other => panic!("expected ResultTooLarge, got {other:?}"),
        }
    }

    #[test]
    fn rows_are_capped_over_all_partitions_not_each() {
        // Every partition fits the cap alone; the third brings the total past it.
        let mut budget = ResultBudget::new("h-1", 3, 10, u64::MAX);
        budget.add(0, &rows(4, "a")).unwrap();
        budget.add(1, &rows(4, "a")).unwrap();
        let err = budget.add(2, &rows(4, "a")).unwrap_err();
        assert_eq!(limit_of(err), (ResultLimit::Rows(10), 2));
    }

    #[test]
    fn value_bytes_are_capped_over_all_partitions() {
        let mut budget = ResultBudget::new("h-1", 3, u64::MAX, 100);
        budget.add(0, &rows(5, &"x".repeat(10))).unwrap(); // 50 bytes
        let err = budget.add(1, &rows(6, &"x".repeat(10))).unwrap_err(); // 110
        assert_eq!(limit_of(err), (ResultLimit::Bytes(100), 1));
        let err = Error::ResultTooLarge {
            statement_handle: "h-1".into(),
            limit: ResultLimit::Bytes(100),
            partition: 1,
            partitions: 3,
        };
        let message = err.to_string();
        assert!(
            message.contains("h-1")
                && message.contains("100 bytes")
                && message.contains("partition 1"),
            "{message}"
        );
    }

    #[test]
    fn an_announced_row_count_past_the_cap_is_refused_before_fetching() {
        let budget = ResultBudget::new("h-1", 3, 10, u64::MAX);
        budget.check_announced(10).unwrap();
        let err = budget.check_announced(11).unwrap_err();
        assert_eq!(limit_of(err), (ResultLimit::Rows(10), 0));
    }
}
