//! The stored one-time challenges of the key ceremonies (`webauthn_challenges`): put when a
//! ceremony starts, with the options the browser asks the key kept beside them for the page
//! of the ceremony, and taken (deleted) when its answer comes; five minutes at most.

use sqlx::Row;

use super::TTL_SECS;
use crate::error::{Error, Result};
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// A stored one-time challenge: for an account (adding a key, logging in, step-up) or for
/// nobody (the public key check).
pub(crate) struct Ticket {
    pub(crate) account_id: Option<i64>,
    pub(crate) challenge: String,
    pub(crate) rp_id: String,
    pub(crate) origin: String,
    pub(crate) state: Option<String>,
}

impl Ticket {
    /// The account the ticket was issued for; a ticket for nobody is not valid here.
    pub(crate) fn account(&self) -> Result<i64> {
        self.account_id.ok_or(Error::NotFound)
    }
}

impl Idp {
    pub(crate) async fn put_ticket(
        &self,
        purpose: &str,
        t: &Ticket,
        req: &RequestInfo,
    ) -> Result<String> {
        let ticket = random_token();
        let now = self.clock.now();
        sqlx::query(
            "INSERT INTO webauthn_challenges (ticket_hash, purpose, challenge, rp_id, origin, ip, created_at, \
             expires_at, account_id, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(sha256_hex(&ticket))
        .bind(purpose)
        .bind(&t.challenge)
        .bind(&t.rp_id)
        .bind(&t.origin)
        .bind(&req.ip)
        .bind(now)
        .bind(now + TTL_SECS)
        .bind(t.account_id)
        .bind(&t.state)
        .execute(&self.db.pool)
        .await?;
        Ok(ticket)
    }

    /// Keeps what the browser asks the key for this ticket (its WebAuthn options as JSON), for
    /// the page of the key step.
    pub async fn keep_ticket_options(&self, ticket: &str, options: &str) -> Result<()> {
        sqlx::query("UPDATE webauthn_challenges SET options = $1 WHERE ticket_hash = $2")
            .bind(options)
            .bind(sha256_hex(ticket))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// The options kept for a ticket that is still open; unknown, used or expired is
    /// `NotFound`.
    pub async fn ticket_options(&self, ticket: &str) -> Result<String> {
        let row = sqlx::query(
            "SELECT options FROM webauthn_challenges WHERE ticket_hash = $1 AND expires_at > $2",
        )
        .bind(sha256_hex(ticket))
        .bind(self.clock.now())
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        let options: Option<String> = row.try_get("options")?;
        options.ok_or(Error::NotFound)
    }

    /// Consumes a ticket of `purpose`; unknown, used or expired is `NotFound`.
    pub(crate) async fn take_ticket(&self, purpose: &str, ticket: &str) -> Result<Ticket> {
        let row = sqlx::query(
            "DELETE FROM webauthn_challenges WHERE ticket_hash = $1 AND purpose = $2 \
             RETURNING account_id, challenge, rp_id, origin, state, expires_at",
        )
        .bind(sha256_hex(ticket))
        .bind(purpose)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= self.clock.now() {
            return Err(Error::NotFound);
        }
        Ok(Ticket {
            account_id: row.try_get("account_id")?,
            challenge: row.try_get("challenge")?,
            rp_id: row.try_get("rp_id")?,
            origin: row.try_get("origin")?,
            state: row.try_get("state")?,
        })
    }
}
