//! FIDO metadata load time: verifying and indexing the shipped BLOB, against a baseline of
//! only decoding and parsing its payload as JSON (same run, same machine).
//!
//! `cargo bench -p idp --bench mds`

use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use idp::keys::mds::{Metadata, Staleness};

const BLOB: &str = include_str!("../../fido/mds/blob.jwt");
const ROOT: &[u8] = include_bytes!("../../fido/mds/root-r3.crt");
const TODAY: i64 = 1_795_600_800;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("mds");
    group.sample_size(20);
    group.bench_function("decode + parse payload JSON only (baseline)", |b| {
        b.iter(|| {
            let payload = BLOB.split('.').nth(1).expect("payload");
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("base64");
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
        })
    });
    group.bench_function("verify + parse + index (Metadata::load)", |b| {
        b.iter(|| Metadata::load(BLOB, ROOT, Staleness::Allow, TODAY).expect("load"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
