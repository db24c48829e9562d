//! Security keys of accounts: adding one (attestation `direct`, judged by `attestation`),
//! listing them, and the second login step with a key. Every ceremony's challenge is a
//! single-use row bound to the account, valid for five minutes (`tickets`). The verdicts
//! (`attestation`), the FIDO metadata they rest on (`mds`) and the public key test
//! (`key_check`) live beside it.

pub mod attestation;
pub mod key_check;
pub mod mds;
mod tickets;

pub(crate) use tickets::Ticket;

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use sqlx::Row;
use webauthn_rs_core::proto::{
    AuthenticationState, CreationChallengeResponse, Credential, PublicKeyCredential,
    RequestChallengeResponse,
};
use webauthn_rs_core::WebauthnCore;

use crate::account::accounts::Judged;
use crate::account::action_login::{Action, ActionLogin};
use crate::account::sessions::{AuthMethod, Freshness, NewSession};
use crate::audit::{Audit, Event};
use crate::error::{Error, Result, Violation};
use crate::{account::validate, sha256_hex, Idp, RequestInfo};
use attestation::{Ceremony, KeyKind, Verdict};
use mds::Level;

/// How long a ceremony's challenge stays open.
const TTL_SECS: i64 = 300;
pub const NAME_MAX: usize = 60;

/// A key in the account's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityKey {
    pub id: i64,
    pub name: String,
    pub model: Option<String>,
    pub kind: KeyKind,
    pub level: Level,
    pub nia_eligible: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Why the key cannot serve NIA (empty when it can).
    pub reasons: Vec<crate::keys::attestation::Reason>,
    /// Registered at NIA as a means of the linked account.
    pub nia_linked: bool,
}

/// A stored name read back through its one mapping; a name the code does not know is an
/// internal error, never a silent default.
pub(crate) fn stored<T>(parse: fn(&str) -> Option<T>, name: String) -> Result<T> {
    parse(&name).ok_or_else(|| Error::Internal(format!("unknown stored name {name:?}")))
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The RP ID of a page: its origin's host.
pub(crate) fn rp_id_of(origin: &str) -> Result<String> {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .ok_or_else(|| Error::Internal(format!("origin {origin:?} has no host")))
}

pub(crate) fn core(rp_id: &str, origin: &str) -> Result<WebauthnCore> {
    let origin = url::Url::parse(origin).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(WebauthnCore::new_unsafe_experts_only(
        "mojeID",
        rp_id,
        vec![origin],
        std::time::Duration::from_secs(TTL_SECS as u64),
        None,
        Some(false),
    ))
}

/// A key's verified answer to a challenge.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyAnswer {
    pub(crate) key_id: i64,
    pub(crate) user_verified: bool,
}

/// What the first login step leads to.
#[derive(Debug)]
pub enum LoginStep {
    Done(NewSession),
    /// The account has security keys: the browser must answer this challenge.
    KeyRequired {
        ticket: String,
        options: RequestChallengeResponse,
    },
}

/// What the password step of a step-up leads to.
#[derive(Debug)]
pub enum StepUp {
    /// No keys on the account: the password was enough and is recorded; the session has a
    /// new token (and, for a step-up made for an action, its proof).
    Done(NewSession, Option<ActionLogin>),
    KeyRequired {
        ticket: String,
        options: Box<RequestChallengeResponse>,
    },
}

/// Options for `navigator.credentials.create` with attestation `direct` (a key added to an
/// account, or the public key check).
pub(crate) fn creation_options(
    rp_id: &str,
    user_id: &[u8],
    user_name: &str,
    display_name: &str,
    challenge: &[u8],
    exclude: Vec<serde_json::Value>,
) -> Result<CreationChallengeResponse> {
    serde_json::from_value(json!({
        "publicKey": {
            "rp": { "id": rp_id, "name": "mojeID" },
            "user": { "id": b64(user_id), "name": user_name, "displayName": display_name },
            "challenge": b64(challenge),
            "pubKeyCredParams": [
                { "type": "public-key", "alg": -7 },
                { "type": "public-key", "alg": -257 },
                { "type": "public-key", "alg": -8 }
            ],
            "timeout": 120000,
            "excludeCredentials": exclude,
            "authenticatorSelection": { "requireResidentKey": false, "residentKey": "discouraged", "userVerification": "preferred" },
            "attestation": "direct"
        }
    }))
    .map_err(|e| Error::Internal(e.to_string()))
}

impl Idp {
    pub(crate) async fn stored_credentials(
        &self,
        account_id: i64,
    ) -> Result<Vec<(i64, Credential)>> {
        let rows = sqlx::query(
            "SELECT id, credential FROM security_keys WHERE account_id = $1 ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let json: String = r.try_get("credential")?;
                let cred: Credential =
                    serde_json::from_str(&json).map_err(|e| Error::Internal(e.to_string()))?;
                Ok((r.try_get("id")?, cred))
            })
            .collect()
    }

    pub async fn security_keys(&self, account_id: i64) -> Result<Vec<SecurityKey>> {
        let rows = sqlx::query(
            "SELECT id, name, model, kind, level, nia_eligible, created_at, last_used_at, verdict, \
             (SELECT COUNT(*) FROM nia_means m WHERE m.key_id = security_keys.id) AS nia_means \
             FROM security_keys WHERE account_id = $1 ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let eligible: i64 = r.try_get("nia_eligible")?;
                let verdict: Option<String> = r.try_get("verdict")?;
                let reasons = verdict
                    .and_then(|v| serde_json::from_str::<Verdict>(&v).ok())
                    .map(|v| v.reasons)
                    .unwrap_or_default();
                let nia_means: i64 = r.try_get("nia_means")?;
                Ok(SecurityKey {
                    nia_linked: nia_means > 0,
                    reasons,
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    model: r.try_get("model")?,
                    kind: stored(KeyKind::parse, r.try_get("kind")?)?,
                    level: stored(Level::parse, r.try_get("level")?)?,
                    nia_eligible: eligible != 0,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Starts adding a key. An account that already has keys may add another only within
    /// `sessions::FRESH_LOGIN_SECS` of a login with one of them (`session_auth`); if it has a system key
    /// (Windows Hello, Android), that login must have been with a system key, i.e. the new key
    /// is added on that device.
    pub async fn start_add_key(
        &self,
        caller: &crate::Caller<'_>,
        origin: &str,
    ) -> Result<(String, CreationChallengeResponse)> {
        let (account_id, username, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        // a new key is a new way into the account: a fresh login first
        self.require_fresh_login(account_id, session_auth).await?;
        let existing = self.stored_credentials(account_id).await?;
        if !existing.is_empty() {
            // the fresh login above holds a key; with a system key, it must be one of those
            let system: Vec<i64> = self
                .security_keys(account_id)
                .await?
                .iter()
                .filter(|k| k.kind.is_system())
                .map(|k| k.id)
                .collect();
            if !system.is_empty()
                && !(Freshness::SystemKey { of: &system }).holds(session_auth, self.clock.now())
            {
                return Err(Error::StepUpWithSystemKey);
            }
        }
        let rp_id = rp_id_of(origin)?;
        let mut challenge = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        let user_handle =
            &sha2::Sha256::digest(format!("mojeid-account:{account_id}").as_bytes())[..16];
        let exclude: Vec<serde_json::Value> = existing
            .iter()
            .map(|(_, c)| json!({ "type": "public-key", "id": b64(c.cred_id.as_ref()) }))
            .collect();
        let options =
            creation_options(&rp_id, user_handle, username, username, &challenge, exclude)?;
        let ticket = Ticket {
            account_id: Some(account_id),
            challenge: b64(&challenge),
            rp_id,
            origin: origin.to_owned(),
            state: None,
        };
        Ok((self.put_ticket("key_add", &ticket, req).await?, options))
    }

    /// Finishes adding a key: judges the attestation and stores the key with its verdict.
    /// Malformed data is refused (`Violation::KeyDataIncorrect`); a key that cannot serve NIA
    /// is still added, with its verdict shown.
    pub async fn finish_add_key(
        &self,
        caller: &crate::Caller<'_>,
        ticket: &str,
        name: &str,
        credential: &serde_json::Value,
    ) -> Result<(SecurityKey, Verdict)> {
        let (account_id, actor, req) = (caller.account_id, caller.username, caller.req);
        let name = match validate::optional_text(name, NAME_MAX) {
            Ok(Some(n)) => n,
            Ok(None) => return Err(Error::invalid("name", Violation::Required)),
            Err(v) => return Err(Error::invalid("name", v)),
        };
        let t = self.take_ticket("key_add", ticket).await?;
        if t.account()? != account_id {
            return Err(Error::NotFound);
        }
        let ceremony = Ceremony {
            rp_id: &t.rp_id,
            origin: &t.origin,
            challenge: &t.challenge,
        };
        let metadata = self.metadata();
        let (verdict, cred) = attestation::check_registration(
            credential,
            &ceremony,
            &metadata,
            std::time::SystemTime::now(),
        );
        let Some(cred) = cred.filter(|_| verdict.refused.is_none()) else {
            crate::metrics::key_registration("refused");
            return Err(Error::invalid("key", Violation::KeyDataIncorrect));
        };
        let now = self.clock.now();
        let kind = verdict.kind.as_str();
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO security_keys (account_id, credential_id, credential, name, format, aaguid, model, kind, \
             level, nia_eligible, verdict, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             RETURNING id",
        )
        .bind(account_id)
        .bind(b64(cred.cred_id.as_ref()))
        .bind(serde_json::to_string(&cred).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(&name)
        .bind(&verdict.format)
        .bind(&verdict.aaguid)
        .bind(&verdict.model)
        .bind(kind)
        .bind(verdict.level.fido_name())
        .bind(i64::from(verdict.nia_eligible))
        .bind(serde_json::to_string(&verdict).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(r) => r.try_get("id")?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::invalid("key", Violation::KeyAlreadyRegistered));
            }
            Err(e) => return Err(e.into()),
        };
        let details = json!({ "key_id": id, "aaguid": verdict.aaguid, "level": verdict.level.fido_name(), "nia_eligible": verdict.nia_eligible });
        Audit::new(now, Some(account_id), actor, req)
            .record(&mut *tx, Event::SecurityKeyAdded, details)
            .await?;
        crate::metrics::key_registration(if verdict.nia_eligible {
            "eligible"
        } else {
            "not_eligible"
        });
        // a certified key of a linked account logs into NIA too, registered there by a job,
        // when it was added after a login with a key that is a means already (NIA makes a
        // new means only with one of the same level)
        if verdict.nia_eligible {
            let means: Vec<i64> =
                sqlx::query_scalar("SELECT key_id FROM nia_means WHERE account_id = $1")
                    .bind(account_id)
                    .fetch_all(&mut *tx)
                    .await?;
            if (Freshness::NiaMeans { of: &means }).holds(caller.auth, now) {
                crate::jobs::enqueue(&mut tx, &crate::jobs::Kind::RegisterMeans { key: id }, now)
                    .await?;
            }
        }
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::KeyAdded { name: &name },
            req,
        )
        .await?;
        tx.commit().await?;
        let key = SecurityKey {
            id,
            name,
            model: verdict.model.clone(),
            kind: verdict.kind,
            level: verdict.level,
            nia_eligible: verdict.nia_eligible,
            created_at: now,
            last_used_at: None,
            reasons: verdict.reasons.clone(),
            nia_linked: false,
        };
        Ok((key, verdict))
    }

    /// After the password: the challenge the account's keys must answer.
    pub(crate) async fn start_key_login(
        &self,
        account_id: i64,
        origin: &str,
        req: &RequestInfo,
    ) -> Result<LoginStep> {
        let creds: Vec<Credential> = self
            .stored_credentials(account_id)
            .await?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        let rp_id = rp_id_of(origin)?;
        let core = core(&rp_id, origin)?;
        let builder = core
            .new_challenge_authenticate_builder(creds, None)
            .map_err(|e| Error::Internal(format!("{e:?}")))?;
        let (options, state) = core
            .generate_challenge_authenticate(builder)
            .map_err(|e| Error::Internal(format!("{e:?}")))?;
        let ticket = Ticket {
            account_id: Some(account_id),
            challenge: b64(options.public_key.challenge.as_ref()),
            rp_id,
            origin: origin.to_owned(),
            state: Some(serde_json::to_string(&state).map_err(|e| Error::Internal(e.to_string()))?),
        };
        let ticket = self.put_ticket("key_login", &ticket, req).await?;
        Ok(LoginStep::KeyRequired { ticket, options })
    }

    /// Verifies a key's answer to a ticket of `purpose`: the signature by one of the
    /// account's keys, the counter (stored anew). A refused answer counts as a failed login.
    async fn verify_key_answer(
        &self,
        purpose: &str,
        ticket: &str,
        assertion: &serde_json::Value,
        req: &RequestInfo,
    ) -> Result<(crate::account::accounts::Account, i64)> {
        let (account, answer) = self
            .verify_key_answer_of(purpose, ticket, assertion, req)
            .await?;
        Ok((account, answer.key_id))
    }

    /// `verify_key_answer`, with whether the key verified the user (PIN or biometrics).
    pub(crate) async fn verify_key_answer_of(
        &self,
        purpose: &str,
        ticket: &str,
        assertion: &serde_json::Value,
        req: &RequestInfo,
    ) -> Result<(crate::account::accounts::Account, KeyAnswer)> {
        let t = self.take_ticket(purpose, ticket).await?;
        let account = self.account(t.account()?).await?;
        let now = self.clock.now();
        let outcome = (|| {
            let state: AuthenticationState =
                serde_json::from_str(t.state.as_deref().unwrap_or("")).ok()?;
            let rsp: PublicKeyCredential = serde_json::from_value(assertion.clone()).ok()?;
            core(&t.rp_id, &t.origin)
                .ok()?
                .authenticate_credential(&rsp, &state)
                .ok()
        })();
        let Some(result) = outcome else {
            self.record_login_failure(
                Some(account.id),
                &account.username,
                req,
                json!({ "step": purpose }),
            )
            .await?;
            return Err(Error::BadSecurityKey);
        };
        let cred_id = b64(result.cred_id().as_ref());
        let row = sqlx::query(
            "SELECT id, credential FROM security_keys WHERE account_id = $1 AND credential_id = $2",
        )
        .bind(account.id)
        .bind(&cred_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::BadSecurityKey)?;
        let key_id: i64 = row.try_get("id")?;
        let stored: String = row.try_get("credential")?;
        let mut cred: Credential =
            serde_json::from_str(&stored).map_err(|e| Error::Internal(e.to_string()))?;
        cred.counter = result.counter();
        sqlx::query("UPDATE security_keys SET credential = $1, last_used_at = $2 WHERE id = $3")
            .bind(serde_json::to_string(&cred).map_err(|e| Error::Internal(e.to_string()))?)
            .bind(now)
            .bind(key_id)
            .execute(&self.db.pool)
            .await?;
        Ok((
            account,
            KeyAnswer {
                key_id,
                user_verified: result.user_verified(),
            },
        ))
    }

    /// The second login step: the key's answer starts the session.
    pub async fn finish_key_login(
        &self,
        ticket: &str,
        assertion: &serde_json::Value,
        previous_session: Option<&str>,
        req: &RequestInfo,
    ) -> Result<NewSession> {
        let (account, key_id) = self
            .verify_key_answer("key_login", ticket, assertion, req)
            .await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        if let Some(old) = previous_session {
            crate::account::sessions::delete_by_token(&mut tx, old).await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND ip = $2")
            .bind(&account.username)
            .bind(&req.ip)
            .execute(&mut *tx)
            .await?;
        let session = self
            .start_session(
                &mut tx,
                account.id,
                &[AuthMethod::Password, AuthMethod::SecurityKey { id: key_id }],
                req,
                now,
            )
            .await?;
        Audit::new(now, Some(account.id), &account.username, req)
            .record(
                &mut *tx,
                Event::LoginSucceeded,
                json!({ "methods": ["password", "security_key"], "key_id": key_id }),
            )
            .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Step-up ("log in again") within a session: the password, then (if the account has
    /// keys) a key. Done records both in the session.
    pub async fn start_reauth(
        &self,
        session_token: &str,
        password: &str,
        action: Option<Action>,
        origin: &str,
        req: &RequestInfo,
    ) -> Result<StepUp> {
        let session = self.session(session_token).await?;
        let admission = self.hasher.admit_login()?;
        let now = self.clock.now();
        let hash: String = sqlx::query("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(session.account_id)
            .fetch_one(&self.db.pool)
            .await?
            .try_get("password_hash")?;
        // counted before it is judged, as at the login (a stolen session must not guess the
        // password in parallel)
        match self
            .judge_password(admission, &session.username, password, Some(hash), now, req)
            .await?
        {
            Judged::Right { attempt } => self.take_back_attempt(attempt).await?,
            Judged::Throttled { retry_after_secs } => {
                return Err(Error::Throttled { retry_after_secs })
            }
            Judged::Wrong => {
                Audit::new(now, Some(session.account_id), &session.username, req)
                    .record(
                        &self.db.pool,
                        Event::LoginFailed,
                        json!({ "step": "reauth" }),
                    )
                    .await?;
                return Err(Error::BadCredentials);
            }
        }
        let session_account = session.account_id;
        if self.has_security_keys(session.account_id).await? {
            let LoginStep::KeyRequired { ticket, options } = self
                .start_key_login(session.account_id, origin, req)
                .await?
            else {
                return Err(Error::Internal("no key step".into()));
            };
            // the same challenge, bound to step-up (for `action`) instead of login
            sqlx::query("UPDATE webauthn_challenges SET purpose = $1 WHERE ticket_hash = $2")
                .bind(Action::challenge_purpose(action))
                .bind(sha256_hex(&ticket))
                .execute(&self.db.pool)
                .await?;
            return Ok(StepUp::KeyRequired {
                ticket,
                options: Box::new(options),
            });
        }
        let session = self
            .add_session_auth(session_token, &[AuthMethod::Password], req)
            .await?;
        let proof = action.map(|a| ActionLogin::new(session_account, a, now));
        Ok(StepUp::Done(session, proof))
    }

    /// The key's answer to a step-up: records password and key in the session.
    pub async fn finish_reauth(
        &self,
        session_token: &str,
        ticket: &str,
        assertion: &serde_json::Value,
        req: &RequestInfo,
    ) -> Result<(NewSession, Option<ActionLogin>)> {
        let session = self.session(session_token).await?;
        let purpose: String =
            sqlx::query("SELECT purpose FROM webauthn_challenges WHERE ticket_hash = $1")
                .bind(sha256_hex(ticket))
                .fetch_optional(&self.db.pool)
                .await?
                .ok_or(Error::NotFound)?
                .try_get("purpose")?;
        let action = Action::of_challenge_purpose(&purpose)?;
        let (account, key_id) = self
            .verify_key_answer(&purpose, ticket, assertion, req)
            .await?;
        if account.id != session.account_id {
            return Err(Error::BadSecurityKey);
        }
        let new = self
            .add_session_auth(
                session_token,
                &[AuthMethod::Password, AuthMethod::SecurityKey { id: key_id }],
                req,
            )
            .await?;
        let proof = action.map(|a| ActionLogin::new(account.id, a, self.clock.now()));
        Ok((new, proof))
    }

    /// Renames one of the account's keys.
    pub async fn rename_key(
        &self,
        account_id: i64,
        actor: &str,
        key_id: i64,
        name: &str,
        req: &RequestInfo,
    ) -> Result<String> {
        let name = match validate::optional_text(name, NAME_MAX) {
            Ok(Some(n)) => n,
            Ok(None) => return Err(Error::invalid("name", Violation::Required)),
            Err(v) => return Err(Error::invalid("name", v)),
        };
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let done =
            sqlx::query("UPDATE security_keys SET name = $1 WHERE id = $2 AND account_id = $3")
                .bind(&name)
                .bind(key_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::SecurityKeyRenamed,
                json!({ "key_id": key_id }),
            )
            .await?;
        tx.commit().await?;
        Ok(name)
    }

    /// Removes one of the account's keys: only after a fresh login with the password and a
    /// key (`session_auth`, `Freshness::PasswordAndKeyIfAny`), and a key linked to NIA only with a
    /// new login made for removing it (`proof`); the previous addresses are told. Answers
    /// how many keys remain.
    pub async fn remove_key(
        &self,
        caller: &crate::Caller<'_>,
        key_id: i64,
        proof: Option<&ActionLogin>,
    ) -> Result<usize> {
        let (account_id, actor, session_auth, req) =
            (caller.account_id, caller.username, caller.auth, caller.req);
        let now = self.clock.now();
        // the key being removed is one of the account's, so the rule asks for a key login
        self.require_fresh_login(account_id, session_auth).await?;
        // a key registered at NIA is deactivated there first; if NIA cannot be reached,
        // nothing changes here either (retrying later is safe: deactivating twice is fine)
        let means = sqlx::query(
            "SELECT m.means_id, l.bsi FROM nia_means m JOIN nia_links l ON l.account_id = m.account_id \
             WHERE m.key_id = $1 AND m.account_id = $2",
        )
        .bind(key_id)
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?;
        if let Some(m) = &means {
            ActionLogin::check(proof, account_id, Action::RemoveKey(key_id), now)?;
            let means_id: String = m.try_get("means_id")?;
            let bsi: String = m.try_get("bsi")?;
            let client = self.nia_client()?;
            if let Err(e) = client.deactivate_means(&bsi, &means_id).await {
                tracing::warn!(error = %e, key_id, "NIA did not deactivate the means");
                return Err(Error::CannotDisableAuthenticator);
            }
        }
        let mut tx = self.db.begin().await?;
        // a link written since the check above makes the key a means: asked again under the
        // write lock, so such a key never goes without the login made for removing it
        if means.is_none() {
            if self.db.backend == crate::Backend::Postgres {
                // waits for a link being written that names this key (its means row holds
                // a key-share lock on the key's row until it commits)
                sqlx::query("SELECT id FROM security_keys WHERE id = $1 FOR UPDATE")
                    .bind(key_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let became = sqlx::query("SELECT key_id FROM nia_means WHERE key_id = $1")
                .bind(key_id)
                .fetch_optional(&mut *tx)
                .await?;
            if became.is_some() {
                ActionLogin::check(proof, account_id, Action::RemoveKey(key_id), now)?;
                return Err(Error::Conflict);
            }
        }
        let name: Option<String> = sqlx::query(
            "DELETE FROM security_keys WHERE id = $1 AND account_id = $2 RETURNING name",
        )
        .bind(key_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?;
        let Some(name) = name else {
            return Err(Error::NotFound);
        };
        crate::notices::tell(
            &mut tx,
            account_id,
            now,
            crate::notices::Change::KeyRemoved { name: &name },
            req,
        )
        .await?;
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::SecurityKeyRemoved,
                json!({ "key_id": key_id, "nia_means_deactivated": means.is_some() }),
            )
            .await?;
        if means.is_some() {
            let left =
                sqlx::query("SELECT key_id FROM nia_means WHERE account_id = $1 AND key_id <> $2")
                    .bind(account_id)
                    .bind(key_id)
                    .fetch_all(&mut *tx)
                    .await?;
            if left.is_empty() {
                // the last means at NIA is gone: NIA ended the profile, so the link ends
                crate::nia::unlink::end_link_in(
                    &mut tx,
                    account_id,
                    actor,
                    &crate::nia::unlink::Reason::LastKeyRemoved { key_id },
                    req,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(self.security_keys(account_id).await?.len())
    }

    /// Judges every stored key again with the metadata now in use (after a new BLOB): level,
    /// model and NIA eligibility follow the new status reports and roots. Returns the keys whose
    /// eligibility changed; each change is audited.
    pub async fn reevaluate_keys(&self) -> Result<Vec<i64>> {
        let metadata = self.metadata();
        let rows = sqlx::query("SELECT id, account_id, credential, format, aaguid, nia_eligible FROM security_keys ORDER BY id")
            .fetch_all(&self.db.pool)
            .await?;
        let mut changed = Vec::new();
        let now = self.clock.now();
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let account_id: i64 = r.try_get("account_id")?;
            let json: String = r.try_get("credential")?;
            let Ok(cred) = serde_json::from_str::<Credential>(&json) else {
                tracing::error!(
                    key_id = id,
                    "stored credential unreadable; not re-evaluated"
                );
                continue;
            };
            let was_eligible: i64 = r.try_get("nia_eligible")?;
            let verdict = attestation::judge(
                &cred,
                r.try_get("format")?,
                r.try_get("aaguid")?,
                &metadata,
                std::time::SystemTime::now(),
            );
            let kind = verdict.kind.as_str();
            let mut tx = self.db.begin().await?;
            sqlx::query("UPDATE security_keys SET model = $1, kind = $2, level = $3, nia_eligible = $4, verdict = $5 WHERE id = $6")
                .bind(&verdict.model)
                .bind(kind)
                .bind(verdict.level.fido_name())
                .bind(i64::from(verdict.nia_eligible))
                .bind(serde_json::to_string(&verdict).map_err(|e| Error::Internal(e.to_string()))?)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if (was_eligible != 0) != verdict.nia_eligible {
                let actor = RequestInfo {
                    ip: "-".into(),
                    user_agent: "metadata update".into(),
                };
                let details = json!({ "key_id": id, "nia_eligible": verdict.nia_eligible, "level": verdict.level.fido_name(), "reasons": verdict.reasons });
                Audit::new(now, Some(account_id), "system", &actor)
                    .record(&mut *tx, Event::SecurityKeyReevaluated, details)
                    .await?;
                changed.push(id);
            }
            tx.commit().await?;
        }
        Ok(changed)
    }

    /// Whether the account must pass the key step.
    pub(crate) async fn has_security_keys(&self, account_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM security_keys WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&self.db.pool)
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }
}
