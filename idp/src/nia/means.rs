//! The means of a linked account follow its keys: a certified key added after linking is
//! registered at NIA as a means too (a job, so that it waits out an outage), so that NIA and
//! we agree on which keys can log in — only when the key was added after a login with a key
//! that is a means already (`Freshness::NiaMeans`: NIA makes a new means only with one of the
//! same level). Removed keys are deactivated by `unlink` and the reconciliation
//! (`reconcile`).

use serde_json::json;
use sqlx::{Any, Row, Transaction};

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::NiaError;
use crate::{Idp, RequestInfo};

/// Inside `tx`: key `key_id` of the account is NIA's means `means_id` (whatever it was before).
pub(crate) async fn record_means(
    tx: &mut Transaction<'_, Any>,
    key_id: i64,
    account_id: i64,
    means_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM nia_means WHERE key_id = $1")
        .bind(key_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO nia_means (key_id, account_id, means_id, registered_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(key_id)
    .bind(account_id)
    .bind(means_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Idp {
    /// Registers key `key_id` at NIA as a means of its account's linked person, unless
    /// there is nothing to do (the key is gone or not eligible, the account is not linked,
    /// the means exists). `NiaUnavailable` during an outage.
    pub(crate) async fn register_key_at_nia(&self, key_id: i64) -> Result<()> {
        let Some(row) = sqlx::query(
            "SELECT k.account_id, l.bsi FROM security_keys k JOIN nia_links l ON l.account_id = k.account_id \
             WHERE k.id = $1 AND k.nia_eligible = 1 \
             AND NOT EXISTS (SELECT 1 FROM nia_means m WHERE m.key_id = k.id)",
        )
        .bind(key_id)
        .fetch_optional(&self.db.pool)
        .await?
        else {
            return Ok(());
        };
        let account_id: i64 = row.try_get("account_id")?;
        let bsi: String = row.try_get("bsi")?;
        let client = self.nia_client()?;
        let means_id = match client
            .register_means(&bsi, &crate::nia::client::means_ref(key_id))
            .await
        {
            Ok(m) => m,
            Err(NiaError::Unavailable(_)) => return Err(Error::NiaUnavailable),
            Err(e) => return Err(Error::NiaRefused(e.to_string())),
        };
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let still_linked =
            sqlx::query("SELECT 1 FROM nia_links WHERE account_id = $1 AND bsi = $2")
                .bind(account_id)
                .bind(&bsi)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !still_linked {
            tx.commit().await?;
            // the link ended while NIA registered the key: take the means back now (if NIA
            // does not answer, the reconciliation finds it: it walks validated persons too)
            if let Err(e) = client.deactivate_means(&bsi, &means_id).await {
                tracing::warn!(error = %e, key_id, "a means of an ended link stays until the reconciliation");
            }
            return Ok(());
        }
        record_means(&mut tx, key_id, account_id, &means_id, now).await?;
        Audit::new(
            now,
            Some(account_id),
            "job",
            &RequestInfo::job("register-means"),
        )
        .record(
            &mut *tx,
            Event::NiaMeansRegistered,
            json!({ "key_id": key_id }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
