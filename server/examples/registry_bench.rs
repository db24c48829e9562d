//! The population register's change notifications, applied in bulk, for `./x bench`: COUNT
//! linked accounts (profile, verified e-mail, NIA link), the simulator holding one change of
//! each, and `Idp::apply_registry_changes` timed as the job runs it — fetched through the
//! real NIA client, every change audited and mailed. The baseline, on the same database in the
//! same run, is the floor of the storage: one transaction of COUNT single-row profile updates.
//!
//! `cargo run --release -p server --example registry_bench -- DATABASE_URL COUNT`
//!
//! The database must be fresh (migrated here); prints two JSON lines.

use std::time::Instant;

use idp::account::password::Hasher;
use idp::nia::client::{load_sp_identity, NiaClient, NiaConfig};
use idp::{Clock, Db, Idp, Policy};
use serde_json::json;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("registry_bench: {e}");
        std::process::exit(1);
    }
}

type Failure = Box<dyn std::error::Error>;

async fn run() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: registry_bench DATABASE_URL COUNT".into());
    };
    let count: i64 = count.parse()?;
    let dir = std::env::temp_dir().join(format!("mojeid-registry-bench-{}", std::process::id()));
    let result = bench(&url, count, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(url: &str, count: i64, dir: &std::path::Path) -> Result<(), Failure> {
    let db = Db::connect(url, 10).await?;
    let idp = Idp::new(db, Hasher::new(1, 0)?, Clock::system(), Policy::default());
    seed(&idp, count).await?;

    // the simulator, holding one change per linked person, on a loopback port of its own
    let sim_dir = dir.join("nia-sim");
    std::fs::create_dir_all(&sim_dir)?;
    let changes: Vec<_> = (0..count)
        .map(|n| {
            json!({
                "seq": n + 1, "bsi": bsi(n), "given_name": "Jana", "family_name": format!("Nová{n}"),
                "birth_date": "1985-03-14", "birth_place": "Praha",
                "address": { "street": "Květná", "number": "12", "city": "Brno", "postcode": "60200" },
            })
        })
        .collect();
    std::fs::write(
        sim_dir.join("state.json"),
        serde_json::to_vec(&json!({ "citizens": [], "means": [], "changes": changes }))?,
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_addr = listener.local_addr()?;
    let sim = nia_sim::Sim::open(nia_sim::SimConfig {
        data_dir: sim_dir,
        base_url: format!("http://{sim_addr}"),
        sp_entity_id: "http://127.0.0.1/saml/metadata".into(),
        sp_metadata_url: "http://127.0.0.1/saml/metadata".into(),
        api_token: "bench-token".into(),
        intake_url: "http://127.0.0.1/intake/rob".into(),
        intake_token: "bench-intake".into(),
    })?;
    tokio::spawn(async move { axum::serve(listener, nia_sim::router(sim)).await });
    let (key, cert) = load_sp_identity(&dir.join("sp"), true)?;
    idp.set_nia(NiaClient::new(
        NiaConfig {
            sso_url: format!("http://{sim_addr}/FPSTS/saml2/basic"),
            metadata_url: format!(
                "http://{sim_addr}/FPSTS/FederationMetadata/2007-06/FederationMetadata.xml"
            ),
            api_url: format!("http://{sim_addr}/idp-api"),
            api_token: "bench-token".into(),
            sp_entity_id: "http://127.0.0.1/saml/metadata".into(),
            acs_url: "http://127.0.0.1/nia/acs".into(),
            idp_sso_url: "http://127.0.0.1/saml/idp/sso".into(),
            login_acs_url: format!("http://{sim_addr}/FPSTS/mojeid/acs"),
            signing_cert_pins: Vec::new(),
        },
        key,
        cert,
    )?);

    let started = Instant::now();
    let applied = idp.apply_registry_changes().await?;
    let ours = started.elapsed();
    if applied as i64 != count {
        return Err(format!("{applied} of {count} changes applied").into());
    }

    let started = Instant::now();
    let mut tx = idp.db.pool.begin().await?;
    for n in 0..count {
        sqlx::query(
            "UPDATE profiles SET last_name = $1, updated_at = $2 WHERE account_id = (SELECT id FROM accounts WHERE username = $3)",
        )
        .bind(format!("Stará{n}"))
        .bind(n)
        .bind(username(n))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let floor = started.elapsed();

    println!(
        "{}",
        json!({ "label": "registry changes", "count": count, "ms": ours.as_secs_f64() * 1e3 })
    );
    println!(
        "{}",
        json!({ "label": "registry baseline updates", "count": count, "ms": floor.as_secs_f64() * 1e3 })
    );
    Ok(())
}

fn username(n: i64) -> String {
    format!("registry{n}")
}

fn bsi(n: i64) -> String {
    format!("bench-bsi-{n}")
}

/// COUNT accounts, each with a profile the register will change, a verified e-mail (the notice
/// goes there) and an NIA link; in statements of up to 5,000 rows.
async fn seed(idp: &Idp, count: i64) -> Result<(), Failure> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let series = "WITH RECURSIVE s(n) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $2)";
    let account = "(SELECT id FROM accounts WHERE username = 'registry' || CAST(n AS TEXT))";
    let statements = [
        format!(
            "{series} INSERT INTO accounts (username, password_hash, state, created_at) \
             SELECT 'registry' || CAST(n AS TEXT), 'none', 'active', $3 FROM s"
        ),
        format!(
            "{series} INSERT INTO profiles (account_id, first_name, last_name, birth_date, country, updated_at) \
             SELECT {account}, 'Jana', 'Stará', '1985-03-14', 'CZ', $3 FROM s"
        ),
        format!(
            "{series} INSERT INTO contacts (account_id, email, email_verified_at, updated_at) \
             SELECT {account}, 'registry' || CAST(n AS TEXT) || '@example.cz', $3, $3 FROM s"
        ),
        format!(
            "{series} INSERT INTO nia_links (account_id, bsi, method, loa, linked_at) \
             SELECT {account}, 'bench-bsi-' || CAST(n AS TEXT), 'eobcanka', 'http://eidas.europa.eu/LoA/substantial', $3 FROM s"
        ),
    ];
    for statement in &statements {
        let mut from = 0;
        while from < count {
            let to = (from + 5_000).min(count);
            sqlx::query(statement)
                .bind(from)
                .bind(to)
                .bind(now)
                .execute(&idp.db.pool)
                .await?;
            from = to;
        }
    }
    Ok(())
}
