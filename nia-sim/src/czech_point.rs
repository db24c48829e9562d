//! Czech POINT: the officer's console where an in-person identity check files the citizen's
//! pairing code, and the deliveries of the population register's data that follow.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use crate::state::Sim;
use crate::{esc, page};

pub(crate) async fn officer_page(
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
pub(crate) struct OfficerForm {
    card: String,
    message: String,
}

pub(crate) async fn officer_file(State(sim): State<Sim>, Form(f): Form<OfficerForm>) -> Redirect {
    match sim.file_office_request(&f.card, &f.message) {
        Some(_) => Redirect::to("/czechpoint?done=filed"),
        None => Redirect::to("/czechpoint?done=unknown"),
    }
}

pub(crate) async fn officer_release(State(sim): State<Sim>) -> Redirect {
    let (n, left) = sim.release_queue().await;
    Redirect::to(&format!("/czechpoint?done=released&n={n}&left={left}"))
}

pub(crate) async fn officer_api_file(
    State(sim): State<Sim>,
    Json(f): Json<serde_json::Value>,
) -> Response {
    let card = f["card"].as_str().unwrap_or_default();
    let message = f["message"].as_str().unwrap_or_default();
    match sim.file_office_request(card, message) {
        Some(q) => Json(q).into_response(),
        None => (StatusCode::NOT_FOUND, "no such card").into_response(),
    }
}

pub(crate) async fn officer_api_release(State(sim): State<Sim>) -> Json<serde_json::Value> {
    let (delivered, left) = sim.release_queue().await;
    Json(serde_json::json!({ "delivered": delivered, "left": left }))
}
