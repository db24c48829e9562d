//! Server-side sessions. The cookie holds a random token; the database holds its SHA-256,
//! the account, and which authentication methods were used when (for step-up later).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Row, Transaction};

use crate::audit::{self, Event};
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

/// A session just started: the token goes into the cookie and nowhere else.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub expires_at: i64,
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
            || state != "active"
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

    /// Records fresh authentication (a step-up) in a live session.
    pub async fn add_session_auth(
        &self,
        token: &str,
        methods: &[AuthMethod],
        req: &RequestInfo,
    ) -> Result<()> {
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
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("UPDATE sessions SET auth_methods = $1 WHERE id_hash = $2")
            .bind(serde_json::to_string(&auth).map_err(|e| Error::Internal(e.to_string()))?)
            .bind(sha256_hex(token))
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            now,
            Some(session.account_id),
            &session.username,
            Event::StepUp,
            req,
            json!({ "methods": methods }),
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
        let mut tx = self.db.pool.begin().await?;
        delete_by_token(&mut tx, token).await?;
        if let Some(s) = session {
            audit::record(
                &mut *tx,
                self.clock.now(),
                Some(s.account_id),
                &s.username,
                Event::Logout,
                req,
                json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
