//! The simulator's own administration: the test population, editing a citizen's registry data
//! (which records a change notification), the logins to the services per service, and the
//! outage switch; `/admin/api/*` for tests.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use crate::population::{self, Address};

use crate::state::{CitizenPatch, Sim};
use crate::{esc, page};

pub(crate) async fn admin_page(State(sim): State<Sim>) -> Html<String> {
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
    let by_service = crate::services::logins_by_service(&sim);
    let logins: String = crate::services::SERVICES
        .iter()
        .map(|svc| {
            let rows: String = by_service
                .get(svc.id)
                .map(|v| v.as_slice())
                .unwrap_or_default()
                .iter()
                .take(50)
                .map(|r| {
                    let who = r
                        .citizen
                        .as_ref()
                        .and_then(|id| citizens.iter().find(|c| &c.id == id))
                        .map(|c| format!("{} {}", c.given_name, c.family_name))
                        .unwrap_or_else(|| "–".into());
                    let at = time::OffsetDateTime::from_unix_timestamp(r.at)
                        .map(|t| format!("{} {:02}:{:02}:{:02} UTC", t.date(), t.hour(), t.minute(), t.second()))
                        .unwrap_or_default();
                    format!(
                        "<tr><td>{at}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&r.means),
                        esc(&r.outcome),
                        esc(&who)
                    )
                })
                .collect();
            let rows = if rows.is_empty() {
                "<tr><td colspan=\"4\">Žádná přihlášení.</td></tr>".to_owned()
            } else {
                rows
            };
            format!(
                r#"<h3>{name}</h3><table><thead><tr><th>Kdy</th><th>Prostředek</th><th>Výsledek</th><th>Osoba</th></tr></thead><tbody>{rows}</tbody></table>"#,
                name = esc(svc.name)
            )
        })
        .collect();
    page(
        "Správa simulátoru",
        &format!(
            r#"<h2>Výpadek NIA</h2><p id="outage-state">{state}</p>
<form method="post" action="/admin/outage"><input type="hidden" name="on" value="{next}"><button type="submit">{label}</button></form>
<h2>Testovací obyvatelé</h2>
<p>IOK (PIN) všech průkazů je 123456. Změna údajů propojené osoby se ohlásí poskytovateli identity.</p>
<table><thead><tr><th>Průkaz</th><th>Důvod odmítnutí</th><th>Aktivní prostředky</th><th>Údaje v registru</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Přihlášení ke službám</h2>{logins}"#
        ),
    )
}

#[derive(Deserialize)]
pub(crate) struct OutageForm {
    on: String,
}

pub(crate) async fn admin_outage(State(sim): State<Sim>, Form(f): Form<OutageForm>) -> Redirect {
    sim.set_outage(f.on == "1");
    Redirect::to("/admin")
}

pub(crate) async fn admin_citizen(
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
pub(crate) struct OutageJson {
    on: bool,
}

pub(crate) async fn admin_api_outage(
    State(sim): State<Sim>,
    Json(o): Json<OutageJson>,
) -> Json<serde_json::Value> {
    sim.set_outage(o.on);
    Json(serde_json::json!({ "outage": sim.outage() }))
}

pub(crate) async fn admin_api_citizens(State(sim): State<Sim>) -> Json<serde_json::Value> {
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

/// The logins NIA recorded, per service (for tests).
pub(crate) async fn admin_api_logins(State(sim): State<Sim>) -> Json<serde_json::Value> {
    Json(serde_json::json!(crate::services::logins_by_service(&sim)))
}

pub(crate) async fn admin_api_citizen(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    Json(p): Json<CitizenPatch>,
) -> Response {
    match sim.update_citizen(&id, &p) {
        Some(c) => Json(c).into_response(),
        None => (StatusCode::NOT_FOUND, "no such citizen").into_response(),
    }
}
