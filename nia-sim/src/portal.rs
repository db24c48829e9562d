//! NIA's portal toward a service provider: its SAML metadata, the SSO endpoint taking a signed
//! AuthnRequest (HTTP-Redirect), the citizen's choice of means, the eObčanka login with a test
//! card and PIN, the consent, and the signed Response posted back to the service provider.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::saml;

use crate::state::{Flow, Sim};
use crate::{esc, page, unavailable};

pub(crate) async fn metadata(State(sim): State<Sim>) -> Response {
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

pub(crate) async fn sso(State(sim): State<Sim>, RawQuery(query): RawQuery) -> Response {
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

pub(crate) async fn card_form(State(sim): State<Sim>, Path(flow): Path<String>) -> Response {
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
pub(crate) struct CardForm {
    pub(crate) card: String,
    pub(crate) pin: String,
}

pub(crate) async fn card_login(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let Some(mut flow) = take_flow(&sim, &id) else {
        return expired();
    };
    match sim.card_holder(&form.card, &form.pin) {
        Some(c) => {
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
pub(crate) struct OtherForm {
    means: String,
}

pub(crate) async fn other_means(
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
pub(crate) struct ConsentForm {
    answer: String,
}

pub(crate) async fn consent(
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
