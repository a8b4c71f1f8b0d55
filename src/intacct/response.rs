//! Parsed responses of the Intacct XML gateway: the typed values the parser produces.
//!
//! The envelope has three failure levels, all possible under HTTP 200: control
//! (`response/control/status`), authentication (`operation/authentication/status`) and each
//! function's `<result>`. Control and authentication failures make the whole response an
//! error ([`crate::Error::Intacct`]); a result failure fails only that function, so a
//! [`Response`] carries one `Result` per function, in request order.

use chrono::{DateTime, FixedOffset};

pub use crate::error::{ErrorDetail, ErrorLevel, IntacctFailure};
use crate::secret::Secret;

/// `response/control`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlBlock {
    /// `success` or `failure`.
    pub status: String,
    /// `senderid`, when present.
    pub sender_id: Option<String>,
    /// `controlid`, when present.
    pub control_id: Option<String>,
}

/// `operation/authentication` of a successful response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthenticationBlock {
    /// `userid`.
    pub user_id: Option<String>,
    /// `companyid`.
    pub company_id: Option<String>,
    /// `locationid`; `None` when empty.
    pub location_id: Option<String>,
    /// `sessiontimestamp`, ISO-8601 with offset, as sent.
    pub session_timestamp: Option<String>,
    /// `sessiontimeout`, ISO-8601 with offset, as sent.
    pub session_timeout: Option<String>,
}

impl AuthenticationBlock {
    /// The gateway's time when it answered: `sessiontimestamp`, ISO-8601 with the offset of
    /// the company's zone, as Sage sends it in every authentication block
    /// (`2015-12-07T15:57:08-08:00` in its own responses; the session's timeout is this time
    /// plus the session's duration). `Err` says what is wrong: the element missing or empty,
    /// or text that is not such a time (one without an offset names no instant).
    pub fn session_time(&self) -> std::result::Result<DateTime<FixedOffset>, String> {
        let text = self
            .session_timestamp
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| "the authentication block carries no <sessiontimestamp>".to_owned())?;
        DateTime::parse_from_rfc3339(text).map_err(|e| {
            format!("<sessiontimestamp>{text}</sessiontimestamp> is not an ISO-8601 time with an offset: {e}")
        })
    }
}

/// A whole response that passed the control and authentication levels.
#[derive(Debug)]
pub struct Response {
    /// The control block.
    pub control: ControlBlock,
    /// The authentication block; `None` for an asynchronous acknowledgement.
    pub authentication: Option<AuthenticationBlock>,
    /// One entry per `<result>`, in document order.
    pub results: Vec<FunctionResult>,
}

/// One `<result>`.
#[derive(Debug)]
pub struct FunctionResult {
    /// `function`.
    pub function: String,
    /// `controlid`.
    pub control_id: String,
    /// The data, or the failure of this function alone.
    pub outcome: Result<ResultData, IntacctFailure>,
}

/// The `<data>` of a successful result.
#[derive(Debug)]
pub enum ResultData {
    /// A result with no data element (or an empty one that is not a list).
    Empty,
    /// `getAPISession`.
    Session(ApiSession),
    /// `query`, `readByQuery`, `readMore`, `read`, or a legacy list.
    Records(RecordPage),
    /// `lookup` or `inspect detail="1"`: one entry per `<Type>`.
    Objects(Vec<ObjectMeta>),
}

/// `getAPISession` data.
#[derive(Clone, Debug)]
pub struct ApiSession {
    /// The session id (ends in `..` on the real gateway).
    pub session_id: Secret,
    /// The endpoint all later requests of this session must use.
    pub endpoint: String,
    /// The entity, `None` at top level.
    pub location_id: Option<String>,
}

/// One page of records.
///
/// Column names follow `names::column_name_of_path`: a nested element or a
/// dotted field name becomes one Snowflake-safe column. An empty element is `None` (Intacct
/// does not distinguish NULL from the empty string).
///
/// Storage is private and laid out for the parser's speed: all values of the page live in one
/// text arena, and each row is a run of spans into it, indexed by column. A row may be
/// shorter than [`RecordPage::columns`] when later rows introduced new columns; the missing
/// cells read as `None`.
#[derive(Clone, Default)]
pub struct RecordPage {
    /// `listtype` attribute (lower-case for readByQuery/readMore, upper-case for query/read).
    pub list_type: Option<String>,
    /// `count`: rows in this page, as reported.
    pub count: Option<u64>,
    /// `totalcount`, as reported.
    pub total_count: Option<u64>,
    /// `numremaining`, as reported.
    pub num_remaining: Option<u64>,
    /// `offset` (query), as reported.
    pub offset: Option<u64>,
    /// `resultId` (readByQuery/readMore); `None` when absent or empty.
    pub result_id: Option<String>,
    /// Column names in first-seen order.
    columns: Vec<String>,
    /// Every non-empty value of the page, back to back.
    text: String,
    /// Cells of all rows, row after row; each row's cells are indexed by column.
    cells: Vec<Cell>,
    /// Index in `cells` where each row starts.
    row_starts: Vec<usize>,
}

/// A value's span in the page's text arena; `start == usize::MAX` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cell {
    start: usize,
    end: usize,
}

impl Cell {
    const NONE: Cell = Cell {
        start: usize::MAX,
        end: 0,
    };
}

impl RecordPage {
    /// A page built from column names and rows (values by column index).
    pub fn from_rows(columns: Vec<String>, rows: Vec<Vec<Option<String>>>) -> RecordPage {
        let mut page = RecordPage {
            columns,
            ..RecordPage::default()
        };
        for row in rows {
            page.start_row();
            for (col, value) in row.iter().enumerate() {
                match value {
                    Some(v) => page.set_value_with(col, |text| text.push_str(v)),
                    None => page.set_none(col),
                }
            }
        }
        page
    }

    /// Column names in first-seen order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of records in the page.
    pub fn len(&self) -> usize {
        self.row_starts.len()
    }

    /// True when the page holds no record.
    pub fn is_empty(&self) -> bool {
        self.row_starts.is_empty()
    }

    /// Index of a column by its (already Snowflake-safe) name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The value of column `col` in row `row`, `None` when empty or absent.
    pub fn value(&self, row: usize, col: usize) -> Option<&str> {
        let cells = self.row_cells(row)?;
        let cell = cells.get(col)?;
        if cell.start == usize::MAX {
            None
        } else {
            Some(&self.text[cell.start..cell.end])
        }
    }

    /// The value of a named column in row `row`.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        self.value(row, self.column_index(name)?)
    }

    /// The values of row `row`, one per column of [`RecordPage::columns`], in column order.
    pub fn row(&self, row: usize) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        (0..self.columns.len()).map(move |col| self.value(row, col))
    }

    /// Every row, each as in [`RecordPage::row`].
    pub fn rows(
        &self,
    ) -> impl ExactSizeIterator<Item = impl ExactSizeIterator<Item = Option<&str>> + '_> + '_ {
        (0..self.len()).map(move |row| self.row(row))
    }

    /// Total bytes of all values: a cheap size measure for batching.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    fn row_cells(&self, row: usize) -> Option<&[Cell]> {
        let start = *self.row_starts.get(row)?;
        let end = self
            .row_starts
            .get(row + 1)
            .copied()
            .unwrap_or(self.cells.len());
        Some(&self.cells[start..end])
    }

    /// Appends a column and returns its index (the parser interns names before calling).
    pub(crate) fn push_column(&mut self, name: String) -> usize {
        self.columns.push(name);
        self.columns.len() - 1
    }

    /// Begins a new, empty row; later `set_*` calls fill it.
    pub(crate) fn start_row(&mut self) {
        self.row_starts.push(self.cells.len());
    }

    fn cell_mut(&mut self, col: usize) -> &mut Cell {
        let start = *self
            .row_starts
            .last()
            .expect("start_row is called before a cell is set");
        let index = start + col;
        if self.cells.len() <= index {
            self.cells.resize(index + 1, Cell::NONE);
        }
        &mut self.cells[index]
    }

    /// Sets column `col` of the current row to what `write` appends to the arena; an empty
    /// append is `None`. A second value for the same cell replaces the first.
    pub(crate) fn set_value_with(&mut self, col: usize, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        let end = self.text.len();
        let cell = if end == start {
            Cell::NONE
        } else {
            Cell { start, end }
        };
        *self.cell_mut(col) = cell;
    }

    /// Marks column `col` of the current row as present but empty.
    pub(crate) fn set_none(&mut self, col: usize) {
        *self.cell_mut(col) = Cell::NONE;
    }

    /// Reserves room for about `rows` more rows of the current width.
    pub(crate) fn reserve_rows(&mut self, rows: usize) {
        self.row_starts.reserve(rows);
        self.cells.reserve(rows * self.columns.len().max(1));
    }
}

impl PartialEq for RecordPage {
    fn eq(&self, other: &RecordPage) -> bool {
        self.list_type == other.list_type
            && self.count == other.count
            && self.total_count == other.total_count
            && self.num_remaining == other.num_remaining
            && self.offset == other.offset
            && self.result_id == other.result_id
            && self.columns == other.columns
            && self.len() == other.len()
            && (0..self.len()).all(|r| self.row(r).eq(other.row(r)))
    }
}

impl std::fmt::Debug for RecordPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordPage")
            .field("list_type", &self.list_type)
            .field("count", &self.count)
            .field("total_count", &self.total_count)
            .field("num_remaining", &self.num_remaining)
            .field("offset", &self.offset)
            .field("result_id", &self.result_id)
            .field("columns", &self.columns)
            .field("rows", &self.len())
            .finish()
    }
}

/// The Intacct data type of a field, from `lookup` (`DATATYPE`) or `inspect`
/// (`externalDataName`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IntacctType {
    /// `TEXT` / `string`.
    Text,
    /// `ENUM` (with `valid_values`).
    Enum,
    /// `SEQUENCE`.
    Sequence,
    /// `INTEGER` / `integer`.
    Integer,
    /// `DECIMAL` / `number`.
    Decimal,
    /// `CURRENCY`.
    Currency,
    /// `PERCENT`.
    Percent,
    /// `BOOLEAN` / `boolean`.
    Boolean,
    /// `DATE`.
    Date,
    /// `TIMESTAMP` / `datetime`.
    Timestamp,
    /// Anything else, kept as sent; treated as text downstream.
    Other(String),
}

impl IntacctType {
    /// The type named by a `lookup` `DATATYPE` or an `inspect` `externalDataName`, any case:
    /// `TEXT`/`string` → Text, `INTEGER`/`integer` → Integer, `DECIMAL`/`number` → Decimal,
    /// `CURRENCY`, `PERCENT`, `BOOLEAN`, `DATE`, `TIMESTAMP`/`datetime` → Timestamp, `ENUM`,
    /// `SEQUENCE`; anything else is kept as sent in `Other`.
    pub fn from_intacct(name: &str) -> IntacctType {
        let name = name.trim();
        match name.to_ascii_uppercase().as_str() {
            "TEXT" | "STRING" => IntacctType::Text,
            "INTEGER" => IntacctType::Integer,
            "DECIMAL" | "NUMBER" => IntacctType::Decimal,
            "CURRENCY" => IntacctType::Currency,
            "PERCENT" => IntacctType::Percent,
            "BOOLEAN" => IntacctType::Boolean,
            "DATE" => IntacctType::Date,
            "TIMESTAMP" | "DATETIME" => IntacctType::Timestamp,
            "ENUM" => IntacctType::Enum,
            "SEQUENCE" => IntacctType::Sequence,
            _ => IntacctType::Other(name.to_owned()),
        }
    }
}

/// One field's metadata.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldMeta {
    /// The Intacct field id (`ID` in lookup, `Name` in inspect), e.g. `RECORDNO`, `VENDOR.NAME`.
    pub name: String,
    /// The Intacct data type.
    pub data_type: IntacctType,
    /// `REQUIRED` / `isRequired`.
    pub required: bool,
    /// `READONLY` / `isReadOnly`.
    pub read_only: bool,
    /// `maxLength` (inspect only).
    pub max_length: Option<u32>,
    /// `VALIDVALUES` (lookup only), in order.
    pub valid_values: Vec<String>,
    /// `ISCUSTOM`.
    pub is_custom: bool,
    /// `LABEL` / `DisplayLabel`.
    pub label: Option<String>,
}

impl FieldMeta {
    /// A field with only a name and a type: optional, writable, no length, no valid values.
    pub fn new(name: impl Into<String>, data_type: IntacctType) -> FieldMeta {
        FieldMeta {
            name: name.into(),
            data_type,
            required: false,
            read_only: false,
            max_length: None,
            valid_values: Vec::new(),
            is_custom: false,
            label: None,
        }
    }
}

/// One object's metadata: a `<Type Name=…>`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectMeta {
    /// The `Name` attribute, e.g. `VENDOR`.
    pub name: String,
    /// Fields in the order Intacct listed them.
    pub fields: Vec<FieldMeta>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(text: Option<&str>) -> AuthenticationBlock {
        AuthenticationBlock {
            session_timestamp: text.map(str::to_owned),
            ..AuthenticationBlock::default()
        }
    }

    #[test]
    fn the_session_time_is_the_instant_its_offset_names() {
        // Sage's own getAPISession response (the PHP SDK's SessionProviderTest fixture).
        let t = stamped(Some("2015-12-06T15:57:08-08:00"))
            .session_time()
            .unwrap();
        assert_eq!(t.to_utc().to_rfc3339(), "2015-12-06T23:57:08+00:00");
        assert_eq!(t.offset().local_minus_utc(), -8 * 3_600);
        // The same instant written in UTC, and with surrounding whitespace (pretty-printed).
        let utc = stamped(Some(" 2015-12-06T23:57:08Z\n "))
            .session_time()
            .unwrap();
        assert_eq!(utc, t);
        // A positive offset, and one of half an hour.
        let kolkata = stamped(Some("2024-03-10T05:30:00+05:30"))
            .session_time()
            .unwrap();
        assert_eq!(kolkata.to_utc().to_rfc3339(), "2024-03-10T00:00:00+00:00");
    }

    #[test]
    fn a_session_time_missing_or_without_offset_is_refused_with_what_is_wrong() {
        for missing in [None, Some(""), Some("  ")] {
            let e = stamped(missing).session_time().unwrap_err();
            assert!(e.contains("no <sessiontimestamp>"), "{e}");
        }
        for bad in ["2015-12-06T15:57:08", "12/06/2015 15:57:08", "yesterday"] {
            let e = stamped(Some(bad)).session_time().unwrap_err();
            assert!(e.contains(bad) && e.contains("offset"), "{e}");
        }
    }
}
