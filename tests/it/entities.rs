//! Multi-entity companies, against a simulator company with entities E100 and E200 whose
//! records are owned by the top level or an entity, some private (`sim::entities`). Every
//! expectation is computed from the simulator's ground truth, which names each record's
//! owner (`_OWNER`, `_PRIVATE` in `/__sim/records`):
//! * the gateway: a top-level `query` without `showprivate` hides private records, with it
//!   sees all; an entity session sees its own and the top level's; `MEGAENTITYID` names the
//!   owner; a user restricted to entity-level access is refused at the top level and at an
//!   entity outside its list, and the client's error names the entity;
//! * extract with `showprivate` (the default, one top-level session) stages every record, the
//!   keys of each entity equal to the truth's;
//! * extract with `intacct.entities` stages exactly one batch per (object, entity) holding
//!   exactly the records that entity's session sees;
//! * `init` + `run` through the binary with entities, for a user restricted to them: every
//!   table equals the truth, and a top-level record, staged by both entities' batches, is in
//!   its table once; a replay keeps each batch's entity, and a backfill reads each window
//!   once per entity without moving a mark;
//! * an entity the user may not access fails only its own objects, and a failed load holds
//!   back only the same entity's later batches.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, BooleanArray, Int64Array, StringArray};
use intacct_sim::Scale;
use intacct_sim::{self as sim, MultiEntity, SimConfig, SimHandle};
use intacct_sim::{DEFAULT_COMPANY_ID, DEFAULT_USER_ID, DEFAULT_USER_PASSWORD};
use intacct_snowflake::Error;
use intacct_snowflake::config::Spec;
use intacct_snowflake::intacct::IntacctClient;
use intacct_snowflake::intacct::{Authentication, Call, ReadByQuery};
use intacct_snowflake::intacct::{ErrorLevel, ResultData};
use intacct_snowflake::manifest::{BatchStatus, Manifest, Mode};
use intacct_snowflake::pipeline::{ObjectReport, client_config, extract_options, run_extract};
use intacct_snowflake::secret::Secret;
use intacct_snowflake::snowflake::Statement;
use intacct_snowflake::stage::Stage;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::sim::{Sim, function, query, query_all, read_by_query_all, request};
use crate::support::demo_pipeline::{sim_clock, spec_for};
use crate::support::emulator::{Emulator, EmulatorOptions};
use crate::support::keys::TestKeys;
use crate::support::load_harness::{ACCOUNT, Harness, Row, USER, at, client};
use crate::support::repo_root;
use crate::support::world::World;

const ENTITIES: [&str; 2] = ["E100", "E200"];

/// Objects whose owner the tests check one by one: master data, a header and its lines.
const OBJECTS: [&str; 4] = ["VENDOR", "APBILL", "APBILLITEM", "CUSTOMER"];

fn company(user_entities: Option<&[&str]>) -> SimConfig {
    let mut config = SimConfig::default();
    config.dataset.scale = Scale::Tiny;
    config.multi_entity = Some(MultiEntity {
        entities: ENTITIES.iter().map(|e| e.to_string()).collect(),
        user_entities: user_entities.map(|list| list.iter().map(|e| e.to_string()).collect()),
    });
    config
}

/// One record of the ground truth: its key, owner (`None`: the top level), privacy, and its
/// MEGAENTITYID when the object has one.
#[derive(Clone, Debug)]
struct Owned {
    key: i64,
    owner: Option<String>,
    private: bool,
    megaentity_id: Option<Option<String>>,
}

async fn truth(sim: &SimHandle, object: &str) -> Vec<Owned> {
    sim.records(object)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Owned {
            key: r["RECORDNO"].as_str().unwrap().parse().unwrap(),
            owner: r["_OWNER"].as_str().map(str::to_owned),
            private: r["_PRIVATE"].as_bool().unwrap(),
            megaentity_id: r.get("MEGAENTITYID").map(|v| v.as_str().map(str::to_owned)),
        })
        .collect()
}

/// Keys an entity session (or the top level, `None`) must see: `show_private` only matters
/// at the top level.
fn expected(truth: &[Owned], entity: Option<&str>, show_private: bool) -> BTreeSet<i64> {
    truth
        .iter()
        .filter(|r| match (entity, &r.owner) {
            (_, None) => true,
            (None, Some(_)) => !r.private || show_private,
            (Some(e), Some(owner)) => owner == e,
        })
        .map(|r| r.key)
        .collect()
}

fn login_at(location: Option<&str>) -> Authentication {
    Authentication::Login {
        user_id: DEFAULT_USER_ID.into(),
        company_id: DEFAULT_COMPANY_ID.into(),
        password: Secret::new(DEFAULT_USER_PASSWORD),
        location_id: location.map(str::to_owned),
    }
}

async fn session_at(sim: &Sim, location: Option<&str>) -> String {
    let response = sim
        .send(&request(
            login_at(location),
            vec![function(
                "s",
                Call::GetApiSession {
                    location_id: location.map(str::to_owned),
                },
            )],
        ))
        .await
        .expect("getAPISession answers");
    match &response.results[0].outcome {
        Ok(ResultData::Session(s)) => s.session_id.expose().to_owned(),
        other => panic!("no session at {location:?}: {other:?}"),
    }
}

fn set(keys: Vec<u64>) -> BTreeSet<i64> {
    let n = keys.len();
    let set: BTreeSet<i64> = keys.into_iter().map(|k| k as i64).collect();
    assert_eq!(set.len(), n, "a key was served twice");
    set
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_hides_private_records_at_the_top_level_and_scopes_entity_sessions() {
    let sim = crate::sim::start(company(None)).await;
    let top = session_at(&sim, None).await;
    let e100 = session_at(&sim, Some("E100")).await;
    for object in OBJECTS {
        let truth = truth(&sim.handle, object).await;
        let private = truth.iter().filter(|r| r.private).count();
        assert!(private > 0, "{object}: the company has private records");
        assert!(
            truth.iter().any(|r| r.owner.is_none()),
            "{object}: and shared ones"
        );

        let hidden = set(query_all(&sim, &top, query(object, None, &[("RECORDNO", true)])).await);
        assert_eq!(hidden, expected(&truth, None, false), "{object}: top level");
        let mut with_private = query(object, None, &[("RECORDNO", true)]);
        with_private.show_private = true;
        let all = set(query_all(&sim, &top, with_private).await);
        assert_eq!(all, expected(&truth, None, true), "{object}: showprivate");
        assert_eq!(
            all.len(),
            truth.len(),
            "{object}: showprivate sees everything"
        );

        let rbq = ReadByQuery {
            object: object.into(),
            fields: vec!["*".into()],
            query: String::new(),
            page_size: Some(1000),
        };
        let by_rbq = set(read_by_query_all(&sim, &top, rbq).await);
        assert_eq!(
            by_rbq,
            expected(&truth, None, false),
            "{object}: readByQuery"
        );

        let mut scoped = query(object, None, &[("RECORDNO", true)]);
        scoped.show_private = true;
        let entity = set(query_all(&sim, &e100, scoped).await);
        assert_eq!(
            entity,
            expected(&truth, Some("E100"), true),
            "{object}: E100"
        );
        assert!(entity.len() < truth.len());
    }

    // MEGAENTITYID names the owner, empty for the top level.
    let truth = truth(&sim.handle, "VENDOR").await;
    let mut q = query("VENDOR", None, &[("RECORDNO", true)]);
    q.show_private = true;
    q.select = vec!["RECORDNO".into(), "MEGAENTITYID".into()];
    let page = sim.page(&top, Call::Query(q)).await;
    let served: BTreeMap<i64, Option<String>> = (0..page.len())
        .map(|r| {
            (
                page.get(r, "RECORDNO").unwrap().parse().unwrap(),
                page.get(r, "MEGAENTITYID").map(str::to_owned),
            )
        })
        .collect();
    for record in &truth {
        assert_eq!(served[&record.key], record.owner, "VENDOR {}", record.key);
        assert_eq!(record.megaentity_id, Some(record.owner.clone()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_restricted_to_entities_is_refused_elsewhere_with_the_entity_named() {
    let config = company(Some(&["E100"]));
    let sim = sim::spawn(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    let client = IntacctClient::new(client_config(&spec)).unwrap();

    // At the top level: the authentication-level refusal, as for any bad login.
    match client.lookup("VENDOR").await {
        Err(Error::Intacct(failure)) => {
            assert_eq!(failure.level, ErrorLevel::Authentication);
            assert_eq!(failure.errors[0].errorno, "XL03000006");
        }
        other => panic!("top level must be refused: {other:?}"),
    }
    // At an entity outside the user's list: the same refusal, named by entity.
    let e200 = client.for_entity("E200");
    for _ in 0..2 {
        match e200.lookup("VENDOR").await {
            Err(Error::EntitySession { entity, source }) => {
                assert_eq!(entity, "E200");
                match *source {
                    Error::Intacct(failure) => {
                        assert_eq!(failure.level, ErrorLevel::Authentication);
                        assert_eq!(failure.errors[0].errorno, "XL03000006");
                        let text = failure.errors[0].description2.clone().unwrap_or_default();
                        assert!(text.contains("E200"), "{text}");
                    }
                    other => panic!("expected Intacct's refusal, got {other:?}"),
                }
            }
            other => panic!("E200 must be refused: {other:?}"),
        }
    }
    // Its own entity opens.
    let e100 = client.for_entity("E100");
    assert!(e100.lookup("VENDOR").await.is_ok());
    assert_eq!(e100.logins(), 1);
    // Each refusal was remembered: one login per scope, never one per call (the top level,
    // E200 once for two lookups, E100's login and its lookup).
    let counters = sim.counters().await.unwrap();
    assert_eq!(counters["requests"], 4, "{counters}");
    assert_eq!(counters["sessions_opened"], 1, "{counters}");
}

/// Keys of every row but tombstones in the parts of a batch, and their MEGAENTITYID.
async fn staged_keys(stage: &Stage, files: &[String]) -> BTreeMap<i64, Option<String>> {
    let mut keys = BTreeMap::new();
    for path in files {
        let body = stage.get(path).await.unwrap().expect("staged part exists");
        for batch in ParquetRecordBatchReaderBuilder::try_new(body)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            let recordno = batch.column_by_name("RECORDNO").unwrap();
            let recordno = recordno.as_any().downcast_ref::<Int64Array>().unwrap();
            let deleted = batch.column_by_name("_DELETED").unwrap();
            let deleted = deleted.as_any().downcast_ref::<BooleanArray>().unwrap();
            let entity = batch
                .column_by_name("MEGAENTITYID")
                .map(|c| c.as_any().downcast_ref::<StringArray>().unwrap().clone());
            for row in 0..batch.num_rows() {
                if deleted.value(row) {
                    continue;
                }
                let owner = entity
                    .as_ref()
                    .and_then(|e| e.is_valid(row).then(|| e.value(row).to_owned()));
                assert!(
                    keys.insert(recordno.value(row), owner).is_none(),
                    "a key staged twice in one batch"
                );
            }
        }
    }
    keys
}

/// Extracts every object (of every entity) at the simulator's clock: the reports, in order.
async fn extract_reports(spec: &Spec, sim: &SimHandle) -> Vec<ObjectReport> {
    let now = sim_clock(sim).await;
    let options = extract_options(spec, &[], now, false).unwrap();
    let client = IntacctClient::new(client_config(spec)).unwrap();
    let stage = Stage::open(&spec.stage.url).unwrap();
    run_extract(&client, &stage, "entities", &options)
        .await
        .unwrap()
}

/// Extracts every object, each without error; the manifest state after it.
async fn extract(spec: &Spec, sim: &SimHandle) -> intacct_snowflake::manifest::ManifestState {
    for r in extract_reports(spec, sim).await {
        assert_eq!(r.error, None, "{} {:?} failed", r.object, r.entity);
    }
    let stage = Stage::open(&spec.stage.url).unwrap();
    Manifest::open(stage, "check")
        .await
        .unwrap()
        .state()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn showprivate_stages_every_record_with_each_entitys_keys_equal_to_the_truth() {
    let sim = sim::spawn(company(None)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_for(&sim, dir.path());
    assert!(spec.intacct.entities.is_empty(), "one top-level session");
    let state = extract(&spec, &sim).await;
    let stage = Stage::open(&spec.stage.url).unwrap();
    for object in OBJECTS {
        let truth = truth(&sim, object).await;
        let batches: Vec<_> = state.batches_of(object).collect();
        assert_eq!(batches.len(), 1, "{object}");
        assert_eq!(batches[0].entity, None);
        let paths: Vec<String> = batches[0].files.iter().map(|f| f.path.clone()).collect();
        let staged = staged_keys(&stage, &paths).await;
        let all: BTreeSet<i64> = staged.keys().copied().collect();
        assert_eq!(all, expected(&truth, None, true), "{object}: every record");
        // Per owner, by the staged MEGAENTITYID where the object carries it.
        if truth[0].megaentity_id.is_some() {
            for owner in [None, Some("E100"), Some("E200")] {
                let staged_of: BTreeSet<i64> = staged
                    .iter()
                    .filter(|(_, e)| e.as_deref() == owner)
                    .map(|(k, _)| *k)
                    .collect();
                let truth_of: BTreeSet<i64> = truth
                    .iter()
                    .filter(|r| r.owner.as_deref() == owner)
                    .map(|r| r.key)
                    .collect();
                assert!(!truth_of.is_empty(), "{object} {owner:?}");
                assert_eq!(staged_of, truth_of, "{object}: records of {owner:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_stage_one_batch_per_object_and_entity_with_that_entitys_records() {
    // A user restricted to the two entities: nothing may be read at the top level.
    let sim = sim::spawn(company(Some(&ENTITIES))).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    spec.intacct.entities = ENTITIES.iter().map(|e| e.to_string()).collect();
    let state = extract(&spec, &sim).await;
    let stage = Stage::open(&spec.stage.url).unwrap();
    let objects: BTreeSet<&str> = spec
        .extract
        .objects
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(
        state.batches.len(),
        objects.len() * ENTITIES.len(),
        "one batch per (object, entity)"
    );
    for object in &objects {
        for entity in ENTITIES {
            let batches: Vec<_> = state
                .batches_of_stream(object, Some(entity))
                .filter(|b| b.status == BatchStatus::Staged && b.mode == Mode::Nightly)
                .collect();
            assert_eq!(batches.len(), 1, "{object} {entity}");
            assert!(
                state.objects[&format!("{object}@{entity}")]
                    .staged_up_to
                    .is_some(),
                "{object}@{entity} has its own mark"
            );
        }
        assert!(
            !state.objects.contains_key(*object),
            "no company-wide stream"
        );
    }
    for object in OBJECTS {
        let truth = truth(&sim, object).await;
        for entity in ENTITIES {
            let batch = state
                .batches_of_stream(object, Some(entity))
                .next()
                .unwrap();
            let paths: Vec<String> = batch.files.iter().map(|f| f.path.clone()).collect();
            let staged: BTreeSet<i64> = staged_keys(&stage, &paths).await.into_keys().collect();
            assert_eq!(
                staged,
                expected(&truth, Some(entity), true),
                "{object}: rows of {entity}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_entities_loads_every_record_once() {
    let sim = sim::spawn(company(Some(&ENTITIES))).await.unwrap();
    let keys = TestKeys::generate();
    let mut options = EmulatorOptions::key_pair(&keys.public, ACCOUNT, USER);
    options.require_warehouse = true;
    let emulator = Emulator::start(&options);
    let pipeline_dir = tempfile::tempdir().unwrap();
    let config = pipeline_dir.path().join("entities.toml");
    let demo = std::fs::read_to_string(repo_root().join("pipelines/demo.toml")).unwrap();
    let text = demo.replacen(
        "page_size = 2000\n",
        "page_size = 2000\nentities = [\"E100\", \"E200\"]\n",
        1,
    );
    assert_ne!(text, demo);
    std::fs::write(&config, text).unwrap();
    let mut world = World::of(sim, emulator, keys);
    world.config = config;
    world.ok(&["init"]).await;
    world.ok(&["run"]).await;
    world.assert_equal_to_truth("after the first run").await;

    // A shared (top-level) vendor was staged by both entities and is in its table once.
    let truth_vendors = truth(&world.sim, "VENDOR").await;
    let shared: BTreeSet<i64> = truth_vendors
        .iter()
        .filter(|r| r.owner.is_none())
        .map(|r| r.key)
        .collect();
    let state = world.manifest().await;
    let stage = Stage::open(world.stage_dir.path().to_str().unwrap()).unwrap();
    let mut staged_by: Vec<BTreeSet<i64>> = Vec::new();
    for entity in ENTITIES {
        let batch = state
            .batches_of_stream("VENDOR", Some(entity))
            .next()
            .unwrap();
        assert_eq!(batch.status, BatchStatus::Loaded);
        let paths: Vec<String> = batch.files.iter().map(|f| f.path.clone()).collect();
        staged_by.push(staged_keys(&stage, &paths).await.into_keys().collect());
    }
    let both: BTreeSet<i64> = staged_by[0].intersection(&staged_by[1]).copied().collect();
    assert_eq!(
        both, shared,
        "exactly the shared vendors are seen from both entities"
    );
    let snowflake = client(&world.emulator, world.keys.pkcs8.clone());
    let counts = snowflake
        .execute(&Statement::new(
            "SELECT COUNT(*) AS N, COUNT(DISTINCT \"RECORDNO\") AS D FROM \"INTACCT\".\"RAW\".\"VENDOR\"",
            "test",
        ))
        .await
        .unwrap();
    let n: usize = counts.rows[0][0].as_deref().unwrap().parse().unwrap();
    let d: usize = counts.rows[0][1].as_deref().unwrap().parse().unwrap();
    assert_eq!((n, d), (truth_vendors.len(), truth_vendors.len()));

    // Days of creates, updates and deletes later, each stream goes on from its own marks.
    world
        .sim
        .advance_days(2)
        .await
        .expect("the simulated clock advances");
    world.ok(&["run"]).await;
    world.assert_equal_to_truth("after two days").await;
    let status = world.ok(&["status"]).await;
    assert!(
        status.contains("VENDOR@E100") && status.contains("APBILL@E200"),
        "{status}"
    );

    // A replay of every VENDOR batch keeps each source's entity and changes nothing.
    world.ok(&["replay", "--object", "VENDOR"]).await;
    let state = world.manifest().await;
    let replays: Vec<_> = state
        .batches
        .values()
        .filter(|b| b.object == "VENDOR" && b.mode == Mode::Replay)
        .collect();
    assert_eq!(replays.len(), 4, "two runs of two entities");
    for replay in replays {
        let source = &state.batches[replay.replay_of.as_ref().unwrap()];
        assert!(source.entity.is_some());
        assert_eq!(replay.entity, source.entity);
        assert_eq!(replay.status, BatchStatus::Loaded);
    }
    world
        .compare_objects("after the replay", Some(&["VENDOR"]))
        .await
        .unwrap();

    // A backfill reads each window once per entity and moves no nightly mark.
    let before = world.manifest().await.objects;
    let clock = sim_clock(&world.sim).await;
    let from = (clock - chrono::Duration::days(730))
        .format("%Y-%m-%d")
        .to_string();
    let to = clock.format("%Y-%m-%d").to_string();
    world
        .ok(&[
            "backfill",
            "--objects",
            "VENDOR",
            "--from",
            &from,
            "--to",
            &to,
            "--window",
            "365d",
            "--no-progress",
        ])
        .await;
    let state = world.manifest().await;
    for entity in ENTITIES {
        let windows: Vec<_> = state
            .batches_of_stream("VENDOR", Some(entity))
            .filter(|b| b.mode == Mode::Backfill)
            .collect();
        assert_eq!(windows.len(), 2, "two 365-day windows of {entity}");
        assert!(windows.iter().all(|b| b.status == BatchStatus::Loaded));
    }
    let marks = |objects: &BTreeMap<String, intacct_snowflake::manifest::ObjectState>| {
        objects
            .iter()
            .map(|(k, m)| (k.clone(), (m.watermark, m.staged_up_to, m.deletes_up_to)))
            .collect::<Vec<_>>()
    };
    assert_eq!(marks(&state.objects), marks(&before), "no mark moved");
    world
        .compare_objects("after the backfill", Some(&["VENDOR"]))
        .await
        .unwrap();

    // verify reads each entity's keys through its own session (this user may not log in at
    // the top level): their union is every record, and nothing differs.
    let out = world
        .cli(&["verify", "--objects", "VENDOR", "--json"])
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vendor = &reports[0];
    assert_eq!(vendor["error"], serde_json::Value::Null, "{vendor}");
    let truth = world.sim.records("VENDOR").await.unwrap().len() as u64;
    assert_eq!(vendor["intacct_keys"], truth, "{vendor}");
    assert_eq!(vendor["snowflake_live"], truth, "{vendor}");
    assert_eq!(
        (vendor["missing"].as_u64(), vendor["extra"].as_u64()),
        (Some(0), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_load_holds_back_only_the_same_entitys_later_batches() {
    const T0: i64 = 1_700_000_000;
    let h = Harness::start(|_| None).await;
    // A REBATE_TIER column of another type than the batches' makes E100's batch fail.
    h.stage_batch_in(
        Mode::Nightly,
        T0 + 60,
        T0 + 61,
        &[Row::live(1, "one", T0)],
        true,
        Some("E200"),
    )
    .await;
    assert!(h.load().await.iter().all(|r| r.error.is_none()));
    h.query("ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" DROP COLUMN \"REBATE_TIER\"")
        .await;
    h.query("ALTER TABLE \"INTACCT\".\"RAW\".\"VENDOR\" ADD COLUMN \"REBATE_TIER\" NUMBER(38,0)")
        .await;
    let failing = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 160,
            T0 + 161,
            &[Row::live(2, "two", T0 + 100)],
            true,
            Some("E100"),
        )
        .await;
    let waiting = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 260,
            T0 + 261,
            &[Row::live(3, "three", T0 + 200)],
            false,
            Some("E100"),
        )
        .await;
    let other = h
        .stage_batch_in(
            Mode::Nightly,
            T0 + 360,
            T0 + 361,
            &[Row::live(4, "four", T0 + 300)],
            false,
            Some("E200"),
        )
        .await;
    let reports: BTreeMap<String, Option<String>> = h
        .load()
        .await
        .into_iter()
        .map(|r| (r.batch_id, r.error))
        .collect();
    assert!(
        reports[&failing]
            .as_deref()
            .unwrap()
            .contains("REBATE_TIER")
    );
    assert!(
        reports[&waiting].as_deref().unwrap().contains(&format!(
            "waits for batch {failing} of the same object and entity E100"
        )),
        "{reports:?}"
    );
    assert_eq!(reports[&other], None, "E200 does not wait for E100");
    let m = h.manifest.lock().await;
    let state = m.state();
    assert_eq!(state.batches[&other].status, BatchStatus::Loaded);
    assert_eq!(state.batches[&waiting].status, BatchStatus::Staged);
    assert_eq!(state.objects["VENDOR@E200"].watermark, Some(at(T0 + 360)));
    assert_eq!(state.objects["VENDOR@E100"].watermark, None);
    drop(m);
    let target = h.target().await;
    assert!(target.contains_key(&4) && !target.contains_key(&2) && !target.contains_key(&3));
}

/// Opens a session from an existing one with `<getAPISession><locationid>…`.
async fn switch(sim: &Sim, session: &str, location: &str) -> Result<String, String> {
    let response = sim
        .send(&request(
            Authentication::Session(Secret::new(session)),
            vec![function(
                "switch",
                Call::GetApiSession {
                    location_id: Some(location.to_owned()),
                },
            )],
        ))
        .await
        .expect("getAPISession answers");
    match &response.results[0].outcome {
        Ok(ResultData::Session(s)) => Ok(s.session_id.expose().to_owned()),
        Err(failure) => Err(failure.errors[0].description2.clone().unwrap_or_default()),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_session_switches_to_the_top_level_only_for_an_unrestricted_user() {
    for (user_entities, top_allowed) in [(None, true), (Some(&ENTITIES[..]), false)] {
        let sim = crate::sim::start(company(user_entities)).await;
        let truth = truth(&sim.handle, "VENDOR").await;
        let e100 = session_at(&sim, Some("E100")).await;
        // An empty locationid asks for the top level.
        match switch(&sim, &e100, "").await {
            Ok(top) => {
                assert!(top_allowed);
                let keys =
                    set(query_all(&sim, &top, query("VENDOR", None, &[("RECORDNO", true)])).await);
                assert_eq!(keys, expected(&truth, None, false));
            }
            Err(text) => {
                assert!(!top_allowed, "{text}");
                assert!(text.contains("entity-level access"), "{text}");
            }
        }
        // Another entity the user may access.
        let e200 = switch(&sim, &e100, "E200").await.expect("E200 is allowed");
        let keys = set(query_all(&sim, &e200, query("VENDOR", None, &[("RECORDNO", true)])).await);
        assert_eq!(keys, expected(&truth, Some("E200"), false));
        // An entity the company does not have.
        let text = switch(&sim, &e100, "E999").await.unwrap_err();
        assert!(text.contains("E999"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_intacct_takes_the_entities_and_the_users_restriction_from_its_flags() {
    use tokio::io::AsyncBufReadExt;
    let mut child = crate::sim::sim_intacct()
        .args(["--listen", "127.0.0.1:0", "--scale", "tiny"])
        .args(["--entities", "E100,E200", "--user-entities", "E100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::io::BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("a first line");
    let base = line.strip_prefix("listening on ").unwrap().to_owned();
    let records = reqwest::get(format!("{base}/__sim/records?object=VENDOR"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let owners: BTreeSet<Option<String>> = records
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["_OWNER"].as_str().map(str::to_owned)
        })
        .collect();
    let want: BTreeSet<Option<String>> =
        [None, Some("E100".to_owned()), Some("E200".to_owned())].into();
    assert_eq!(owners, want);
    let login = |location: Option<&str>| {
        intacct_snowflake::intacct::render_request(
            &request(
                login_at(location),
                vec![function("s", Call::GetApiSession { location_id: None })],
            ),
            &crate::sim::sender(),
        )
        .unwrap()
    };
    for (location, allowed) in [(None, false), (Some("E200"), false), (Some("E100"), true)] {
        let text = reqwest::Client::new()
            .post(format!("{base}/ia/xml/xmlgw.phtml"))
            .body(login(location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let response = intacct_snowflake::intacct::parse_response(text.as_bytes());
        match response {
            Ok(r) => assert!(allowed && r.results[0].outcome.is_ok(), "{location:?}"),
            Err(Error::Intacct(failure)) => {
                assert!(!allowed, "{location:?}");
                assert_eq!(failure.level, ErrorLevel::Authentication);
            }
            Err(other) => panic!("{location:?}: {other:?}"),
        }
    }
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_the_user_may_not_access_fails_only_its_own_objects() {
    let sim = sim::spawn(company(Some(&["E100"]))).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    spec.intacct.entities = ENTITIES.iter().map(|e| e.to_string()).collect();
    let reports = extract_reports(&spec, &sim).await;
    assert_eq!(reports.len(), spec.extract.objects.len() * 2);
    for r in &reports {
        match r.entity.as_deref() {
            Some("E100") => assert_eq!(r.error, None, "{}", r.object),
            Some("E200") => {
                let error = r.error.as_deref().unwrap_or_default();
                assert!(
                    error.contains("Intacct refused a session for entity E200"),
                    "{}: {error}",
                    r.object
                );
            }
            other => panic!("unexpected entity {other:?}"),
        }
    }
    let state = Manifest::open(Stage::open(&spec.stage.url).unwrap(), "check")
        .await
        .unwrap()
        .state()
        .clone();
    for object in &spec.extract.objects {
        assert!(
            state.objects[&format!("{}@E100", object.name)]
                .staged_up_to
                .is_some()
        );
        assert!(!state.objects.contains_key(&format!("{}@E200", object.name)));
    }
    // One refused login for E200, remembered for every one of its objects.
    let counters = sim.counters().await.unwrap();
    assert_eq!(counters["sessions_opened"], 1, "{counters}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_costs_one_login_per_run_whatever_the_entities() {
    let sim = sim::spawn(company(None)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec_for(&sim, dir.path());
    spec.intacct.entities = ENTITIES.iter().map(|e| e.to_string()).collect();
    spec.intacct.user_password = intacct_snowflake::secret::Secret::new("not-the-password");
    let reports = extract_reports(&spec, &sim).await;
    assert_eq!(reports.len(), spec.extract.objects.len() * 2);
    for r in &reports {
        let error = r.error.as_deref().unwrap_or_default();
        assert!(
            error.contains("Sign-in information is incorrect"),
            "{} {:?}: {error}",
            r.object,
            r.entity
        );
    }
    // Every object of both entities failed on one refused getAPISession.
    let counters = sim.counters().await.unwrap();
    assert_eq!(counters["requests"], 1, "{counters}");
    assert_eq!(counters["sessions_opened"], 0, "{counters}");
}
