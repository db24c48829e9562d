//! Simulator of the systems the product cannot reach: NIA (the national identity hub), Czech
//! POINT, the population register (ROB) and a government service. It stands for other
//! organisations, so it shares no code with the product, which reaches it only over HTTP.
//!
//! For now it serves its status page and a health check on its own port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};

#[derive(Clone, Default)]
pub struct Sim {
    outage: Arc<AtomicBool>,
}

impl Sim {
    pub fn outage(&self) -> bool {
        self.outage.load(Ordering::SeqCst)
    }
}

pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/status.json", get(status_json))
        .with_state(sim)
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
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="cs">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulátor NIA</title></head>
<body>
<main>
<h1>Simulátor NIA, Czech POINT a registru obyvatel</h1>
<p>Tato služba zastupuje systémy veřejné správy, které vývojové a testovací prostředí nemůže použít.</p>
<h2>Stav</h2>
<p id="state">{state}</p>
</main>
</body>
</html>"#
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn status_page_names_the_state() {
        let res = router(Sim::default())
            .oneshot(
                Request::get("/")
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("V provozu"), "{text}");
    }
}
