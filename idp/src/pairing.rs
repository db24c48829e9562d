//! Linking an account to NIA: the pairing request, a state machine persisted in
//! `pairing_requests`, with every transition audited.
//!
//! ```text
//! eObčanka:     created → nia_login → data_received → completing → completed
//! Czech POINT:  created → awaiting_office → data_received → completing → completed
//! any active state → cancelled (citizen, expiry) | failed (NIA refused, or the register's
//!                    person cannot be the account's owner: `person_mismatch`)
//! completing → data_received when NIA is unavailable (the request waits, nothing is lost)
//! ```
//!
//! `completing` is driven by a job (`drive_pairings`), so a crash between the calls to NIA
//! resumes where it stopped: matching and registering a means are idempotent at NIA.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::{self, Event};
use crate::error::{Error, Result};
use crate::nia::{NiaError, RegistryData, SamlOutcome};
use crate::outbox::{self, Channel, Outgoing};
use crate::sessions::AuthRecord;
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// How long a request to NIA's portal may take.
pub const LOGIN_TTL_SECS: i64 = 30 * 60;
/// How long received registry data waits for the citizen's confirmation.
const DATA_TTL_SECS: i64 = 30 * 24 * 3600;
/// The outcome of a request for a person already linked to another account here.
pub const LINKED_ELSEWHERE: &str = "person_linked_elsewhere";
/// Attempts of the completion job ending in an error (not NIA's answer) before a request
/// is given up.
const JOB_ERRORS_MAX: i64 = 6;
/// How long a worker holds a completion it claimed (a dead worker's job runs again after).
const COMPLETION_LEASE_SECS: i64 = 120;

/// The pause before the completion job tries a request again after its `n`th error:
/// 2, 4, 8 … seconds, at most ten minutes.
fn retry_pause_secs(n: i64) -> i64 {
    1i64.checked_shl(n.clamp(1, 30) as u32)
        .unwrap_or(600)
        .min(600)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Created,
    NiaLogin,
    AwaitingOffice,
    DataReceived,
    Completing,
    Completed,
    Cancelled,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::NiaLogin => "nia_login",
            State::AwaitingOffice => "awaiting_office",
            State::DataReceived => "data_received",
            State::Completing => "completing",
            State::Completed => "completed",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "created" => State::Created,
            "nia_login" => State::NiaLogin,
            "awaiting_office" => State::AwaitingOffice,
            "data_received" => State::DataReceived,
            "completing" => State::Completing,
            "completed" => State::Completed,
            "cancelled" => State::Cancelled,
            "failed" => State::Failed,
            _ => return None,
        })
    }

    /// Not yet completed, cancelled or failed.
    pub fn is_active(self) -> bool {
        !matches!(self, State::Completed | State::Cancelled | State::Failed)
    }

    /// The transitions the machine allows; anything else is refused.
    pub fn can_become(self, next: State) -> bool {
        use State::*;
        match (self, next) {
            (Created, NiaLogin) | (Created, AwaitingOffice) => true,
            // a new attempt at the portal after an outage or a step back
            (NiaLogin, NiaLogin) => true,
            (NiaLogin, DataReceived) | (AwaitingOffice, DataReceived) => true,
            (NiaLogin, Created) => true,
            (DataReceived, Completing) => true,
            (Completing, Completed) | (Completing, DataReceived) | (Completing, Failed) => true,
            (NiaLogin, Failed) | (DataReceived, Failed) => true,
            // the register's person is not the profile's (a code filed by somebody else)
            (AwaitingOffice, Failed) => true,
            (s, Cancelled) => s.is_active() && s != Completing,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Eobcanka,
    CzechPoint,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Eobcanka => "eobcanka",
            Method::CzechPoint => "czech_point",
        }
    }
}

/// A pairing request as the citizen sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingRequest {
    pub id: i64,
    pub method: String,
    pub state: State,
    /// Why it stopped or waits: `nia_unavailable`, `consent_refused`, `login_failed`,
    /// `loa_too_low`, NIA's refusal code (`FOREIGN_NATIONAL`, …), `no_eligible_key`.
    pub outcome: Option<String>,
    pub registry: Option<RegistryData>,
    /// The Czech POINT pairing code.
    pub code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

/// The account's link to NIA.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLink {
    pub method: String,
    pub loa: String,
    pub linked_at: i64,
    /// The keys registered at NIA as means.
    pub key_ids: Vec<i64>,
}

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

/// The conditions of linking that the account itself must meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub first_name: bool,
    pub last_name: bool,
    pub address: bool,
    pub email: bool,
    pub phone: bool,
    pub certified_key: bool,
    /// Linking is for natural non-business persons: the Organization field must be empty.
    pub no_organization: bool,
}

/// The account's validation (identity verified at NIA with eObčanka or at Czech POINT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    pub at: i64,
    /// `czech_point` or `eobcanka`; `None` for a validation recorded without a request.
    pub method: Option<String>,
}

impl Eligibility {
    pub fn all(&self) -> bool {
        self.first_name
            && self.last_name
            && self.address
            && self.email
            && self.phone
            && self.certified_key
            && self.no_organization
    }
}

/// Everything the NIA section shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaStatus {
    pub link: Option<NiaLink>,
    pub request: Option<PairingRequest>,
    pub eligibility: Eligibility,
}

/// Whether `auth` holds a password and a security-key login within
/// `sessions::FRESH_LOGIN_SECS` (a certificate login does not count).
pub fn fresh_password_and_key(auth: &[AuthRecord], now: i64) -> bool {
    crate::sessions::is_fresh_login(auth, now, true)
}

fn row_to_request(r: &sqlx::any::AnyRow) -> Result<PairingRequest> {
    let state: String = r.try_get("state")?;
    let registry: Option<String> = r.try_get("registry")?;
    Ok(PairingRequest {
        id: r.try_get("id")?,
        method: r.try_get("method")?,
        state: State::parse(&state).ok_or_else(|| Error::Internal(format!("state {state:?}")))?,
        outcome: r.try_get("outcome")?,
        registry: registry.and_then(|j| serde_json::from_str(&j).ok()),
        code: r.try_get("code")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

const REQUEST_COLUMNS: &str =
    "id, method, state, outcome, registry, code, created_at, updated_at, expires_at, account_id, bsi";

impl Idp {
    fn nia_client(&self) -> Result<std::sync::Arc<crate::nia::NiaClient>> {
        self.nia()
            .ok_or_else(|| Error::Internal("no NIA client configured".into()))
    }

    pub async fn nia_eligibility(&self, account_id: i64) -> Result<Eligibility> {
        let p = self.profile(account_id).await?;
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let c = sqlx::query(
            "SELECT email, email_verified_at, phone, phone_verified_at FROM contacts WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let (email, phone) = match c {
            Some(r) => {
                let ev: Option<i64> = r.try_get("email_verified_at")?;
                let pv: Option<i64> = r.try_get("phone_verified_at")?;
                let e: Option<String> = r.try_get("email")?;
                let ph: Option<String> = r.try_get("phone")?;
                (filled(&e) && ev.is_some(), filled(&ph) && pv.is_some())
            }
            None => (false, false),
        };
        let keys = self.security_keys(account_id).await?;
        Ok(Eligibility {
            first_name: filled(&p.first_name),
            last_name: filled(&p.last_name),
            address: filled(&p.street)
                && filled(&p.house_number)
                && filled(&p.city)
                && filled(&p.postcode),
            email,
            phone,
            certified_key: keys.iter().any(|k| k.nia_eligible),
            no_organization: !filled(&p.organization),
        })
    }

    pub async fn nia_link(&self, account_id: i64) -> Result<Option<NiaLink>> {
        let Some(r) =
            sqlx::query("SELECT method, loa, linked_at FROM nia_links WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.db.pool)
                .await?
        else {
            return Ok(None);
        };
        let keys =
            sqlx::query("SELECT key_id FROM nia_means WHERE account_id = $1 ORDER BY key_id")
                .bind(account_id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(Some(NiaLink {
            method: r.try_get("method")?,
            loa: r.try_get("loa")?,
            linked_at: r.try_get("linked_at")?,
            key_ids: keys
                .iter()
                .map(|k| k.try_get("key_id"))
                .collect::<std::result::Result<_, _>>()?,
        }))
    }

    /// Whether the account's identity was verified, when and how (`czech_point` or
    /// `eobcanka`): linking validates it, and it stays validated after detaching or a reset.
    pub async fn validation(&self, account_id: i64) -> Result<Option<Validation>> {
        let row = sqlx::query(
            "SELECT a.validated_at, (SELECT p.method FROM pairing_requests p WHERE p.account_id = a.id \
             AND p.state = 'completed' ORDER BY p.id DESC LIMIT 1) AS method FROM accounts a WHERE a.id = $1",
        )
        .bind(account_id)
        .fetch_one(&self.db.pool)
        .await?;
        let at: Option<i64> = row.try_get("validated_at")?;
        Ok(match at {
            Some(at) => Some(Validation {
                at,
                method: row.try_get::<Option<String>, _>("method")?,
            }),
            None => None,
        })
    }

    /// The account's newest request that is still active, or the newest one otherwise.
    pub async fn current_pairing(&self, account_id: i64) -> Result<Option<PairingRequest>> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM pairing_requests WHERE account_id = $1 ORDER BY id DESC LIMIT 5"
        ))
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        let requests: Vec<PairingRequest> =
            rows.iter().map(row_to_request).collect::<Result<_>>()?;
        let now = self.clock.now();
        Ok(requests
            .iter()
            .find(|r| r.state.is_active() && r.expires_at > now)
            .or(requests.first())
            .cloned())
    }

    pub async fn nia_status(&self, account_id: i64) -> Result<NiaStatus> {
        Ok(NiaStatus {
            link: self.nia_link(account_id).await?,
            request: self.current_pairing(account_id).await?,
            eligibility: self.nia_eligibility(account_id).await?,
        })
    }

    async fn pairing_row(&self, id: i64) -> Result<(PairingRequest, i64, Option<String>)> {
        let r = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM pairing_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)?;
        Ok((
            row_to_request(&r)?,
            r.try_get("account_id")?,
            r.try_get("bsi")?,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn transition_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: i64,
        account_id: i64,
        actor: &str,
        from: State,
        to: State,
        outcome: Option<&str>,
        req: &RequestInfo,
    ) -> Result<()> {
        self.transition(tx, id, account_id, actor, from, to, outcome, req)
            .await
    }

    /// Cancels the account's requests that have not reached completion (a new one replaces
    /// them); refused while one is being completed.
    pub(crate) async fn cancel_open_requests(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        account_id: i64,
        actor: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let active = sqlx::query(
            "SELECT id, state FROM pairing_requests WHERE account_id = $1 AND state IN ('created', 'nia_login', 'awaiting_office', 'data_received', 'completing')",
        )
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
        for r in &active {
            let state: String = r.try_get("state")?;
            let state = State::parse(&state).unwrap_or(State::Failed);
            if state == State::Completing {
                return Err(Error::Conflict);
            }
            let id: i64 = r.try_get("id")?;
            self.transition(
                tx,
                id,
                account_id,
                actor,
                state,
                State::Cancelled,
                Some("replaced"),
                req,
            )
            .await?;
        }
        Ok(())
    }

    /// Moves request `id` from `from` to `to` (refused when the machine does not allow it
    /// or somebody else moved it first), with the audit event, in `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn transition(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: i64,
        account_id: i64,
        actor: &str,
        from: State,
        to: State,
        outcome: Option<&str>,
        req: &RequestInfo,
    ) -> Result<()> {
        if !from.can_become(to) {
            return Err(Error::Internal(format!(
                "pairing {id}: {} → {} is not a transition",
                from.as_str(),
                to.as_str()
            )));
        }
        let now = self.clock.now();
        let done = sqlx::query(
            "UPDATE pairing_requests SET state = $1, outcome = $2, updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(outcome)
        .bind(now)
        .bind(id)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Conflict);
        }
        audit::record(
            &mut **tx,
            now,
            Some(account_id),
            actor,
            Event::PairingTransition,
            req,
            json!({ "request": id, "from": from.as_str(), "to": to.as_str(), "outcome": outcome }),
        )
        .await?;
        Ok(())
    }

    /// "Use an existing authentication mean (eObčanka)" + "Verify": needs a fresh login with
    /// password + key and every condition met; returns the address of NIA's portal and the
    /// nonce that binds NIA's answer to this browser.
    pub async fn start_eobcanka(
        &self,
        account_id: i64,
        actor: &str,
        session_auth: &[AuthRecord],
        req: &RequestInfo,
    ) -> Result<EobcankaStart> {
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
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            actor,
            Event::PairingStarted,
            req,
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
        if saml_response.len() > crate::nia::MAX_RESPONSE_BYTES
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
            audit::record(
                &self.db.pool,
                now,
                account,
                "nia",
                Event::NiaResponseRejected,
                req,
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
            Ok(v) => v,
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
        audit::record(
            &mut *tx,
            self.clock.now(),
            Some(account_id),
            "nia",
            Event::NiaResponseRejected,
            req,
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

    /// Why the register's person (`bsi`, empty when the register does not say; `birth_date`)
    /// cannot be this account's owner, if they cannot (`not_the_validated_person`).
    pub(crate) async fn other_person(
        &self,
        account_id: i64,
        bsi: &str,
        birth_date: &str,
    ) -> Result<Option<&'static str>> {
        let row =
            sqlx::query("SELECT validated_bsi, validated_birth_date FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&self.db.pool)
                .await?;
        Ok(not_the_validated_person(
            row.try_get::<Option<String>, _>("validated_bsi")?
                .as_deref(),
            row.try_get::<Option<String>, _>("validated_birth_date")?
                .as_deref(),
            bsi,
            birth_date,
        ))
    }

    /// "Complete connection to NIA": the request goes to `completing`, which the job
    /// finishes. Needs the same fresh login as starting.
    pub async fn confirm_pairing(
        &self,
        account_id: i64,
        actor: &str,
        request_id: i64,
        session_auth: &[AuthRecord],
        req: &RequestInfo,
    ) -> Result<PairingRequest> {
        let now = self.clock.now();
        let (request, owner, _) = self.pairing_row(request_id).await?;
        if owner != account_id {
            return Err(Error::NotFound);
        }
        if !fresh_password_and_key(session_auth, now) {
            return Err(Error::StepUpRequired);
        }
        if request.state != State::DataReceived || request.expires_at <= now {
            return Err(Error::Conflict);
        }
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            request_id,
            account_id,
            actor,
            State::DataReceived,
            State::Completing,
            None,
            req,
        )
        .await?;
        sqlx::query("UPDATE pairing_requests SET attempts = attempts + 1 WHERE id = $1")
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        // a new confirmation is a new job, with its own count of errors
        crate::jobs::enqueue(
            &mut tx,
            &crate::jobs::Kind::CompletePairing {
                request: request_id,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(self.pairing_row(request_id).await?.0)
    }

    /// The citizen cancels an active request (not while it is being completed).
    pub async fn cancel_pairing(
        &self,
        account_id: i64,
        actor: &str,
        request_id: i64,
        req: &RequestInfo,
    ) -> Result<()> {
        let (request, owner, _) = self.pairing_row(request_id).await?;
        if owner != account_id {
            return Err(Error::NotFound);
        }
        if !request.state.can_become(State::Cancelled) {
            return Err(Error::Conflict);
        }
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            request_id,
            account_id,
            actor,
            request.state,
            State::Cancelled,
            Some("by_citizen"),
            req,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The job: finishes the requests whose completion is due in the job queue (after a
    /// crash, too: a dead worker's lease ends). Each is claimed by one worker at a time. An
    /// error that is not NIA's answer (the database, a bug) is retried after a growing pause
    /// and, at the `JOB_ERRORS_MAX`th attempt, ends the request as `failed`
    /// (`internal_error`): nothing links later without the citizen pressing again. Returns
    /// how many reached a final state.
    pub async fn drive_pairings(&self) -> Result<usize> {
        let jobs = self
            .claim("complete_pairing", 20, COMPLETION_LEASE_SECS)
            .await?;
        let mut finished = 0;
        for job in jobs {
            let crate::jobs::Kind::CompletePairing { request: id } = job.kind else {
                continue;
            };
            match self.complete_pairing(id).await {
                Ok(done) => {
                    finished += usize::from(done);
                    self.job_done(job.id).await?;
                }
                Err(e) if job.attempts >= JOB_ERRORS_MAX => {
                    tracing::error!(request = id, error = %e, "pairing not completed; giving up");
                    let (_, account_id, _) = self.pairing_row(id).await?;
                    self.leave_completing(id, account_id, State::Failed, "internal_error")
                        .await?;
                    self.release_means_after_failure(id).await;
                    self.job_failed(job.id, &e.to_string()).await?;
                    finished += 1;
                }
                Err(e) => {
                    tracing::warn!(request = id, error = %e, attempt = job.attempts, "pairing not completed; retrying later");
                    self.job_retry(
                        job.id,
                        &e.to_string(),
                        self.clock.now() + retry_pause_secs(job.attempts),
                    )
                    .await?;
                }
            }
        }
        Ok(finished)
    }

    /// After a request failed at the job: the means it may have registered for the person
    /// are deactivated at NIA now if NIA answers (otherwise the reconciliation job does it).
    async fn release_means_after_failure(&self, id: i64) {
        let bsi = match self.pairing_row(id).await {
            Ok((_, _, Some(bsi))) if !bsi.is_empty() => bsi,
            _ => return,
        };
        match self.reconcile_person(&bsi).await {
            Ok(r) if r.orphans_deactivated > 0 => {
                tracing::info!(
                    request = id,
                    released = r.orphans_deactivated,
                    "means of a failed link deactivated at NIA"
                )
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(request = id, error = %e, "means of a failed link left for the reconciliation job")
            }
        }
    }

    /// Whether the person is linked to another account here (one person, one linked account).
    async fn linked_elsewhere(&self, account_id: i64, bsi: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT account_id FROM nia_links WHERE bsi = $1 AND account_id <> $2")
                .bind(bsi)
                .bind(account_id)
                .fetch_optional(&self.db.pool)
                .await?
                .is_some(),
        )
    }

    /// The job gives up on `completing` for now (`DataReceived`: NIA unavailable) or for good
    /// (`Failed`), with the reason.
    async fn leave_completing(
        &self,
        id: i64,
        account_id: i64,
        to: State,
        outcome: &str,
    ) -> Result<()> {
        let job = RequestInfo::job("pairing");
        let mut tx = self.db.begin().await?;
        self.transition(
            &mut tx,
            id,
            account_id,
            "job",
            State::Completing,
            to,
            Some(outcome),
            &job,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What starting either way of linking needs: a fresh password + key login, no link yet,
    /// and every condition met.
    pub(crate) async fn may_start_pairing(
        &self,
        account_id: i64,
        session_auth: &[AuthRecord],
    ) -> Result<()> {
        if !fresh_password_and_key(session_auth, self.clock.now()) {
            return Err(Error::StepUpRequired);
        }
        if self.nia_link(account_id).await?.is_some() {
            return Err(Error::Conflict);
        }
        if !self.nia_eligibility(account_id).await?.all() {
            return Err(Error::NotEligible);
        }
        Ok(())
    }

    async fn complete_pairing(&self, id: i64) -> Result<bool> {
        let (request, account_id, bsi) = self.pairing_row(id).await?;
        if request.state != State::Completing {
            return Ok(false);
        }
        let client = self.nia_client()?;
        let bsi = match (bsi, &request.registry) {
            (Some(b), _) if !b.is_empty() => Some(b),
            // the Czech POINT path: NIA finds the person by the register's data
            (_, Some(data)) => match client.match_by_data(data).await {
                Ok(b) => {
                    sqlx::query("UPDATE pairing_requests SET bsi = $1 WHERE id = $2")
                        .bind(&b)
                        .bind(id)
                        .execute(&self.db.pool)
                        .await?;
                    Some(b)
                }
                Err(NiaError::Unavailable(_)) => {
                    self.leave_completing(id, account_id, State::DataReceived, "nia_unavailable")
                        .await?;
                    return Ok(false);
                }
                Err(NiaError::Refused(code)) => {
                    self.leave_completing(id, account_id, State::Failed, &code)
                        .await?;
                    return Ok(true);
                }
                Err(e) => return Err(Error::Internal(e.to_string())),
            },
            _ => None,
        };
        let (Some(bsi), Some(data)) = (bsi, request.registry.clone()) else {
            self.leave_completing(id, account_id, State::Failed, "no_registry_data")
                .await?;
            return Ok(true);
        };
        let back_to_waiting = |outcome: &'static str| async move {
            self.leave_completing(id, account_id, State::DataReceived, outcome)
                .await?;
            Ok::<bool, Error>(false)
        };
        let fail = |outcome: String| async move {
            self.leave_completing(id, account_id, State::Failed, &outcome)
                .await?;
            Ok::<bool, Error>(true)
        };
        // the person NIA found must be the one the account was validated as, if it was
        if self
            .other_person(account_id, &bsi, &data.birth_date)
            .await?
            .is_some()
        {
            return fail("person_mismatch".into()).await;
        }
        if self.linked_elsewhere(account_id, &bsi).await? {
            fail(LINKED_ELSEWHERE.into()).await?;
            self.release_means_after_failure(id).await;
            return Ok(true);
        }
        match client.match_person(&bsi).await {
            Ok(()) => {}
            Err(NiaError::Unavailable(_)) => return back_to_waiting("nia_unavailable").await,
            Err(NiaError::Refused(code)) => return fail(code).await,
            Err(e) => return fail(format!("invalid: {e}")).await,
        }
        let keys: Vec<i64> = self
            .security_keys(account_id)
            .await?
            .into_iter()
            .filter(|k| k.nia_eligible)
            .map(|k| k.id)
            .collect();
        if keys.is_empty() {
            return fail("no_eligible_key".into()).await;
        }
        let mut means = Vec::new();
        for key in &keys {
            match client
                .register_means(&bsi, &crate::nia::means_ref(*key))
                .await
            {
                Ok(m) => means.push((*key, m)),
                Err(NiaError::Unavailable(_)) => return back_to_waiting("nia_unavailable").await,
                Err(NiaError::Refused(code)) => {
                    fail(code).await?;
                    self.release_means_after_failure(id).await;
                    return Ok(true);
                }
                Err(e) => {
                    fail(format!("invalid: {e}")).await?;
                    self.release_means_after_failure(id).await;
                    return Ok(true);
                }
            }
        }
        match self
            .write_link(id, account_id, &bsi, &request, &data, &means, &keys)
            .await
        {
            Ok(()) => Ok(true),
            // another account linked the same person meanwhile (the unique BSI): this one
            // fails, and what it registered at NIA is taken back
            Err(Error::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                fail(LINKED_ELSEWHERE.into()).await?;
                self.release_means_after_failure(id).await;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// The link, its means, the locked profile and the validation, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn write_link(
        &self,
        id: i64,
        account_id: i64,
        bsi: &str,
        request: &PairingRequest,
        data: &RegistryData,
        means: &[(i64, String)],
        keys: &[i64],
    ) -> Result<()> {
        let job = &RequestInfo::job("pairing");
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for (key, means_id) in means {
            sqlx::query("DELETE FROM nia_means WHERE key_id = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO nia_means (key_id, account_id, means_id, registered_at) VALUES ($1, $2, $3, $4)")
                .bind(key)
                .bind(account_id)
                .bind(means_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM nia_links WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO nia_links (account_id, bsi, method, loa, linked_at) VALUES ($1, $2, $3, 'substantial', $4)")
            .bind(account_id)
            .bind(bsi)
            .bind(&request.method)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        write_registry_profile(&mut tx, account_id, data, now).await?;
        sqlx::query("UPDATE accounts SET validated_at = $1, validated_bsi = $2, validated_birth_date = $3 WHERE id = $4")
            .bind(now)
            .bind(bsi)
            .bind(&data.birth_date)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        self.transition(
            &mut tx,
            id,
            account_id,
            "job",
            State::Completing,
            State::Completed,
            None,
            job,
        )
        .await?;
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            "job",
            Event::NiaLinked,
            job,
            json!({ "request": id, "method": request.method, "keys": keys }),
        )
        .await?;
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::NiaLinked,
            job,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The job: registry changes of linked persons update their locked profile fields; each
    /// change is audited and the citizen is told by e-mail. Returns how many were applied.
    pub async fn apply_registry_changes(&self) -> Result<usize> {
        let client = self.nia_client()?;
        let since: i64 =
            sqlx::query("SELECT value FROM nia_cursor WHERE name = 'registry_changes'")
                .fetch_optional(&self.db.pool)
                .await?
                .map(|r| r.try_get("value"))
                .transpose()?
                .unwrap_or(0);
        let (changes, last) = match client.changes(since).await {
            Ok(c) => c,
            Err(NiaError::Unavailable(_)) => return Ok(0),
            Err(e) => return Err(Error::Internal(e.to_string())),
        };
        let job = RequestInfo::job("registry");
        let mut applied = 0;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for c in &changes {
            let Some(r) = sqlx::query("SELECT account_id FROM nia_links WHERE bsi = $1")
                .bind(&c.bsi)
                .fetch_optional(&mut *tx)
                .await?
            else {
                continue;
            };
            let account_id: i64 = r.try_get("account_id")?;
            let data = RegistryData {
                bsi: c.bsi.clone(),
                given_name: c.given_name.clone(),
                family_name: c.family_name.clone(),
                birth_date: c.birth_date.clone(),
                birth_place: None,
                street: c.address.as_ref().map(|a| a.street.clone()),
                house_number: c.address.as_ref().map(|a| a.number.clone()),
                city: c.address.as_ref().map(|a| a.city.clone()),
                postcode: c.address.as_ref().map(|a| a.postcode.clone()),
            };
            let changed = write_registry_profile(&mut tx, account_id, &data, now).await?;
            if changed.is_empty() {
                continue;
            }
            audit::record(
                &mut *tx,
                now,
                Some(account_id),
                "population-register",
                Event::RegistryChanged,
                &job,
                json!({ "seq": c.seq, "fields": changed }),
            )
            .await?;
            notify(
                &mut tx,
                account_id,
                now,
                &Outgoing {
                    subject: "mojeID: změna údajů z registru obyvatel / population register update".into(),
                    body: format!(
                        "Registr obyvatel ohlásil změnu vašich údajů; v účtu mojeID jsme je aktualizovali ({fields}).\n\n\
The population register reported a change of your data; your mojeID profile has been updated ({fields}).\n",
                        fields = changed.join(", ")
                    ),
                },
            )
            .await?;
            applied += 1;
        }
        sqlx::query("DELETE FROM nia_cursor WHERE name = 'registry_changes'")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO nia_cursor (name, value) VALUES ('registry_changes', $1)")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Expired requests become cancelled (housekeeping).
    pub async fn expire_pairings(&self) -> Result<usize> {
        let now = self.clock.now();
        let rows = sqlx::query(
            "SELECT id, account_id, state FROM pairing_requests WHERE expires_at <= $1 AND state IN ('created', 'nia_login', 'awaiting_office', 'data_received')",
        )
        .bind(now)
        .fetch_all(&self.db.pool)
        .await?;
        let job = RequestInfo::job("housekeeping");
        let mut n = 0;
        for r in rows {
            let state: String = r.try_get("state")?;
            let Some(state) = State::parse(&state) else {
                continue;
            };
            let mut tx = self.db.begin().await?;
            match self
                .transition(
                    &mut tx,
                    r.try_get("id")?,
                    r.try_get("account_id")?,
                    "job",
                    state,
                    State::Cancelled,
                    Some("expired"),
                    &job,
                )
                .await
            {
                Ok(()) => {
                    tx.commit().await?;
                    n += 1;
                }
                Err(Error::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        sqlx::query("DELETE FROM saml_seen WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.db.pool)
            .await?;
        Ok(n)
    }
}

/// The one rule of who can own an account that was validated before: not a person with
/// another BSI (when both are known) or another birth date. `None` when the register's person
/// may be the owner (or the account was never validated).
pub(crate) fn not_the_validated_person(
    validated_bsi: Option<&str>,
    validated_birth_date: Option<&str>,
    bsi: &str,
    birth_date: &str,
) -> Option<&'static str> {
    if validated_bsi.is_some_and(|b| !bsi.is_empty() && b != bsi) {
        return Some("the account was validated as another person");
    }
    if validated_birth_date.is_some_and(|b| b.trim() != birth_date.trim()) {
        return Some("the account was validated with another birth date");
    }
    None
}

/// Writes the register's data into the profile (the locked fields); returns the names of
/// the fields that changed.
async fn write_registry_profile(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    d: &RegistryData,
    now: i64,
) -> Result<Vec<&'static str>> {
    let old = sqlx::query(
        "SELECT first_name, last_name, birth_date, street, house_number, city, postcode, organization FROM profiles WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    let mut changed = Vec::new();
    // stored as the profile form stores it ("602 00")
    let postcode = d
        .postcode
        .as_deref()
        .map(|p| crate::validate::postcode(p, "CZ").unwrap_or_else(|_| p.to_owned()));
    let new: [(&'static str, Option<&str>); 7] = [
        ("first_name", Some(d.given_name.as_str())),
        ("last_name", Some(d.family_name.as_str())),
        ("birth_date", Some(d.birth_date.as_str())),
        ("street", d.street.as_deref()),
        ("house_number", d.house_number.as_deref()),
        ("city", d.city.as_deref()),
        ("postcode", postcode.as_deref()),
    ];
    for (name, value) in new {
        let current: Option<String> = old.try_get(name)?;
        if current.as_deref() != value {
            changed.push(name);
        }
    }
    let org: Option<String> = old.try_get("organization")?;
    if org.is_some() {
        changed.push("organization");
    }
    if !changed.is_empty() {
        sqlx::query(
            "UPDATE profiles SET first_name = $1, last_name = $2, birth_date = $3, street = $4, house_number = $5, \
             city = $6, postcode = $7, country = 'CZ', organization = NULL, updated_at = $8 WHERE account_id = $9",
        )
        .bind(&d.given_name)
        .bind(&d.family_name)
        .bind(&d.birth_date)
        .bind(&d.street)
        .bind(&d.house_number)
        .bind(&d.city)
        .bind(&postcode)
        .bind(now)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(changed)
}

pub(crate) async fn notify_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    now: i64,
    message: &Outgoing,
) -> Result<()> {
    notify(tx, account_id, now, message).await
}

/// An e-mail to the account's verified address, in the same transaction.
async fn notify(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    now: i64,
    message: &Outgoing,
) -> Result<()> {
    let email: Option<String> = sqlx::query(
        "SELECT email FROM contacts WHERE account_id = $1 AND email_verified_at IS NOT NULL",
    )
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("email"))
    .transpose()?
    .flatten();
    if let Some(email) = email {
        outbox::enqueue(
            &mut **tx,
            now,
            Some(account_id),
            Channel::Email,
            &email,
            message,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::AuthMethod;
    use State::*;

    const ALL: [State; 8] = [
        Created,
        NiaLogin,
        AwaitingOffice,
        DataReceived,
        Completing,
        Completed,
        Cancelled,
        Failed,
    ];

    #[test]
    fn the_transitions_are_exactly_those_drawn() {
        let allowed: Vec<(State, State)> = ALL
            .iter()
            .flat_map(|a| ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        let expected = vec![
            (Created, NiaLogin),
            (Created, AwaitingOffice),
            (Created, Cancelled),
            (NiaLogin, Created),
            (NiaLogin, NiaLogin),
            (NiaLogin, DataReceived),
            (NiaLogin, Cancelled),
            (NiaLogin, Failed),
            (AwaitingOffice, DataReceived),
            (AwaitingOffice, Cancelled),
            (AwaitingOffice, Failed),
            (DataReceived, Completing),
            (DataReceived, Cancelled),
            (DataReceived, Failed),
            (Completing, DataReceived),
            (Completing, Completed),
            (Completing, Failed),
        ];
        assert_eq!(allowed, expected);
    }

    #[test]
    fn final_states_go_nowhere_and_completing_cannot_be_cancelled() {
        for s in [Completed, Cancelled, Failed] {
            assert!(ALL.iter().all(|n| !s.can_become(*n)), "{s:?}");
            assert!(!s.is_active());
        }
        assert!(!Completing.can_become(Cancelled));
    }

    #[test]
    fn states_round_trip_their_names() {
        for s in ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("linked"), None);
    }

    #[test]
    fn linking_needs_a_fresh_password_and_key_login() {
        let at = |method, at| AuthRecord { method, at };
        let now = 10_000;
        assert!(fresh_password_and_key(
            &[
                at(AuthMethod::Password, now - 10),
                at(AuthMethod::SecurityKey { id: 1 }, now - 10)
            ],
            now
        ));
        assert!(!fresh_password_and_key(
            &[at(AuthMethod::Password, now - 10)],
            now
        ));
        assert!(!fresh_password_and_key(
            &[
                at(AuthMethod::Password, now - 10),
                at(AuthMethod::SecurityKey { id: 1 }, now - 400)
            ],
            now
        ));
        // a certificate login does not count
        assert!(!fresh_password_and_key(
            &[
                at(AuthMethod::Certificate, now),
                at(AuthMethod::SecurityKey { id: 1 }, now)
            ],
            now
        ));
    }
}

impl Idp {
    /// "Detach from NIA" (only with a new login made for it, `proof`): every means is deactivated at
    /// NIA, then the link ends here; the keys stay and the account stays validated; the
    /// profile fields unlock. If NIA cannot be reached, nothing changes here for the means it
    /// did not deactivate and `CannotDisableAuthenticator` says so.
    pub async fn detach_nia(
        &self,
        account_id: i64,
        actor: &str,
        proof: Option<&crate::action_login::ActionLogin>,
        req: &RequestInfo,
    ) -> Result<()> {
        let now = self.clock.now();
        crate::action_login::ActionLogin::check(
            proof,
            account_id,
            crate::action_login::Action::Detach,
            now,
        )?;
        self.end_link(account_id, actor, crate::unlink::Reason::Detached, req)
            .await?;
        Ok(())
    }

    /// The account's own security events, newest first (for the citizen).
    pub async fn security_events(&self, account_id: i64, limit: i64) -> Result<Vec<SecurityEvent>> {
        let rows = sqlx::query(
            // a staff member is shown as `staff`, not by name (the auditors' view names them)
            "SELECT e.at, CASE WHEN s.id IS NULL OR s.id = e.account_id THEN e.actor ELSE 'staff' END AS actor, \
             e.event, e.ip FROM audit_events e \
             LEFT JOIN accounts s ON s.username = e.actor AND s.role IS NOT NULL \
             WHERE e.account_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SecurityEvent {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    event: r.try_get("event")?,
                    ip: r.try_get("ip")?,
                })
            })
            .collect()
    }
}

impl Idp {
    /// Deactivates every means of the account at NIA, forgetting each here as soon as NIA
    /// confirms it (so both sides agree whatever fails next). `None` when the account is not
    /// linked; `CannotDisableAuthenticator` when NIA cannot be reached (what NIA did not
    /// confirm stays). The link itself is for the caller to end.
    pub(crate) async fn deactivate_all_means(&self, account_id: i64) -> Result<Option<usize>> {
        let Some(link) = sqlx::query("SELECT bsi FROM nia_links WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let bsi: String = link.try_get("bsi")?;
        let client = self.nia_client()?;
        let means = sqlx::query(
            "SELECT key_id, means_id FROM nia_means WHERE account_id = $1 ORDER BY key_id",
        )
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        for m in &means {
            let means_id: String = m.try_get("means_id")?;
            if let Err(e) = client.deactivate_means(&bsi, &means_id).await {
                tracing::warn!(error = %e, account_id, "NIA did not deactivate a means");
                return Err(Error::CannotDisableAuthenticator);
            }
            sqlx::query("DELETE FROM nia_means WHERE key_id = $1")
                .bind(m.try_get::<i64, _>("key_id")?)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Some(means.len()))
    }
}

/// One line of the account's security log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    pub at: i64,
    pub actor: String,
    pub event: String,
    pub ip: String,
}
