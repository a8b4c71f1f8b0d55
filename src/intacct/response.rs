//! Parsed responses of the Intacct XML gateway: the typed values the parser produces.
//!
//! The envelope has three failure levels, all possible under HTTP 200: control
//! (`response/control/status`), authentication (`operation/authentication/status`) and each
//! function's `<result>`. Control and authentication failures make the whole response an
//! error ([`crate::Error::Intacct`]); a result failure fails only that function, so a
//! [`Response`] carries one `Result` per function, in request order.

use crate::secret::Secret;

/// Which of the three levels an Intacct error was reported at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorLevel {
    /// `response/control/status = failure`, or a gateway error (`GW-nnnn`).
    Control,
    /// `operation/authentication/status = failure`.
    Authentication,
    /// A `<result>` whose status is `failure` or `aborted`.
    Result,
}

/// One `<error>` of an `<errormessage>`, entities decoded, texts kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// `<errorno>`, as text (codes like `XL03000006`, `GW-0010`, or phrases like `Query Failed`).
    pub errorno: String,
    /// `<description>`; `None` when empty.
    pub description: Option<String>,
    /// `<description2>`; `None` when empty.
    pub description2: Option<String>,
    /// `<correction>`; `None` when empty.
    pub correction: Option<String>,
}

/// An error reported inside a response body.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IntacctFailure {
    /// Where it was reported.
    pub level: ErrorLevel,
    /// `result/function` for result-level failures.
    pub function: Option<String>,
    /// `result/controlid` (result level) or `control/controlid` (control level).
    pub control_id: Option<String>,
    /// `true` when the result status was `aborted` (a rolled-back transaction).
    pub aborted: bool,
    /// Every `<error>`, in order; may be empty when Intacct sent none.
    pub errors: Vec<ErrorDetail>,
}

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

/// One page of records, stored column-wise by index for speed.
///
/// Column names follow [`crate::intacct::names::column_name`]: a nested element or a
/// dotted field name becomes one Snowflake-safe column. An empty element is `None` (Intacct
/// does not distinguish NULL from the empty string).
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// Rows; `rows[r][c]` is the value of `columns[c]`, `None` when empty or absent.
    /// Rows may be shorter than `columns` when later rows introduced new columns.
    /// Private so the parser may change the layout for speed; use the accessors.
    rows: Vec<Vec<Option<String>>>,
}

impl RecordPage {
    /// A page built from column names and rows (values by column index).
    pub fn from_rows(columns: Vec<String>, rows: Vec<Vec<Option<String>>>) -> RecordPage {
        RecordPage {
            columns,
            rows,
            ..RecordPage::default()
        }
    }

    /// Column names in first-seen order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Number of records in the page.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the page holds no record.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Index of a column by its (already Snowflake-safe) name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The value of column `col` in row `row`, `None` when empty or absent.
    pub fn value(&self, row: usize, col: usize) -> Option<&str> {
        self.rows.get(row)?.get(col)?.as_deref()
    }

    /// The value of a named column in row `row`.
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        self.value(row, self.column_index(name)?)
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

/// One object's metadata: a `<Type Name=…>`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectMeta {
    /// The `Name` attribute, e.g. `VENDOR`.
    pub name: String,
    /// Fields in the order Intacct listed them.
    pub fields: Vec<FieldMeta>,
}
