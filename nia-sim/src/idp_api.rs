//! The services NIA offers a qualified identity provider (bearer token): match a person,
//! register and deactivate a means, list a person's means, the registry changes since a
//! sequence number.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::population::{self};

use crate::state::{Change, Means, Sim};

fn api_guard(sim: &Sim, headers: &HeaderMap) -> Result<(), Box<Response>> {
    if sim.outage() {
        return Err(Box::new(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "60")],
                Json(serde_json::json!({ "error": "UNAVAILABLE" })),
            )
                .into_response(),
        ));
    }
    let expected = format!("Bearer {}", sim.0.config.api_token);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Err(Box::new(
            (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({ "error": "UNAUTHORIZED" })),
            )
                .into_response(),
        ));
    }
    Ok(())
}

fn api_error(status: StatusCode, code: &str) -> Response {
    (status, Json(serde_json::json!({ "error": code }))).into_response()
}

/// By BSI (after a login through NIA), or by personal data (after a Czech POINT extract).
#[derive(Deserialize)]
pub(crate) struct MatchRequest {
    bsi: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    birth_date: Option<String>,
}

/// Ztotožnění: the person behind a BSI, against the population register.
pub(crate) async fn api_match(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Json(req): Json<MatchRequest>,
) -> Response {
    if let Err(r) = api_guard(&sim, &headers) {
        return *r;
    }
    let found = match &req.bsi {
        Some(bsi) => sim.citizen_by_bsi(bsi).map(|c| vec![c]).unwrap_or_default(),
        None => {
            let norm = |s: &Option<String>| s.as_deref().unwrap_or("").trim().to_lowercase();
            sim.with_state(|s| s.citizens.clone())
                .into_iter()
                .filter(|c| {
                    c.given_name.to_lowercase() == norm(&req.given_name)
                        && c.family_name.to_lowercase() == norm(&req.family_name)
                        && c.birth_date == norm(&req.birth_date)
                })
                .collect()
        }
    };
    let c = match found.as_slice() {
        [c] => c.clone(),
        [] => return api_error(StatusCode::NOT_FOUND, "NOT_FOUND"),
        _ => return api_error(StatusCode::CONFLICT, "AMBIGUOUS"),
    };
    if let Some(code) = population::refusal(&c) {
        return api_error(StatusCode::CONFLICT, code);
    }
    Json(serde_json::json!({
        "result": "MATCHED",
        "bsi": sim.bsi(&c.id),
        "given_name": c.given_name,
        "family_name": c.family_name,
        "birth_date": c.birth_date,
        "birth_place": c.birth_place,
        "address": c.address,
    }))
    .into_response()
}

#[derive(Deserialize)]
pub(crate) struct RegisterRequest {
    bsi: String,
    means_ref: String,
    loa: String,
}

/// Registers a means for a person (idempotent per means reference).
pub(crate) async fn api_register(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Json(req): Json<RegisterRequest>,
) -> Response {
    if let Err(r) = api_guard(&sim, &headers) {
        return *r;
    }
    let Some(c) = sim.citizen_by_bsi(&req.bsi) else {
        return api_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    if let Some(code) = population::refusal(&c) {
        return api_error(StatusCode::CONFLICT, code);
    }
    if req.loa != "substantial" && req.loa != "high" {
        return api_error(StatusCode::BAD_REQUEST, "LOA_NOT_SUPPORTED");
    }
    let means = sim.with_state(|s| {
        if let Some(m) = s
            .means
            .iter_mut()
            .find(|m| m.bsi == req.bsi && m.means_ref == req.means_ref)
        {
            m.active = true;
            return m.clone();
        }
        let m = Means {
            id: uuid::Uuid::new_v4().to_string(),
            bsi: req.bsi.clone(),
            means_ref: req.means_ref.clone(),
            loa: req.loa.clone(),
            active: true,
        };
        s.means.push(m.clone());
        m
    });
    Json(serde_json::json!({ "means_id": means.id })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct DeactivateRequest {
    bsi: String,
    means_id: String,
}

/// Deactivates a means; deactivating one already inactive is not an error.
pub(crate) async fn api_deactivate(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Json(req): Json<DeactivateRequest>,
) -> Response {
    if let Err(r) = api_guard(&sim, &headers) {
        return *r;
    }
    let found = sim.with_state(|s| {
        s.means
            .iter_mut()
            .find(|m| m.bsi == req.bsi && m.id == req.means_id)
            .map(|m| m.active = false)
            .is_some()
    });
    if !found {
        return api_error(StatusCode::NOT_FOUND, "UNKNOWN_MEANS");
    }
    let remaining = sim.active_means(&req.bsi).len();
    Json(serde_json::json!({ "deactivated": req.means_id, "remaining": remaining })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct MeansQuery {
    bsi: String,
}

pub(crate) async fn api_means(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<MeansQuery>,
) -> Response {
    if let Err(r) = api_guard(&sim, &headers) {
        return *r;
    }
    Json(serde_json::json!({ "means": sim.active_means(&q.bsi) })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct ChangesQuery {
    #[serde(default)]
    since: u64,
}

/// Registry changes of linked persons after sequence number `since`.
pub(crate) async fn api_changes(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Query(q): Query<ChangesQuery>,
) -> Response {
    if let Err(r) = api_guard(&sim, &headers) {
        return *r;
    }
    let changes: Vec<Change> = sim.with_state(|s| {
        s.changes
            .iter()
            .filter(|c| c.seq > q.since)
            .cloned()
            .collect()
    });
    let last = changes.last().map_or(q.since, |c| c.seq);
    Json(serde_json::json!({ "changes": changes, "last": last })).into_response()
}
