//! The simulator's dataset: a seeded, deterministic mid-market distributor that changes over
//! simulated time.
//!
//! Invariants: the same [`DatasetConfig`] gives byte-identical records; records are generated
//! on demand from `(seed, object, RECORDNO)` plus a compact overlay of changes, so memory does
//! not grow with the `large` preset's millions of base records; every value is already wire
//! text (dates `MM/DD/YYYY`, timestamps `MM/DD/YYYY HH:MM:SS` in the tenant time zone).

use chrono::{DateTime, Utc};

use crate::intacct::response::ObjectMeta;

/// Dataset size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A few dozen records per object: unit tests.
    Tiny,
    /// Thousands of records: the demo and most integration tests.
    Demo,
    /// Millions of records: benchmarks.
    Large,
    /// About this many records in all, spread over the objects like the presets.
    Records(u64),
}

/// Everything that determines a dataset.
#[derive(Clone, Debug)]
pub struct DatasetConfig {
    /// RNG seed.
    pub seed: u64,
    /// Size.
    pub scale: Scale,
    /// The simulated clock at creation; base records were created before it.
    pub start: DateTime<Utc>,
    /// Tenant time zone in which timestamps are written.
    pub time_zone: chrono_tz::Tz,
}

/// One record as the gateway would return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRecord {
    /// RECORDNO.
    pub record_no: u64,
    /// Values by field index of the object's [`ObjectMeta`]; `None` is an empty element.
    pub values: Vec<Option<String>>,
}

/// What one simulated day changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSummary {
    /// Records created, per object.
    pub created: std::collections::BTreeMap<String, u64>,
    /// Records updated, per object.
    pub updated: std::collections::BTreeMap<String, u64>,
    /// Records deleted, per object.
    pub deleted: std::collections::BTreeMap<String, u64>,
}

/// The dataset.
#[derive(Debug)]
pub struct Dataset {
    config: DatasetConfig,
}

impl Dataset {
    /// Builds the dataset; fast for every scale (nothing is materialised up front).
    pub fn new(config: DatasetConfig) -> Dataset {
        Dataset { config }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &DatasetConfig {
        &self.config
    }

    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        todo!()
    }

    /// Names of the objects served (VENDOR, APBILL, APBILLITEM, APPYMT, APPYMTDETAIL,
    /// GLACCOUNT, DEPARTMENT, LOCATION, CLASS, PROJECT, CUSTOMER, EMPLOYEE, AUDITHISTORY).
    pub fn object_names(&self) -> Vec<&'static str> {
        todo!()
    }

    /// Field metadata of an object (what `lookup`/`inspect` answer), `None` if unknown.
    pub fn object_meta(&self, object: &str) -> Option<&ObjectMeta> {
        let _ = object;
        todo!()
    }

    /// Number of live (not deleted) records.
    pub fn len(&self, object: &str) -> u64 {
        let _ = object;
        todo!()
    }

    /// Live records in ascending RECORDNO order.
    pub fn records(&self, object: &str) -> Box<dyn Iterator<Item = SimRecord> + '_> {
        let _ = object;
        todo!()
    }

    /// Live records whose WHENMODIFIED (or WHENCREATED when WHENMODIFIED is empty) is at or
    /// after `since`, in ascending (that instant, RECORDNO) order, without scanning older
    /// records (an index, not a filter over everything).
    pub fn records_changed_since(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Box<dyn Iterator<Item = SimRecord> + '_> {
        let _ = (object, since);
        todo!()
    }

    /// One live record by RECORDNO.
    pub fn get(&self, object: &str, record_no: u64) -> Option<SimRecord> {
        let _ = (object, record_no);
        todo!()
    }

    /// Advances the clock by `days`, applying a realistic day of creates, updates and deletes
    /// per day (deletes also written to AUDITHISTORY with ACCESSMODE `D`).
    pub fn advance_days(&mut self, days: u32) -> ChangeSummary {
        let _ = days;
        todo!()
    }
}
