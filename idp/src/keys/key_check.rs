//! The public security-key check: a one-time WebAuthn registration challenge (attestation
//! `direct`) for no account, and the verdict on the answer. Challenges live in the database
//! (any server may finish what another started), are single-use, expire after five minutes,
//! and one address may start a limited number per ten minutes.

use rand::RngCore;
use serde_json::json;
use sqlx::Row;
use webauthn_rs_core::proto::CreationChallengeResponse;

use crate::error::{Error, Result};
use crate::keys::attestation::{self, Ceremony, Verdict};
use crate::keys::{b64, creation_options, rp_id_of, Ticket};
use crate::{Idp, RequestInfo};

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

impl Idp {
    /// `origin` is the page's origin (already checked to be ours); the RP ID is its host.
    pub async fn start_key_check(&self, origin: &str, req: &RequestInfo) -> Result<Started> {
        let rp_id = rp_id_of(origin)?;
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
        let options = creation_options(
            &rp_id,
            &user,
            "key-check",
            "mojeID key check",
            &challenge,
            Vec::new(),
        )?;
        let ticket = Ticket {
            account_id: None,
            challenge: b64(&challenge),
            rp_id,
            origin: origin.to_owned(),
            state: None,
        };
        let ticket = self.put_ticket("key_check", &ticket, req).await?;
        Ok(Started { ticket, options })
    }

    /// Consumes the ticket and judges the browser's answer. An unknown, used or expired ticket
    /// is `Error::NotFound` (the user starts again).
    pub async fn finish_key_check(
        &self,
        ticket: &str,
        credential: &serde_json::Value,
    ) -> Result<Finished> {
        let t = self.take_ticket("key_check", ticket).await?;
        let ceremony = Ceremony {
            rp_id: &t.rp_id,
            origin: &t.origin,
            challenge: &t.challenge,
        };
        let metadata = self.metadata();
        let verdict = attestation::check(
            credential,
            &ceremony,
            &metadata,
            std::time::SystemTime::now(),
        );
        let download = json!({ "credential": credential, "rp_id": t.rp_id, "verdict": verdict });
        Ok(Finished { verdict, download })
    }
}
