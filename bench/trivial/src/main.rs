//! The baseline app's server: `BIND_ADDR` (127.0.0.1:3100) and `SITE_ROOT`.

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use trivial_leptos::{shell, App};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::var("BIND_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3100".into())
        .parse()
        .map_err(std::io::Error::other)?;
    let site_root = std::env::var("SITE_ROOT").unwrap_or_else(|_| "target/trivial-site".into());
    let options = LeptosOptions::builder()
        .output_name("trivial")
        .site_root(site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service(
            "/pkg",
            tower_http::services::ServeDir::new(format!("{site_root}/pkg")).precompressed_br(),
        )
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
