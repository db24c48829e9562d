//! Two government services (SePs of NIA) and NIA's login toward them: the Citizen Portal
//! ("Portál občana", LoA substantial) and the electronic tax filing ("Daňová informační
//! schránka / EPO", LoA high). "Přihlásit se přes NIA" leads to NIA's login page, which offers
//! eObčanka and mojeID. Choosing mojeID sends a signed AuthnRequest (HTTP-POST, enveloped
//! signature) to the identity provider's SSO endpoint named in its metadata; its signed
//! Response comes back to `/FPSTS/mojeid/acs`, where NIA checks the signature against the
//! identity provider's metadata certificate, the issuer, destination, request, audience,
//! times, maps the subject (NIA's identifier of the means) to the person, checks the level
//! against what the service asks, records the login and logs the citizen into the service —
//! or the service says why not.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::saml::{ENTITY_ID, LOA_HIGH, LOA_SUBSTANTIAL};
use crate::state::Sim;
use crate::{esc, page, unavailable};

/// A service provider of NIA.
pub struct Service {
    pub id: &'static str,
    pub name: &'static str,
    /// The lowest level it accepts.
    pub loa: &'static str,
}

pub const SERVICES: &[Service] = &[
    Service {
        id: "portal",
        name: "Portál občana",
        loa: LOA_SUBSTANTIAL,
    },
    Service {
        id: "epo",
        name: "Daňový portál – elektronická podání (EPO)",
        loa: LOA_HIGH,
    },
];

fn service(id: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.id == id)
}

fn loa_rank(uri: &str) -> u8 {
    match uri {
        LOA_HIGH => 3,
        LOA_SUBSTANTIAL => 2,
        "http://eidas.europa.eu/LoA/low" => 1,
        _ => 0,
    }
}

fn loa_name(uri: &str) -> &'static str {
    match uri {
        LOA_HIGH => "vysoká",
        LOA_SUBSTANTIAL => "značná",
        _ => "nízká",
    }
}

/// A login NIA started toward the identity provider for a service.
#[derive(Clone, Debug)]
pub(crate) struct LoginFlow {
    pub(crate) service: &'static str,
    /// The AuthnRequest's ID, once sent to the identity provider.
    pub(crate) request_id: Option<String>,
    pub(crate) created_at: i64,
}

/// Who is logged into a service in a browser.
#[derive(Clone, Debug)]
pub(crate) struct ServiceSession {
    pub(crate) service: &'static str,
    pub(crate) citizen_id: String,
    pub(crate) loa: String,
    pub(crate) means: String,
}

/// A login NIA recorded (its admin lists them per service).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRecord {
    pub at: i64,
    pub service: String,
    pub means: String,
    /// The level reached, or the failure status.
    pub outcome: String,
    pub citizen: Option<String>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn cookie_name(service: &str) -> String {
    format!("nia_sim_sep_{service}")
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The service's own pseudonymous identifier of a person (different for every service).
fn service_pseudonym(sim: &Sim, service: &str, citizen_id: &str) -> String {
    let mut h = sha2::Sha256::new();
    h.update(sim.certificate_der());
    h.update(b"sep:");
    h.update(service.as_bytes());
    h.update(citizen_id.as_bytes());
    let hex = hex::encode(&h.finalize()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn record(sim: &Sim, service: &str, means: &str, outcome: &str, citizen: Option<&str>) {
    let r = LoginRecord {
        at: now(),
        service: service.to_owned(),
        means: means.to_owned(),
        outcome: outcome.to_owned(),
        citizen: citizen.map(str::to_owned),
    };
    sim.with_state(|s| {
        s.logins.push(r);
        let n = s.logins.len();
        if n > 1000 {
            s.logins.drain(..n - 1000);
        }
    });
}

#[derive(Deserialize)]
pub(crate) struct ServiceQuery {
    #[serde(default)]
    chyba: Option<String>,
}

fn failure_text(code: &str) -> &'static str {
    match code {
        "RequestDenied" => "Poskytovatel identity přihlášení odmítl: účet není propojen s NIA nebo nemá prostředek registrovaný v NIA.",
        "NoAuthnContext" => "Použitý prostředek nedosahuje úrovně záruky, kterou tato služba vyžaduje.",
        "AuthnFailed" => "Přihlášení se nezdařilo nebo bylo zrušeno.",
        "means" => "Prostředek, kterým jste se přihlásili, není v NIA aktivní.",
        "loa" => "Přihlášení nedosáhlo úrovně záruky, kterou tato služba vyžaduje.",
        "Responder" => "Poskytovatel identity je dočasně nedostupný.",
        _ => "Odpověď poskytovatele identity nebyla platná.",
    }
}

/// A service's home page: who is logged in, or "Přihlásit se přes NIA".
pub(crate) async fn service_page(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Query(q): Query<ServiceQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(svc) = service(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let session = cookie(&headers, &cookie_name(svc.id)).and_then(|sid| {
        sim.0
            .service_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sid)
            .cloned()
    });
    let citizen = session.as_ref().and_then(|s| {
        sim.with_state(|st| st.citizens.iter().find(|c| c.id == s.citizen_id).cloned())
    });
    let body = match (session, citizen) {
        (Some(s), Some(c)) if s.service == svc.id => format!(
            r#"<h2>Přihlášený uživatel</h2>
<table id="who"><tbody>
<tr><th scope="row">Jméno</th><td>{given} {family}</td></tr>
<tr><th scope="row">Datum narození</th><td>{birth}</td></tr>
<tr><th scope="row">Identifikátor ve službě</th><td>{pseudonym}</td></tr>
<tr><th scope="row">Úroveň záruky</th><td>{loa}</td></tr>
<tr><th scope="row">Prostředek</th><td>{means}</td></tr>
</tbody></table>
<form method="post" action="/sluzby/{id}/odhlasit"><button type="submit">Odhlásit se</button></form>"#,
            given = esc(&c.given_name),
            family = esc(&c.family_name),
            birth = esc(&c.birth_date),
            pseudonym = service_pseudonym(&sim, svc.id, &c.id),
            loa = loa_name(&s.loa),
            means = esc(&s.means),
            id = svc.id,
        ),
        _ => {
            let error = q
                .chyba
                .as_deref()
                .map(|c| format!(r#"<p class="error" role="alert">{}</p>"#, failure_text(c)))
                .unwrap_or_default();
            format!(
                r#"{error}<p>Služba vyžaduje přihlášení s úrovní záruky <strong>{loa}</strong>.</p>
<p><a href="/sluzby/{id}/prihlasit">Přihlásit se přes NIA</a></p>"#,
                loa = loa_name(svc.loa),
                id = svc.id,
            )
        }
    };
    page(svc.name, &body).into_response()
}

pub(crate) async fn service_logout(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(svc) = service(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(sid) = cookie(&headers, &cookie_name(svc.id)) {
        sim.0
            .service_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&sid);
    }
    (
        [(
            "set-cookie",
            format!(
                "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                cookie_name(svc.id)
            ),
        )],
        Redirect::to(&format!("/sluzby/{}", svc.id)),
    )
        .into_response()
}

/// "Přihlásit se přes NIA": the service hands the citizen to NIA's login page.
pub(crate) async fn service_login(State(sim): State<Sim>, Path(id): Path<String>) -> Response {
    if sim.outage() {
        return unavailable();
    }
    let Some(svc) = service(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let flow = uuid::Uuid::new_v4().simple().to_string();
    let mut flows = sim.0.logins.lock().unwrap_or_else(|e| e.into_inner());
    flows.retain(|_, f| now() - f.created_at < 1800);
    flows.insert(
        flow.clone(),
        LoginFlow {
            service: svc.id,
            request_id: None,
            created_at: now(),
        },
    );
    Redirect::to(&format!("/FPSTS/prihlaseni/{flow}")).into_response()
}

/// The login `flow` in progress and its service; `take` ends it (it is answered once).
fn login_of(sim: &Sim, flow: &str, take: bool) -> Option<(LoginFlow, &'static Service)> {
    let mut logins = sim.0.logins.lock().unwrap_or_else(|e| e.into_inner());
    let f = if take {
        logins.remove(flow)
    } else {
        logins.get(flow).cloned()
    }?;
    let svc = service(f.service)?;
    Some((f, svc))
}

fn expired() -> Response {
    (
        StatusCode::BAD_REQUEST,
        page(
            "Přihlášení vypršelo",
            "<p>Přihlášení vypršelo nebo již bylo použito. Vraťte se ke službě a začněte znovu.</p>",
        ),
    )
        .into_response()
}

/// NIA's login page for a service: eObčanka or mojeID.
pub(crate) async fn nia_login_page(State(sim): State<Sim>, Path(flow): Path<String>) -> Response {
    if sim.outage() {
        return unavailable();
    }
    let Some((_, svc)) = login_of(&sim, &flow, false) else {
        return expired();
    };
    page(
        "Přihlášení ke službě přes NIA",
        &format!(
            r#"<p>Služba <strong>{name}</strong> vyžaduje úroveň záruky <strong>{loa}</strong>.</p>
<h2>Vyberte způsob přihlášení</h2>
<form method="post" action="/FPSTS/prihlaseni/{flow}/mojeid"><button type="submit">mojeID</button></form>
<form method="post" action="/FPSTS/prihlaseni/{flow}/eobcanka">
<fieldset><legend>eObčanka – elektronický občanský průkaz</legend>
<label for="card">Testovací občanský průkaz</label><select id="card" name="card">{cards}</select>
<label for="pin">IOK (PIN)</label><input id="pin" name="pin" type="password" autocomplete="off">
<button type="submit">Přihlásit eObčankou</button></fieldset></form>
<p><a href="/sluzby/{id}">Zpět ke službě</a></p>"#,
            name = esc(svc.name),
            loa = loa_name(svc.loa),
            id = svc.id,
            cards = sim.with_state(|s| s
                .citizens
                .iter()
                .map(|c| format!(
                    r#"<option value="{}">{} – {} {}</option>"#,
                    esc(&c.card_number),
                    esc(&c.card_number),
                    esc(&c.given_name),
                    esc(&c.family_name)
                ))
                .collect::<String>()),
        ),
    )
    .into_response()
}

fn logged_in(
    sim: &Sim,
    svc: &'static Service,
    citizen_id: &str,
    loa: &str,
    means: &str,
) -> Response {
    let sid = uuid::Uuid::new_v4().simple().to_string();
    sim.0
        .service_sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            sid.clone(),
            ServiceSession {
                service: svc.id,
                citizen_id: citizen_id.to_owned(),
                loa: loa.to_owned(),
                means: means.to_owned(),
            },
        );
    record(sim, svc.id, means, loa_name(loa), Some(citizen_id));
    (
        [(
            "set-cookie",
            format!(
                "{}={sid}; Path=/; HttpOnly; SameSite=Lax",
                cookie_name(svc.id)
            ),
        )],
        Redirect::to(&format!("/sluzby/{}", svc.id)),
    )
        .into_response()
}

fn refused(sim: &Sim, svc: &Service, means: &str, code: &str) -> Response {
    record(sim, svc.id, means, code, None);
    Redirect::to(&format!("/sluzby/{}?chyba={code}", svc.id)).into_response()
}

/// eObčanka at NIA's login page (LoA high).
pub(crate) async fn nia_login_card(
    State(sim): State<Sim>,
    Path(flow): Path<String>,
    Form(form): Form<crate::portal::CardForm>,
) -> Response {
    if sim.outage() {
        return unavailable();
    }
    let Some((_, svc)) = login_of(&sim, &flow, true) else {
        return expired();
    };
    match sim.card_holder(&form.card, &form.pin) {
        Some(c) => logged_in(&sim, svc, &c.id, LOA_HIGH, "eObčanka"),
        None => refused(&sim, svc, "eObčanka", "AuthnFailed"),
    }
}

/// The identity provider's signing certificate and SSO endpoint, from its metadata.
async fn idp_metadata(sim: &Sim) -> Result<(Vec<u8>, String), String> {
    let xml = sim
        .0
        .http
        .get(&sim.0.config.sp_metadata_url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("identity provider metadata: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let idp = &xml[xml
        .find("IDPSSODescriptor")
        .ok_or("the metadata has no identity-provider descriptor")?..];
    let start = idp.find("X509Certificate>").ok_or("no certificate")? + "X509Certificate>".len();
    let end = idp[start..].find('<').ok_or("malformed metadata")? + start;
    let cert = STANDARD
        .decode(idp[start..end].split_whitespace().collect::<String>())
        .map_err(|e| e.to_string())?;
    let sso = idp
        .find("SingleSignOnService")
        .map(|i| &idp[i..])
        .and_then(|s| s.find("Location=\"").map(|j| &s[j + 10..]))
        .and_then(|s| s.find('"').map(|k| s[..k].replace("&amp;", "&")))
        .ok_or("no SingleSignOnService")?;
    Ok((cert, sso))
}

fn acs_url(sim: &Sim) -> String {
    format!("{}/FPSTS/mojeid/acs", sim.0.config.base_url)
}

/// The signed AuthnRequest NIA sends to the identity provider for a service.
fn authn_request(sim: &Sim, id: &str, svc: &Service, sso: &str) -> Result<String, String> {
    let sig = format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"##
    );
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{sso}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true" ProviderName="{name}"><saml:Issuer>{ENTITY_ID}</saml:Issuer>{sig}<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="false"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>{loa}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#,
        at = crate::saml::instant(time::OffsetDateTime::now_utc()),
        sso = esc(sso),
        acs = esc(&acs_url(sim)),
        name = esc(svc.name),
        loa = svc.loa,
    );
    let der = sim
        .0
        .signer
        .key
        .private_key_to_der()
        .map_err(|e| e.to_string())?;
    use samael::crypto::CryptoProvider;
    samael::crypto::Crypto::sign_xml(&xml, &der).map_err(|e| e.to_string())
}

/// "mojeID" at NIA's login page: the signed AuthnRequest, posted by the browser.
pub(crate) async fn nia_login_mojeid(State(sim): State<Sim>, Path(flow): Path<String>) -> Response {
    if sim.outage() {
        return unavailable();
    }
    let Some((_, svc)) = login_of(&sim, &flow, false) else {
        return expired();
    };
    let (_, sso) = match idp_metadata(&sim).await {
        Ok(m) => m,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                page(
                    "Poskytovatel identity je nedostupný",
                    &format!("<p class=\"error\">{}</p>", esc(&e)),
                ),
            )
                .into_response()
        }
    };
    let id = crate::saml::new_id();
    let xml = match authn_request(&sim, &id, svc, &sso) {
        Ok(x) => x,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    };
    if let Some(f) = sim
        .0
        .logins
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(&flow)
    {
        f.request_id = Some(id);
    }
    auto_post(&sso, "SAMLRequest", &STANDARD.encode(xml), &flow)
}

pub(crate) fn auto_post(to: &str, field: &str, value: &str, relay: &str) -> Response {
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="cs"><head><meta charset="utf-8"><title>Přesměrování – NIA (simulátor)</title></head>
<body onload="document.forms[0].submit()">
<main><h1>Přesměrování k poskytovateli identity</h1>
<form method="post" action="{to}">
<input type="hidden" name="{field}" value="{value}"><input type="hidden" name="RelayState" value="{relay}">
<p>Pokud nebudete přesměrováni automaticky, pokračujte tlačítkem.</p>
<button type="submit">Pokračovat</button>
</form></main></body></html>"#,
        to = esc(to),
        relay = esc(relay),
    ))
    .into_response()
}

#[derive(Deserialize)]
pub(crate) struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// What NIA read from the identity provider's Response.
enum Read {
    Success { means_id: String, loa: String },
    Failure(String),
}

fn cipher_values(xml: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("CipherValue>") {
        let after = &rest[i + "CipherValue>".len()..];
        let Some(j) = after.find('<') else { break };
        if let Ok(b) = STANDARD.decode(after[..j].split_whitespace().collect::<String>()) {
            if !b.is_empty() {
                out.push(b);
            }
        }
        rest = &after[j..];
    }
    out
}

/// The identity provider's encrypted assertion, decrypted with NIA's key (RSA-OAEP for the
/// AES-256-CBC key; the IV is the first 16 bytes), its own signature verified with the
/// identity provider's certificate: the signed assertion.
fn decrypt_assertion(sim: &Sim, encrypted: &str, idp_cert: &[u8]) -> Result<String, String> {
    use openssl::rsa::Padding;
    if !encrypted.contains("http://www.w3.org/2001/04/xmlenc#aes256-cbc") {
        return Err("the assertion is not encrypted with AES-256-CBC".into());
    }
    let values = cipher_values(encrypted);
    let [wrapped, data] = values.as_slice() else {
        return Err("the encrypted assertion has no key and data".into());
    };
    let rsa = sim.0.signer.key.rsa().map_err(|e| e.to_string())?;
    let mut key = vec![0u8; rsa.size() as usize];
    let n = rsa
        .private_decrypt(wrapped, &mut key, Padding::PKCS1_OAEP)
        .map_err(|_| "the assertion's key is not for NIA".to_owned())?;
    key.truncate(n);
    if key.len() != 32 || data.len() < 32 {
        return Err("the assertion's key or data is malformed".into());
    }
    let (iv, ct) = data.split_at(16);
    let plain = openssl::symm::decrypt(openssl::symm::Cipher::aes_256_cbc(), &key, Some(iv), ct)
        .map_err(|_| "the assertion does not decrypt".to_owned())?;
    let xml = String::from_utf8(plain).map_err(|_| "the assertion is not text".to_owned())?;
    if xml.contains("<!DOCTYPE") {
        return Err("a document type declaration".into());
    }
    use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode};
    samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        &xml,
        &[CertificateDer::from(idp_cert.to_vec())],
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(&[AllowedSignatureAlgorithm::RsaSha256]),
    )
    .map_err(|_| "the assertion's signature does not verify".to_owned())
}

/// Checks the identity provider's Response as NIA does.
fn read_response(
    signed: &str,
    sim: &Sim,
    request_id: &str,
    idp_cert: &[u8],
) -> Result<Read, String> {
    let resp: samael::schema::Response = signed.parse().map_err(|e| format!("Response: {e}"))?;
    let us = &sim.0.config.sp_entity_id;
    if resp.issuer.as_ref().and_then(|i| i.value.as_deref()) != Some(us.as_str()) {
        return Err("unknown issuer".into());
    }
    if resp.destination.as_deref() != Some(acs_url(sim).as_str()) {
        return Err("wrong destination".into());
    }
    if resp.in_response_to.as_deref() != Some(request_id) {
        return Err("answers another request".into());
    }
    let t = now();
    let issued = resp.issue_instant.timestamp();
    if issued > t + 60 || issued < t - 300 {
        return Err("expired".into());
    }
    let status = resp
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.clone())
        .unwrap_or_default();
    if !status.ends_with(":status:Success") {
        let inner = ["RequestDenied", "NoAuthnContext", "AuthnFailed"]
            .into_iter()
            .find(|c| signed.contains(&format!(":status:{c}\"")))
            .unwrap_or("Responder");
        return Ok(Read::Failure(inner.into()));
    }
    // NIA's profile: the assertion arrives encrypted to NIA
    let encrypted = match (
        signed.find("<saml:EncryptedAssertion"),
        signed.find("</saml:EncryptedAssertion>"),
    ) {
        (Some(i), Some(j)) if i < j => &signed[i..j],
        _ => return Err("the assertion is not encrypted".into()),
    };
    let a: samael::schema::Assertion = decrypt_assertion(sim, encrypted, idp_cert)?
        .parse()
        .map_err(|e| format!("Assertion: {e}"))?;
    let a = &a;
    if a.issuer.value.as_deref() != Some(us.as_str()) {
        return Err("assertion from another issuer".into());
    }
    let c = a.conditions.as_ref().ok_or("no conditions")?;
    let until = c
        .not_on_or_after
        .map(|x| x.timestamp())
        .ok_or("no expiry")?;
    let from = c.not_before.map(|x| x.timestamp()).unwrap_or(i64::MIN);
    if t + 60 < from || t - 60 >= until {
        return Err("assertion expired".into());
    }
    let audience = c.audience_restrictions.as_ref().is_some_and(|rs| {
        !rs.is_empty() && rs.iter().all(|r| r.audience.iter().any(|x| x == ENTITY_ID))
    });
    if !audience {
        return Err("assertion for another audience".into());
    }
    let subject = a.subject.as_ref().ok_or("no subject")?;
    let confirmed = subject.subject_confirmations.iter().flatten().any(|sc| {
        sc.subject_confirmation_data.as_ref().is_some_and(|d| {
            d.recipient.as_deref() == Some(acs_url(sim).as_str())
                && d.in_response_to.as_deref() == Some(request_id)
                && d.not_on_or_after.is_some_and(|x| t - 60 < x.timestamp())
        })
    });
    if !confirmed {
        return Err("subject confirmation does not match".into());
    }
    let means_id = subject
        .name_id
        .as_ref()
        .map(|n| n.value.clone())
        .ok_or("no NameID")?;
    let loa = a
        .authn_statements
        .as_ref()
        .and_then(|s| s.first())
        .and_then(|s| s.authn_context.as_ref())
        .and_then(|c| c.value.as_ref())
        .and_then(|v| v.value.clone())
        .unwrap_or_default();
    Ok(Read::Success { means_id, loa })
}

/// The identity provider's Response for a login toward a service.
pub(crate) async fn mojeid_acs(State(sim): State<Sim>, Form(form): Form<AcsForm>) -> Response {
    if sim.outage() {
        return unavailable();
    }
    let Some((
        LoginFlow {
            request_id: Some(request_id),
            ..
        },
        svc,
    )) = login_of(&sim, &form.relay_state, true)
    else {
        return expired();
    };
    let (cert, _) = match idp_metadata(&sim).await {
        Ok(m) => m,
        Err(_) => return refused(&sim, svc, "mojeID", "invalid"),
    };
    let xml = match STANDARD
        .decode(form.saml_response.split_whitespace().collect::<String>())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(x) if !x.contains("<!DOCTYPE") => x,
        _ => return refused(&sim, svc, "mojeID", "invalid"),
    };
    let checked = {
        let sim = sim.clone();
        tokio::task::spawn_blocking(move || {
            use samael::crypto::{
                AllowedSignatureAlgorithm, CertificateDer, CryptoProvider, ReduceMode,
            };
            let signed = samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
                &xml,
                &[CertificateDer::from(cert.clone())],
                ReduceMode::ValidateAndMarkNoAncestors,
                Some(&[AllowedSignatureAlgorithm::RsaSha256]),
            )
            .map_err(|_| "the Response's signature does not verify".to_owned())?;
            read_response(&signed, &sim, &request_id, &cert)
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
    };
    match checked {
        Err(e) => {
            tracing::warn!(reason = %e, "nia-sim: the identity provider's Response is refused");
            refused(&sim, svc, "mojeID", "invalid")
        }
        Ok(Read::Failure(code)) => refused(&sim, svc, "mojeID", &code),
        Ok(Read::Success { means_id, loa }) => {
            let means = sim.with_state(|s| {
                s.means
                    .iter()
                    .find(|m| m.id == means_id && m.active)
                    .cloned()
            });
            let Some(means) = means else {
                return refused(&sim, svc, "mojeID", "means");
            };
            if loa_rank(&loa) < loa_rank(svc.loa) {
                return refused(&sim, svc, "mojeID", "loa");
            }
            let Some(citizen) = sim.citizen_by_bsi(&means.bsi) else {
                return refused(&sim, svc, "mojeID", "means");
            };
            logged_in(&sim, svc, &citizen.id, &loa, "mojeID")
        }
    }
}

/// The logins NIA recorded, per service, newest first.
pub fn logins_by_service(sim: &Sim) -> HashMap<String, Vec<LoginRecord>> {
    let mut out: HashMap<String, Vec<LoginRecord>> = HashMap::new();
    for r in sim.with_state(|s| s.logins.clone()).into_iter().rev() {
        out.entry(r.service.clone()).or_default().push(r);
    }
    out
}
