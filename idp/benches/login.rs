//! Login cost against its floor: one argon2id verification. DESIGN.md asks that a login
//! reaches at least 0.85x the rate argon2id alone allows; compare the two numbers of one run.
//!
//! The third number is a login while a flood of 2FA-reset answers runs beside it (forged
//! tickets from ever new addresses, and reset password checks filling recovery's own share of
//! the hash pool): it should stay near the second, since the flood never takes the logins'
//! share.
//!
//! `cargo bench -p idp --bench login`

use criterion::{criterion_group, criterion_main, Criterion};
use idp::account::password::Hasher;
use idp::testing::TempDatabase;
use idp::{Clock, Db, Idp, Policy, RequestInfo};

const PW: &str = "kobyla ma maly bok u potoka";
const ORIGIN: &str = "http://localhost:3000";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = TempDatabase::sqlite();
    let idp = rt.block_on(async {
        let pool = Db::connect(&db.url, 4).await.expect("db");
        let idp = Idp::new(
            pool,
            Hasher::new(1, 64).expect("hasher"),
            Clock::system(),
            Policy::default(),
        );
        idp.create_account("bench", PW, &RequestInfo::default())
            .await
            .expect("account");
        idp
    });
    let hash: String = rt.block_on(async {
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = 'bench'")
            .fetch_one(&idp.db.pool)
            .await
            .expect("hash")
    });
    let req = RequestInfo {
        ip: "10.0.0.1".into(),
        user_agent: "bench".into(),
    };
    let mut group = c.benchmark_group("login");
    group.sample_size(30);
    group.bench_function("argon2id verify alone (baseline)", |b| {
        b.iter(|| {
            rt.block_on(idp.hasher.verify(PW.into(), Some(hash.clone())))
                .expect("verify")
        })
    });
    group.bench_function("full login on SQLite", |b| {
        b.iter(|| {
            rt.block_on(idp.login("bench", PW, None, ORIGIN, &req))
                .expect("login")
        })
    });
    // the flood: 32 tasks of forged reset answers and 8 of reset password checks, until done
    let flooding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut flood = Vec::new();
    for task in 0..40u32 {
        let idp = idp.clone();
        let flooding = flooding.clone();
        let sent = sent.clone();
        let hash = hash.clone();
        flood.push(rt.spawn(async move {
            let mut n = 0u32;
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                if task < 32 {
                    let from = RequestInfo {
                        ip: format!("10.{}.{}.{}", task, n / 250 % 250, n % 250),
                        user_agent: "flood".into(),
                    };
                    let _ = idp
                        .finish_2fa_reset(&format!("forged-{task}-{n}"), "1", "2", PW, &from)
                        .await;
                } else {
                    let _ = idp
                        .hasher
                        .verify_for_recovery(PW.into(), Some(hash.clone()))
                        .await;
                }
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // each flood request is one more task among the others, as requests are
                // (a refusal that costs nothing must not spin a worker thread here)
                tokio::task::yield_now().await;
            }
        }));
    }
    group.bench_function("full login during a 2FA-reset flood", |b| {
        b.iter(|| {
            rt.block_on(idp.login("bench", PW, None, ORIGIN, &req))
                .expect("login served")
        })
    });
    flooding.store(false, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        let _ = rt.block_on(f);
    }
    eprintln!(
        "reset answers sent during the flood: {}",
        sent.load(std::sync::atomic::Ordering::Relaxed)
    );
    group.finish();
    rt.block_on(async {
        idp.db.pool.close().await;
        db.drop_now().await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
