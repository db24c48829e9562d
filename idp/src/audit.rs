//! The append-only audit log. The schema refuses UPDATE and DELETE on `audit_events`
//! (triggers on both databases); this module only ever inserts.

use serde::Serialize;
use sqlx::{Any, Executor};

use crate::error::Result;
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

/// Appends one event inside the caller's transaction (or on the pool).
pub async fn record<'e, E: Executor<'e, Database = Any>>(
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
