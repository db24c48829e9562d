//! `mojeid-server`: reads the configuration, prepares the database, starts the NIA simulator
//! (dev and test), the background jobs and the HTTP server, and stops gracefully on SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use server::{config::LogFormat, AppState, Config};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// Server-side rendering allocates for every element and attribute; with glibc's malloc that
/// was about a quarter of the server's CPU on a page (perf, `/login`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        if let [cmd, sub, user, role] = args.as_slice() {
            if cmd == "staff" && sub == "grant" {
                std::process::exit(grant(&config, user, role).await);
            }
        }
        if args.first().map(String::as_str) == Some("jobs") {
            std::process::exit(jobs(&config).await);
        }
        if args.first().map(String::as_str) == Some("deliveries") {
            std::process::exit(deliveries(&config, args.get(1).map(String::as_str)).await);
        }
        std::process::exit(command(&config, &args));
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_env_filter(filter)
            .init(),
        LogFormat::Pretty => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }
    if let Err(e) = run(config).await {
        tracing::error!(error = %e, "server stopped with an error");
        std::process::exit(1);
    }
}

/// Support: the server's verdict on a registration a user sent (a WebAuthn
/// `PublicKeyCredential` as JSON, or the JSON downloaded from the key check), as JSON.
fn analyze(config: &Config, file: &str) -> i32 {
    let now = idp::Clock::system().now();
    let document: serde_json::Value = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{file}: {e}");
            return 1;
        }
    };
    let metadata = match server::load_metadata(config, now) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match idp::keys::attestation::analyze(&document, &metadata, std::time::SystemTime::now()) {
        Ok(verdict) => match serde_json::to_string_pretty(&verdict) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        },
        Err(e) => {
            eprintln!("{file}: {e}");
            1
        }
    }
}

/// Operators: `staff grant USERNAME ROLE` makes an existing account helpdesk, back_office or
/// auditor (staff log in with password + security key).
async fn grant(config: &Config, username: &str, role: &str) -> i32 {
    let Some(role) = idp::staff::Role::parse(role) else {
        eprintln!("ROLE must be helpdesk, back_office or auditor");
        return 2;
    };
    let idp = match server::open_idp(config, idp::Clock::system()).await {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match idp.grant_role(username, role).await {
        Ok(()) => {
            println!("{username} is now {}", role.as_str());
            0
        }
        Err(idp::Error::NotFound) => {
            eprintln!("no account {username:?}");
            1
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// Support: `deliveries [CODE]` lists the population-register deliveries received (newest
/// first, or those for a pairing code), matched or kept unmatched, as JSON.
async fn deliveries(config: &Config, code: Option<&str>) -> i32 {
    match server::open_idp(config, idp::Clock::system()).await {
        Ok(idp) => print_json(idp.office_deliveries(code, 100).await),
        Err(e) => print_json::<()>(Err(e)),
    }
}

/// Operators: `jobs` lists the job queue's due, running and failed jobs (newest first) with
/// their attempts and last errors, as JSON.
async fn jobs(config: &Config) -> i32 {
    match server::open_idp(config, idp::Clock::system()).await {
        Ok(idp) => print_json(idp.jobs_overview(200).await),
        Err(e) => print_json::<()>(Err(e)),
    }
}

/// A command's answer as pretty JSON on stdout (exit 0), or its error on stderr (exit 1).
fn print_json<T: serde::Serialize>(result: Result<T, impl std::fmt::Display>) -> i32 {
    match result
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string()))
    {
        Ok(json) => {
            println!("{json}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// Operator commands: `mds import FILE`, `analyze FILE.json`.
fn command(config: &Config, args: &[String]) -> i32 {
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["mds", "import", file] => {
            let now = idp::Clock::system().now();
            match server::mds_import::import(config, file, now) {
                Ok(done) => {
                    println!(
                        "imported FIDO metadata BLOB no. {} ({} models, next update {}{}) into {}; \
                         running servers switch to it within a minute",
                        done.serial,
                        done.models,
                        done.next_update,
                        if done.stale { ", already STALE" } else { "" },
                        config.mds_blob_path
                    );
                    if let Some(previous) = done.previous_serial {
                        println!("it replaces BLOB no. {previous}");
                    }
                    0
                }
                Err(e) => {
                    eprintln!("not imported: {e}");
                    1
                }
            }
        }
        ["analyze", file] => analyze(config, file),
        _ => {
            eprintln!(
                "usage: mojeid-server [mds import FILE | analyze FILE.json | deliveries [CODE] | jobs | staff grant USERNAME ROLE]"
            );
            2
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(
        mode = ?config.mode,
        database = %server::config::redact(&config.database_url),
        "starting"
    );
    let idp = server::build_idp(&config, idp::Clock::system()).await?;
    if config.seed_demo && server::seed::demo_account(&idp).await? {
        tracing::info!(
            username = server::seed::DEMO_USERNAME,
            "demo account created"
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);

    if let Some(addr) = config.nia_sim_addr {
        let mut rx = stop_rx.clone();
        let stopped = async move {
            let _ = rx.changed().await;
        };
        let nia = config.nia();
        let sim = nia_sim::Sim::open(nia_sim::SimConfig {
            data_dir: std::path::Path::new(&config.data_dir).join("nia-sim"),
            base_url: config.nia_base_url.trim_end_matches('/').to_owned(),
            sp_entity_id: nia.sp_entity_id.clone(),
            sp_metadata_url: nia.sp_entity_id.clone(),
            api_token: config.nia_api_token.clone(),
            intake_url: format!("{}/intake/rob", config.public_url.trim_end_matches('/')),
            intake_token: config.intake_token.clone(),
        })
        .map_err(|e| format!("nia-sim data in DATA_DIR={}: {e}", config.data_dir))?;
        let sim = tokio::spawn(nia_sim::serve(addr, sim, stopped));
        // a port already taken is a start-up error, not a silent half-start
        tokio::time::sleep(Duration::from_millis(100)).await;
        if sim.is_finished() {
            match sim.await {
                Ok(Err(e)) => return Err(format!("nia-sim on {addr}: {e}").into()),
                Ok(Ok(())) => return Err(format!("nia-sim on {addr} stopped at start").into()),
                Err(e) => return Err(format!("nia-sim on {addr}: {e}").into()),
            }
        }
    }

    let transports = idp::outbox::Transports {
        mail: match &config.smtp_url {
            Some(url) => Some(
                idp::outbox::Mailer::from_url(url, &config.mail_from)
                    .map_err(|e| format!("SMTP_URL/MAIL_FROM: {e}"))?,
            ),
            None => None,
        },
        sms: match &config.sms_gateway_url {
            Some(url) => Some(
                idp::outbox::SmsGateway::new(url, &config.sms_gateway_token, &config.sms_sender)
                    .map_err(|e| format!("SMS_GATEWAY_URL: {e}"))?,
            ),
            None => None,
        },
    };
    let jobs = server::jobs::spawn(
        idp.clone(),
        transports,
        Arc::new(config.clone()),
        stop_rx.clone(),
    );

    let state = AppState {
        leptos_options: Arc::new(server::leptos_options(&config)),
        idp: Arc::new(idp),
        config: Arc::new(config.clone()),
    };
    let app = server::router(state);
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| format!("BIND_ADDR={}: {e}", config.bind_addr))?;
    println!();
    println!("  mojeID           {}/", config.public_url);
    if config.dev_tools() {
        println!("  outbox (dev)     {}/dev/outbox", config.public_url);
    }
    if let Some(addr) = config.nia_sim_addr {
        println!("  NIA simulator    http://{addr}/");
        println!(
            "  NIA sim admin    http://{addr}/admin   (test citizens, logins, registry changes, outage)"
        );
        println!(
            "  Citizen Portal   http://{addr}/sluzby/portal   (log in through NIA with mojeID: LoA substantial)"
        );
        println!("  Tax filing (EPO) http://{addr}/sluzby/epo   (LoA high)");
    }
    if config.seed_demo {
        println!(
            "  demo account     {} / {}",
            server::seed::DEMO_USERNAME,
            server::seed::DEMO_PASSWORD
        );
    }
    println!();

    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let shutdown = async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stop_tx.send(true);
        // after the grace period, stop waiting for slow clients
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            tracing::warn!("grace period over, exiting");
            std::process::exit(0);
        });
    };
    // TCP_NODELAY on every accepted connection: a response written in two pieces (headers,
    // then a file's body) otherwise waits for the client's delayed ACK, ~40 ms on a
    // kept-alive connection (Nagle)
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    let _ = jobs.await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
