//! Which of an object's fields a read asks for, and the schema plan they make.
//!
//! Decided once per object, from `lookup`'s metadata and the object's settings, before any
//! batch exists:
//!
//! * with an explicit field list, only those fields, and always the paging keys, the object's
//!   key, its watermark field and its delete-key column
//!   ([`crate::intacct::objects::is_required_field`]); without one, every field but the
//!   object's private ones ([`crate::intacct::objects::private_fields`]), so private fields
//!   left out by default never leave Intacct;
//! * excluded fields are never read;
//! * a `query` read leaves out the fields on the deny list of those `query` refuses
//!   ([`crate::intacct::objects::not_queryable`]): they are named in the report and have no
//!   column (a field the gateway refuses by name at run time keeps its NULL column instead,
//!   so the schema stays the same from run to run);
//! * the key must be a column and the watermark field a timestamp column; both are strict (a
//!   bad value there stops the object rather than being quarantined).
//!
//! And per page: a live record without a key stops the object, naming the record.

use arrow::record_batch::RecordBatch;

use super::{ColumnKind, RECORD_NO_COLUMN, SchemaPlan, arrow_schema};
use crate::error::{Error, Result};
use crate::intacct::objects;
use crate::intacct::response::{ObjectMeta, RecordPage};

/// An object's field settings.
#[derive(Clone, Copy, Debug)]
pub struct FieldSelection<'a> {
    /// The object (named in errors, with its settings).
    pub object: &'a str,
    /// The explicit field list (`None`: every field but the object's private ones).
    pub fields: Option<&'a [String]>,
    /// Fields never read.
    pub exclude: &'a [String],
    /// The column the target table merges on.
    pub key: &'a str,
    /// The modification timestamp the read pages by.
    pub watermark_field: &'a str,
    /// The read is a `query` (not `readByQuery`): the deny list applies.
    pub query: bool,
}

/// The fields an object's read asks for and the schema its batch is staged with.
#[derive(Clone, Debug)]
pub struct ObjectSchema {
    /// The fields read, in the metadata's order: the request's field list.
    pub fields: Vec<String>,
    /// Their Arrow shape, the key and the watermark field strict.
    pub plan: SchemaPlan,
    /// Fields `lookup` lists but `query` refuses (the deny list), left out of the read.
    pub refused: Vec<String>,
}

/// The fields `selection` reads of the object `meta` describes, and their schema plan; an
/// error when the key or the watermark field does not fit.
pub fn object_schema(meta: &ObjectMeta, selection: &FieldSelection<'_>) -> Result<ObjectSchema> {
    let mut meta = restrict_fields(meta, selection);
    meta.fields.retain(|f| {
        !selection
            .exclude
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&f.name))
    });
    let mut refused: Vec<String> = Vec::new();
    if selection.query {
        let deny = objects::not_queryable(selection.object);
        meta.fields.retain(|f| {
            let keep = !deny.contains(&f.name.as_str());
            if !keep {
                refused.push(f.name.clone());
            }
            keep
        });
    }
    let mut plan = arrow_schema(&meta)?;
    check_keys(&plan, selection)?;
    plan.mark_strict(&[selection.key, selection.watermark_field]);
    Ok(ObjectSchema {
        fields: meta.fields.iter().map(|f| f.name.clone()).collect(),
        plan,
        refused,
    })
}

/// The metadata limited to an explicit field list (the paging keys, the object's key and
/// watermark field and the delete-key column always stay); without a list, every field but
/// the object's private ones.
fn restrict_fields(meta: &ObjectMeta, selection: &FieldSelection<'_>) -> ObjectMeta {
    let Some(fields) = selection.fields else {
        let private = objects::private_fields(&meta.name);
        return ObjectMeta {
            name: meta.name.clone(),
            fields: meta
                .fields
                .iter()
                .filter(|f| {
                    !private.contains(&f.name.as_str())
                        || f.name == selection.key
                        || f.name == selection.watermark_field
                })
                .cloned()
                .collect(),
        };
    };
    let keep = |name: &str| {
        objects::is_required_field(&meta.name, name)
            || name.eq_ignore_ascii_case(selection.key)
            || name.eq_ignore_ascii_case(selection.watermark_field)
            || fields.iter().any(|f| f.eq_ignore_ascii_case(name))
    };
    ObjectMeta {
        name: meta.name.clone(),
        fields: meta
            .fields
            .iter()
            .filter(|f| keep(&f.name))
            .cloned()
            .collect(),
    }
}

/// Checks the object's key and watermark field against its metadata before anything is
/// created: the key must be a column, the watermark field a timestamp column.
fn check_keys(plan: &SchemaPlan, selection: &FieldSelection<'_>) -> Result<()> {
    let object = selection.object;
    let column = |name: &str| plan.columns.iter().find(|c| c.column == name);
    let fail = |setting: &str, message: String| Error::Schema {
        object: object.to_owned(),
        message: format!("extract.object.{object}.{setting}: {message}"),
    };
    if column(selection.key).is_none() {
        return Err(fail(
            "key",
            format!(
                "{} is not a field lookup lists for the object",
                selection.key
            ),
        ));
    }
    match column(selection.watermark_field) {
        Some(c) if c.kind == ColumnKind::Timestamp => Ok(()),
        Some(c) => Err(fail(
            "watermark_field",
            format!(
                "{} is a {:?} field; the watermark must be a timestamp",
                selection.watermark_field, c.kind
            ),
        )),
        None => Err(fail(
            "watermark_field",
            format!(
                "{} is not a field lookup lists for the object",
                selection.watermark_field
            ),
        )),
    }
}

/// A live record without a key could never be merged: it stops the object, naming the
/// record. `batch` is `page` converted (rows may have been quarantined out of it).
pub fn check_key_present(
    plan: &SchemaPlan,
    key: &str,
    page: &RecordPage,
    batch: &RecordBatch,
) -> Result<()> {
    let Some(keys) = batch.column_by_name(key) else {
        return Ok(());
    };
    if keys.null_count() == 0 {
        return Ok(());
    }
    // Rows may have been quarantined out of `batch`; name the first page row without a key.
    let key_index = page.column_index(key);
    let row = (0..page.len())
        .find(|&r| key_index.and_then(|c| page.value(r, c)).is_none())
        .unwrap_or(0);
    Err(Error::Value {
        object: plan.object.clone(),
        record_no: page.get(row, RECORD_NO_COLUMN).map(str::to_owned),
        field: key.to_owned(),
        value: String::new(),
        expected: "a value: the object's key is never empty",
    })
}
