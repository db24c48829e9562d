//! `nia-sim` on its own. Environment (with defaults):
//! `NIA_SIM_ADDR` (127.0.0.1:3001), `NIA_SIM_URL` (http://NIA_SIM_ADDR),
//! `NIA_SIM_DATA_DIR` (data/nia-sim), `NIA_SP_ENTITY_ID` and `NIA_SP_METADATA_URL`
//! (http://localhost:3000/saml/metadata), `NIA_API_TOKEN` (dev-nia-token).

use std::net::SocketAddr;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let env = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_owned())
    };
    let raw = env("NIA_SIM_ADDR", "127.0.0.1:3001");
    let addr: SocketAddr = match raw.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("NIA_SIM_ADDR={raw:?} is not a socket address (like 127.0.0.1:3001): {e}");
            std::process::exit(2);
        }
    };
    let sp_metadata = env("NIA_SP_METADATA_URL", "http://localhost:3000/saml/metadata");
    let config = nia_sim::SimConfig {
        data_dir: env("NIA_SIM_DATA_DIR", "data/nia-sim").into(),
        base_url: env("NIA_SIM_URL", &format!("http://{addr}")),
        sp_entity_id: env("NIA_SP_ENTITY_ID", &sp_metadata),
        sp_metadata_url: sp_metadata,
        api_token: env("NIA_API_TOKEN", "dev-nia-token"),
        intake_url: env("NIA_SP_INTAKE_URL", "http://localhost:3000/intake/rob"),
        intake_token: env("INTAKE_TOKEN", "dev-intake-token-0000"),
    };
    let sim = match nia_sim::Sim::open(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nia-sim cannot open its data directory: {e}");
            std::process::exit(1);
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = nia_sim::serve(addr, sim, shutdown).await {
        eprintln!("nia-sim could not serve on {addr}: {e}");
        std::process::exit(1);
    }
}
