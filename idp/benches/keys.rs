//! Security key verification throughput: a registration (packed attestation with an x5c
//! certificate, chain to the model's root, metadata lookup, verdict) and a login assertion,
//! against a baseline of one bare ECDSA P-256 signature verification (same run, same machine).
//!
//! `cargo bench -p idp --bench keys`

use criterion::{criterion_group, criterion_main, Criterion};
use idp::keys::attestation::{check_registration, Ceremony};
use idp::keys::mds::{Metadata, Staleness};
use idp::testing::fido::{aaguid_text, entry, Attestation, SoftKey, TestCa};
use ring::signature::{EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use std::time::SystemTime;
use webauthn_rs_core::proto::PublicKeyCredential;
use webauthn_rs_core::WebauthnCore;

const ORIGIN: &str = "http://localhost:3000";
const CHALLENGE: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const AAGUID: [u8; 16] = [0x11; 16];

fn bench(c: &mut Criterion) {
    let fido = TestCa::new("bench metadata root");
    let vendor = TestCa::new("bench vendor root");
    let blob = fido.blob(
        1,
        "2046-10-01",
        vec![entry(
            &aaguid_text(&AAGUID),
            "Bench key",
            &[("FIDO_CERTIFIED_L1", "2024-01-10")],
            &[vendor.der()],
        )],
    );
    let metadata =
        Metadata::load(&blob, &fido.der(), Staleness::Refuse, 1_795_600_800).expect("metadata");
    let ceremony = Ceremony {
        rp_id: "localhost",
        origin: ORIGIN,
        challenge: CHALLENGE,
    };
    let mut key = SoftKey::new(&vendor, AAGUID, Attestation::Packed);
    let registration = key.register_raw("localhost", CHALLENGE, ORIGIN);
    let (verdict, credential) =
        check_registration(&registration, &ceremony, &metadata, SystemTime::now());
    assert!(verdict.nia_eligible, "{verdict:?}");
    let credential = credential.expect("credential");

    let core = WebauthnCore::new_unsafe_experts_only(
        "mojeID",
        "localhost",
        vec![url::Url::parse(ORIGIN).expect("origin")],
        std::time::Duration::from_secs(300),
        None,
        Some(false),
    );
    let builder = core
        .new_challenge_authenticate_builder(vec![credential], None)
        .expect("builder");
    let (options, state) = core
        .generate_challenge_authenticate(builder)
        .expect("challenge");
    let answer = key.answer(&serde_json::to_value(&options).expect("json"), ORIGIN);

    // baseline: one ECDSA P-256 verification of a message the size of a login's signed data
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .expect("key");
    let message = [7u8; 69];
    let signature = pair.sign(&rng, &message).expect("sign");
    let public =
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref().to_vec());

    let mut group = c.benchmark_group("keys");
    group.bench_function("ECDSA P-256 verify (baseline)", |b| {
        b.iter(|| public.verify(&message, signature.as_ref()).expect("valid"))
    });
    group.bench_function("registration: packed x5c + chain + metadata", |b| {
        b.iter(|| {
            let (v, c) = check_registration(&registration, &ceremony, &metadata, SystemTime::now());
            assert!(v.nia_eligible && c.is_some());
        })
    });
    group.bench_function("login assertion", |b| {
        b.iter(|| {
            let rsp: PublicKeyCredential =
                serde_json::from_value(answer.clone()).expect("assertion");
            core.authenticate_credential(&rsp, &state).expect("valid")
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
