//! Fault injection: a small spec language and the per-request decision.
//!
//! Spec: comma-separated rules `KIND[=ARG][@TARGET][:TRIGGER]`.
//!
//! | KIND | what the client sees |
//! |---|---|
//! | `control-error[=ERRNO]` | HTTP 200, control failure, errorno `ERRNO` (default `PL04000055`) |
//! | `auth-error[=ERRNO]` | HTTP 200, authentication failure, errorno (default `XL03000006`) |
//! | `result-error[=ERRNO]` | HTTP 200, every targeted result fails, errorno (default `DL02000001`) |
//! | `session-expiry` | the request's session is invalidated first → authentication failure `XL03000006` (with `every=N`: a session the gateway drops at any time, while other requests are in flight) |
//! | `rate-limit` | HTTP 429, gateway body `GW-0010` |
//! | `concurrency` | the over-limit answer at once, without the hold: HTTP 200, `200024` "There are too many operations running for this company (200024)" at the configured level (also automatic, after the hold, above `--max-concurrent`; see `crate::slots`) |
//! | `maintenance` | HTTP 503, gateway body `GW-0001` "The Service is Temporarily Off-line, [Support ID: …]", `Retry-After` none (see below) |
//! | `http500`, `http502`, `http503`, `http524` | that status; 502 a Cloudflare-style HTML page, others an empty body. A 524 is the CDN cutting a request the origin goes on running: it takes a slot and keeps it for the detached time (`--detached-slot-secs`) |
//! | `http401` | HTTP 401, XML body `XMLGW_JPP0002` |
//! | `slow=MS` | the response is delayed by MS milliseconds |
//! | `truncate` | HTTP 200 whose body stops half-way (Content-Length promises more; connection closed) |
//! | `truncate-xml` | HTTP 200, complete HTTP body holding the first half of the XML |
//! | `reset` | the connection is closed (RST) without a response |
//! | `expire-result-id` | `readMore` finds its resultId expired → `readMore failed` |
//!
//! An item `seed=N` seeds the `rate=` generator (default: the dataset's seed).
//!
//! TARGET: a function name (`query`, `readByQuery`, `readMore`, `getAPISession`, …, any
//! case with a lower-case letter) or an OBJECT name (all upper case); without it every
//! request matches. TRIGGER: `nth=N` (only the Nth matching request), `every=N` (every Nth),
//! `rate=P` (each matching request with probability P, from a seeded generator so runs
//! repeat), or nothing (every matching request).
//!
//! The maintenance answer: Sage publishes a weekly four-hour scheduled maintenance window
//! (Sage Intacct SLA; partners place it on Fridays 7:30–11:30 PM Pacific, e.g. Nectari's
//! scheduling notes), and integrators quote the gateway's answer as "The Service is
//! Temporarily Off-line, [Support ID: …]" (Vena's Sage Intacct troubleshooting). Its HTTP
//! status, level and errorno are not published: the simulator's 503 with a gateway-style
//! body and errorno `GW-0001` is a guess (clients should key on the text).

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FaultKind {
    /// Control-level error with this errorno.
    ControlError(String),
    /// Authentication-level error with this errorno.
    AuthError(String),
    /// Result-level error with this errorno.
    ResultError(String),
    /// Invalidate the session before authenticating.
    SessionExpiry,
    /// HTTP 429 GW-0010.
    RateLimit,
    /// The over-limit answer (`200024`), at once.
    Concurrency,
    /// HTTP 503, the maintenance answer.
    Maintenance,
    /// That HTTP status.
    Http(u16),
    /// Delay in milliseconds.
    Slow(u64),
    /// Body cut in the middle, connection closed.
    Truncate,
    /// Complete HTTP response with half the XML.
    TruncateXml,
    /// Connection reset without a response.
    Reset,
    /// readMore's resultId is expired.
    ExpireResultId,
}

impl FaultKind {
    /// The counter name of this kind.
    pub(super) fn name(&self) -> String {
        match self {
            FaultKind::ControlError(_) => "control-error".into(),
            FaultKind::AuthError(_) => "auth-error".into(),
            FaultKind::ResultError(_) => "result-error".into(),
            FaultKind::SessionExpiry => "session-expiry".into(),
            FaultKind::RateLimit => "rate-limit".into(),
            FaultKind::Concurrency => "concurrency".into(),
            FaultKind::Maintenance => "maintenance".into(),
            FaultKind::Http(code) => format!("http{code}"),
            FaultKind::Slow(_) => "slow".into(),
            FaultKind::Truncate => "truncate".into(),
            FaultKind::TruncateXml => "truncate-xml".into(),
            FaultKind::Reset => "reset".into(),
            FaultKind::ExpireResultId => "expire-result-id".into(),
        }
    }
}

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// Every request.
    Any,
    /// Requests with a function of this name.
    Function(String),
    /// Requests with a function on this object.
    Object(String),
}

/// When a matching request is hit.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Trigger {
    /// Every one.
    Always,
    /// Only the Nth (1-based).
    Nth(u64),
    /// Every Nth.
    Every(u64),
    /// With this probability.
    Rate(f64),
}

/// One rule.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FaultRule {
    /// What.
    pub kind: FaultKind,
    /// Where.
    pub target: Target,
    /// When.
    pub trigger: Trigger,
    seen: u64,
}

/// A function of a request, as far as targeting is concerned.
#[derive(Clone, Debug)]
pub(super) struct FunctionTag {
    /// Function element name.
    pub name: String,
    /// Object it reads, when it has one.
    pub object: Option<String>,
}

/// The active rules and the generator behind `rate=`.
#[derive(Clone, Debug)]
pub(super) struct FaultPlan {
    rules: Vec<FaultRule>,
    rng_state: u64,
}

fn parse_rule(text: &str) -> Result<FaultRule, String> {
    let (head, trigger) = match text.split_once(':') {
        Some((head, trigger)) => (head, Some(trigger)),
        None => (text, None),
    };
    let (head, target) = match head.split_once('@') {
        Some((head, target)) => (head, Some(target)),
        None => (head, None),
    };
    let (kind, arg) = match head.split_once('=') {
        Some((kind, arg)) => (kind, Some(arg.to_owned())),
        None => (head, None),
    };
    let kind = match kind.trim() {
        "control-error" => FaultKind::ControlError(arg.unwrap_or_else(|| "PL04000055".into())),
        "auth-error" => FaultKind::AuthError(arg.unwrap_or_else(|| "XL03000006".into())),
        "result-error" => FaultKind::ResultError(arg.unwrap_or_else(|| "DL02000001".into())),
        "session-expiry" => FaultKind::SessionExpiry,
        "rate-limit" => FaultKind::RateLimit,
        "concurrency" => FaultKind::Concurrency,
        "maintenance" => FaultKind::Maintenance,
        "http500" => FaultKind::Http(500),
        "http502" => FaultKind::Http(502),
        "http503" => FaultKind::Http(503),
        "http524" => FaultKind::Http(524),
        "http401" => FaultKind::Http(401),
        "slow" => FaultKind::Slow(
            arg.as_deref()
                .ok_or("slow needs =MS")?
                .parse()
                .map_err(|_| "slow=MS needs a number of milliseconds")?,
        ),
        "truncate" => FaultKind::Truncate,
        "truncate-xml" => FaultKind::TruncateXml,
        "reset" => FaultKind::Reset,
        "expire-result-id" => FaultKind::ExpireResultId,
        other => return Err(format!("unknown fault kind {other:?}")),
    };
    let target = match target.map(str::trim) {
        None | Some("") => Target::Any,
        Some(t) if t.chars().any(|c| c.is_ascii_lowercase()) => Target::Function(t.to_owned()),
        Some(t) => Target::Object(t.to_owned()),
    };
    let trigger = match trigger.map(str::trim) {
        None | Some("") => Trigger::Always,
        Some(t) => {
            let (key, value) = t
                .split_once('=')
                .ok_or_else(|| format!("trigger {t:?} must be nth=N, every=N or rate=P"))?;
            match key {
                "nth" => Trigger::Nth(value.parse().map_err(|_| format!("bad nth {value:?}"))?),
                "every" => Trigger::Every(
                    value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("bad every {value:?}"))?,
                ),
                "rate" => Trigger::Rate(
                    value
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=1.0).contains(p))
                        .ok_or_else(|| format!("bad rate {value:?} (0..1)"))?,
                ),
                other => return Err(format!("unknown trigger {other:?}")),
            }
        }
    };
    Ok(FaultRule {
        kind,
        target,
        trigger,
        seen: 0,
    })
}

impl FaultPlan {
    /// Parses a spec (see the module doc); `seed` drives `rate=`.
    pub(super) fn parse(spec: &str, seed: u64) -> Result<FaultPlan, String> {
        let mut seed = seed;
        let mut rules = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.strip_prefix("seed=") {
                Some(n) => {
                    seed = n
                        .parse()
                        .map_err(|_| format!("bad fault seed {n:?} (a whole number)"))?;
                }
                None => rules.push(parse_rule(item)?),
            }
        }
        Ok(FaultPlan {
            rules,
            rng_state: seed ^ 0x5DEE_CE66_D1CE_4E5B,
        })
    }

    /// The rules.
    pub(super) fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// A uniform number in [0, 1) (splitmix64).
    fn next_unit(&mut self) -> f64 {
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The faults that fire for a request with these functions, in rule order, each with
    /// the target of its rule.
    pub(super) fn decide(&mut self, functions: &[FunctionTag]) -> Vec<(FaultKind, Target)> {
        let mut fired = Vec::new();
        for i in 0..self.rules.len() {
            let matches = match &self.rules[i].target {
                Target::Any => true,
                Target::Function(name) => {
                    functions.iter().any(|f| f.name.eq_ignore_ascii_case(name))
                }
                Target::Object(object) => functions.iter().any(|f| {
                    f.object
                        .as_deref()
                        .is_some_and(|o| o.eq_ignore_ascii_case(object))
                }),
            };
            if !matches {
                continue;
            }
            self.rules[i].seen += 1;
            let seen = self.rules[i].seen;
            let hit = match self.rules[i].trigger {
                Trigger::Always => true,
                Trigger::Nth(n) => seen == n,
                Trigger::Every(n) => seen.is_multiple_of(n),
                Trigger::Rate(p) => self.next_unit() < p,
            };
            if hit {
                fired.push((self.rules[i].kind.clone(), self.rules[i].target.clone()));
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, object: Option<&str>) -> FunctionTag {
        FunctionTag {
            name: name.into(),
            object: object.map(Into::into),
        }
    }

    #[test]
    fn a_seed_item_seeds_the_rates_and_is_not_a_rule() {
        let fired = |spec: &str| {
            let mut plan = FaultPlan::parse(spec, 1).unwrap();
            (0..64)
                .map(|_| !plan.decide(&[tag("query", None)]).is_empty())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            FaultPlan::parse("http500:rate=0.5,seed=9", 1)
                .unwrap()
                .rules()
                .len(),
            1
        );
        assert_eq!(
            fired("http500:rate=0.5,seed=9"),
            fired("seed=9,http500:rate=0.5")
        );
        assert_ne!(
            fired("http500:rate=0.5,seed=9"),
            fired("http500:rate=0.5,seed=10")
        );
        assert!(FaultPlan::parse("seed=x", 1).is_err());
    }

    #[test]
    fn parses_kinds_targets_and_triggers() {
        let plan = FaultPlan::parse(
            "rate-limit@query:nth=3, slow=250, result-error=DL02000001@AUDITHISTORY:every=2",
            1,
        )
        .unwrap();
        assert_eq!(plan.rules().len(), 3);
        assert_eq!(plan.rules()[0].kind, FaultKind::RateLimit);
        assert_eq!(plan.rules()[0].target, Target::Function("query".into()));
        assert_eq!(plan.rules()[0].trigger, Trigger::Nth(3));
        assert_eq!(plan.rules()[1].kind, FaultKind::Slow(250));
        assert_eq!(
            plan.rules()[2].target,
            Target::Object("AUDITHISTORY".into())
        );
        assert!(FaultPlan::parse("nonsense", 1).is_err());
        assert!(FaultPlan::parse("http500:rate=2", 1).is_err());
    }

    #[test]
    fn nth_fires_once_on_matching_requests_only() {
        let mut plan = FaultPlan::parse("http503@readMore:nth=2", 1).unwrap();
        let q = [tag("query", Some("VENDOR"))];
        let m = [tag("readMore", None)];
        assert!(plan.decide(&q).is_empty());
        assert!(plan.decide(&m).is_empty());
        assert!(plan.decide(&q).is_empty());
        assert_eq!(
            plan.decide(&m),
            vec![(FaultKind::Http(503), Target::Function("readMore".into()))]
        );
        assert!(plan.decide(&m).is_empty());
    }

    #[test]
    fn rate_is_reproducible_and_roughly_right() {
        let run = |seed| {
            let mut plan = FaultPlan::parse("http500:rate=0.25", seed).unwrap();
            (0..4000)
                .map(|_| !plan.decide(&[tag("query", None)]).is_empty())
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let hits = a.iter().filter(|h| **h).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
