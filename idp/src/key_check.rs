//! The public security-key check: a one-time WebAuthn registration challenge (attestation
//! `direct`) for no account, and the verdict on the answer. Challenges live in the database
//! (any server may finish what another started), are single-use, expire after five minutes,
//! and one address may start a limited number per ten minutes.

use base64::Engine;
use rand::RngCore;
use serde_json::json;
use sqlx::Row;
use webauthn_rs_core::proto::CreationChallengeResponse;

use crate::attestation::{self, Ceremony, Verdict};
use crate::error::{Error, Result};
use crate::{random_token, sha256_hex, Idp, RequestInfo};

const TTL_SECS: i64 = 300;
const PER_ADDRESS_PER_10_MIN: i64 = 30;

/// A started check: the ticket the browser hands back, and the options for
/// `navigator.credentials.create`.
pub struct Started {
    pub ticket: String,
    pub options: CreationChallengeResponse,
}

/// A finished check: the verdict, and the document a user may download for support (the raw
/// response and the verdict, exactly as `mojeid-server analyze` reads it).
pub struct Finished {
    pub verdict: Verdict,
    pub download: serde_json::Value,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Idp {
    /// `origin` is the page's origin (already checked to be ours); the RP ID is its host.
    pub async fn start_key_check(&self, origin: &str, req: &RequestInfo) -> Result<Started> {
        let rp_id = url::Url::parse(origin)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .ok_or_else(|| Error::Internal(format!("origin {origin:?} has no host")))?;
        let now = self.clock.now();
        let recent: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM webauthn_challenges WHERE ip = $1 AND created_at > $2",
        )
        .bind(&req.ip)
        .bind(now - 600)
        .fetch_one(&self.db.pool)
        .await?
        .try_get("n")?;
        if recent >= PER_ADDRESS_PER_10_MIN {
            return Err(Error::Throttled {
                retry_after_secs: 600,
            });
        }
        let mut challenge = [0u8; 32];
        let mut user = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        rand::rngs::OsRng.fill_bytes(&mut user);
        let options: CreationChallengeResponse = serde_json::from_value(json!({
            "publicKey": {
                "rp": { "id": rp_id, "name": "mojeID" },
                "user": { "id": b64(&user), "name": "key-check", "displayName": "mojeID key check" },
                "challenge": b64(&challenge),
                "pubKeyCredParams": [
                    { "type": "public-key", "alg": -7 },
                    { "type": "public-key", "alg": -257 },
                    { "type": "public-key", "alg": -8 }
                ],
                "timeout": 120000,
                "authenticatorSelection": { "requireResidentKey": false, "residentKey": "discouraged", "userVerification": "preferred" },
                "attestation": "direct"
            }
        }))
        .map_err(|e| Error::Internal(e.to_string()))?;
        let ticket = random_token();
        sqlx::query(
            "INSERT INTO webauthn_challenges (ticket_hash, purpose, challenge, rp_id, origin, ip, created_at, expires_at) \
             VALUES ($1, 'key_check', $2, $3, $4, $5, $6, $7)",
        )
        .bind(sha256_hex(&ticket))
        .bind(b64(&challenge))
        .bind(&rp_id)
        .bind(origin)
        .bind(&req.ip)
        .bind(now)
        .bind(now + TTL_SECS)
        .execute(&self.db.pool)
        .await?;
        Ok(Started { ticket, options })
    }

    /// Consumes the ticket and judges the browser's answer. An unknown, used or expired ticket
    /// is `Error::NotFound` (the user starts again).
    pub async fn finish_key_check(
        &self,
        ticket: &str,
        credential: &serde_json::Value,
    ) -> Result<Finished> {
        let now = self.clock.now();
        let row = sqlx::query(
            "DELETE FROM webauthn_challenges WHERE ticket_hash = $1 AND purpose = 'key_check' \
             RETURNING challenge, rp_id, origin, expires_at",
        )
        .bind(sha256_hex(ticket))
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Err(Error::NotFound);
        }
        let challenge: String = row.try_get("challenge")?;
        let rp_id: String = row.try_get("rp_id")?;
        let origin: String = row.try_get("origin")?;
        let ceremony = Ceremony {
            rp_id: &rp_id,
            origin: &origin,
            challenge: &challenge,
        };
        let metadata = self.metadata();
        let verdict = attestation::check(
            credential,
            &ceremony,
            &metadata,
            std::time::SystemTime::now(),
        );
        let download = json!({ "credential": credential, "rp_id": rp_id, "verdict": verdict });
        Ok(Finished { verdict, download })
    }
}
