//! The means of a linked account follow its keys: a certified key added after linking is
//! registered at NIA as a means too (a job, so that it waits out an outage), so that NIA and
//! we agree on which keys can log in. Removed keys are deactivated by `unlink` and the
//! reconciliation (`reconcile`).

use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::NiaError;
use crate::{Idp, RequestInfo};

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
        let means_id = match self
            .nia_client()?
            .register_means(&bsi, &crate::nia::client::means_ref(key_id))
            .await
        {
            Ok(m) => m,
            Err(NiaError::Unavailable(_)) => return Err(Error::NiaUnavailable),
            Err(e) => return Err(Error::NiaRefused(e.to_string())),
        };
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        // the link may have ended meanwhile: then the means is an orphan, which the
        // reconciliation deactivates
        let still_linked =
            sqlx::query("SELECT 1 FROM nia_links WHERE account_id = $1 AND bsi = $2")
                .bind(account_id)
                .bind(&bsi)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if still_linked {
            sqlx::query(
                "INSERT INTO nia_means (key_id, account_id, means_id, registered_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(key_id)
            .bind(account_id)
            .bind(&means_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
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
        }
        tx.commit().await?;
        Ok(())
    }
}
