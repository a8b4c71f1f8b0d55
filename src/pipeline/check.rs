//! `check`: whether a pipeline can run, as typed results in a fixed order, each failure with
//! the one-line fix.
//!
//! Intacct, through the pipeline's own client (with `intacct.entities`, the first entity's
//! session, since such a user has no top-level one): the sender, the login, the user's
//! preferences, one `lookup` per object in scope (the fields the pipeline selects, its key and
//! watermark field), a one-row AUDITHISTORY `query` of the objects' types over the last 30 days
//! (unless `extract.deletes = "off"`), and one
//! session per entity. Snowflake: the key or token, the session's role and warehouse, the
//! database and schema, the privileges `init` and a load need (read from `SHOW GRANTS TO ROLE`,
//! following the roles granted to the role), a probe file written, read and deleted on the
//! stage under `_check/`, and Snowflake's `LIST` of it.
//!
//! A check that needs an earlier one that failed is [`Outcome::Skipped`], saying which. Nothing
//! here takes the run lock, writes the manifest, stages a batch or sends DDL or DML: every
//! statement is a SELECT, SHOW or LIST, and the probe is the only thing written.
//!
//! The privileges: USAGE on the warehouse, the database and the schema; CREATE TABLE, CREATE
//! VIEW, CREATE STAGE and CREATE FILE FORMAT on the schema; CREATE SCHEMA on the database
//! (`init` sends `CREATE SCHEMA IF NOT EXISTS`, which Snowflake checks even when the schema
//! exists); CREATE DATABASE on the account with `create_database`; USAGE on the storage
//! integration of an S3 stage. OWNERSHIP (or ALL) of the object stands in for any of them.
//! Privileges through database roles and future grants are not followed.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::config::{DeleteFeed, ReadMethod, Spec};
use crate::error::{Error, Result};
use crate::intacct::codes::{self, FailureClass};
use crate::intacct::request::{Call, Query};
use crate::intacct::response::ErrorLevel;
use crate::intacct::{AUDIT_TRAIL_PERMISSION, Comparison, Filter, tenant_time};
use crate::intacct::{IntacctClient, preferences};
use crate::loader::{Names, checks};
use crate::schema::{FieldSelection, object_schema};
use crate::snowflake::{SnowflakeClient, Statement, StatementOutcome};

use super::deletes;
use crate::stage::Stage;

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It passed.
    Ok,
    /// It failed: see the fix.
    Failed,
    /// It was not run, because a check it needs failed (the detail says which).
    Skipped,
}

/// One line of `check`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    /// What was checked (`intacct sender`, `lookup VENDOR`, `snowflake privileges`, …).
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do about a failure, in one line.
    pub fix: Option<String>,
}

impl CheckResult {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.into(),
            outcome: Outcome::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn failed(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> CheckResult {
        CheckResult {
            name: name.into(),
            outcome: Outcome::Failed,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn skipped(name: impl Into<String>, why: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.into(),
            outcome: Outcome::Skipped,
            detail: why.into(),
            fix: None,
        }
    }
}

/// Every check of `spec` (its objects, or `only`), in order.
pub async fn check(spec: &Spec, only: Option<&[String]>, now: DateTime<Utc>) -> Vec<CheckResult> {
    let mut out = Vec::new();
    intacct(spec, only, now, &mut out).await;
    snowflake(spec, &mut out).await;
    out
}

/// Why a login failed: whose credentials Intacct refused.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// The Web Services sender (wrong id or password, or not authorised for the company).
    Sender { authorised: bool },
    /// The API user (company, user id or password), or an entity.
    User,
    /// Intacct could not be reached or answered nonsense.
    Unreachable,
}

fn refused(error: &Error) -> Refused {
    let failure = match error {
        Error::EntitySession { source, .. } => return refused(source),
        Error::Intacct(failure) => failure,
        Error::Transport { .. } | Error::HttpStatus { .. } | Error::MalformedResponse { .. } => {
            return Refused::Unreachable;
        }
        _ => return Refused::User,
    };
    let text = error.to_string().to_ascii_lowercase();
    if text.contains("web services authorization") || text.contains("not authorized to make web") {
        return Refused::Sender { authorised: false };
    }
    match failure.level {
        ErrorLevel::Control => Refused::Sender { authorised: true },
        _ => Refused::User,
    }
}

async fn intacct(
    spec: &Spec,
    only: Option<&[String]>,
    now: DateTime<Utc>,
    out: &mut Vec<CheckResult>,
) {
    let i = &spec.intacct;
    let base = match IntacctClient::new(super::client_config(spec)) {
        Ok(client) => client,
        Err(e) => {
            out.push(CheckResult::failed(
                "intacct sender",
                e.to_string(),
                "fix the [intacct] settings",
            ));
            return;
        }
    };
    let client = match i.entities.first() {
        Some(entity) => base.for_entity(entity),
        None => base.clone(),
    };
    let needs_login = "needs an Intacct login";
    match client.login().await {
        Ok(()) => {
            out.push(CheckResult::ok(
                "intacct sender",
                format!("sender {} accepted", i.sender_id),
            ));
            out.push(CheckResult::ok(
                "intacct login",
                format!("user {} signed in to company {}", i.user_id, i.company_id),
            ));
        }
        Err(e) => {
            match refused(&e) {
                Refused::Sender { authorised: true } => out.push(CheckResult::failed(
                    "intacct sender",
                    e.to_string(),
                    format!("check intacct.sender_id ({}) and intacct.sender_password: the Web Services sender credentials Sage issued", i.sender_id),
                )),
                Refused::Sender { authorised: false } => out.push(CheckResult::failed(
                    "intacct sender",
                    e.to_string(),
                    format!("authorise sender {} in company {}: Company > Setup > Company > Security > Web Services authorizations", i.sender_id, i.company_id),
                )),
                Refused::Unreachable => out.push(CheckResult::failed(
                    "intacct sender",
                    e.to_string(),
                    format!("check intacct.endpoint ({}) and the network to it", i.endpoint),
                )),
                Refused::User => {
                    out.push(CheckResult::ok(
                        "intacct sender",
                        format!("sender {} accepted (the login was refused after it)", i.sender_id),
                    ));
                    out.push(CheckResult::failed(
                        "intacct login",
                        e.to_string(),
                        format!("check intacct.company_id ({}), intacct.user_id ({}) and intacct.user_password: the API user's Web Services credentials", i.company_id, i.user_id),
                    ));
                }
            }
            if out.last().is_some_and(|c| c.name == "intacct sender") {
                out.push(CheckResult::skipped("intacct login", "needs the sender"));
            }
            skip_intacct(spec, only, needs_login, out);
            return;
        }
    }
    out.push(match client.user_formatting().await {
        Ok(prefs) => {
            let shown = format!(
                "locale {}, date format {}, clock {}, GMT offset {}",
                prefs.locale.as_deref().unwrap_or("-"),
                prefs.date_format.as_deref().unwrap_or("-"),
                prefs.clock.as_deref().unwrap_or("-"),
                prefs.gmt_offset.as_deref().unwrap_or("-"),
            );
            match preferences::mismatch(&prefs, i.time_zone, now) {
                None => CheckResult::ok(
                    "intacct preferences",
                    format!("{shown}, as intacct.time_zone {} reads", i.time_zone),
                ),
                Some(m) => CheckResult::failed(
                    "intacct preferences",
                    format!("{} ({shown})", m.detail()),
                    m.fix(),
                ),
            }
        }
        Err(e) => CheckResult::failed(
            "intacct preferences",
            e.to_string(),
            "give the API user read access to its own user record (readByName USERINFO, readUserFormatting)",
        ),
    });
    for object in objects_in_scope(spec, only) {
        out.push(lookup(&client, object).await);
    }
    out.push(audit_history(spec, only, &client, now).await);
    if i.entities.is_empty() {
        out.push(CheckResult::skipped(
            "intacct entities",
            "intacct.entities is not set: one top-level session reads the company",
        ));
    }
    for entity in &i.entities {
        let name = format!("intacct entity {entity}");
        out.push(match base.for_entity(entity).login().await {
            Ok(()) => CheckResult::ok(name, format!("a session at entity {entity} opened")),
            Err(e) => CheckResult::failed(
                name,
                e.to_string(),
                format!(
                    "give user {} access to entity {entity} (or remove it from intacct.entities)",
                    i.user_id
                ),
            ),
        });
    }
}

fn objects_in_scope<'s>(
    spec: &'s Spec,
    only: Option<&[String]>,
) -> impl Iterator<Item = &'s crate::config::ObjectSpec> {
    let only: Option<Vec<String>> = only.map(<[String]>::to_vec);
    spec.extract
        .objects
        .iter()
        .filter(move |o| only.as_ref().is_none_or(|w| w.contains(&o.name)))
}

/// The Intacct checks after the login, skipped for `why`.
fn skip_intacct(spec: &Spec, only: Option<&[String]>, why: &str, out: &mut Vec<CheckResult>) {
    out.push(CheckResult::skipped("intacct preferences", why));
    for object in objects_in_scope(spec, only) {
        out.push(CheckResult::skipped(format!("lookup {}", object.name), why));
    }
    out.push(CheckResult::skipped("intacct audit history", why));
    if spec.intacct.entities.is_empty() {
        out.push(CheckResult::skipped(
            "intacct entities",
            "intacct.entities is not set: one top-level session reads the company",
        ));
    }
    for entity in &spec.intacct.entities {
        out.push(CheckResult::skipped(
            format!("intacct entity {entity}"),
            why,
        ));
    }
}

/// `lookup` of one object: the fields it selects exist, its key and watermark field fit.
async fn lookup(client: &IntacctClient, object: &crate::config::ObjectSpec) -> CheckResult {
    let name = format!("lookup {}", object.name);
    let meta = match client.lookup(&object.name).await {
        Ok(meta) => meta,
        Err(e) => {
            return CheckResult::failed(
                name,
                e.to_string(),
                format!(
                    "check the object name {} (or remove it from extract.objects)",
                    object.name
                ),
            );
        }
    };
    let missing: Vec<&String> = object
        .fields
        .iter()
        .flatten()
        .filter(|f| !meta.fields.iter().any(|m| m.name.eq_ignore_ascii_case(f)))
        .collect();
    if !missing.is_empty() {
        return CheckResult::failed(
            name,
            format!(
                "lookup does not list {}",
                missing
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "correct or remove them in [extract.object.{}] fields",
                object.name
            ),
        );
    }
    let selection = FieldSelection {
        object: &object.name,
        fields: object.fields.as_deref(),
        exclude: &object.exclude_fields,
        key: &object.key,
        watermark_field: &object.watermark_field,
        query: object.method == ReadMethod::Query,
    };
    match object_schema(&meta, &selection) {
        Ok(schema) => CheckResult::ok(
            name,
            format!(
                "{} fields read; key {}, watermark {}",
                schema.fields.len(),
                object.key,
                object.watermark_field
            ),
        ),
        Err(e) => CheckResult::failed(
            name,
            e.to_string(),
            format!(
                "set key and watermark_field in [extract.object.{}] to fields lookup lists (the watermark a TIMESTAMP)",
                object.name
            ),
        ),
    }
}

/// A one-row AUDITHISTORY query, the read the delete feed needs: as the feed reads it,
/// restricted to the `OBJECTTYPE`s of the objects in scope and bounded from below (the
/// gateway refuses a read of the whole audit trail; see `super::deletes`), here over the last
/// [`deletes::AUDIT_TYPE_CHECK_DAYS`] days.
async fn audit_history(
    spec: &Spec,
    only: Option<&[String]>,
    client: &IntacctClient,
    now: DateTime<Utc>,
) -> CheckResult {
    let name = "intacct audit history";
    if spec.extract.deletes == DeleteFeed::Off {
        return CheckResult::skipped(name, "extract.deletes is \"off\": no AUDITHISTORY read");
    }
    let types: BTreeSet<String> = objects_in_scope(spec, only)
        .filter(|o| deletes::has_feed(&o.name))
        .map(|o| deletes::audit_type(&o.name))
        .collect();
    if types.is_empty() {
        return CheckResult::skipped(name, "no object in scope has a delete feed");
    }
    let since = now - chrono::Duration::days(deletes::AUDIT_TYPE_CHECK_DAYS);
    let call = Call::Query(Query {
        object: deletes::AUDIT_OBJECT.into(),
        select: vec!["ID".into()],
        filter: Some(Filter::And(vec![
            Filter::In {
                field: "OBJECTTYPE".into(),
                values: types.into_iter().collect(),
            },
            Filter::compare(
                Comparison::GreaterThanOrEqualTo,
                "ACCESSTIME",
                tenant_time::render(since, spec.intacct.time_zone),
            ),
        ])),
        order_by: vec![],
        case_insensitive: false,
        show_private: true,
        page_size: Some(1),
        offset: None,
    });
    match client.call("check-AUDITHISTORY", &call).await {
        Ok(_) => CheckResult::ok(name, "AUDITHISTORY is readable (the delete feed's read)"),
        Err(e) => {
            let denied = matches!(&e, Error::Intacct(f) if codes::classify(f) == FailureClass::PermissionDenied);
            CheckResult::failed(
                name,
                e.to_string(),
                if denied {
                    format!(
                        "for user {}: {AUDIT_TRAIL_PERMISSION}; or set deletes = \"off\" under [extract]",
                        spec.intacct.user_id
                    )
                } else {
                    "see the error; set deletes = \"off\" under [extract] to run without the delete feed".to_owned()
                },
            )
        }
    }
}

async fn snowflake(spec: &Spec, out: &mut Vec<CheckResult>) {
    let names = match super::context::names(spec) {
        Ok(names) => names,
        Err(e) => {
            out.push(CheckResult::failed(
                "snowflake authentication",
                e.to_string(),
                "fix the [snowflake] names",
            ));
            return;
        }
    };
    let tag = format!("intacct-snowflake:{}:check", spec.name);
    let client = match SnowflakeClient::new(super::snowflake_config(spec)) {
        Ok(client) => client,
        Err(e) => {
            out.push(auth_failed(e));
            skip_snowflake(spec, "needs Snowflake authentication", out);
            return;
        }
    };
    let run = |sql: crate::loader::Sql| {
        let client = client.clone();
        let tag = tag.clone();
        async move { client.execute(&Statement::new(sql.to_string(), tag)).await }
    };
    let session = match checks::session() {
        Ok(sql) => run(sql).await,
        Err(e) => Err(e),
    };
    let role = match session {
        Err(
            e @ (Error::SnowflakeAuth { .. } | Error::Transport { .. } | Error::HttpStatus { .. }),
        ) => {
            out.push(auth_failed(e));
            skip_snowflake(spec, "needs Snowflake authentication", out);
            return;
        }
        Err(e) => {
            out.push(CheckResult::ok(
                "snowflake authentication",
                format!(
                    "{} accepted as user {}",
                    auth_kind(spec),
                    spec.snowflake.user
                ),
            ));
            out.push(CheckResult::failed(
                "snowflake role and warehouse",
                e.to_string(),
                warehouse_fix(spec),
            ));
            None
        }
        Ok(answer) => {
            out.push(CheckResult::ok(
                "snowflake authentication",
                format!(
                    "{} accepted as user {}",
                    auth_kind(spec),
                    spec.snowflake.user
                ),
            ));
            let role = answer.value(0, "ROLE").map(str::to_owned);
            let warehouse = answer.value(0, "WAREHOUSE").map(str::to_owned);
            out.push(match (&role, &warehouse) {
                (Some(r), Some(w)) => CheckResult::ok(
                    "snowflake role and warehouse",
                    format!("role {r}, warehouse {w}"),
                ),
                (_, None) => CheckResult::failed(
                    "snowflake role and warehouse",
                    format!(
                        "role {}, no current warehouse",
                        role.as_deref().unwrap_or("-")
                    ),
                    warehouse_fix(spec),
                ),
                (None, _) => CheckResult::failed(
                    "snowflake role and warehouse",
                    "no current role",
                    "set snowflake.role, or give the user a DEFAULT_ROLE",
                ),
            });
            role.map(|r| (r, warehouse))
        }
    };
    let schema = match checks::schema(&names) {
        Ok(sql) => run(sql).await,
        Err(e) => Err(e),
    };
    let (db, sch) = (&spec.snowflake.database, &spec.snowflake.schema);
    let schema_exists = match schema {
        Ok(rows) if has_name(&rows, sch) => {
            out.push(CheckResult::ok(
                "snowflake database and schema",
                format!("{db}.{sch} exists"),
            ));
            true
        }
        Ok(_) => {
            out.push(CheckResult::ok(
                "snowflake database and schema",
                format!("database {db} exists; schema {sch} does not yet (init creates it)"),
            ));
            false
        }
        Err(e) if spec.snowflake.create_database => {
            out.push(CheckResult::ok(
                "snowflake database and schema",
                format!("not usable yet ({e}); init creates them (snowflake.create_database)"),
            ));
            false
        }
        Err(e) => {
            out.push(CheckResult::failed(
                "snowflake database and schema",
                e.to_string(),
                format!("create database {db} as an administrator and GRANT USAGE ON DATABASE {db} to the loader's role"),
            ));
            false
        }
    };
    out.push(match &role {
        None => CheckResult::skipped("snowflake privileges", "needs the session's role"),
        Some((role, warehouse)) => {
            privileges(spec, &client, &tag, role, warehouse.as_deref()).await
        }
    });
    stage(spec, &names, &client, &tag, schema_exists, out).await;
}

fn auth_kind(spec: &Spec) -> &'static str {
    match spec.snowflake.auth {
        crate::config::SnowflakeAuth::KeyPair { .. } => "key-pair JWT",
        crate::config::SnowflakeAuth::ProgrammaticAccessToken(_) => "programmatic access token",
    }
}

fn warehouse_fix(spec: &Spec) -> String {
    match &spec.snowflake.warehouse {
        Some(w) => format!(
            "check that warehouse {w} (snowflake.warehouse) exists and GRANT USAGE ON WAREHOUSE {w} to the loader's role"
        ),
        None => "set snowflake.warehouse, or give the user a DEFAULT_WAREHOUSE".into(),
    }
}

fn auth_failed(e: Error) -> CheckResult {
    let fix = match &e {
        Error::SnowflakeAuth { message } => message.clone(),
        _ => "check snowflake.url and the network to it".into(),
    };
    CheckResult::failed("snowflake authentication", e.to_string(), fix)
}

fn skip_snowflake(spec: &Spec, why: &str, out: &mut Vec<CheckResult>) {
    for name in [
        "snowflake role and warehouse",
        "snowflake database and schema",
        "snowflake privileges",
    ] {
        out.push(CheckResult::skipped(name, why));
    }
    let _ = spec;
    out.push(CheckResult::skipped("stage written by this tool", why));
    out.push(CheckResult::skipped("stage listed by Snowflake", why));
}

fn has_name(rows: &StatementOutcome, name: &str) -> bool {
    (0..rows.rows.len()).any(|r| rows.value(r, "name") == Some(name))
}

/// One privilege `init` and a load need: on what, and the GRANT that gives it.
struct Needed {
    privilege: &'static str,
    granted_on: &'static str,
    name: String,
}

async fn privileges(
    spec: &Spec,
    client: &SnowflakeClient,
    tag: &str,
    role: &str,
    warehouse: Option<&str>,
) -> CheckResult {
    let name = "snowflake privileges";
    let grants = match role_grants(client, tag, role).await {
        Ok(grants) => grants,
        Err(e) => {
            return CheckResult::failed(
                name,
                format!("cannot read the grants of role {role}: {e}"),
                format!(
                    "run SHOW GRANTS TO ROLE {role} as an administrator and compare with the privileges in the README's Snowflake set-up"
                ),
            );
        }
    };
    let s = &spec.snowflake;
    let schema = format!("{}.{}", s.database, s.schema);
    let mut needed = Vec::new();
    if let Some(w) = warehouse {
        needed.push(Needed {
            privilege: "USAGE",
            granted_on: "WAREHOUSE",
            name: w.to_owned(),
        });
    }
    if s.create_database {
        needed.push(Needed {
            privilege: "CREATE DATABASE",
            granted_on: "ACCOUNT",
            name: String::new(),
        });
    }
    needed.push(Needed {
        privilege: "USAGE",
        granted_on: "DATABASE",
        name: s.database.clone(),
    });
    needed.push(Needed {
        privilege: "CREATE SCHEMA",
        granted_on: "DATABASE",
        name: s.database.clone(),
    });
    needed.push(Needed {
        privilege: "USAGE",
        granted_on: "SCHEMA",
        name: schema.clone(),
    });
    for privilege in [
        "CREATE TABLE",
        "CREATE VIEW",
        "CREATE STAGE",
        "CREATE FILE FORMAT",
    ] {
        needed.push(Needed {
            privilege,
            granted_on: "SCHEMA",
            name: schema.clone(),
        });
    }
    if let Some(integration) = &s.storage_integration {
        needed.push(Needed {
            privilege: "USAGE",
            granted_on: "INTEGRATION",
            name: integration.clone(),
        });
    }
    // A database created by the role (create_database) or a schema it will create: its
    // ownership comes with the creation.
    let has = |n: &Needed| {
        grants.iter().any(|g| {
            g.granted_on.eq_ignore_ascii_case(n.granted_on)
                && (n.granted_on == "ACCOUNT" || g.name.eq_ignore_ascii_case(&n.name))
                && (g.privilege.eq_ignore_ascii_case(n.privilege)
                    || g.privilege.eq_ignore_ascii_case("OWNERSHIP")
                    || g.privilege.eq_ignore_ascii_case("ALL"))
        })
    };
    let missing: Vec<&Needed> = needed.iter().filter(|n| !has(n)).collect();
    if missing.is_empty() {
        return CheckResult::ok(
            name,
            format!(
                "role {role} has the {} privileges init and a load need",
                needed.len()
            ),
        );
    }
    let on = |n: &Needed| match n.granted_on {
        "ACCOUNT" => "ACCOUNT".to_owned(),
        "INTEGRATION" => format!("INTEGRATION {}", n.name),
        kind => format!("{kind} {}", n.name),
    };
    CheckResult::failed(
        name,
        format!(
            "role {role} lacks {}",
            missing
                .iter()
                .map(|n| format!("{} on {}", n.privilege, on(n)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        missing
            .iter()
            .map(|n| format!("GRANT {} ON {} TO ROLE {role};", n.privilege, on(n)))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// One row of `SHOW GRANTS`.
struct Grant {
    privilege: String,
    granted_on: String,
    name: String,
}

/// The grants of `role` and of every role granted to it, transitively.
async fn role_grants(client: &SnowflakeClient, tag: &str, role: &str) -> Result<Vec<Grant>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec![role.to_owned()];
    let mut out = Vec::new();
    while let Some(next) = queue.pop() {
        if !seen.insert(next.to_ascii_uppercase()) || seen.len() > 50 {
            continue;
        }
        let sql = checks::grants_to_role(&next)?;
        let rows = client
            .execute(&Statement::new(sql.to_string(), tag))
            .await?;
        for r in 0..rows.rows.len() {
            let text = |c: &str| rows.value(r, c).unwrap_or_default().to_owned();
            let grant = Grant {
                privilege: text("privilege"),
                granted_on: text("granted_on"),
                name: text("name"),
            };
            if grant.granted_on.eq_ignore_ascii_case("ROLE")
                && grant.privilege.eq_ignore_ascii_case("USAGE")
            {
                queue.push(grant.name.clone());
            }
            out.push(grant);
        }
    }
    Ok(out)
}

/// The probe: written, read back and (after Snowflake's LIST) deleted by this tool.
async fn stage(
    spec: &Spec,
    names: &Names,
    client: &SnowflakeClient,
    tag: &str,
    schema_exists: bool,
    out: &mut Vec<CheckResult>,
) {
    let probe = format!("_check/{}.txt", uuid::Uuid::new_v4());
    let content = bytes::Bytes::from(format!("intacct-snowflake check {}\n", spec.name));
    let written = async {
        let stage = Stage::open(&spec.stage.url)?;
        stage.put_create(&probe, content.clone()).await?;
        let back = stage.get(&probe).await?;
        Ok::<_, Error>((stage, back))
    }
    .await;
    let stage_handle = match written {
        Ok((stage, Some(back))) if back == content => Some(stage),
        Ok((stage, _)) => {
            out.push(CheckResult::failed(
                "stage written by this tool",
                format!(
                    "{probe} on {} read back different from what was written",
                    spec.stage.url
                ),
                "check [stage] url: something else rewrites objects there",
            ));
            let _ = stage.delete(&probe).await;
            None
        }
        Err(e) => {
            out.push(CheckResult::failed(
                "stage written by this tool",
                e.to_string(),
                format!("give this tool read, write and delete on {} (for S3: s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket; the AWS_* variables)", spec.stage.url),
            ));
            None
        }
    };
    let listed = if schema_exists {
        match checks::list_stage(names, &probe) {
            Ok(sql) => client.execute(&Statement::new(sql.to_string(), tag)).await,
            Err(e) => Err(e),
        }
    } else {
        Err(Error::Config {
            location: "check".into(),
            message: "the schema does not exist yet".into(),
        })
    };
    let deleted = match &stage_handle {
        Some(stage) => stage.delete(&probe).await,
        None => Ok(()),
    };
    if stage_handle.is_some() {
        out.push(match deleted {
            Ok(()) => CheckResult::ok(
                "stage written by this tool",
                format!(
                    "a probe written to, read from and deleted from {}",
                    spec.stage.url
                ),
            ),
            Err(e) => CheckResult::failed(
                "stage written by this tool",
                format!("the probe {probe} was written and read but not deleted: {e}"),
                format!(
                    "give this tool delete on {} (and remove {probe})",
                    spec.stage.url
                ),
            ),
        });
    }
    let stage_name = format!(
        "{}.{}.{}",
        spec.snowflake.database, spec.snowflake.schema, spec.snowflake.stage_name
    );
    out.push(match listed {
        _ if !schema_exists => CheckResult::skipped("stage listed by Snowflake", "the schema does not exist yet: init creates it and the stage"),
        Err(Error::Statement { code, message, .. }) if code == "002003" || message.contains("does not exist") => CheckResult::skipped(
            "stage listed by Snowflake",
            format!("stage {stage_name} does not exist yet: init creates it"),
        ),
        Err(e) => CheckResult::failed(
            "stage listed by Snowflake",
            e.to_string(),
            match &spec.snowflake.storage_integration {
                Some(i) => format!("let storage integration {i} read {} (its IAM role needs s3:GetObject and s3:ListBucket there; DESC INTEGRATION {i}), and check snowflake.stage_url", spec.snowflake.stage_url),
                None => format!("check snowflake.stage_url ({}): Snowflake must be able to read it", spec.snowflake.stage_url),
            },
        ),
        Ok(_) if stage_handle.is_none() => CheckResult::skipped("stage listed by Snowflake", "Snowflake listed the stage, but the probe it looks for could not be written"),
        Ok(rows) => {
            let seen = (0..rows.rows.len()).any(|r| rows.value(r, "name").is_some_and(|n| n.ends_with(&probe)));
            if seen {
                CheckResult::ok("stage listed by Snowflake", format!("@{stage_name} lists the probe this tool wrote"))
            } else {
                CheckResult::failed(
                    "stage listed by Snowflake",
                    format!("@{stage_name} ({}) does not list the probe written to {}", spec.snowflake.stage_url, spec.stage.url),
                    "point snowflake.stage_url (and the stage, with init) at the place [stage] url writes to",
                )
            }
        }
    });
}
