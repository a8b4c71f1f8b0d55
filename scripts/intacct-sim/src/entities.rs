//! Multi-entity companies: which entity owns each record, and what a session sees.
//!
//! Off by default ([`SimConfig::multi_entity`](crate::SimConfig) is `None`): the
//! simulator is then a single company whose every record every session sees. With a
//! [`MultiEntity`], the company has a top level and the listed entities (`E100`, `E200`, …),
//! and each record is owned by the top level or by one entity, some entity-owned ones
//! private. The owner is a pure function of (seed, object, RECORDNO); a line (APBILLITEM,
//! APPYMTDETAIL) belongs to its header (RECORDKEY, PAYMENTKEY), as lines do in Intacct.
//! `MEGAENTITYKEY`/`MEGAENTITYID`/`MEGAENTITYNAME` of every record served say its owner (empty
//! for the top level), and `/__sim/records` adds `_OWNER` (the entity id or null) and
//! `_PRIVATE` to each line so tests can compute what each session must see.
//!
//! What the evidence says, and what this module does with it:
//! * Sage's help ("Private and restricted data in multi-entity companies"): records created
//!   at the top level are shared with every entity; records created in an entity are private
//!   to it; "users working at the top level can access all data: shared, restricted, and
//!   private". The developer reference on `query`: top-level queries omit private entity data
//!   unless `<options><showprivate>true</showprivate>` is sent. So a top-level `query`
//!   without `showprivate` hides entity-private records, and with it sees everything.
//! * Sage's API sessions page: a session is tied to a company, a user and possibly an entity
//!   (`locationid`, in `<login>` or in `<getAPISession>`); from an entity session an empty
//!   `locationid` gets a top-level session "assuming you are not restricted to entity-level
//!   access" (the simulator does exactly that). An entity session here sees the records its entity owns (private or not) and
//!   the top level's shared ones, never another entity's; `showprivate` changes nothing in
//!   an entity session (the option is documented for top-level queries only).
//! * Sage's help on entity restrictions: a user restricted to entities without "access to
//!   top level" cannot work at the top level nor switch to another entity.
//!   [`MultiEntity::user_entities`] models that user: a top-level login or session fails, and
//!   so does one for an entity outside the list.
//!
//! Guesses (no source documents them; the harsher reading is taken):
//! * the refusal of a login to a forbidden entity (or at the top level) is an
//!   authentication-level `XL03000006` whose description2 names the entity; a
//!   `getAPISession` switch to one is a result failure with the same text;
//! * `readByQuery` and `read` have no `showprivate` option, so at the top level they hide
//!   entity-private records;
//! * AUDITHISTORY rows are company-wide: every session sees them;
//! * filters are evaluated on the dataset's own MEGAENTITY values, not on the owner written
//!   over them, so a filter on MEGAENTITY* fields does not select by owner (no test or
//!   client filters on them).

use crate::dataset::{Dataset, SimRecord};

/// Share of master and header records owned by the top level, in percent.
const TOP_LEVEL_PERCENT: u64 = 40;
/// Share of entity-owned records that are private, in percent.
const PRIVATE_PERCENT: u64 = 50;

/// A multi-entity company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiEntity {
    /// The entities' ids (their LOCATIONIDs), in order; `MEGAENTITYKEY` is the position + 1.
    pub entities: Vec<String>,
    /// The API user's entity restriction: `None` is an unrestricted user (top level and every
    /// entity); `Some(ids)` a user restricted to these entities without top-level access.
    pub user_entities: Option<Vec<String>>,
}

impl Default for MultiEntity {
    fn default() -> Self {
        MultiEntity {
            entities: vec!["E100".into(), "E200".into()],
            user_entities: None,
        }
    }
}

/// Who owns a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// The top level: shared with every entity.
    TopLevel,
    /// An entity, by position in [`MultiEntity::entities`].
    Entity {
        /// Position in the entity list.
        index: usize,
        /// Seen at the top level only with `showprivate`.
        private: bool,
    },
}

/// What a session is scoped to, and whether the read asked for private records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    /// The session's entity; `None` is the top level.
    pub location: Option<&'a str>,
    /// `showprivate` (only `query` can send it).
    pub show_private: bool,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

impl MultiEntity {
    /// The owner of a header or master record (not a line), from (seed, object, RECORDNO).
    fn own_owner(&self, seed: u64, object: &str, record_no: u64) -> Owner {
        if self.entities.is_empty() {
            return Owner::TopLevel;
        }
        let h = mix(seed ^ mix(name_hash(&object.to_ascii_uppercase()) ^ mix(record_no)));
        if h % 100 < TOP_LEVEL_PERCENT {
            return Owner::TopLevel;
        }
        let h2 = mix(h);
        Owner::Entity {
            index: (h2 % self.entities.len() as u64) as usize,
            private: (h2 >> 32) % 100 < PRIVATE_PERCENT,
        }
    }

    /// The owner of a live record; `None` for AUDITHISTORY (company-wide) and for a line whose
    /// record is gone.
    pub(crate) fn owner(&self, dataset: &Dataset, object: &str, record_no: u64) -> Option<Owner> {
        let seed = dataset.config().seed;
        if object.eq_ignore_ascii_case("AUDITHISTORY") {
            return None;
        }
        match dataset.line_header(object) {
            None => Some(self.own_owner(seed, object, record_no)),
            Some((header, key_field)) => {
                let index = dataset.field_index(object, key_field)?;
                let record = dataset.get(object, record_no)?;
                let key: u64 = record.values.get(index)?.as_deref()?.parse().ok()?;
                Some(self.own_owner(seed, header, key))
            }
        }
    }

    /// True when a session in `scope` sees a record owned by `owner` (`None`: company-wide).
    pub(crate) fn visible(&self, owner: Option<Owner>, scope: Scope<'_>) -> bool {
        match (owner, scope.location) {
            (None | Some(Owner::TopLevel), _) => true,
            (Some(Owner::Entity { private, .. }), None) => !private || scope.show_private,
            (Some(Owner::Entity { index, .. }), Some(location)) => self
                .entities
                .get(index)
                .is_some_and(|e| e.eq_ignore_ascii_case(location)),
        }
    }

    /// True when the session in `scope` sees `object`'s record `record_no`.
    pub(crate) fn sees(
        &self,
        dataset: &Dataset,
        object: &str,
        record_no: u64,
        scope: Scope<'_>,
    ) -> bool {
        let owner = self.owner(dataset, object, record_no);
        if owner.is_none() && !object.eq_ignore_ascii_case("AUDITHISTORY") {
            // A line whose header is unreadable: hidden rather than guessed.
            return scope.location.is_none() && scope.show_private;
        }
        self.visible(owner, scope)
    }

    /// The entity's id of an owner (`None` for the top level).
    pub(crate) fn owner_id(&self, owner: Owner) -> Option<&str> {
        match owner {
            Owner::TopLevel => None,
            Owner::Entity { index, .. } => self.entities.get(index).map(String::as_str),
        }
    }

    /// Writes the owner into the record's MEGAENTITYKEY, MEGAENTITYID and MEGAENTITYNAME
    /// (those of the three the object has).
    pub(crate) fn stamp(&self, dataset: &Dataset, object: &str, record: &mut SimRecord) {
        let Some(owner) = self.owner(dataset, object, record.record_no) else {
            return;
        };
        let (key, id, name) = match owner {
            Owner::TopLevel => (None, None, None),
            Owner::Entity { index, .. } => match self.entities.get(index) {
                Some(id) => (
                    Some((index + 1).to_string()),
                    Some(id.clone()),
                    Some(format!("Entity {id}")),
                ),
                None => (None, None, None),
            },
        };
        for (field, value) in [
            ("MEGAENTITYKEY", key),
            ("MEGAENTITYID", id),
            ("MEGAENTITYNAME", name),
        ] {
            if let Some(i) = dataset.field_index(object, field)
                && let Some(slot) = record.values.get_mut(i)
            {
                *slot = value;
            }
        }
    }

    /// Why a session at `location` (`None`: the top level) is refused for this user, or
    /// `None` when it is allowed.
    pub(crate) fn refusal(&self, user_id: &str, location: Option<&str>) -> Option<String> {
        match location {
            None => self.user_entities.as_ref().map(|_| {
                format!(
                    "User {user_id} is restricted to entity-level access and cannot sign in to the top level; provide the locationid of an entity the user may access"
                )
            }),
            Some(location) => {
                let known = self
                    .entities
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(location));
                let allowed = self
                    .user_entities
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|e| e.eq_ignore_ascii_case(location)));
                (!known || !allowed).then(|| {
                    format!("User {user_id} does not have access to entity {location}")
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company() -> MultiEntity {
        MultiEntity::default()
    }

    #[test]
    fn a_top_level_session_sees_private_records_only_with_showprivate() {
        let m = company();
        let private = Some(Owner::Entity {
            index: 0,
            private: true,
        });
        let shared = Some(Owner::Entity {
            index: 1,
            private: false,
        });
        let top = Scope {
            location: None,
            show_private: false,
        };
        let top_private = Scope {
            location: None,
            show_private: true,
        };
        assert!(!m.visible(private, top));
        assert!(m.visible(private, top_private));
        assert!(m.visible(shared, top));
        assert!(m.visible(Some(Owner::TopLevel), top));
    }

    #[test]
    fn an_entity_session_sees_its_own_and_the_top_levels_records_only() {
        let m = company();
        let e100 = Scope {
            location: Some("E100"),
            show_private: true,
        };
        assert!(m.visible(
            Some(Owner::Entity {
                index: 0,
                private: true
            }),
            e100
        ));
        assert!(m.visible(Some(Owner::TopLevel), e100));
        assert!(!m.visible(
            Some(Owner::Entity {
                index: 1,
                private: false
            }),
            e100
        ));
        assert!(m.visible(None, e100), "audit rows are company-wide");
    }

    #[test]
    fn owners_spread_over_top_level_and_every_entity_with_some_private() {
        let m = company();
        let owners: Vec<Owner> = (1..=400).map(|n| m.own_owner(1, "VENDOR", n)).collect();
        let top = owners.iter().filter(|o| **o == Owner::TopLevel).count();
        assert!((100..220).contains(&top), "{top} top-level of 400");
        for index in 0..2 {
            for private in [false, true] {
                assert!(owners.contains(&Owner::Entity { index, private }));
            }
        }
        assert_eq!(m.own_owner(1, "VENDOR", 7), m.own_owner(1, "vendor", 7));
    }

    #[test]
    fn a_restricted_user_is_refused_at_the_top_level_and_outside_its_entities() {
        let m = MultiEntity {
            user_entities: Some(vec!["E100".into()]),
            ..company()
        };
        assert!(m.refusal("u", Some("E100")).is_none());
        assert!(
            m.refusal("u", None)
                .unwrap()
                .contains("entity-level access")
        );
        assert!(
            m.refusal("u", Some("E200"))
                .unwrap()
                .contains("entity E200")
        );
        assert!(company().refusal("u", None).is_none());
        assert!(
            company()
                .refusal("u", Some("E999"))
                .unwrap()
                .contains("E999")
        );
    }
}
