//! The admin API under `/__sim/` on the simulator's port (JSON in and out).
//!
//! | route | effect |
//! |---|---|
//! | `POST /__sim/advance?days=N` | advance simulated time N days (N ≥ 1) applying each day's creates, updates, deletes; returns the `ChangeSummary` |
//! | `GET /__sim/records?object=X` | ground truth: one JSON object per live record (field → string or null), RECORDNO order, JSON lines; 404 for an unknown object; in a multi-entity company each line also carries `_OWNER` (entity id, null for the top level) and `_PRIVATE` |
//! | `GET /__sim/counters` | `requests`, `pages`, `sessions_opened`, `functions`, `faults_injected`, `max_in_flight` |
//! | `GET /__sim/audit-reads` | every AUDITHISTORY `query` so far, in order: `object_types`, `access_modes`, `from`/`to` (the `ACCESSTIME` bounds as sent), `continuation` (a later keyset page), `page_size`, `refused` (see [`crate::audit`]) |
//! | `GET /__sim/clock` | `{"now": RFC 3339 UTC}` — the simulated clock |
//! | `POST /__sim/custom-field?object=X` | adds the custom field `ONBOARDING_TIER` (text) to X from now on, as an administrator would: `lookup` lists it and records carry it; `{"object", "field"}`; 404 for an unknown object (or AUDITHISTORY), 409 when X has it already |
//! | `POST /__sim/faults` | body = fault spec (see [`crate::faults`]); replaces the active rules |
//! | `POST /__sim/sessions/expire` | expire every session; `{"expired": n}` |
//! | `POST /__sim/result-ids/expire` | expire every readByQuery resultId; `{"expired": n}` |

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::faults::FaultPlan;
use crate::state::{AppState, lock};

/// The admin routes, to nest under `/__sim`.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/advance", post(advance))
        .route("/custom-field", post(custom_field))
        .route("/records", get(records))
        .route("/counters", get(counters))
        .route("/audit-reads", get(audit_reads))
        .route("/clock", get(clock))
        .route("/faults", post(set_faults))
        .route("/sessions/expire", post(expire_sessions))
        .route("/result-ids/expire", post(expire_result_ids))
}

#[derive(serde::Deserialize)]
struct AdvanceParams {
    days: u32,
}

async fn advance(
    State(state): State<Arc<AppState>>,
    Query(params): Query<AdvanceParams>,
) -> Response {
    if params.days == 0 {
        return (StatusCode::BAD_REQUEST, "days must be at least 1\n").into_response();
    }
    let gateway = state.gateway.clone();
    let summary =
        tokio::task::spawn_blocking(move || gateway.dataset_mut().advance_days(params.days)).await;
    match summary {
        Ok(summary) => axum::Json(summary).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct CustomFieldParams {
    object: String,
}

async fn custom_field(
    State(state): State<Arc<AppState>>,
    Query(params): Query<CustomFieldParams>,
) -> Response {
    let gateway = state.gateway.clone();
    let object = params.object.to_ascii_uppercase();
    let known = gateway.dataset().object_meta(&object).is_some() && object != "AUDITHISTORY";
    if !known {
        return (StatusCode::NOT_FOUND, format!("unknown object {object}\n")).into_response();
    }
    let name = object.clone();
    let added =
        tokio::task::spawn_blocking(move || gateway.dataset_mut().add_custom_field(&name)).await;
    match added {
        Ok(true) => {
            axum::Json(json!({"object": object, "field": crate::NEW_CUSTOM_FIELD})).into_response()
        }
        Ok(false) => (
            StatusCode::CONFLICT,
            format!("{object} has the field already\n"),
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct RecordsParams {
    object: String,
}

/// Streams JSON lines from a blocking thread in chunks, so `large` objects need no buffer
/// of their size.
async fn records(
    State(state): State<Arc<AppState>>,
    Query(params): Query<RecordsParams>,
) -> Response {
    let known = {
        let dataset = state.gateway.dataset();
        dataset.object_names().contains(&params.object.as_str())
    };
    if !known {
        return (
            StatusCode::NOT_FOUND,
            format!("unknown object {}\n", params.object),
        )
            .into_response();
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let gateway = state.gateway.clone();
    tokio::task::spawn_blocking(move || {
        let dataset = gateway.dataset();
        let Some(meta) = dataset.object_meta(&params.object) else {
            return;
        };
        let names: Vec<String> = meta
            .fields
            .iter()
            .map(|f| serde_json::to_string(&f.name).unwrap_or_default())
            .collect();
        let mut chunk = String::with_capacity(1 << 16);
        let company = gateway.config.multi_entity.clone();
        for mut record in dataset.records(&params.object) {
            let owner = company.as_ref().map(|c| {
                c.stamp(&dataset, &params.object, &mut record);
                c.owner(&dataset, &params.object, record.record_no)
            });
            chunk.push('{');
            for (i, (name, value)) in names.iter().zip(&record.values).enumerate() {
                if i > 0 {
                    chunk.push(',');
                }
                chunk.push_str(name);
                chunk.push(':');
                match value {
                    Some(v) => chunk.push_str(&serde_json::to_string(v).unwrap_or_default()),
                    None => chunk.push_str("null"),
                }
            }
            if let (Some(company), Some(owner)) = (&company, owner) {
                // The owner, so a test can compute what each session must see.
                let (id, private) = match owner {
                    Some(o @ crate::entities::Owner::Entity { private, .. }) => {
                        (company.owner_id(o), private)
                    }
                    _ => (None, false),
                };
                chunk.push_str(",\"_OWNER\":");
                chunk.push_str(&serde_json::to_string(&id).unwrap_or_default());
                chunk.push_str(",\"_PRIVATE\":");
                chunk.push_str(if private { "true" } else { "false" });
            }
            chunk.push_str("}\n");
            if chunk.len() >= 1 << 16 {
                let full = std::mem::replace(&mut chunk, String::with_capacity(1 << 16));
                if tx.blocking_send(Bytes::from(full)).is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Bytes::from(chunk));
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, std::io::Error>(bytes), rx))
    });
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn counters(State(state): State<Arc<AppState>>) -> Response {
    let counters = lock(&state.gateway.counters).clone();
    axum::Json(counters).into_response()
}

async fn audit_reads(State(state): State<Arc<AppState>>) -> Response {
    let reads = lock(&state.gateway.audit_reads).clone();
    axum::Json(reads).into_response()
}

async fn clock(State(state): State<Arc<AppState>>) -> Response {
    let now = state.gateway.dataset().now();
    axum::Json(json!({ "now": now.to_rfc3339() })).into_response()
}

async fn set_faults(State(state): State<Arc<AppState>>, body: String) -> Response {
    match FaultPlan::parse(&body, state.gateway.config.dataset.seed) {
        Ok(plan) => {
            let rules = plan.rules().len();
            *lock(&state.faults) = plan;
            axum::Json(json!({ "rules": rules })).into_response()
        }
        Err(message) => (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response(),
    }
}

async fn expire_sessions(State(state): State<Arc<AppState>>) -> Response {
    let expired = state.gateway.expire_all_sessions();
    axum::Json(json!({ "expired": expired })).into_response()
}

async fn expire_result_ids(State(state): State<Arc<AppState>>) -> Response {
    let expired = state.gateway.expire_all_result_ids();
    axum::Json(json!({ "expired": expired })).into_response()
}
