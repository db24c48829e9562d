//! The append-only audit log. The schema refuses UPDATE and DELETE on `audit_events`
//! (triggers on both databases); this module only ever inserts.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Row};

use crate::account::sessions::Session;
use crate::error::Result;
use crate::staff::Role;
use crate::{Idp, RequestInfo};

/// Stable event names: operators search and alert on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Event {
    AccountCreated,
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    Logout,
    ProfileChanged,
    EmailCodeSent,
    EmailVerified,
    PhoneCodeSent,
    PhoneVerified,
    ContactCodeRejected,
    SecurityKeyAdded,
    SecurityKeyRenamed,
    SecurityKeyRemoved,
    SecurityKeyReevaluated,
    StepUp,
    PairingStarted,
    PairingTransition,
    NiaResponseRejected,
    PublicEdgeRejected,
    NiaLinked,
    RegistryChanged,
    NiaUnlinked,
    OfficeDelivery,
    TwofaResetStarted,
    TwofaResetRefused,
    TwofaReset,
    IdentityChecked,
    UnlinkQueued,
    PaperFormRecorded,
    LoginReset,
    LoginResetQueued,
    PasswordReset,
    PasswordChanged,
    SessionEnded,
    PaperFormScanViewed,
    /// A means of ours at NIA that no link here holds was deactivated there.
    NiaMeansOrphanDeactivated,
    /// A means a link here holds is not active at NIA.
    NiaMeansMissing,
    /// A certified key added to a linked account was registered at NIA as a means.
    NiaMeansRegistered,
    /// A login to a government service through NIA: the level reached, the key used.
    NiaLogin,
    /// A login through NIA answered with a refusal (or cancelled).
    NiaLoginRefused,
    SupportRequestSent,
    SupportQueueViewed,
    SupportRequestViewed,
    SupportScreenshotViewed,
    SupportRequestAnswered,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::AccountCreated => "account.created",
            Event::LoginSucceeded => "login.succeeded",
            Event::LoginFailed => "login.failed",
            Event::LoginThrottled => "login.throttled",
            Event::Logout => "logout",
            Event::ProfileChanged => "profile.changed",
            Event::EmailCodeSent => "contact.email.code_sent",
            Event::EmailVerified => "contact.email.verified",
            Event::PhoneCodeSent => "contact.phone.code_sent",
            Event::PhoneVerified => "contact.phone.verified",
            Event::ContactCodeRejected => "contact.code_rejected",
            Event::SecurityKeyAdded => "security_key.added",
            Event::SecurityKeyRenamed => "security_key.renamed",
            Event::SecurityKeyRemoved => "security_key.removed",
            Event::SecurityKeyReevaluated => "security_key.reevaluated",
            Event::StepUp => "session.step_up",
            Event::PairingStarted => "nia.pairing.started",
            Event::PairingTransition => "nia.pairing.transition",
            Event::NiaResponseRejected => "nia.response.rejected",
            Event::PublicEdgeRejected => "public_edge.rejected",
            Event::NiaLinked => "nia.linked",
            Event::RegistryChanged => "nia.registry_changed",
            Event::NiaUnlinked => "nia.unlinked",
            Event::OfficeDelivery => "nia.office_delivery",
            Event::TwofaResetStarted => "twofa.reset_started",
            Event::TwofaResetRefused => "twofa.reset_refused",
            Event::TwofaReset => "twofa.reset",
            Event::IdentityChecked => "helpdesk.identity_checked",
            Event::UnlinkQueued => "helpdesk.unlink_queued",
            Event::PaperFormRecorded => "backoffice.paper_form_recorded",
            Event::LoginReset => "login.reset",
            Event::LoginResetQueued => "backoffice.login_reset_queued",
            Event::PasswordReset => "password.reset",
            Event::PasswordChanged => "password.changed",
            Event::SessionEnded => "session.ended",
            Event::PaperFormScanViewed => "backoffice.paper_form_scan_viewed",
            Event::NiaMeansOrphanDeactivated => "nia.means.orphan_deactivated",
            Event::NiaMeansMissing => "nia.means.missing_at_nia",
            Event::NiaMeansRegistered => "nia.means.registered",
            Event::NiaLogin => "nia.login",
            Event::NiaLoginRefused => "nia.login.refused",
            Event::SupportRequestSent => "support.request_sent",
            Event::SupportQueueViewed => "support.queue_viewed",
            Event::SupportRequestViewed => "support.request_viewed",
            Event::SupportScreenshotViewed => "support.screenshot_viewed",
            Event::SupportRequestAnswered => "support.request_answered",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub account_id: Option<i64>,
    pub actor: String,
    pub event: String,
    pub ip: String,
    pub user_agent: String,
    pub details: String,
}

/// What the events of one call share: when, whose account, who acted, from where.
/// `Audit::new(now, Some(account), actor, req).record(&mut *tx, Event::…, details)` appends
/// one event inside the caller's transaction (or on the pool).
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a> {
    pub at: i64,
    pub account: Option<i64>,
    pub actor: &'a str,
    pub req: &'a RequestInfo,
}

impl<'a> Audit<'a> {
    pub fn new(at: i64, account: Option<i64>, actor: &'a str, req: &'a RequestInfo) -> Self {
        Self {
            at,
            account,
            actor,
            req,
        }
    }

    pub async fn record<'e, E: Executor<'e, Database = Any>>(
        &self,
        executor: E,
        event: Event,
        details: serde_json::Value,
    ) -> Result<()> {
        record(
            executor,
            self.at,
            self.account,
            self.actor,
            event,
            self.req,
            details,
        )
        .await
    }

    /// The same event for several accounts (`self.account` aside), each with its details, in
    /// one statement: for jobs that apply many changes in one transaction.
    pub async fn record_for_each<'e, E: Executor<'e, Database = Any>>(
        &self,
        executor: E,
        event: Event,
        entries: &[(i64, serde_json::Value)],
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO audit_events (at, account_id, actor, event, ip, user_agent, details) VALUES {}",
            crate::db::values_placeholders(entries.len(), 7)
        );
        let user_agent = truncate(&self.req.user_agent, 512);
        let mut query = sqlx::query(&sql);
        for (account, details) in entries {
            query = query
                .bind(self.at)
                .bind(*account)
                .bind(self.actor)
                .bind(event.name())
                .bind(&self.req.ip)
                .bind(user_agent.clone())
                .bind(details.to_string());
        }
        query.execute(executor).await?;
        for _ in entries {
            crate::metrics::event(event.name());
        }
        Ok(())
    }
}

/// Appends one event (through `Audit::record`, the one way in).
async fn record<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    at: i64,
    account_id: Option<i64>,
    actor: &str,
    event: Event,
    req: &RequestInfo,
    details: serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (at, account_id, actor, event, ip, user_agent, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(account_id)
    .bind(actor)
    .bind(event.name())
    .bind(&req.ip)
    .bind(truncate(&req.user_agent, 512))
    .bind(details.to_string())
    .execute(executor)
    .await?;
    crate::metrics::event(event.name());
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Idp {
    /// An account's events, newest first.
    pub async fn audit_for_account(&self, account_id: i64, limit: i64) -> Result<Vec<AuditEvent>> {
        Ok(sqlx::query_as(
            "SELECT id, at, account_id, actor, event, ip, user_agent, details FROM audit_events \
             WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}

impl Idp {
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

/// One line of the account's security log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    pub at: i64,
    pub actor: String,
    pub event: String,
    pub ip: String,
}

/// One event of the audit log as auditors see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditRow {
    pub at: i64,
    pub account: Option<String>,
    pub actor: String,
    pub event: String,
    pub ip: String,
    pub details: String,
}

/// What auditors filter by (all optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct AuditFilter {
    /// The account's username.
    pub username: Option<String>,
    /// Who acted (a username, `job`, `nia`, …).
    pub actor: Option<String>,
    /// The event name, or its beginning (`nia.` for every NIA event).
    pub event: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Idp {
    /// The audit log for auditors: every account, filtered, newest first.
    pub async fn audit_search(
        &self,
        staff: &Session,
        f: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        self.staff(staff, &[Role::Auditor]).await?;
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(sqlx::query_as(
            "SELECT e.at, a.username AS account, e.actor, e.event, e.ip, e.details FROM audit_events e \
             LEFT JOIN accounts a ON a.id = e.account_id \
             WHERE ($1 IS NULL OR a.username = $1) AND ($2 IS NULL OR e.actor = $2) \
             AND ($3 IS NULL OR e.event LIKE $3) AND e.at >= $4 AND e.at <= $5 \
             ORDER BY e.at DESC, e.id DESC LIMIT $6",
        )
        .bind(clean(&f.username).map(|u| u.to_lowercase()))
        .bind(clean(&f.actor))
        .bind(clean(&f.event).map(|e| format!("{}%", e.replace(['%', '_'], ""))))
        .bind(f.from.unwrap_or(0))
        .bind(f.to.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await?)
    }
}
