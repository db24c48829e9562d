//! Runs each integration test on SQLite and, when configured, on PostgreSQL.

#![allow(dead_code)]

use idp::account::password::Hasher;
use idp::testing::TempDatabase;
use idp::{Clock, Db, Idp, Policy, RequestInfo};

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
    db: TempDatabase,
}

async fn on(db: TempDatabase) -> TestDb {
    let pool = Db::connect(&db.url, 4).await.expect("connect and migrate");
    let hasher = Hasher::new(2, 64).expect("hasher");
    TestDb {
        idp: Idp::new(pool, hasher, Clock::manual(START), Policy::default()),
        db,
    }
}

pub async fn sqlite() -> TestDb {
    on(TempDatabase::sqlite()).await
}

pub async fn postgres() -> Option<TestDb> {
    Some(on(TempDatabase::postgres().await?).await)
}

impl TestDb {
    pub async fn close(self) {
        self.idp.db.pool.close().await;
        self.db.drop_now().await;
    }
}

/// Declares `NAME::sqlite` and `NAME::postgres` tests running `body(idp)`.
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

/// A login made just now with the password (the fresh login contact changes ask for).
pub fn fresh(idp: &idp::Idp) -> Vec<idp::account::sessions::AuthRecord> {
    vec![idp::account::sessions::AuthRecord {
        method: idp::account::sessions::AuthMethod::Password,
        at: idp.clock.now(),
    }]
}
