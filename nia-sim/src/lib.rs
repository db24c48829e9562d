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
//! - `/admin`: the test population, editing a citizen's registry data (which records a
//!   change notification) and the outage switch; `/admin/api/*` does the same for tests.

pub mod population;
pub mod saml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use population::{Address, Citizen};

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Keys, certificate and state live here.
    pub data_dir: PathBuf,
    /// The simulator's own address as browsers reach it (for metadata).
    pub base_url: String,
    /// The one service provider / qualified identity provider registered with it.
    pub sp_entity_id: String,
    /// Where its SAML metadata (with its signing certificate) is published.
    pub sp_metadata_url: String,
    /// The token the identity provider presents on `/idp-api`.
    pub api_token: String,
    /// Where the register delivers population-register data to the identity provider (its
    /// data box, in reality).
    pub intake_url: String,
    /// The transport credential the delivery presents there (the data box's own login,
    /// in reality), as a bearer token.
    pub intake_token: String,
}

/// A Czech POINT request waiting for the register to process it (1–2 business days in
/// reality; the officer console releases the queue).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedDelivery {
    pub message_id: String,
    pub citizen_id: String,
    pub message: String,
    pub filed_at: i64,
}

/// A registered means of a person (one of the identity provider's security keys).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Means {
    pub id: String,
    pub bsi: String,
    pub means_ref: String,
    pub loa: String,
    pub active: bool,
}

/// A change of a person's registry data.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    pub seq: u64,
    pub bsi: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub birth_place: String,
    pub address: Option<Address>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    citizens: Vec<Citizen>,
    means: Vec<Means>,
    changes: Vec<Change>,
    #[serde(default)]
    queue: Vec<QueuedDelivery>,
}

struct Flow {
    request: saml::Request,
    citizen: Option<String>,
    pin_failures: u32,
}

struct Inner {
    config: SimConfig,
    signer: saml::Signer,
    outage: AtomicBool,
    state: Mutex<Stored>,
    flows: Mutex<HashMap<String, Flow>>,
    http: reqwest::Client,
}

#[derive(Clone)]
pub struct Sim(Arc<Inner>);

impl Sim {
    /// Loads (or makes, on first start) the keys and state in `config.data_dir`.
    pub fn open(config: SimConfig) -> std::io::Result<Self> {
        let signer = saml::Signer::load_or_create(&config.data_dir)?;
        let path = config.data_dir.join("state.json");
        let stored = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(std::io::Error::other)?,
            Err(_) => Stored {
                citizens: population::test_population(),
                means: Vec::new(),
                changes: Vec::new(),
                queue: Vec::new(),
            },
        };
        Ok(Sim(Arc::new(Inner {
            config,
            signer,
            outage: AtomicBool::new(false),
            state: Mutex::new(stored),
            flows: Mutex::new(HashMap::new()),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .map_err(std::io::Error::other)?,
        })))
    }

    pub fn outage(&self) -> bool {
        self.0.outage.load(Ordering::SeqCst)
    }

    pub fn set_outage(&self, on: bool) {
        self.0.outage.store(on, Ordering::SeqCst);
        tracing::info!(outage = on, "nia-sim outage switched");
    }

    /// NIA's signing certificate (DER).
    pub fn certificate_der(&self) -> Vec<u8> {
        self.0.signer.cert.to_der().unwrap_or_default()
    }

    /// The pseudonymous identifier of a person for the registered provider: stable, and
    /// different for every provider.
    pub fn bsi(&self, citizen_id: &str) -> String {
        let mut h = sha2::Sha256::new();
        h.update(self.certificate_der());
        h.update(self.0.config.sp_entity_id.as_bytes());
        h.update(citizen_id.as_bytes());
        let d = h.finalize();
        let hex = hex::encode(&d[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut Stored) -> T) -> T {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut s);
        let path = self.0.config.data_dir.join("state.json");
        if let Ok(json) = serde_json::to_vec_pretty(&*s) {
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
        out
    }

    fn citizen_by_bsi(&self, bsi: &str) -> Option<Citizen> {
        let citizens = self.with_state(|s| s.citizens.clone());
        citizens.into_iter().find(|c| self.bsi(&c.id) == bsi)
    }

    /// Changes a citizen's registry data; a linked person (with an active means) gets a
    /// change notification.
    pub fn update_citizen(&self, id: &str, patch: &CitizenPatch) -> Option<Citizen> {
        let bsi = self.bsi(id);
        self.with_state(|s| {
            let c = s.citizens.iter_mut().find(|c| c.id == id)?;
            if let Some(v) = &patch.given_name {
                c.given_name = v.trim().to_owned();
            }
            if let Some(v) = &patch.family_name {
                c.family_name = v.trim().to_owned();
            }
            if patch.street.is_some()
                || patch.number.is_some()
                || patch.city.is_some()
                || patch.postcode.is_some()
            {
                let old = c.address.clone().unwrap_or(Address {
                    street: String::new(),
                    number: String::new(),
                    city: String::new(),
                    postcode: String::new(),
                });
                c.address = Some(Address {
                    street: patch.street.clone().unwrap_or(old.street).trim().to_owned(),
                    number: patch.number.clone().unwrap_or(old.number).trim().to_owned(),
                    city: patch.city.clone().unwrap_or(old.city).trim().to_owned(),
                    postcode: patch
                        .postcode
                        .clone()
                        .unwrap_or(old.postcode)
                        .trim()
                        .to_owned(),
                });
            }
            let c = c.clone();
            if s.means.iter().any(|m| m.bsi == bsi && m.active) {
                let seq = s.changes.last().map_or(1, |l| l.seq + 1);
                s.changes.push(Change {
                    seq,
                    bsi: bsi.clone(),
                    given_name: c.given_name.clone(),
                    family_name: c.family_name.clone(),
                    birth_date: c.birth_date.clone(),
                    birth_place: c.birth_place.clone(),
                    address: c.address.clone(),
                });
            }
            Some(c)
        })
    }

    /// At a Czech POINT office: the citizen with card `card` asks for their data to be
    /// provided to the identity provider, with `message` for the recipient. Queued.
    pub fn file_office_request(&self, card: &str, message: &str) -> Option<QueuedDelivery> {
        let citizen = self.with_state(|s| {
            s.citizens
                .iter()
                .find(|c| c.card_number == card.trim())
                .cloned()
        })?;
        let q = QueuedDelivery {
            message_id: uuid::Uuid::new_v4().to_string(),
            citizen_id: citizen.id,
            message: message.trim().to_owned(),
            filed_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        self.with_state(|s| s.queue.push(q.clone()));
        Some(q)
    }

    pub fn queue(&self) -> Vec<QueuedDelivery> {
        self.with_state(|s| s.queue.clone())
    }

    /// The register processes the queue: each request is delivered (signed) to the identity
    /// provider's intake; what could not be delivered stays queued. Returns (delivered, left).
    pub async fn release_queue(&self) -> (usize, usize) {
        if self.outage() {
            return (0, self.queue().len());
        }
        let mut delivered = 0;
        for q in self.queue() {
            let Some(c) =
                self.with_state(|s| s.citizens.iter().find(|c| c.id == q.citizen_id).cloned())
            else {
                continue;
            };
            use base64::Engine;
            let pdf =
                base64::engine::general_purpose::STANDARD.encode(saml::extract_pdf(&c, &q.message));
            let xml = match saml::delivery(
                &self.0.signer,
                &q.message_id,
                "CZ.NIC, z. s. p. o. (mojeID)",
                &q.message,
                &c,
                &pdf,
                time::OffsetDateTime::now_utc(),
            ) {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "nia-sim: cannot sign a delivery");
                    continue;
                }
            };
            let sent = self
                .0
                .http
                .post(&self.0.config.intake_url)
                .header("content-type", "application/xml")
                .bearer_auth(&self.0.config.intake_token)
                .body(xml)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    self.with_state(|s| s.queue.retain(|x| x.message_id != q.message_id));
                    delivered += 1;
                }
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "nia-sim: the recipient refused a delivery")
                }
                Err(e) => tracing::warn!(error = %e, "nia-sim: delivery failed; it stays queued"),
            }
        }
        (delivered, self.queue().len())
    }

    /// Delivers a message that was already delivered once more (a duplicate, as data boxes
    /// may do) — for tests.
    pub async fn redeliver(&self, message_id: &str, card: &str, message: &str) -> bool {
        let Some(c) =
            self.with_state(|s| s.citizens.iter().find(|c| c.card_number == card).cloned())
        else {
            return false;
        };
        let Ok(xml) = saml::delivery(
            &self.0.signer,
            message_id,
            "CZ.NIC, z. s. p. o. (mojeID)",
            message,
            &c,
            "",
            time::OffsetDateTime::now_utc(),
        ) else {
            return false;
        };
        matches!(self.0.http.post(&self.0.config.intake_url).header("content-type", "application/xml").bearer_auth(&self.0.config.intake_token).body(xml).send().await, Ok(r) if r.status().is_success())
    }

    /// The active means registered for a person.
    pub fn active_means(&self, bsi: &str) -> Vec<Means> {
        self.with_state(|s| {
            s.means
                .iter()
                .filter(|m| m.bsi == bsi && m.active)
                .cloned()
                .collect()
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CitizenPatch {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub street: Option<String>,
    pub number: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
}

pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/status.json", get(status_json))
        .route(
            "/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml",
            get(metadata),
        )
        .route("/FPSTS/saml2/basic", get(sso))
        .route("/portal/{flow}/eobcanka", get(card_form).post(card_login))
        .route("/portal/{flow}/other", post(other_means))
        .route("/portal/{flow}/consent", post(consent))
        .route("/idp-api/ztotozneni", post(api_match))
        .route("/idp-api/prostredek/registrovat", post(api_register))
        .route("/idp-api/prostredek/zneplatnit", post(api_deactivate))
        .route("/idp-api/prostredky", get(api_means))
        .route("/idp-api/zmeny", get(api_changes))
        .route("/czechpoint", get(officer_page))
        .route("/czechpoint/requests", post(officer_file))
        .route("/czechpoint/release", post(officer_release))
        .route("/czechpoint/api/requests", post(officer_api_file))
        .route("/czechpoint/api/release", post(officer_api_release))
        .route("/admin", get(admin_page))
        .route("/admin/outage", post(admin_outage))
        .route("/admin/citizens/{id}", post(admin_citizen))
        .route("/admin/api/outage", post(admin_api_outage))
        .route("/admin/api/citizens", get(admin_api_citizens))
        .route("/admin/api/citizens/{id}", post(admin_api_citizen))
        .with_state(sim)
}

fn page(title: &str, body: &str) -> Html<String> {
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

fn esc(s: &str) -> String {
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
<ul><li><a href="/admin">Správa: obyvatelé a výpadek</a></li>
<li><a href="/czechpoint">Czech POINT: konzole úředníka</a></li>
<li><a href="/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml">Metadata NIA (SAML)</a></li></ul>"#
        ),
    )
}

fn unavailable() -> Response {
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

async fn metadata(State(sim): State<Sim>) -> Response {
    if sim.outage() {
        return unavailable();
    }
    (
        [("content-type", "application/samlmetadata+xml")],
        sim.0.signer.metadata(&sim.0.config.base_url),
    )
        .into_response()
}

/// The service provider's signing certificate, from its published metadata.
async fn sp_certificate(sim: &Sim) -> Result<Vec<u8>, String> {
    let xml = sim
        .0
        .http
        .get(&sim.0.config.sp_metadata_url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("service provider metadata: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let start = xml
        .find("X509Certificate>")
        .ok_or("no certificate in the service provider's metadata")?
        + "X509Certificate>".len();
    let end = xml[start..].find('<').ok_or("malformed metadata")? + start;
    let b64: String = xml[start..end].split_whitespace().collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| e.to_string())
}

fn post_back(acs: &str, response_xml: &str, relay: Option<&str>) -> Html<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(response_xml);
    let relay = relay
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                esc(r)
            )
        })
        .unwrap_or_default();
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="cs"><head><meta charset="utf-8"><title>Návrat ke službě – NIA (simulátor)</title></head>
<body onload="document.forms[0].submit()">
<main><h1>Návrat ke službě</h1>
<form method="post" action="{acs}">
<input type="hidden" name="SAMLResponse" value="{b64}">{relay}
<p>Pokud nebudete přesměrováni automaticky, pokračujte tlačítkem.</p>
<button type="submit">Pokračovat</button>
</form></main></body></html>"#,
        acs = esc(acs)
    ))
}

async fn sso(State(sim): State<Sim>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let cert = match sp_certificate(&sim).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "nia-sim: cannot read the service provider's metadata");
            return (
                StatusCode::BAD_GATEWAY,
                page("Chyba", &format!("<p>{}</p>", esc(&e))),
            )
                .into_response();
        }
    };
    let request = match saml::verify_redirect_request(&query, &cert, &sim.0.config.sp_entity_id) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                page(
                    "Neplatný požadavek",
                    &format!("<p class=\"error\">{}</p>", esc(&e.to_string())),
                ),
            )
                .into_response();
        }
    };
    if sim.outage() {
        return match saml::unavailable(&sim.0.signer, &request, time::OffsetDateTime::now_utc()) {
            Ok(xml) => {
                post_back(&request.acs_url, &xml, request.relay_state.as_deref()).into_response()
            }
            Err(_) => unavailable(),
        };
    }
    let flow = uuid::Uuid::new_v4().simple().to_string();
    sim.0
        .flows
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            flow.clone(),
            Flow {
                request,
                citizen: None,
                pin_failures: 0,
            },
        );
    page(
        "Přihlášení k službě",
        &format!(
            r#"<p>Služba <strong>{sp}</strong> žádá o ověření vaší totožnosti.</p>
<h2>Vyberte způsob přihlášení</h2>
<p><a href="/portal/{flow}/eobcanka">eObčanka – elektronický občanský průkaz</a></p>
<form method="post" action="/portal/{flow}/other"><button type="submit" name="means" value="password">Jméno a heslo (nízká úroveň záruky)</button></form>
<form method="post" action="/portal/{flow}/other"><button type="submit" name="means" value="cancel">Zrušit přihlášení</button></form>"#,
            sp = esc(&sim.0.config.sp_entity_id)
        ),
    )
    .into_response()
}

fn take_flow(sim: &Sim, flow: &str) -> Option<Flow> {
    sim.0
        .flows
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(flow)
}

fn put_flow(sim: &Sim, id: &str, flow: Flow) {
    sim.0
        .flows
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_owned(), flow);
}

fn expired() -> Response {
    (StatusCode::NOT_FOUND, page("Přihlášení vypršelo", "<p>Toto přihlášení už neplatí. Začněte prosím znovu u služby, kam se přihlašujete.</p>")).into_response()
}

async fn card_form(State(sim): State<Sim>, Path(flow): Path<String>) -> Response {
    if !sim
        .0
        .flows
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(&flow)
    {
        return expired();
    }
    let cards: String = sim
        .with_state(|s| s.citizens.clone())
        .iter()
        .map(|c| {
            format!(
                r#"<option value="{n}">{n} – {g} {f}</option>"#,
                n = esc(&c.card_number),
                g = esc(&c.given_name),
                f = esc(&c.family_name)
            )
        })
        .collect();
    page(
        "Přihlášení eObčankou",
        &format!(
            r#"<p>Vložte občanský průkaz do čtečky a zadejte identifikační osobní kód (IOK). V simulátoru vyberte testovací průkaz; IOK všech průkazů je 123456.</p>
<form method="post" action="/portal/{flow}/eobcanka">
<label for="card">Testovací občanský průkaz</label><select id="card" name="card">{cards}</select>
<label for="pin">IOK (PIN)</label><input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" required>
<p><button type="submit">Přihlásit</button></p>
</form>"#
        ),
    )
    .into_response()
}

#[derive(Deserialize)]
struct CardForm {
    card: String,
    pin: String,
}

async fn card_login(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let Some(mut flow) = take_flow(&sim, &id) else {
        return expired();
    };
    let citizen = sim
        .with_state(|s| s.citizens.clone())
        .into_iter()
        .find(|c| c.card_number == form.card.trim());
    match citizen {
        Some(c) if c.pin == form.pin.trim() => {
            flow.citizen = Some(c.id.clone());
            let attrs = [
                ("Jméno", c.given_name.clone()),
                ("Příjmení", c.family_name.clone()),
                ("Datum narození", c.birth_date.clone()),
                ("Místo narození", c.birth_place.clone()),
                (
                    "Adresa pobytu",
                    c.address
                        .as_ref()
                        .map(|a| format!("{} {}, {} {}", a.street, a.number, a.postcode, a.city))
                        .unwrap_or_else(|| "–".into()),
                ),
                ("Číslo dokladu", c.card_number.clone()),
            ];
            let rows: String = attrs
                .iter()
                .map(|(k, v)| format!("<tr><th scope=\"row\">{k}</th><td>{}</td></tr>", esc(v)))
                .collect();
            let sp = esc(&flow.request.issuer);
            put_flow(&sim, &id, flow);
            page(
                "Souhlas s předáním údajů",
                &format!(
                    r#"<p>Služba <strong>{sp}</strong> žádá o tyto údaje:</p>
<table><tbody>{rows}</tbody></table>
<form method="post" action="/portal/{id}/consent">
<p><label><input type="checkbox" name="permanent" value="1"> Souhlas udělit trvale</label></p>
<button type="submit" name="answer" value="yes">Souhlasím</button>
<button type="submit" name="answer" value="no">Nesouhlasím</button>
</form>"#
                ),
            )
            .into_response()
        }
        _ => {
            flow.pin_failures += 1;
            if flow.pin_failures >= 3 {
                return respond(&sim, &flow.request, &saml::Outcome::AuthnFailed);
            }
            put_flow(&sim, &id, flow);
            (
                StatusCode::UNAUTHORIZED,
                page(
                    "Přihlášení eObčankou",
                    &format!(r#"<p class="error" role="alert">Nesprávný IOK. Po třetím chybném pokusu se přihlášení ukončí.</p><p><a href="/portal/{id}/eobcanka">Zkusit znovu</a></p>"#),
                ),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct OtherForm {
    means: String,
}

async fn other_means(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(form): Form<OtherForm>,
) -> Response {
    let Some(flow) = take_flow(&sim, &id) else {
        return expired();
    };
    let outcome = if form.means == "password" {
        saml::Outcome::NoAuthnContext
    } else {
        saml::Outcome::AuthnFailed
    };
    respond(&sim, &flow.request, &outcome)
}

#[derive(Deserialize)]
struct ConsentForm {
    answer: String,
}

async fn consent(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Response {
    let Some(flow) = take_flow(&sim, &id) else {
        return expired();
    };
    if form.answer != "yes" {
        return respond(&sim, &flow.request, &saml::Outcome::RequestDenied);
    }
    let Some(citizen) = flow
        .citizen
        .as_ref()
        .and_then(|cid| sim.with_state(|s| s.citizens.iter().find(|c| &c.id == cid).cloned()))
    else {
        return expired();
    };
    let bsi = sim.bsi(&citizen.id);
    respond(
        &sim,
        &flow.request,
        &saml::Outcome::Success {
            citizen: &citizen,
            bsi: &bsi,
        },
    )
}

fn respond(sim: &Sim, request: &saml::Request, outcome: &saml::Outcome<'_>) -> Response {
    if sim.outage() {
        return match saml::unavailable(&sim.0.signer, request, time::OffsetDateTime::now_utc()) {
            Ok(xml) => {
                post_back(&request.acs_url, &xml, request.relay_state.as_deref()).into_response()
            }
            Err(_) => unavailable(),
        };
    }
    match saml::response(
        &sim.0.signer,
        request,
        outcome,
        time::OffsetDateTime::now_utc(),
    ) {
        Ok(xml) => {
            post_back(&request.acs_url, &xml, request.relay_state.as_deref()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "nia-sim: cannot sign the response");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                page("Chyba", "<p>Odpověď nelze podepsat.</p>"),
            )
                .into_response()
        }
    }
}

// ---- the services of a qualified identity provider ----

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
struct MatchRequest {
    bsi: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    birth_date: Option<String>,
}

/// Ztotožnění: the person behind a BSI, against the population register.
async fn api_match(
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
struct RegisterRequest {
    bsi: String,
    means_ref: String,
    loa: String,
}

/// Registers a means for a person (idempotent per means reference).
async fn api_register(
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
struct DeactivateRequest {
    bsi: String,
    means_id: String,
}

/// Deactivates a means; deactivating one already inactive is not an error.
async fn api_deactivate(
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
struct MeansQuery {
    bsi: String,
}

async fn api_means(
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
struct ChangesQuery {
    #[serde(default)]
    since: u64,
}

/// Registry changes of linked persons after sequence number `since`.
async fn api_changes(
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

// ---- Czech POINT: the officer's console ----

async fn officer_page(
    State(sim): State<Sim>,
    Query(q): Query<HashMap<String, String>>,
) -> Html<String> {
    let citizens = sim.with_state(|s| s.citizens.clone());
    let options: String = citizens
        .iter()
        .map(|c| {
            format!(
                r#"<option value="{n}">{n} – {g} {f}, nar. {b}</option>"#,
                n = esc(&c.card_number),
                g = esc(&c.given_name),
                f = esc(&c.family_name),
                b = esc(&c.birth_date)
            )
        })
        .collect();
    let queue: String = sim
        .queue()
        .iter()
        .map(|d| {
            let who = citizens
                .iter()
                .find(|c| c.id == d.citizen_id)
                .map(|c| format!("{} {}", c.given_name, c.family_name))
                .unwrap_or_default();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.message_id),
                esc(&who),
                esc(&d.message)
            )
        })
        .collect();
    let notice = match q.get("done").map(String::as_str) {
        Some("filed") => {
            r#"<p role="status">Žádost byla podána a čeká na zpracování registrem.</p>"#.to_owned()
        }
        Some("released") => format!(
            r#"<p role="status">Doručeno: {}. Ve frontě zůstává: {}.</p>"#,
            esc(q.get("n").map_or("0", |v| v)),
            esc(q.get("left").map_or("0", |v| v))
        ),
        Some("unknown") => {
            r#"<p class="error" role="alert">Občanský průkaz nebyl nalezen.</p>"#.to_owned()
        }
        _ => String::new(),
    };
    page(
        "Czech POINT – Poskytnutí údajů z registru obyvatel jiné osobě",
        &format!(
            r#"{notice}<p>Pracoviště Czech POINT: žadatel předložil občanský průkaz a žádá o poskytnutí svých referenčních údajů z registru obyvatel jiné osobě.</p>
<form method="post" action="/czechpoint/requests">
<label for="card">Žadatel (občanský průkaz)</label><select id="card" name="card">{options}</select>
<p>Příjemce: <strong>CZ.NIC, z. s. p. o. (mojeID)</strong></p>
<label for="message">Zpráva pro příjemce</label><input id="message" name="message" required maxlength="255">
<p><button type="submit">Podat žádost</button></p>
</form>
<h2>Fronta registru (zpracování 1–2 pracovní dny)</h2>
<table><thead><tr><th>Podání</th><th>Žadatel</th><th>Zpráva pro příjemce</th></tr></thead><tbody>{queue}</tbody></table>
<form method="post" action="/czechpoint/release"><p><button type="submit">Zpracovat frontu a doručit</button></p></form>"#
        ),
    )
}

#[derive(Deserialize)]
struct OfficerForm {
    card: String,
    message: String,
}

async fn officer_file(State(sim): State<Sim>, Form(f): Form<OfficerForm>) -> Redirect {
    match sim.file_office_request(&f.card, &f.message) {
        Some(_) => Redirect::to("/czechpoint?done=filed"),
        None => Redirect::to("/czechpoint?done=unknown"),
    }
}

async fn officer_release(State(sim): State<Sim>) -> Redirect {
    let (n, left) = sim.release_queue().await;
    Redirect::to(&format!("/czechpoint?done=released&n={n}&left={left}"))
}

async fn officer_api_file(State(sim): State<Sim>, Json(f): Json<serde_json::Value>) -> Response {
    let card = f["card"].as_str().unwrap_or_default();
    let message = f["message"].as_str().unwrap_or_default();
    match sim.file_office_request(card, message) {
        Some(q) => Json(q).into_response(),
        None => (StatusCode::NOT_FOUND, "no such card").into_response(),
    }
}

async fn officer_api_release(State(sim): State<Sim>) -> Json<serde_json::Value> {
    let (delivered, left) = sim.release_queue().await;
    Json(serde_json::json!({ "delivered": delivered, "left": left }))
}

// ---- the simulator's own administration ----

async fn admin_page(State(sim): State<Sim>) -> Html<String> {
    let citizens = sim.with_state(|s| s.citizens.clone());
    let rows: String = citizens
        .iter()
        .map(|c| {
            let a = c.address.clone().unwrap_or(Address {
                street: String::new(),
                number: String::new(),
                city: String::new(),
                postcode: String::new(),
            });
            let means = sim.active_means(&sim.bsi(&c.id)).len();
            let refusal = population::refusal(c).unwrap_or("–");
            format!(
                r#"<tr><th scope="row">{card}</th><td>{refusal}</td><td>{means}</td><td>
<form method="post" action="/admin/citizens/{id}">
<label>Jméno <input name="given_name" value="{g}"></label>
<label>Příjmení <input name="family_name" value="{f}"></label>
<label>Ulice <input name="street" value="{st}"></label>
<label>Číslo <input name="number" value="{nu}"></label>
<label>Obec <input name="city" value="{ci}"></label>
<label>PSČ <input name="postcode" value="{pc}"></label>
<button type="submit">Uložit změnu v registru ({g0} {f0})</button>
</form></td></tr>"#,
                card = esc(&c.card_number),
                id = esc(&c.id),
                g = esc(&c.given_name),
                f = esc(&c.family_name),
                g0 = esc(&c.given_name),
                f0 = esc(&c.family_name),
                st = esc(&a.street),
                nu = esc(&a.number),
                ci = esc(&a.city),
                pc = esc(&a.postcode),
            )
        })
        .collect();
    let (state, next, label) = if sim.outage() {
        (
            "Výpadek: všechny služby NIA odpovídají 503.",
            "0",
            "Ukončit výpadek",
        )
    } else {
        ("V provozu.", "1", "Zahájit výpadek")
    };
    page(
        "Správa simulátoru",
        &format!(
            r#"<h2>Výpadek NIA</h2><p id="outage-state">{state}</p>
<form method="post" action="/admin/outage"><input type="hidden" name="on" value="{next}"><button type="submit">{label}</button></form>
<h2>Testovací obyvatelé</h2>
<p>IOK (PIN) všech průkazů je 123456. Změna údajů propojené osoby se ohlásí poskytovateli identity.</p>
<table><thead><tr><th>Průkaz</th><th>Důvod odmítnutí</th><th>Aktivní prostředky</th><th>Údaje v registru</th></tr></thead><tbody>{rows}</tbody></table>"#
        ),
    )
}

#[derive(Deserialize)]
struct OutageForm {
    on: String,
}

async fn admin_outage(State(sim): State<Sim>, Form(f): Form<OutageForm>) -> Redirect {
    sim.set_outage(f.on == "1");
    Redirect::to("/admin")
}

async fn admin_citizen(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(p): Form<CitizenPatch>,
) -> Response {
    match sim.update_citizen(&id, &p) {
        Some(_) => Redirect::to("/admin").into_response(),
        None => (StatusCode::NOT_FOUND, "no such citizen").into_response(),
    }
}

#[derive(Deserialize)]
struct OutageJson {
    on: bool,
}

async fn admin_api_outage(
    State(sim): State<Sim>,
    Json(o): Json<OutageJson>,
) -> Json<serde_json::Value> {
    sim.set_outage(o.on);
    Json(serde_json::json!({ "outage": sim.outage() }))
}

async fn admin_api_citizens(State(sim): State<Sim>) -> Json<serde_json::Value> {
    let citizens = sim.with_state(|s| s.citizens.clone());
    let list: Vec<serde_json::Value> = citizens
        .iter()
        .map(|c| {
            let bsi = sim.bsi(&c.id);
            serde_json::json!({ "citizen": c, "bsi": bsi, "means": sim.active_means(&bsi), "refusal": population::refusal(c) })
        })
        .collect();
    Json(serde_json::json!(list))
}

async fn admin_api_citizen(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(p): Json<CitizenPatch>,
) -> Response {
    match sim.update_citizen(&id, &p) {
        Some(c) => Json(c).into_response(),
        None => (StatusCode::NOT_FOUND, "no such citizen").into_response(),
    }
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
