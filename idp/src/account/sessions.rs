//! Server-side sessions. The cookie holds a random token; the database holds its SHA-256,
//! the account, and which authentication methods were used when (for step-up later).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Row, Transaction};

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::{random_token, sha256_hex, Idp, RequestInfo};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum AuthMethod {
    Password,
    SecurityKey { id: i64 },
    Certificate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRecord {
    #[serde(flatten)]
    pub method: AuthMethod,
    pub at: i64,
}

/// How recent the login must be for the actions that ask for a new one (step-up): linking
/// and detaching, removing a key, adding one, changing a contact or the password.
pub const FRESH_LOGIN_SECS: i64 = 300;

/// The step-up policy as data: what a new login must hold for an action, each part within
/// the one window `FRESH_LOGIN_SECS`. A certificate login never counts. `holds` is the one
/// check; every action that asks for a new login names its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness<'a> {
    /// The password, and a security key when the account has any: changing a contact or the
    /// password, adding or removing a key.
    PasswordAndKeyIfAny { has_keys: bool },
    /// The password and a security key: linking to NIA ("you cannot use a certificate").
    PasswordAndKey,
    /// A security key: staff actions that cannot be undone or that read documents.
    AnyKey,
    /// One of these system keys: adding a key to an account that relies on a system key
    /// (Windows Hello, Android) happens on that device.
    SystemKey { of: &'a [i64] },
    /// One of the keys that are means at NIA: a new means is made only with a means of the
    /// same level (a key added after linking becomes one only then).
    NiaMeans { of: &'a [i64] },
}

impl Freshness<'_> {
    pub fn holds(self, auth: &[AuthRecord], now: i64) -> bool {
        let recent = |want: &dyn Fn(&AuthMethod) -> bool| {
            auth.iter()
                .any(|a| want(&a.method) && a.at <= now && now - a.at <= FRESH_LOGIN_SECS)
        };
        let password = || recent(&|m| matches!(m, AuthMethod::Password));
        let key = || recent(&|m| matches!(m, AuthMethod::SecurityKey { .. }));
        match self {
            Freshness::PasswordAndKeyIfAny { has_keys } => password() && (!has_keys || key()),
            Freshness::PasswordAndKey => password() && key(),
            Freshness::AnyKey => key(),
            Freshness::SystemKey { of } | Freshness::NiaMeans { of } => {
                recent(&|m| matches!(m, AuthMethod::SecurityKey { id } if of.contains(id)))
            }
        }
    }
}

impl Session {
    /// This session's citizen as the caller of a domain function.
    pub fn caller<'a>(&'a self, req: &'a RequestInfo) -> crate::Caller<'a> {
        crate::Caller {
            account_id: self.account_id,
            username: &self.username,
            auth: &self.auth,
            req,
        }
    }
}

/// A session just started: the token goes into the cookie and nowhere else.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub expires_at: i64,
}

/// One of the account's sessions, as its owner sees it ("Signed-in devices").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// An opaque handle (the stored hash of the token, never the token).
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// The session this list is shown in.
    pub current: bool,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub account_id: i64,
    pub username: String,
    pub created_at: i64,
    pub auth: Vec<AuthRecord>,
}

pub(crate) async fn delete_by_token(tx: &mut Transaction<'_, Any>, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(token))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Idp {
    pub(crate) async fn start_session(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: i64,
        methods: &[AuthMethod],
        req: &RequestInfo,
        now: i64,
    ) -> Result<NewSession> {
        let token = random_token();
        let auth: Vec<AuthRecord> = methods
            .iter()
            .map(|m| AuthRecord {
                method: m.clone(),
                at: now,
            })
            .collect();
        let expires_at = now + self.policy.session_absolute_secs;
        sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip, \
             user_agent, auth_methods) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sha256_hex(&token))
        .bind(account_id)
        .bind(now)
        .bind(now)
        .bind(expires_at)
        .bind(&req.ip)
        .bind(req.user_agent.chars().take(512).collect::<String>())
        .bind(serde_json::to_string(&auth).map_err(|e| Error::Internal(e.to_string()))?)
        .execute(&mut **tx)
        .await?;
        Ok(NewSession { token, expires_at })
    }

    /// The live session for a cookie token, or `Error::NotAuthenticated`. Idle and absolute
    /// timeouts end it; use refreshes `last_seen_at` at most once a minute.
    pub async fn session(&self, token: &str) -> Result<Session> {
        let now = self.clock.now();
        let id_hash = sha256_hex(token);
        let row = sqlx::query(
            "SELECT s.account_id, s.created_at, s.last_seen_at, s.expires_at, s.auth_methods, \
             a.username, a.state FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id_hash = $1",
        )
        .bind(&id_hash)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotAuthenticated)?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let state: String = row.try_get("state")?;
        if now >= expires_at
            || now - last_seen >= self.policy.session_idle_secs
            || crate::account::accounts::AccountState::stored(&state)?
                != crate::account::accounts::AccountState::Active
        {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(&id_hash)
                .execute(&self.db.pool)
                .await?;
            return Err(Error::NotAuthenticated);
        }
        if now - last_seen >= 60 {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(&id_hash)
                .execute(&self.db.pool)
                .await?;
        }
        let auth_json: String = row.try_get("auth_methods")?;
        Ok(Session {
            account_id: row.try_get("account_id")?,
            username: row.try_get("username")?,
            created_at: row.try_get("created_at")?,
            auth: serde_json::from_str(&auth_json).unwrap_or_default(),
        })
    }

    /// `Error::StepUpRequired` unless the session holds a fresh login for this account
    /// (`Freshness::PasswordAndKeyIfAny`).
    pub async fn require_fresh_login(&self, account_id: i64, auth: &[AuthRecord]) -> Result<()> {
        let has_keys = self.has_security_keys(account_id).await?;
        if (Freshness::PasswordAndKeyIfAny { has_keys }).holds(auth, self.clock.now()) {
            Ok(())
        } else {
            Err(Error::StepUpRequired)
        }
    }

    /// Records fresh authentication (a step-up) in a live session, which gets a new token
    /// (whoever held the old one — a cookie read before the step-up — holds nothing now).
    pub async fn add_session_auth(
        &self,
        token: &str,
        methods: &[AuthMethod],
        req: &RequestInfo,
    ) -> Result<NewSession> {
        let session = self.session(token).await?;
        let now = self.clock.now();
        let mut auth = session.auth;
        auth.extend(methods.iter().map(|m| AuthRecord {
            method: m.clone(),
            at: now,
        }));
        // keep the record short: the latest of each method
        auth.sort_by_key(|a| std::cmp::Reverse(a.at));
        let mut seen = Vec::new();
        auth.retain(|a| {
            let fresh = !seen.contains(&a.method);
            seen.push(a.method.clone());
            fresh
        });
        let new_token = random_token();
        let mut tx = self.db.begin().await?;
        let row = sqlx::query(
            "UPDATE sessions SET auth_methods = $1, id_hash = $2 WHERE id_hash = $3 RETURNING expires_at",
        )
        .bind(serde_json::to_string(&auth).map_err(|e| Error::Internal(e.to_string()))?)
        .bind(sha256_hex(&new_token))
        .bind(sha256_hex(token))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotAuthenticated)?;
        let expires_at: i64 = row.try_get("expires_at")?;
        Audit::new(now, Some(session.account_id), &session.username, req)
            .record(&mut *tx, Event::StepUp, json!({ "methods": methods }))
            .await?;
        tx.commit().await?;
        Ok(NewSession {
            token: new_token,
            expires_at,
        })
    }

    /// The account's live sessions, the most recently used first.
    pub async fn sessions_of(
        &self,
        account_id: i64,
        current_token: &str,
    ) -> Result<Vec<SessionInfo>> {
        let now = self.clock.now();
        let current = sha256_hex(current_token);
        let rows = sqlx::query(
            "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
             WHERE account_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY last_seen_at DESC",
        )
        .bind(account_id)
        .bind(now)
        .bind(now - self.policy.session_idle_secs)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id_hash")?;
                Ok(SessionInfo {
                    current: id == current,
                    id,
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                })
            })
            .collect()
    }

    /// "End session": the account's session `id` ends (another account's id is not found).
    pub async fn end_session(
        &self,
        account_id: i64,
        actor: &str,
        id: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let gone = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(Error::NotFound);
        }
        Audit::new(self.clock.now(), Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::SessionEnded,
                json!({ "session": &id[..id.len().min(12)] }),
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the session of this token (logout). Unknown tokens are not an error.
    pub async fn logout(&self, token: &str, req: &RequestInfo) -> Result<()> {
        let session = match self.session(token).await {
            Ok(s) => Some(s),
            Err(Error::NotAuthenticated) => None,
            Err(e) => return Err(e),
        };
        let mut tx = self.db.begin().await?;
        delete_by_token(&mut tx, token).await?;
        if let Some(s) = session {
            Audit::new(self.clock.now(), Some(s.account_id), &s.username, req)
                .record(&mut *tx, Event::Logout, json!({}))
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
