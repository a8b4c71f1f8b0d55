//! The reading functions of the gateway: `query`, `readByQuery` with its cursors, `readMore`.
//!
//! A readByQuery keeps the RECORDNOs of every match as its cursor (a consistent snapshot of
//! which records, read at each page, so deleted ones drop out); the resultId expires
//! `result_id_ttl_secs` after its last use.

use std::time::{Duration, Instant};

use intacct_snowflake::intacct::{Query, ReadByQuery};

use super::{
    Cursor, DEFAULT_PAGE_SIZE, ExecOptions, Gateway, MAX_QUERY_PAGE_SIZE,
    MAX_READ_BY_QUERY_PAGE_SIZE, Principal, lock, new_id,
};
use crate::dataset::Dataset;
use crate::filter_eval::Columns;
use crate::query_exec::{self, Failure};
use crate::rbq_query::parse_query_string;
use crate::response_write::{DataOut, RowsOut};

impl Gateway {
    pub(super) fn run_query(
        &self,
        query: &Query,
        principal: &Principal,
    ) -> Result<DataOut, Failure> {
        let page_size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > MAX_QUERY_PAGE_SIZE {
            return Err((
                "Query Failed".into(),
                format!("pagesize must be between 1 and {MAX_QUERY_PAGE_SIZE}, got {page_size}"),
            ));
        }
        let offset = u64::from(query.offset.unwrap_or(0));
        if query
            .object
            .eq_ignore_ascii_case(crate::audit::AUDIT_OBJECT)
        {
            let (read, failure) = crate::audit::judge(query);
            lock(&self.audit_reads).push(read);
            if let Some(failure) = failure {
                return Err(failure);
            }
        }
        let dataset = self.dataset();
        let meta = query_exec::object_meta(&dataset, &query.object)?;
        let columns = Columns::new(meta);
        let selected = query_exec::select_columns(&columns, &query.select)?;
        let refused: Vec<&str> = dataset
            .not_queryable(&query.object)
            .iter()
            .copied()
            .filter(|f| {
                query.select.is_empty()
                    || query
                        .select
                        .iter()
                        .any(|s| s == "*" || s.eq_ignore_ascii_case(f))
            })
            .collect();
        if !refused.is_empty() {
            return Err((
                "XL03000006".into(),
                format!(
                    "The following fields cannot be queried: [ {}: [{}] ]",
                    query.object.to_ascii_lowercase(),
                    refused.join(", ")
                ),
            ));
        }
        query_exec::check_sort_cost(
            &dataset,
            &query.object,
            &query.order_by,
            self.config.sort_timeout_rows,
        )?;
        let scope = principal.scope(query.show_private);
        let visible = |record_no: u64| self.sees(&dataset, &query.object, record_no, scope);
        let mut page = query_exec::run(
            &dataset,
            &columns,
            &query.object,
            query.filter.as_ref(),
            &query.order_by,
            query.case_insensitive,
            offset,
            u64::from(page_size),
            self.config.count_limit,
            &visible,
        )?;
        let count = page.records.len() as u64;
        let remaining = page.total.saturating_sub(offset + count);
        for record in &mut page.records {
            self.stamp_owner(&dataset, &query.object, record);
        }
        let rows = page
            .records
            .iter()
            .map(|r| project(&r.values, &selected))
            .collect();
        Ok(DataOut::Rows(RowsOut {
            attrs: vec![
                ("listtype", query.object.clone()),
                ("totalcount", page.total.to_string()),
                ("offset", offset.to_string()),
                ("count", count.to_string()),
                ("numremaining", remaining.to_string()),
            ],
            row_element: query.object.clone(),
            columns: names(&columns, &selected),
            rows,
        }))
    }

    pub(super) fn run_read_by_query(
        &self,
        rbq: &ReadByQuery,
        principal: &Principal,
    ) -> Result<DataOut, Failure> {
        let page_size = rbq.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > MAX_READ_BY_QUERY_PAGE_SIZE {
            return Err((
                "Query Failed".into(),
                format!(
                    "pagesize must be between 1 and {MAX_READ_BY_QUERY_PAGE_SIZE}, got {page_size}"
                ),
            ));
        }
        let filter = parse_query_string(&rbq.query)
            .map_err(|e| ("Query Failed".to_owned(), format!("Invalid query: {e}")))?;
        let dataset = self.dataset();
        let meta = query_exec::object_meta(&dataset, &rbq.object)?;
        let columns = Columns::new(meta);
        let selected = query_exec::select_columns(&columns, &rbq.fields)?;
        let mut keys = query_exec::matching_keys(&dataset, &columns, &rbq.object, filter.as_ref())?;
        // readByQuery has no showprivate option.
        let scope = principal.scope(false);
        keys.retain(|no| self.sees(&dataset, &rbq.object, *no, scope));
        let mut cursor = Cursor {
            object: rbq.object.clone(),
            columns: selected,
            keys,
            position: 0,
            page_size: page_size as usize,
            expires_at: Instant::now() + Duration::from_secs(self.config.result_id_ttl_secs),
        };
        let data = self.next_page(&dataset, &columns, &mut cursor, None);
        drop(dataset);
        if cursor.position < cursor.keys.len() {
            let id = set_result_id(data, new_id());
            self.store_cursor(id.0.clone(), cursor, principal);
            return Ok(id.1);
        }
        Ok(data)
    }

    fn store_cursor(&self, id: String, cursor: Cursor, principal: &Principal) {
        let object = cursor.object.clone();
        let mut cursors = lock(&self.cursors);
        if cursors.len() >= 10_000 {
            let now = Instant::now();
            cursors.retain(|_, c| c.expires_at > now);
        }
        cursors.insert(id.clone(), cursor);
        drop(cursors);
        if let Some(session_id) = &principal.session_id
            && let Some(session) = lock(&self.sessions).get_mut(session_id)
        {
            session.last_result_ids.insert(object.to_lowercase(), id);
        }
    }

    pub(super) fn run_read_more(
        &self,
        result_id: &str,
        principal: &Principal,
        options: &ExecOptions,
    ) -> Result<DataOut, Failure> {
        let id = match result_id.strip_prefix("object:") {
            Some(object) => principal
                .session_id
                .as_ref()
                .and_then(|s| lock(&self.sessions).get(s).cloned())
                .and_then(|s| s.last_result_ids.get(&object.to_lowercase()).cloned())
                .unwrap_or_default(),
            None => result_id.to_owned(),
        };
        let expired = || {
            (
                "readMore failed".to_owned(),
                format!("Attempt to readMore with an invalid or expired resultId: {result_id}"),
            )
        };
        let mut cursors = lock(&self.cursors);
        if options.expire_result_ids {
            cursors.remove(&id);
        }
        let now = Instant::now();
        let Some(mut cursor) = cursors.remove(&id).filter(|c| c.expires_at > now) else {
            return Err(expired());
        };
        drop(cursors);
        let dataset = self.dataset();
        let meta = query_exec::object_meta(&dataset, &cursor.object)?;
        let columns = Columns::new(meta);
        let data = self.next_page(&dataset, &columns, &mut cursor, Some(&id));
        drop(dataset);
        if cursor.position < cursor.keys.len() {
            cursor.expires_at = now + Duration::from_secs(self.config.result_id_ttl_secs);
            lock(&self.cursors).insert(id, cursor);
        }
        Ok(data)
    }
}

/// Replaces the empty resultId of a first page with `id`.
fn set_result_id(data: DataOut, id: String) -> (String, DataOut) {
    match data {
        DataOut::Rows(mut rows) => {
            for (key, value) in rows.attrs.iter_mut() {
                if *key == "resultId" {
                    *value = id.clone();
                }
            }
            (id, DataOut::Rows(rows))
        }
        other => (id, other),
    }
}

impl Gateway {
    /// The next page of a readByQuery cursor; `result_id` is `None` on the first page (filled
    /// in by the caller when more remain).
    fn next_page(
        &self,
        dataset: &Dataset,
        columns: &Columns<'_>,
        cursor: &mut Cursor,
        result_id: Option<&str>,
    ) -> DataOut {
        next_page(dataset, columns, cursor, result_id, &|object, record| {
            self.stamp_owner(dataset, object, record)
        })
    }
}

/// Writes what the gateway adds to a record before it is served (its owner).
type Stamp<'a> = dyn Fn(&str, &mut crate::dataset::SimRecord) + 'a;

/// The next page of a readByQuery cursor; `result_id` is `None` on the first page (filled in
/// by the caller when more remain).
fn next_page(
    dataset: &Dataset,
    columns: &Columns<'_>,
    cursor: &mut Cursor,
    result_id: Option<&str>,
    stamp: &Stamp<'_>,
) -> DataOut {
    let end = (cursor.position + cursor.page_size).min(cursor.keys.len());
    let mut rows = Vec::new();
    for key in &cursor.keys[cursor.position..end] {
        // Records deleted since the readByQuery are skipped.
        if let Some(mut record) = dataset.get(&cursor.object, *key) {
            stamp(&cursor.object, &mut record);
            rows.push(project(&record.values, &cursor.columns));
        }
    }
    cursor.position = end;
    let remaining = cursor.keys.len() - end;
    let list_type = cursor.object.to_lowercase();
    DataOut::Rows(RowsOut {
        attrs: vec![
            ("listtype", list_type.clone()),
            ("count", rows.len().to_string()),
            ("totalcount", cursor.keys.len().to_string()),
            ("numremaining", remaining.to_string()),
            ("resultId", result_id.unwrap_or("").to_owned()),
        ],
        row_element: list_type,
        columns: names(columns, &cursor.columns),
        rows,
    })
}

pub(super) fn project(values: &[Option<String>], selected: &[usize]) -> Vec<Option<String>> {
    selected
        .iter()
        .map(|i| values.get(*i).cloned().flatten())
        .collect()
}

pub(super) fn names(columns: &Columns<'_>, selected: &[usize]) -> Vec<String> {
    selected
        .iter()
        .map(|i| columns.meta().fields[*i].name.clone())
        .collect()
}
