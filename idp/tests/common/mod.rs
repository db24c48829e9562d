//! Runs each integration test on SQLite (a fresh file) and on PostgreSQL (a fresh database
//! created on the server named by `DATABASE_URL_PG`, dropped afterwards).

#![allow(dead_code)]

use idp::password::Hasher;
use idp::{Clock, Db, Idp, Policy, RequestInfo};
use sqlx::Connection;

/// 2026-11-25 10:00:00 UTC
pub const START: i64 = 1_795_600_800;

pub fn req(ip: &str) -> RequestInfo {
    RequestInfo {
        ip: ip.into(),
        user_agent: "integration-test".into(),
    }
}

pub struct TestDb {
    pub idp: Idp,
    cleanup: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

fn idp_on(db: Db) -> Idp {
    let hasher = Hasher::new(2, 64).expect("hasher");
    Idp::new(db, hasher, Clock::manual(START), Policy::default())
}

pub async fn sqlite() -> TestDb {
    let file = std::env::temp_dir().join(format!("idp-test-{}.db", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let db = Db::connect(&url, 4).await.expect("sqlite");
    TestDb {
        idp: idp_on(db),
        cleanup: None,
        file: Some(file),
    }
}

/// `None` when no PostgreSQL is configured: the test command sets `DATABASE_URL_PG`
/// whenever a server answers on 127.0.0.1:5432.
pub async fn postgres() -> Option<TestDb> {
    let admin = std::env::var("DATABASE_URL_PG").ok()?;
    let name = format!("idp_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to DATABASE_URL_PG");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("DATABASE_URL_PG needs a database path"),
    };
    let db = Db::connect(&url, 4).await.expect("postgres");
    Some(TestDb {
        idp: idp_on(db),
        cleanup: Some((admin, name)),
        file: None,
    })
}

impl TestDb {
    pub async fn close(self) {
        self.idp.db.pool.close().await;
        if let Some((admin, name)) = self.cleanup {
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop test database");
        }
        if let Some(file) = self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// Declares `NAME_sqlite` and `NAME_postgres` tests running `body(idp)`.
#[macro_export]
macro_rules! both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let t = common::sqlite().await;
                ($body)(t.idp.clone()).await;
                t.close().await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(t) = common::postgres().await else {
                    eprintln!("PostgreSQL not configured (DATABASE_URL_PG): skipped");
                    return;
                };
                ($body)(t.idp.clone()).await;
                t.close().await;
            }
        }
    };
}
