//! Ending an NIA link, the one way every path does it: "Detach from NIA", removing the last
//! key registered at NIA, the 2FA reset, the helpdesk, and the back office's reset on a paper
//! form.
//!
//! NIA first: every means is deactivated there (`deactivate_all_means`, each forgotten here
//! as soon as NIA confirms it, so both sides agree whatever fails next); an outage stops the
//! path with `CannotDisableAuthenticator` and nothing else changes. Then, in the caller's
//! transaction (`end_link_in`): the link row goes, the audit log says why, and the citizen is
//! told — with the time and the address of the change — unless the path's own notice (2FA
//! reset, login reset) already says the link ended.

use serde_json::json;
use sqlx::Row;
use sqlx::{Any, Transaction};

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::notices::{self, Change};
use crate::{Idp, RequestInfo};

/// Why a link ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The citizen pressed "Detach from NIA".
    Detached,
    /// The citizen removed the last key registered at NIA (NIA ended the profile with it).
    LastKeyRemoved { key_id: i64 },
    /// "Is your two factor authentication not working?": the reset removed every key.
    TwofaReset,
    /// The helpdesk, after the identity questions (`queued`: run later by the job, NIA
    /// having been down when the helpdesk pressed the button).
    Helpdesk { queued: bool },
    /// The back office's login reset on a verified paper form.
    PaperForm { reference: String },
}

impl Reason {
    /// The name in the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Reason::Detached => "detached",
            Reason::LastKeyRemoved { .. } => "last_means_removed",
            Reason::TwofaReset => "twofa_reset",
            Reason::Helpdesk { queued: false } => "helpdesk",
            Reason::Helpdesk { queued: true } => "helpdesk_queued",
            Reason::PaperForm { .. } => "paper_form",
        }
    }

    fn details(&self) -> serde_json::Value {
        match self {
            Reason::LastKeyRemoved { key_id } => json!({ "reason": self.name(), "key_id": key_id }),
            Reason::PaperForm { reference } => {
                json!({ "reason": self.name(), "reference": reference })
            }
            _ => json!({ "reason": self.name() }),
        }
    }

    /// The notice the citizen gets for this end, `None` when the path's own notice says it.
    fn notice(&self) -> Option<Change<'static>> {
        match self {
            Reason::Detached | Reason::LastKeyRemoved { .. } => Some(Change::NiaUnlinked),
            Reason::Helpdesk { .. } => Some(Change::NiaUnlinkedByHelpdesk),
            Reason::TwofaReset | Reason::PaperForm { .. } => None,
        }
    }
}

/// Inside `tx`, after NIA deactivated the means: ends the account's link (if it has one),
/// audits why and tells the citizen. Returns whether a link ended.
pub(crate) async fn end_link_in(
    tx: &mut Transaction<'_, Any>,
    account_id: i64,
    actor: &str,
    reason: &Reason,
    req: &RequestInfo,
    now: i64,
) -> Result<bool> {
    let ended = sqlx::query("DELETE FROM nia_links WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0;
    // whichever way the link ends, a helpdesk unlink queued for it has nothing left to do
    // (and must not end a link made later)
    crate::jobs::settle(
        tx,
        &crate::jobs::Kind::HelpdeskUnlink {
            account: account_id,
        },
        now,
    )
    .await?;
    if !ended {
        return Ok(false);
    }
    Audit::new(now, Some(account_id), actor, req)
        .record(&mut **tx, Event::NiaUnlinked, reason.details())
        .await?;
    if let Some(change) = reason.notice() {
        notices::tell(tx, account_id, now, change, req).await?;
    }
    Ok(true)
}

impl Idp {
    /// The whole of it for a path that does nothing else: every means deactivated at NIA,
    /// then the link ended here. `Conflict` when the account is not linked;
    /// `CannotDisableAuthenticator` during an outage (what NIA did not confirm stays).
    /// Returns how many means NIA deactivated.
    pub async fn end_link(
        &self,
        account_id: i64,
        actor: &str,
        reason: Reason,
        req: &RequestInfo,
    ) -> Result<usize> {
        let Some(means) = self.deactivate_all_means(account_id).await? else {
            return Err(Error::Conflict);
        };
        let mut tx = self.db.begin().await?;
        end_link_in(&mut tx, account_id, actor, &reason, req, self.clock.now()).await?;
        tx.commit().await?;
        Ok(means)
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
        proof: Option<&crate::account::action_login::ActionLogin>,
        req: &RequestInfo,
    ) -> Result<()> {
        let now = self.clock.now();
        crate::account::action_login::ActionLogin::check(
            proof,
            account_id,
            crate::account::action_login::Action::Detach,
            now,
        )?;
        self.end_link(account_id, actor, crate::nia::unlink::Reason::Detached, req)
            .await?;
        Ok(())
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
            match client.deactivate_means(&bsi, &means_id).await {
                Ok(()) => {}
                Err(crate::nia::client::NiaError::Unavailable(e)) => {
                    tracing::warn!(error = %e, account_id, "NIA unavailable: a means stays");
                    return Err(Error::CannotDisableAuthenticator);
                }
                // NIA answered and refused: not an outage to wait out
                Err(e) => {
                    tracing::error!(error = %e, account_id, "NIA refused to deactivate a means");
                    return Err(Error::NiaRefused(e.to_string()));
                }
            }
            crate::crash::point("unlink.after_nia");
            sqlx::query("DELETE FROM nia_means WHERE key_id = $1")
                .bind(m.try_get::<i64, _>("key_id")?)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Some(means.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_named_and_told_once() {
        let all = [
            Reason::Detached,
            Reason::LastKeyRemoved { key_id: 1 },
            Reason::TwofaReset,
            Reason::Helpdesk { queued: false },
            Reason::Helpdesk { queued: true },
            Reason::PaperForm {
                reference: "ZR-1".into(),
            },
        ];
        let mut names: Vec<_> = all.iter().map(Reason::name).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
        // the resets' own notices say the link ended; the others get the link's notice
        assert!(Reason::TwofaReset.notice().is_none());
        assert!(Reason::Detached.notice().is_some());
        assert_eq!(
            Reason::PaperForm {
                reference: "ZR-1".into()
            }
            .details()["reference"],
            "ZR-1"
        );
    }
}
