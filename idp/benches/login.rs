//! Login cost against its floor: one argon2id verification. DESIGN.md asks that a login
//! reaches at least 0.85x the rate argon2id alone allows; compare the two numbers of one run.
//!
//! `cargo bench -p idp --bench login`

use criterion::{criterion_group, criterion_main, Criterion};
use idp::password::Hasher;
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
    group.finish();
    rt.block_on(async {
        idp.db.pool.close().await;
        db.drop_now().await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
