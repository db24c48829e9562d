//! The server binary as an operator runs it: configuration errors at start, readiness, and
//! SIGTERM letting requests in flight finish.

use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_mojeid-server");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One HTTP/1.1 request over a fresh connection; returns the status line and the body.
async fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    stream.read_to_string(&mut out).await.expect("read");
    out
}

#[test]
fn bad_configuration_names_every_bad_variable_and_exits_2() {
    let out = Command::new(BIN)
        .env("APP_MODE", "staging")
        .env("BIND_ADDR", "nowhere")
        .env("DATABASE_URL", "mysql://root:hunter2@db/x")
        .output()
        .expect("run server");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in ["APP_MODE", "BIND_ADDR", "DATABASE_URL"] {
        assert!(err.contains(name), "{name} not named in: {err}");
    }
    assert!(!err.contains("hunter2"), "secret printed: {err}");
}

#[test]
fn without_app_mode_the_server_starts_as_production_or_says_what_to_set() {
    // a deployment that forgot APP_MODE must not get the dev tools, the demo account or
    // the simulator: it is a production start, refused for what production lacks
    let out = Command::new(BIN)
        .env_remove("APP_MODE")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .expect("run server");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in [
        "APP_MODE is not set",
        "PUBLIC_URL",
        "SMTP_URL",
        "SMS_GATEWAY_URL",
        "NIA_SIGNING_CERT_SHA256",
    ] {
        assert!(err.contains(name), "{name} not named in: {err}");
    }
    // and production refuses the demo data outright
    let out = Command::new(BIN)
        .env("APP_MODE", "production")
        .env("SEED_DEMO", "true")
        .output()
        .expect("run server");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEED_DEMO"));
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish() {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("mojeid-proc-{port}-{}", std::process::id()));
    let mut child = Command::new(BIN)
        .env("APP_MODE", "test")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("NIA_SIM_ADDR", "")
        .env("DATA_DIR", dir.join("data"))
        .env("SEED_DEMO", "true")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
        )
        .env("RUST_LOG", "warn")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let mut ready = false;
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            let res = http(
                port,
                "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            if res.starts_with("HTTP/1.1 200") {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "server did not become ready");

    // a login takes an argon2id verification: long enough to be in flight at SIGTERM
    let body = "username=demo&password=not+the+password+at+all&next=";
    let origin = format!("http://127.0.0.1:{port}");
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let in_flight = tokio::spawn(async move { http(port, &request).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let response = in_flight.await.expect("join");
    assert!(
        response.starts_with("HTTP/1.1 401"),
        "in-flight request was cut off: {response:?}"
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "exit status {status:?}");
    // new connections are refused once it has stopped
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn analyze_gives_support_the_same_verdict_as_the_server() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let vector = format!("{root}/fido/vectors/webauthn-rs__test_registration_yk.json");
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&vector).expect("vector")).expect("json");
    let file = std::env::temp_dir().join(format!("analyze-{}.json", std::process::id()));
    std::fs::write(&file, document["credential"].to_string()).expect("write");
    // with the server's environment; here that of development (the shipped BLOB is stale,
    // which only dev and test accept)
    let out = Command::new(BIN)
        .arg("analyze")
        .arg(&file)
        .env("APP_MODE", "test")
        .current_dir(root)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: idp::keys::attestation::Verdict =
        serde_json::from_slice(&out.stdout).expect("verdict JSON");
    let metadata = idp::keys::mds::Metadata::load(
        &std::fs::read_to_string(format!("{root}/fido/mds/blob.jwt")).expect("blob"),
        &std::fs::read(format!("{root}/fido/mds/root-r3.crt")).expect("root"),
        idp::keys::mds::Staleness::Allow,
        idp::Clock::system().now(),
    )
    .expect("metadata");
    let expected = idp::keys::attestation::analyze(
        &document["credential"],
        &metadata,
        std::time::SystemTime::now(),
    )
    .expect("verdict");
    assert_eq!(printed, expected);
    assert_eq!(
        (printed.model.as_deref(), printed.nia_eligible),
        (Some("YubiKey 5 Series"), true)
    );

    // garbage is refused with a reason, not a panic
    std::fs::write(&file, "{\"id\": 1}").expect("write");
    // with the server's environment; here that of development (the shipped BLOB is stale,
    // which only dev and test accept)
    let out = Command::new(BIN)
        .arg("analyze")
        .arg(&file)
        .env("APP_MODE", "test")
        .current_dir(root)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clientDataJSON"));
    let _ = std::fs::remove_file(file);
}

#[test]
fn the_jobs_command_shows_the_queue_as_json() {
    let dir = std::env::temp_dir().join(format!("jobs-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}/app.db?mode=rwc", dir.display());
    let run = || {
        Command::new(BIN)
            .arg("jobs")
            .env("APP_MODE", "test")
            .env("DATABASE_URL", &url)
            .env("DATA_DIR", &dir)
            .output()
            .expect("run")
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let empty: Vec<idp::jobs::JobRow> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(empty.is_empty());
    // a job that failed, as the queue keeps it
    insert_failed_job(&dir);
    let out = run();
    let listed: Vec<idp::jobs::JobRow> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].state.as_str(), listed[0].last_error.as_deref()),
        ("failed", Some("NIA refused: NOT_FOUND"))
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Writes one failed job into the command's database, as the server would leave it.
fn insert_failed_job(dir: &std::path::Path) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let db = idp::Db::connect(&format!("sqlite://{}/app.db", dir.display()), 1)
            .await
            .expect("db");
        sqlx::query(
            "INSERT INTO jobs (kind, payload, state, run_at, attempts, last_error, created_at) \
             VALUES ('complete_pairing', '{\"request\":1}', 'failed', 0, 6, 'NIA refused: NOT_FOUND', 0)",
        )
        .execute(&db.pool)
        .await
        .expect("job");
        db.pool.close().await;
    });
}
