//! Writes a test FIDO metadata BLOB and its root for the browser tests:
//! `cargo run -p idp --features testing --example test_mds -- OUT_DIR`.
//!
//! The BLOB holds every entry of the shipped BLOB (`fido/mds/blob.jwt`, read as it is)
//! plus one for Chromium's virtual authenticator (AAGUID 01020304-0506-0708-0102-030405060708,
//! attested by its "Batch Certificate", `fido/test/other-root.pem`) at FIDO_CERTIFIED_L1, and
//! is signed by a throw-away test root written beside it as `root.crt`. The server trusts it
//! only when MDS_ROOT_PATH names that root.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idp::testing::fido::{entry, TestCa};
use std::path::PathBuf;

const CHROMIUM_AAGUID: &str = "01020304-0506-0708-0102-030405060708";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).ok_or("usage: test_mds OUT_DIR")?);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shipped = std::fs::read_to_string(repo.join("fido/mds/blob.jwt"))?;
    let payload = shipped
        .trim()
        .split('.')
        .nth(1)
        .ok_or("BLOB without payload")?;
    let payload: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    let mut entries = payload["entries"].as_array().cloned().unwrap_or_default();

    let pem = std::fs::read_to_string(repo.join("fido/test/other-root.pem"))?;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let batch = base64::engine::general_purpose::STANDARD.decode(body)?;
    let mut chromium = entry(
        CHROMIUM_AAGUID,
        "Chromium virtual authenticator (test)",
        &[("FIDO_CERTIFIED_L1", "2024-01-10")],
        &[batch],
    );
    chromium["metadataStatement"]["attachmentHint"] = serde_json::json!(["external", "wired"]);
    entries.push(chromium);

    let ca = TestCa::new("mojeID test metadata root");
    let serial = payload["no"].as_u64().unwrap_or(0) + 1000;
    let blob = ca.blob(serial, "2046-10-01", entries);
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("blob.jwt"), blob)?;
    std::fs::write(out.join("root.crt"), ca.der())?;
    println!("{}", out.display());
    Ok(())
}
