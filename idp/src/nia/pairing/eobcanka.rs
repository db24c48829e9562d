//! Verifying with eObčanka: "Verify" sends the browser to NIA's portal with a signed
//! AuthnRequest and a nonce cookie; NIA's answer comes back to the ACS, where it is accepted only
//! from the browser that started it and only for a person who may own the account.

use serde_json::json;
use sqlx::Row;

use super::{
    row_to_request, PairingRequest, State, DATA_TTL_SECS, LINKED_ELSEWHERE, LOGIN_TTL_SECS,
    REQUEST_COLUMNS,
};
use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::{NiaError, SamlOutcome};
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// "Verify" with eObčanka: where the browser goes, and the nonce it must carry back.
///
/// The nonce goes into a `__Host-` cookie of the browser that pressed "Verify" and nowhere
/// else; only its hash is stored with the request. NIA's answer is accepted only from a
/// browser that carries it, so an NIA address sent to somebody else links nothing.
#[derive(Clone, Debug)]
pub struct EobcankaStart {
    pub url: String,
    pub browser_nonce: String,
}

impl Idp {
    /// "Use an existing authentication mean (eObčanka)" + "Verify": needs a fresh login with
    /// password + key and every condition met; returns the address of NIA's portal and the
    /// nonce that binds NIA's answer to this browser.
    pub async fn start_eobcanka(&self, caller: &crate::Caller<'_>) -> Result<EobcankaStart> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        let now = self.clock.now();
        self.may_start_pairing(account_id, session_auth).await?;
        let client = self.nia_client()?;
        let relay = random_token();
        let browser_nonce = random_token();
        let request_id = format!(
            "_{}",
            hex::encode(
                &sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
                    random_token()
                ))[..16]
            )
        );
        // signed before the write transaction, which then holds the lock only for the rows
        let url = client
            .login_url(&request_id, &relay, now)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        self.cancel_open_requests(&mut tx, account_id, actor, req)
            .await?;
        let row = sqlx::query(
            "INSERT INTO pairing_requests (account_id, method, state, relay_hash, browser_hash, saml_request_id, attempts, created_at, updated_at, expires_at) \
             VALUES ($1, 'eobcanka', 'nia_login', $2, $6, $3, 0, $4, $4, $5) RETURNING id",
        )
        .bind(account_id)
        .bind(sha256_hex(&relay))
        .bind(&request_id)
        .bind(now)
        .bind(now + LOGIN_TTL_SECS)
        .bind(sha256_hex(&browser_nonce))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::PairingStarted,
                json!({ "request": id, "method": "eobcanka" }),
            )
            .await?;
        tx.commit().await?;
        Ok(EobcankaStart { url, browser_nonce })
    }

    /// A Response posted to our assertion consumer. The request it answers is found by its
    /// RelayState, must have been started in this browser (`browser_nonce`, from the cookie
    /// set at "Verify") and must be waiting for NIA with the same request ID; an assertion is
    /// accepted once, and only for the person the account can belong to. The cheap checks
    /// (size, RelayState, browser) come before any XML is read. Returns the account and the
    /// request as it is now.
    pub async fn accept_nia_response(
        &self,
        saml_response: &str,
        relay_state: &str,
        browser_nonce: Option<&str>,
        req: &RequestInfo,
    ) -> Result<(i64, PairingRequest)> {
        let now = self.clock.now();
        let client = self.nia_client()?;
        if saml_response.len() > crate::nia::client::MAX_RESPONSE_BYTES
            || relay_state.is_empty()
            || relay_state.len() > 128
        {
            return self.unauthenticated_reject("malformed", req).await;
        }
        let row = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS}, saml_request_id, browser_hash FROM pairing_requests WHERE relay_hash = $1"
        ))
        .bind(sha256_hex(relay_state))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(row) = row else {
            return self.unauthenticated_reject("unknown RelayState", req).await;
        };
        let reject = |detail: String, account: Option<i64>| async move {
            Audit::new(now, account, "nia", req)
                .record(
                    &self.db.pool,
                    Event::NiaResponseRejected,
                    json!({ "reason": detail }),
                )
                .await?;
            Err::<(i64, PairingRequest), Error>(Error::NiaResponseInvalid)
        };
        let request = row_to_request(&row)?;
        let account_id: i64 = row.try_get("account_id")?;
        let expected: Option<String> = row.try_get("saml_request_id")?;
        let browser_hash: Option<String> = row.try_get("browser_hash")?;
        if request.state != State::NiaLogin || request.expires_at <= now {
            // replayed or late: whoever holds the RelayState may send it any number of times
            return self
                .unauthenticated_reject(
                    &format!(
                        "request {} is {} (replayed or late response)",
                        request.id,
                        request.state.as_str()
                    ),
                    req,
                )
                .await;
        }
        let same_browser = match (browser_hash, browser_nonce) {
            (Some(h), Some(n)) => crate::constant_time_eq(&h, &sha256_hex(n)),
            _ => false,
        };
        if !same_browser {
            // the answer was brought by a browser that did not press "Verify": somebody
            // else's NIA login must never reach this account. Anyone holding the RelayState
            // can post this again and again, so it is counted and sampled like the other
            // unauthenticated rejects, not written once each
            self.edge_reject(
                crate::public_edge::Edge::NiaAcs,
                &format!(
                    "another browser (request {}, account {account_id})",
                    request.id
                ),
                req,
            )
            .await?;
            return Err(Error::NiaOtherBrowser);
        }
        let verified = match client.verify_response(saml_response, now).await {
            Ok(v) => {
                crate::crash::point("acs.verified");
                v
            }
            Err(NiaError::Unavailable(e)) => {
                tracing::warn!(error = %e, "NIA metadata unavailable while a response arrived");
                return Err(Error::NiaUnavailable);
            }
            Err(e) => {
                // a forged or broken answer in the right browser ends the request: it is not
                // verified again and again
                self.fail_nia_login(
                    request.id,
                    account_id,
                    "invalid_response",
                    &e.to_string(),
                    req,
                )
                .await?;
                return Err(Error::NiaResponseInvalid);
            }
        };
        if expected.as_deref() != Some(verified.in_response_to.as_str()) {
            return reject(
                "the response answers another request".into(),
                Some(account_id),
            )
            .await;
        }
        if let SamlOutcome::Success { data, .. } = &verified.outcome {
            if let Some(reason) = self
                .other_person(account_id, &data.bsi, &data.birth_date)
                .await?
            {
                self.fail_nia_login(request.id, account_id, "person_mismatch", reason, req)
                    .await?;
                return Err(Error::NiaPersonMismatch);
            }
            if self.linked_elsewhere(account_id, &data.bsi).await? {
                // said on the page at once; nothing was registered at NIA yet
                self.fail_nia_login(
                    request.id,
                    account_id,
                    LINKED_ELSEWHERE,
                    "the person is linked to another account",
                    req,
                )
                .await?;
                let (request, _, _) = self.pairing_row(request.id).await?;
                return Ok((account_id, request));
            }
        }
        let mut tx = self.db.begin().await?;
        let (to, outcome, data) = match verified.outcome {
            SamlOutcome::Success {
                data,
                assertion_id,
                valid_until,
            } => {
                let seen =
                    sqlx::query("INSERT INTO saml_seen (assertion_id, expires_at) VALUES ($1, $2)")
                        .bind(&assertion_id)
                        .bind(valid_until + 3600)
                        .execute(&mut *tx)
                        .await;
                if let Err(sqlx::Error::Database(e)) = &seen {
                    if e.is_unique_violation() {
                        drop(tx);
                        return reject("assertion replayed".into(), Some(account_id)).await;
                    }
                }
                seen?;
                (State::DataReceived, None, Some(*data))
            }
            SamlOutcome::ConsentRefused => (State::Cancelled, Some("consent_refused"), None),
            SamlOutcome::LoginFailed => (State::Failed, Some("login_failed"), None),
            SamlOutcome::LoaTooLow => (State::Failed, Some("loa_too_low"), None),
            SamlOutcome::Unavailable => (State::Created, Some("nia_unavailable"), None),
        };
        self.transition(
            &mut tx,
            request.id,
            account_id,
            "nia",
            State::NiaLogin,
            to,
            outcome,
            req,
        )
        .await?;
        if let Some(data) = &data {
            sqlx::query("UPDATE pairing_requests SET registry = $1, bsi = $2, expires_at = $3 WHERE id = $4")
                .bind(serde_json::to_string(data).map_err(|e| Error::Internal(e.to_string()))?)
                .bind(&data.bsi)
                .bind(now + DATA_TTL_SECS)
                .bind(request.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let (request, _, _) = self.pairing_row(request.id).await?;
        Ok((account_id, request))
    }

    /// An answer that ends the eObčanka request (`nia_login → failed` with `outcome`), the
    /// reason in the audit log, in one transaction.
    async fn fail_nia_login(
        &self,
        request_id: i64,
        account_id: i64,
        outcome: &str,
        reason: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            request_id,
            account_id,
            "nia",
            State::NiaLogin,
            State::Failed,
            Some(outcome),
            req,
        )
        .await?;
        Audit::new(self.clock.now(), Some(account_id), "nia", req)
            .record(
                &mut *tx,
                Event::NiaResponseRejected,
                json!({ "reason": reason, "request": request_id }),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An answer at the ACS that no request of ours vouches for: counted and sampled, never
    /// a row each.
    async fn unauthenticated_reject(
        &self,
        reason: &str,
        req: &RequestInfo,
    ) -> Result<(i64, PairingRequest)> {
        self.edge_reject(crate::public_edge::Edge::NiaAcs, reason, req)
            .await?;
        Err(Error::NiaResponseInvalid)
    }
}
