//! `nia-sim` on its own: `NIA_SIM_ADDR` (default 127.0.0.1:3001).

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let raw = std::env::var("NIA_SIM_ADDR").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let addr: SocketAddr = match raw.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("NIA_SIM_ADDR={raw:?} is not a socket address (like 127.0.0.1:3001): {e}");
            std::process::exit(2);
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = nia_sim::serve(addr, nia_sim::Sim::default(), shutdown).await {
        eprintln!("nia-sim could not serve on {addr}: {e}");
        std::process::exit(1);
    }
}
