//! Simulator of the systems the product cannot reach: NIA (the national identity hub) with
//! its SAML portal and the services a qualified identity provider uses, and the population
//! register (ROB) behind it. It stands for other organisations, so it shares no code with the
//! product, which reaches it only over HTTP.
//!
//! - `GET /FPSTS/FederationMetadata/2007-06/FederationMetadata.xml`: NIA's metadata.
//! - `GET /FPSTS/saml2/basic`: a signed AuthnRequest (HTTP-Redirect); the portal lets the
//!   citizen pick eObčanka, log in with a test card and PIN, consent, and posts a signed
//!   Response to the service provider's assertion consumer.
//! - `/idp-api/*` (bearer token): match a person, register and deactivate a means, registry
//!   changes since a sequence number.
//! - `/sluzby/{portal,epo}`: two government services (the Citizen Portal at LoA substantial,
//!   the tax filing at LoA high) with "Přihlásit se přes NIA"; NIA's login page offers
//!   eObčanka and mojeID, sends a signed AuthnRequest to the identity provider and takes its
//!   Response at `/FPSTS/mojeid/acs` (`services`).
//! - `/czechpoint`: the Czech POINT officer's console (`czech_point`).
//! - `/admin`: the test population, editing a citizen's registry data (which records a
//!   change notification) and the outage switch; `/admin/api/*` does the same for tests.
//!
//! Each part is its own module: `portal` (NIA's SAML side), `idp_api` (the services for a
//! qualified identity provider), `czech_point`, `admin`, over the state in `state` and the
//! register's test population in `population`; this file routes them and draws the pages.

pub mod admin;
pub mod czech_point;
pub mod idp_api;
pub mod population;
pub mod portal;
pub mod saml;
pub mod services;
pub mod state;

pub use state::{Change, CitizenPatch, Means, QueuedDelivery, Sim, SimConfig};

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/status.json", get(status_json))
        .route(
            "/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml",
            get(portal::metadata),
        )
        .route("/FPSTS/saml2/basic", get(portal::sso))
        .route(
            "/portal/{flow}/eobcanka",
            get(portal::card_form).post(portal::card_login),
        )
        .route("/portal/{flow}/other", post(portal::other_means))
        .route("/portal/{flow}/consent", post(portal::consent))
        .route("/sluzby/{service}", get(services::service_page))
        .route("/sluzby/{service}/prihlasit", get(services::service_login))
        .route("/sluzby/{service}/odhlasit", post(services::service_logout))
        .route("/FPSTS/prihlaseni/{flow}", get(services::nia_login_page))
        .route(
            "/FPSTS/prihlaseni/{flow}/mojeid",
            post(services::nia_login_mojeid),
        )
        .route(
            "/FPSTS/prihlaseni/{flow}/eobcanka",
            post(services::nia_login_card),
        )
        .route("/FPSTS/mojeid/acs", post(services::mojeid_acs))
        .route("/admin/api/logins", get(admin::admin_api_logins))
        .route("/idp-api/ztotozneni", post(idp_api::api_match))
        .route(
            "/idp-api/prostredek/registrovat",
            post(idp_api::api_register),
        )
        .route(
            "/idp-api/prostredek/zneplatnit",
            post(idp_api::api_deactivate),
        )
        .route("/idp-api/prostredky", get(idp_api::api_means))
        .route("/idp-api/zmeny", get(idp_api::api_changes))
        .route("/czechpoint", get(czech_point::officer_page))
        .route("/czechpoint/requests", post(czech_point::officer_file))
        .route("/czechpoint/release", post(czech_point::officer_release))
        .route(
            "/czechpoint/api/requests",
            post(czech_point::officer_api_file),
        )
        .route(
            "/czechpoint/api/release",
            post(czech_point::officer_api_release),
        )
        .route("/admin", get(admin::admin_page))
        .route("/admin/outage", post(admin::admin_outage))
        .route("/admin/citizens/{id}", post(admin::admin_citizen))
        .route("/admin/api/outage", post(admin::admin_api_outage))
        .route("/admin/api/citizens", get(admin::admin_api_citizens))
        .route("/admin/api/citizens/{id}", post(admin::admin_api_citizen))
        .with_state(sim)
}

pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="cs">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – NIA (simulátor)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
.banner{{background:#fff3cd;border:1px solid #c9a227;padding:.5rem 1rem}}button{{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0}}
label{{display:block;margin-top:.75rem}}input,select{{font-size:1rem;padding:.25rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.25rem .5rem;text-align:left}}
.error{{color:#a00;font-weight:bold}}</style></head>
<body>
<p class="banner">Simulátor Národního bodu pro identifikaci a autentizaci – pouze pro vývoj a testy.</p>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>"#
    ))
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn status_json(State(sim): State<Sim>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "service": "nia-sim", "outage": sim.outage() }))
}

async fn status_page(State(sim): State<Sim>) -> Html<String> {
    let state = if sim.outage() {
        "Výpadek (všechny služby NIA odpovídají 503)"
    } else {
        "V provozu"
    };
    page(
        "Simulátor NIA a registru obyvatel",
        &format!(
            r#"<p>Tato služba zastupuje systémy veřejné správy, které vývojové a testovací prostředí nemůže použít.</p>
<h2>Stav</h2><p id="state">{state}</p>
<ul><li><a href="/sluzby/portal">Portál občana (úroveň záruky značná)</a></li>
<li><a href="/sluzby/epo">Daňový portál – elektronická podání (úroveň záruky vysoká)</a></li>
<li><a href="/admin">Správa: obyvatelé, přihlášení a výpadek</a></li>
<li><a href="/czechpoint">Czech POINT: konzole úředníka</a></li>
<li><a href="/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml">Metadata NIA (SAML)</a></li></ul>"#
        ),
    )
}

pub(crate) fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [("retry-after", "60")],
        page(
            "Služba je nedostupná",
            "<p>Národní bod je dočasně nedostupný. Zkuste to prosím později.</p>",
        ),
    )
        .into_response()
}

/// Serves the simulator on `addr` until `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    sim: Sim,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "nia-sim listening");
    axum::serve(listener, router(sim))
        .with_graceful_shutdown(shutdown)
        .await
}
