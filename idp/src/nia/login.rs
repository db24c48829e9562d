//! Logging into a government service with mojeID through NIA (DESIGN §7, the login in
//! detail): NIA's verified AuthnRequest opens a login flow; the citizen sees which service
//! asked and for which level, gives the password and then a fresh assertion with user
//! verification from one of the keys registered at NIA as means (whatever mojeID session
//! the browser has: NIA asks with ForceAuthn, and this flow never reads a session); the
//! level reached is decided by `loa::decide`; the answer is our signed Response, posted by
//! the browser to NIA's assertion consumer. Every answer is recorded once: the flow is
//! answered, the login is in the citizen's history ("Logins to government services") and in
//! the audit log. NIA unreachable when we would answer: nothing is recorded and the
//! citizen may try again.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use webauthn_rs_core::proto::{Credential, RequestChallengeResponse, UserVerificationPolicy};

use super::client::NiaError;
use super::loa::{self, KeyFacts, Loa, LoginFacts, Refusal};
use super::saml_idp::{Outcome, Status};
use crate::account::accounts::{AccountState, Judged};
use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::keys::mds::Level;
use crate::keys::{b64, core, rp_id_of, stored, Ticket};
use crate::nia::pairing::Method;
use crate::public_edge::Edge;
use crate::{random_token, sha256_hex, Idp, RequestInfo};

/// How long a citizen has to log in once NIA sent them.
pub const FLOW_SECS: i64 = 600;
/// The challenge purpose of the key step.
const PURPOSE: &str = "nia_login";

/// A login flow as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLoginView {
    /// The service, as NIA named it.
    pub service: String,
    pub requested: Loa,
    /// Already answered (the page offers nothing more).
    pub answered: bool,
}

/// The answer to NIA that the browser posts to NIA's assertion consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub acs_url: String,
    pub saml_response: String,
    pub relay_state: Option<String>,
    /// The level reached, or why not (`None`: the citizen cancelled).
    pub result: std::result::Result<Loa, Option<Refusal>>,
    /// The account's keys that are means at NIA (named on a refusal about keys).
    pub means_keys: Vec<String>,
}

/// What the password step leads to.
#[derive(Debug)]
pub enum PasswordStep {
    /// A key registered at NIA must answer this challenge (with user verification).
    Key {
        ticket: String,
        options: Box<RequestChallengeResponse>,
    },
    /// The account cannot log in through NIA: the answer says why.
    Refused(Box<Answer>),
}

/// One entry of "Logins to government services".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NiaLoginEntry {
    pub at: i64,
    pub service: String,
    pub loa: Loa,
    pub key_name: String,
    pub ip: String,
    pub user_agent: String,
}

/// An open flow, as stored.
struct Flow {
    id: i64,
    request_id: String,
    service: String,
    requested: Loa,
    relay_state: Option<String>,
    account_id: Option<i64>,
}

fn nia_error(e: NiaError) -> Error {
    match e {
        NiaError::Unavailable(_) => Error::NiaUnavailable,
        NiaError::Invalid(m) | NiaError::Refused(m) => {
            tracing::warn!(reason = %m, "NIA login request refused");
            Error::NiaRequestInvalid
        }
        NiaError::Config(m) => Error::Internal(m),
    }
}

/// The SAML status and message NIA gets for a refusal.
fn status_of(refusal: Option<&Refusal>) -> (Status, &'static str) {
    match refusal {
        None => (Status::AuthnFailed, "The citizen cancelled the login."),
        Some(Refusal::AccountNotActive) => (Status::AuthnFailed, "The account is not active."),
        Some(Refusal::NotLinked) => (Status::RequestDenied, "The account is not linked to NIA."),
        Some(Refusal::KeyNotCertified | Refusal::KeyNotAtNia) => (
            Status::RequestDenied,
            "No security key registered at NIA answered.",
        ),
        Some(Refusal::HighNeeds { .. }) => (
            Status::NoAuthnContext,
            "The account cannot reach the requested level of assurance.",
        ),
    }
}

impl Idp {
    /// NIA's AuthnRequest at our SSO endpoint: verified (see `saml_idp`), its ID accepted
    /// once, and a flow opened; the token names the flow in the login page's address.
    pub async fn receive_nia_login(
        &self,
        saml_request: &str,
        relay_state: Option<&str>,
        req: &RequestInfo,
    ) -> Result<String> {
        let nia = self.nia_client()?;
        let now = self.clock.now();
        let request = match nia.verify_login_request(saml_request, now).await {
            Ok(r) => r,
            Err(e) => {
                let e = nia_error(e);
                if matches!(e, Error::NiaRequestInvalid) {
                    // anyone can post here: counted, and sampled into the audit log
                    self.edge_reject(Edge::NiaSso, "verification", req).await?;
                }
                return Err(e);
            }
        };
        let relay_state = relay_state
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(80).collect::<String>());
        let token = random_token();
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM nia_login_requests WHERE expires_at <= $1")
            .bind(now - 86_400)
            .execute(&mut *tx)
            .await?;
        let seen = sqlx::query("SELECT 1 FROM nia_login_requests WHERE request_id = $1")
            .bind(&request.id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if seen {
            tx.commit().await?;
            self.edge_reject(Edge::NiaSso, "replayed", req).await?;
            return Err(Error::NiaRequestInvalid);
        }
        let inserted = sqlx::query(
            "INSERT INTO nia_login_requests (token_hash, request_id, service, requested_loa, relay_state, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(sha256_hex(&token))
        .bind(&request.id)
        .bind(&request.service)
        .bind(loa_name(request.requested))
        .bind(&relay_state)
        .bind(now)
        .bind(now + FLOW_SECS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if inserted == 0 {
            // the same request at the same moment on another server
            self.edge_reject(Edge::NiaSso, "replayed", req).await?;
            return Err(Error::NiaRequestInvalid);
        }
        Ok(token)
    }

    async fn open_flow(&self, token: &str) -> Result<Option<(Flow, bool)>> {
        let row = sqlx::query(
            "SELECT id, request_id, service, requested_loa, relay_state, account_id, expires_at, answered_at \
             FROM nia_login_requests WHERE token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let expires_at: i64 = r.try_get("expires_at")?;
        let answered: Option<i64> = r.try_get("answered_at")?;
        if answered.is_none() && expires_at <= self.clock.now() {
            return Ok(None);
        }
        let requested: String = r.try_get("requested_loa")?;
        Ok(Some((
            Flow {
                id: r.try_get("id")?,
                request_id: r.try_get("request_id")?,
                service: r.try_get("service")?,
                requested: stored(loa_parse, requested)?,
                relay_state: r.try_get("relay_state")?,
                account_id: r.try_get("account_id")?,
            },
            answered.is_some(),
        )))
    }

    /// An open flow, or `NotFound` (unknown, expired or answered).
    async fn unanswered(&self, token: &str) -> Result<Flow> {
        match self.open_flow(token).await? {
            Some((flow, false)) => Ok(flow),
            _ => Err(Error::NotFound),
        }
    }

    /// The flow behind a login page: which service asks, for which level.
    pub async fn nia_login(&self, token: &str) -> Result<NiaLoginView> {
        let (flow, answered) = self.open_flow(token).await?.ok_or(Error::NotFound)?;
        Ok(NiaLoginView {
            service: flow.service,
            requested: flow.requested,
            answered,
        })
    }

    /// The answer a flow was given, for the page after the step that made it (to show it and
    /// post it to NIA): `NotFound` for an unknown or unanswered flow, and once the flow would
    /// have expired.
    pub async fn nia_login_answer(&self, token: &str) -> Result<Answer> {
        let row =
            sqlx::query("SELECT answered_at, answer FROM nia_login_requests WHERE token_hash = $1")
                .bind(sha256_hex(token))
                .fetch_optional(&self.db.pool)
                .await?
                .ok_or(Error::NotFound)?;
        let answered: Option<i64> = row.try_get("answered_at")?;
        let answer: Option<String> = row.try_get("answer")?;
        match (answered, answer) {
            (Some(at), Some(answer)) if at + FLOW_SECS > self.clock.now() => {
                serde_json::from_str(&answer)
                    .map_err(|e| Error::Internal(format!("a stored answer unread: {e}")))
            }
            _ => Err(Error::NotFound),
        }
    }

    /// The password step: throttled as every login; then an account that cannot serve NIA
    /// is refused at once (answered to NIA), and one that can gets a challenge for its keys
    /// registered at NIA, user verification required.
    pub async fn nia_login_password(
        &self,
        token: &str,
        username: &str,
        password: &str,
        origin: &str,
        req: &RequestInfo,
    ) -> Result<PasswordStep> {
        let flow = self.unanswered(token).await?;
        let key = crate::account::accounts::login_name(username);
        if key.is_empty() || password.is_empty() {
            return Err(Error::BadCredentials);
        }
        let admission = self.hasher.admit_login()?;
        let now = self.clock.now();
        let (account, hash) = self.account_for_login(&key).await?;
        let account = match (
            self.judge_password(admission, &key, password, hash, now, req)
                .await?,
            account,
        ) {
            (Judged::Right { attempt }, Some(a)) => {
                self.take_back_attempt(attempt).await?;
                a
            }
            (Judged::Throttled { retry_after_secs }, _) => {
                return Err(Error::Throttled { retry_after_secs })
            }
            (_, other) => {
                let id = other.map(|a| a.id);
                Audit::new(now, id, &key, req)
                    .record(
                        &self.db.pool,
                        Event::LoginFailed,
                        json!({ "step": "nia_login", "known_username": id.is_some() }),
                    )
                    .await?;
                return Err(Error::BadCredentials);
            }
        };
        sqlx::query("UPDATE nia_login_requests SET account_id = $1 WHERE id = $2")
            .bind(account.id)
            .bind(flow.id)
            .execute(&self.db.pool)
            .await?;
        let means = self.means_keys(account.id).await?;
        let linked = self.link_method(account.id).await?.is_some();
        let refusal = if account.state != AccountState::Active {
            Some(Refusal::AccountNotActive)
        } else if !linked {
            Some(Refusal::NotLinked)
        } else if means.is_empty() {
            Some(Refusal::KeyNotAtNia)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            let answer = self
                .answer(&flow, Some(&account), Err(Some(refusal)), None, req)
                .await?;
            return Ok(PasswordStep::Refused(Box::new(answer)));
        }
        let creds: Vec<Credential> = means.into_iter().map(|(_, _, c)| c).collect();
        let rp_id = rp_id_of(origin)?;
        let core = core(&rp_id, origin)?;
        let builder = core
            .new_challenge_authenticate_builder(creds, Some(UserVerificationPolicy::Required))
            .map_err(|e| Error::Internal(format!("{e:?}")))?;
        let (options, state) = core
            .generate_challenge_authenticate(builder)
            .map_err(|e| Error::Internal(format!("{e:?}")))?;
        let ticket = Ticket {
            account_id: Some(account.id),
            challenge: b64(options.public_key.challenge.as_ref()),
            rp_id,
            origin: origin.to_owned(),
            state: Some(serde_json::to_string(&state).map_err(|e| Error::Internal(e.to_string()))?),
        };
        let ticket = self.put_ticket(PURPOSE, &ticket, req).await?;
        Ok(PasswordStep::Key {
            ticket,
            options: Box::new(options),
        })
    }

    /// The key step: NIA must be reachable (else nothing is spent or recorded), the key's
    /// answer must verify, and the level is decided; success and refusal are both answered.
    pub async fn nia_login_key(
        &self,
        token: &str,
        ticket: &str,
        assertion: &serde_json::Value,
        req: &RequestInfo,
    ) -> Result<Answer> {
        let flow = self.unanswered(token).await?;
        let expected = flow.account_id.ok_or(Error::NotFound)?;
        self.nia_client()?.reachable().await.map_err(nia_error)?;
        let (account, answer) = self
            .verify_key_answer_of(PURPOSE, ticket, assertion, req)
            .await?;
        if account.id != expected {
            return Err(Error::BadSecurityKey);
        }
        let facts = self
            .login_facts(
                account.id,
                account.state,
                answer.key_id,
                answer.user_verified,
            )
            .await?;
        let high = loa::HighModels(self.policy.high_models.clone());
        let result = loa::decide(&facts, flow.requested, &high).map_err(Some);
        self.answer(&flow, Some(&account), result, Some(answer.key_id), req)
            .await
    }

    /// The citizen cancels: NIA hears AuthnFailed.
    pub async fn nia_login_cancel(&self, token: &str, req: &RequestInfo) -> Result<Answer> {
        let flow = self.unanswered(token).await?;
        self.nia_client()?.reachable().await.map_err(nia_error)?;
        let account = match flow.account_id {
            Some(id) => Some(self.account(id).await?),
            None => None,
        };
        self.answer(&flow, account.as_ref(), Err(None), None, req)
            .await
    }

    /// The account's keys that are means at NIA: id, name and credential.
    async fn means_keys(&self, account_id: i64) -> Result<Vec<(i64, String, Credential)>> {
        let rows = sqlx::query(
            "SELECT k.id, k.name, k.credential FROM security_keys k JOIN nia_means m ON m.key_id = k.id \
             WHERE k.account_id = $1 AND m.account_id = $1 ORDER BY k.id",
        )
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let json: String = r.try_get("credential")?;
                let cred: Credential =
                    serde_json::from_str(&json).map_err(|e| Error::Internal(e.to_string()))?;
                Ok((r.try_get("id")?, r.try_get("name")?, cred))
            })
            .collect()
    }

    async fn link_method(&self, account_id: i64) -> Result<Option<Method>> {
        let row = sqlx::query("SELECT method FROM nia_links WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|r| Method::stored(&r.try_get::<String, _>("method")?))
            .transpose()
    }

    async fn login_facts(
        &self,
        account_id: i64,
        account_state: AccountState,
        key_id: i64,
        user_verified: bool,
    ) -> Result<LoginFacts> {
        let validated_by = self.link_method(account_id).await?;
        let k = sqlx::query(
            "SELECT k.level, k.nia_eligible, k.aaguid, \
             (SELECT COUNT(*) FROM nia_means m WHERE m.key_id = k.id AND m.account_id = k.account_id) AS means \
             FROM security_keys k WHERE k.id = $1 AND k.account_id = $2",
        )
        .bind(key_id)
        .bind(account_id)
        .fetch_one(&self.db.pool)
        .await?;
        Ok(LoginFacts {
            account_state,
            linked: validated_by.is_some(),
            validated_by,
            key: KeyFacts {
                level: stored(Level::parse, k.try_get("level")?)?,
                nia_eligible: k.try_get::<i64, _>("nia_eligible")? != 0,
                registered_at_nia: k.try_get::<i64, _>("means")? > 0,
                aaguid: k.try_get("aaguid")?,
            },
            user_verified,
        })
    }

    async fn mark_answered(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        flow: &Flow,
        now: i64,
        answer: &Answer,
    ) -> Result<()> {
        let answer = serde_json::to_string(answer)
            .map_err(|e| Error::Internal(format!("an answer that is not JSON: {e}")))?;
        let done = sqlx::query(
            "UPDATE nia_login_requests SET answered_at = $1, answer = $2 \
             WHERE id = $3 AND answered_at IS NULL",
        )
        .bind(now)
        .bind(answer)
        .bind(flow.id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// Signs the answer, then records it once: the flow answered, the login in the
    /// history (on success) and the audit log. `account` is `None` for a cancel before any
    /// password: nobody's history changes.
    async fn answer(
        &self,
        flow: &Flow,
        account: Option<&crate::account::accounts::Account>,
        result: std::result::Result<Loa, Option<Refusal>>,
        key_id: Option<i64>,
        req: &RequestInfo,
    ) -> Result<Answer> {
        let nia = self.nia_client()?;
        let now = self.clock.now();
        let session_index = super::saml_idp::new_id();
        let (outcome, means) = match (&result, key_id, account) {
            (Ok(loa), Some(key), Some(account)) => {
                let means_id: String = sqlx::query(
                    "SELECT means_id FROM nia_means WHERE key_id = $1 AND account_id = $2",
                )
                .bind(key)
                .bind(account.id)
                .fetch_one(&self.db.pool)
                .await?
                .try_get("means_id")?;
                (
                    Outcome::Success {
                        means_id: means_id.clone(),
                        loa: *loa,
                        authn_instant: now,
                        session_index: session_index.clone(),
                    },
                    Some(means_id),
                )
            }
            (Ok(_), _, _) => {
                return Err(Error::Internal(
                    "a success without an account and key".into(),
                ))
            }
            (Err(refusal), _, _) => {
                let (status, message) = status_of(refusal.as_ref());
                (
                    Outcome::Refused {
                        status,
                        message: message.into(),
                    },
                    None,
                )
            }
        };
        let saml_response = nia
            .login_response(&flow.request_id, &outcome, now)
            .await
            .map_err(nia_error)?;
        // which keys are NIA means is said only once a key has answered, never on the
        // strength of the password alone
        let means_keys = match (account, key_id) {
            (Some(a), Some(_)) => self
                .means_keys(a.id)
                .await?
                .into_iter()
                .map(|(_, name, _)| name)
                .collect(),
            _ => Vec::new(),
        };
        let answer = Answer {
            acs_url: nia.config.login_acs_url.clone(),
            saml_response,
            relay_state: flow.relay_state.clone(),
            result: result.clone(),
            means_keys,
        };
        let mut tx = self.db.begin().await?;
        self.mark_answered(&mut tx, flow, now, &answer).await?;
        let audit = Audit::new(
            now,
            account.map(|a| a.id),
            account.map_or("", |a| a.username.as_str()),
            req,
        );
        match (&result, account) {
            (Ok(loa), Some(account)) => {
                let key = key_id.unwrap_or_default();
                let key_name: String = sqlx::query("SELECT name FROM security_keys WHERE id = $1")
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("name")?;
                sqlx::query(
                    "INSERT INTO nia_logins (account_id, at, service, loa, key_id, key_name, ip, user_agent, \
                     request_id, session_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(account.id)
                .bind(now)
                .bind(&flow.service)
                .bind(loa_name(*loa))
                .bind(key)
                .bind(&key_name)
                .bind(&req.ip)
                .bind(&req.user_agent)
                .bind(&flow.request_id)
                .bind(&session_index)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
                    .bind(&account.username)
                    .bind(&req.ip)
                    .execute(&mut *tx)
                    .await?;
                audit
                    .record(
                        &mut *tx,
                        Event::NiaLogin,
                        json!({
                            "service": flow.service, "loa": loa_name(*loa), "key_id": key,
                            "key_name": key_name, "means_id": means, "request_id": flow.request_id,
                        }),
                    )
                    .await?;
            }
            (Ok(_), None) => return Err(Error::Internal("a success without an account".into())),
            (Err(refusal), _) => {
                audit
                    .record(
                        &mut *tx,
                        Event::NiaLoginRefused,
                        json!({
                            "service": flow.service, "requested": loa_name(flow.requested),
                            "refusal": refusal.as_ref().map_or(json!("cancelled"), |r| json!(r)),
                            "key_id": key_id,
                        }),
                    )
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(answer)
    }

    /// "Logins to government services": the newest first.
    pub async fn nia_logins_of(&self, account_id: i64, limit: i64) -> Result<Vec<NiaLoginEntry>> {
        let rows = sqlx::query(
            "SELECT at, service, loa, key_name, ip, user_agent FROM nia_logins WHERE account_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NiaLoginEntry {
                    at: r.try_get("at")?,
                    service: r.try_get("service")?,
                    loa: stored(loa_parse, r.try_get("loa")?)?,
                    key_name: r.try_get("key_name")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                })
            })
            .collect()
    }
}

/// The stored name of a level (its serde name).
fn loa_name(l: Loa) -> &'static str {
    match l {
        Loa::Substantial => "substantial",
        Loa::High => "high",
    }
}

fn loa_parse(s: &str) -> Option<Loa> {
    [Loa::Substantial, Loa::High]
        .into_iter()
        .find(|l| loa_name(*l) == s)
}
