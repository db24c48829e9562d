//! Accounts for `./x bench`: `bench0` … `bench{N-1}`, all with the same password. The first
//! is made through the product (`Idp::create_account`, one argon2id hash); the others copy its
//! row's hash in one statement, so a million accounts take seconds, not a day of hashing.
//!
//! `cargo run --release -p server --example bench_seed -- DATABASE_URL COUNT PASSWORD`
//!
//! Running it again on the same database adds the accounts that are missing.

use idp::account::password::Hasher;
use idp::{Clock, Db, Idp, Policy, RequestInfo};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("bench_seed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(count), Some(password)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: bench_seed DATABASE_URL COUNT PASSWORD".into());
    };
    let count: i64 = count.parse()?;
    let db = Db::connect(&url, 2).await?;
    let idp = Idp::new(db, Hasher::new(1, 0)?, Clock::system(), Policy::default());
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE username = 'bench0'")
        .fetch_one(&idp.db.pool)
        .await?;
    if have == 0 {
        idp.create_account("bench0", &password, &RequestInfo::default())
            .await?;
    }
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = 'bench0'")
            .fetch_one(&idp.db.pool)
            .await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&idp.db.pool)
        .await?;
    // numbers from the ones already there, in batches (SQLite's recursion and one
    // PostgreSQL statement both stay small)
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut from = existing.max(1);
    while from < count {
        let to = (from + 100_000).min(count);
        sqlx::query(
            "WITH RECURSIVE s(n) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $2) \
             INSERT INTO accounts (username, password_hash, state, created_at) \
             SELECT 'bench' || CAST(n AS TEXT), $3, 'active', $4 FROM s",
        )
        .bind(from)
        .bind(to)
        .bind(&hash)
        .bind(now)
        .execute(&idp.db.pool)
        .await?;
        from = to;
    }
    println!("{count} accounts");
    Ok(())
}
