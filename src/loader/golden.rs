//! Every statement the loader renders, for a representative set of objects, compared byte for
//! byte with the texts under `tests/fixtures/statements/` (what Snowflake is sent; see the
//! README there). The set covers each shape the templates take: a RECORDNO object whose
//! creation timestamp is AUWHENCREATED, a natural-key object whose deletes name its ID, a line
//! object whose deletes come from its header, a configured key with and without tombstones
//! that carry it, an object with no creation timestamp, and hostile names and batch ids.

use super::ddl::{self, ExistingColumn, SnowflakeType};
use super::names::Names;
use super::statements::{self, MergeSpec};
use super::{ExternalStage, TableRole, setup_statements, views};
use crate::manifest::BatchKeys;
use crate::manifest::schemas::{BatchSchema, ColumnType, SchemaColumn};

fn names() -> Names {
    Names::new("INTACCT", "RAW", "INTACCT_STAGE", "INTACCT_PARQUET").unwrap()
}

fn schema(object: &str, columns: &[(&str, ColumnType)]) -> BatchSchema {
    let bookkeeping = [
        ("_BATCH_ID", ColumnType::Text),
        ("_EXTRACTED_AT", ColumnType::Timestamp),
        ("_DELETED", ColumnType::Boolean),
    ];
    BatchSchema {
        object: object.into(),
        fingerprint: "f".into(),
        columns: columns
            .iter()
            .chain(bookkeeping.iter())
            .map(|(name, column_type)| SchemaColumn {
                name: (*name).into(),
                column_type: *column_type,
            })
            .collect(),
    }
}

const MONEY: ColumnType = ColumnType::Decimal {
    precision: 38,
    scale: 10,
};

/// APBILL: RECORDNO-keyed; WHENCREATED is the bill date, AUWHENCREATED the creation instant;
/// a custom field whose name tries to break out of its quotes.
fn apbill() -> BatchSchema {
    schema(
        "APBILL",
        &[
            ("RECORDNO", ColumnType::Integer),
            ("VENDORID", ColumnType::Text),
            ("TOTALDUE", MONEY),
            ("WHENCREATED", ColumnType::Date),
            ("AUWHENCREATED", ColumnType::Timestamp),
            ("WHENMODIFIED", ColumnType::Timestamp),
            ("WHENDUE", ColumnType::Date),
            ("ONHOLD", ColumnType::Boolean),
            ("x\"; DROP TABLE y; --", ColumnType::Text),
        ],
    )
}

/// VENDOR: deletes name the VENDORID.
fn vendor() -> BatchSchema {
    schema(
        "VENDOR",
        &[
            ("RECORDNO", ColumnType::Integer),
            ("VENDORID", ColumnType::Text),
            ("NAME", ColumnType::Text),
            ("WHENCREATED", ColumnType::Timestamp),
            ("WHENMODIFIED", ColumnType::Timestamp),
        ],
    )
}

/// APBILLITEM: a line object; its deletes are its header's, named by RECORDKEY.
fn apbillitem() -> BatchSchema {
    schema(
        "APBILLITEM",
        &[
            ("RECORDNO", ColumnType::Integer),
            ("RECORDKEY", ColumnType::Integer),
            ("LINE_NO", ColumnType::Integer),
            ("ACCOUNTNO", ColumnType::Text),
            ("AMOUNT", MONEY),
            ("WHENCREATED", ColumnType::Timestamp),
            ("WHENMODIFIED", ColumnType::Timestamp),
        ],
    )
}

/// LOCATION: no creation timestamp at all.
fn location() -> BatchSchema {
    schema(
        "LOCATION",
        &[
            ("RECORDNO", ColumnType::Integer),
            ("LOCATIONID", ColumnType::Text),
            ("WHENMODIFIED", ColumnType::Timestamp),
        ],
    )
}

/// The statements as `intacct-snowflake sql` prints them: each followed by `;` and a blank line.
fn listing(statements: impl IntoIterator<Item = String>) -> String {
    statements
        .into_iter()
        .map(|s| format!("{s};\n\n"))
        .collect()
}

/// What loading one batch of `schema` sends after its tables exist.
fn load_statements(
    schema: &BatchSchema,
    rows_batch_id: &str,
    delete_key: Option<&str>,
    keys: &BatchKeys,
) -> String {
    let names = names();
    let object = &schema.object;
    let files: Vec<String> = (1..=3)
        .map(|i| format!("{object}/7f3e0c52-batch/part-{i:05}.parquet"))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for role in [TableRole::Staging, TableRole::Target] {
        out.push(ddl::create_table(&names, schema, role).unwrap().to_string());
    }
    for force in [false, true] {
        out.extend(
            statements::copy_into(&names, object, &files, force)
                .unwrap()
                .into_iter()
                .map(|s| s.to_string()),
        );
    }
    out.push(
        statements::count_staged(&names, object, rows_batch_id)
            .unwrap()
            .to_string(),
    );
    out.push(merge(schema, rows_batch_id, delete_key, keys));
    out.push(
        statements::delete_staged(&names, object, rows_batch_id)
            .unwrap()
            .to_string(),
    );
    listing(out)
}

fn merge(
    schema: &BatchSchema,
    rows_batch_id: &str,
    delete_key: Option<&str>,
    keys: &BatchKeys,
) -> String {
    let spec = MergeSpec {
        schema,
        rows_batch_id,
        delete_key,
        keys,
    };
    statements::merge(&names(), &spec).unwrap().to_string()
}

/// Compares `actual` with the fixture's text and names the first line that differs.
fn assert_fixture(file: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let (line, (want, got)) = expected
        .lines()
        .chain(std::iter::repeat("<end>"))
        .zip(actual.lines().chain(std::iter::repeat("<end>")))
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .unwrap_or((0, ("<same lines>", "<same lines>")));
    panic!(
        "{file} differs at line {}:\nexpected: {want}\nrendered: {got}",
        line + 1
    );
}

macro_rules! fixture {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!("../../tests/fixtures/statements/", $file)),
        )
    };
}

#[test]
fn setup_statements_are_the_fixtures() {
    let names = names();
    let s3 = ExternalStage {
        url: "s3://bucket/intacct's/".into(),
        storage_integration: Some("INTACCT_S3".into()),
        create_database: true,
    };
    let local = ExternalStage {
        url: "file:///var/lib/intacct/stage/".into(),
        storage_integration: None,
        create_database: false,
    };
    let mut out: Vec<String> = Vec::new();
    for stage in [&s3, &local] {
        out.extend(
            setup_statements(&names, stage)
                .unwrap()
                .into_iter()
                .map(|s| s.to_string()),
        );
    }
    out.push(ddl::table_columns(&names).unwrap().to_string());
    // Names that are not plain identifiers: quoted in FORMAT_NAME's literal too.
    let odd = Names::new("Intacct-Prod", "raw", "stage \"x\"", "fmt'1").unwrap();
    out.extend(
        statements::copy_into(
            &odd,
            "VENDOR",
            &["VENDOR/b1/part-00001.parquet".into()],
            false,
        )
        .unwrap()
        .into_iter()
        .map(|s| s.to_string()),
    );
    let (file, expected) = fixture!("setup.sql");
    assert_fixture(file, expected, &listing(out));
}

#[test]
fn evolution_statements_are_the_fixtures() {
    let names = names();
    let existing = vec![
        ExistingColumn {
            name: "RECORDNO".into(),
            column_type: SnowflakeType::Number {
                precision: 18,
                scale: 0,
            },
        },
        ExistingColumn {
            name: "VENDORID".into(),
            column_type: SnowflakeType::Varchar(Some(100)),
        },
    ];
    let mut out: Vec<String> = Vec::new();
    for role in [TableRole::Staging, TableRole::Target] {
        out.extend(
            ddl::evolve(&names, &vendor(), role, &existing)
                .unwrap()
                .into_iter()
                .map(|s| s.to_string()),
        );
    }
    let (file, expected) = fixture!("evolve.sql");
    assert_fixture(file, expected, &listing(out));
}

#[test]
fn view_statements_are_the_fixtures() {
    let views = views::reporting_views(&names(), |_| true).unwrap();
    let (file, expected) = fixture!("views.sql");
    assert_fixture(
        file,
        expected,
        &listing(views.into_iter().map(|(_, sql)| sql.to_string())),
    );
}

#[test]
fn load_statements_are_the_fixtures() {
    let keys = BatchKeys::default();
    let batch_id = "2b9c7e1a-0f4d-4c55-9e8a-3f1d2c4b5a69";
    let cases = [
        (fixture!("load_apbill.sql"), apbill(), "b'1", None),
        (
            fixture!("load_vendor.sql"),
            vendor(),
            batch_id,
            Some("VENDORID"),
        ),
        (
            fixture!("load_apbillitem.sql"),
            apbillitem(),
            batch_id,
            Some("RECORDKEY"),
        ),
        (fixture!("load_location.sql"), location(), "b1", None),
    ];
    for ((file, expected), schema, batch_id, delete_key) in cases {
        let actual = load_statements(&schema, batch_id, delete_key, &keys);
        assert_fixture(file, expected, &actual);
    }
}

#[test]
fn merges_on_a_configured_key_are_the_fixtures() {
    let keys = BatchKeys {
        key: "VENDORID".into(),
        watermark_field: "WHENCREATED".into(),
    };
    // Tombstones that carry the key, then tombstones that carry RECORDNO.
    let merges =
        [Some("VENDORID"), None].map(|delete_key| merge(&vendor(), "b1", delete_key, &keys));
    let (file, expected) = fixture!("merge_configured_key.sql");
    assert_fixture(file, expected, &listing(merges));
}
