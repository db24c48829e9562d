//! Background work: delivering e-mail from the outbox (when SMTP is configured) and
//! housekeeping of expired rows. Every loop stops when shutdown is signalled.

use std::time::Duration;

use tokio::sync::watch;

pub fn spawn(
    idp: idp::Idp,
    mailer: Option<idp::outbox::Mailer>,
    config: std::sync::Arc<crate::Config>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n: u64 = 0;
        let mut blob_mtime = crate::mds_import::blob_mtime(&config);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            // every second: pairing requests the citizen confirmed are completed at NIA
            match idp.drive_pairings().await {
                Ok(0) => {}
                Ok(done) => tracing::info!(done, "pairing requests finished"),
                Err(e) => tracing::error!(error = %e, "completing pairing requests failed"),
            }
            // every 2 s: registry changes of linked persons
            if n.is_multiple_of(2) {
                match idp.apply_registry_changes().await {
                    Ok(0) => {}
                    Ok(applied) => tracing::info!(applied, "registry changes applied"),
                    Err(e) => tracing::error!(error = %e, "registry changes failed"),
                }
            }
            // every 5 s below this line
            if !n.is_multiple_of(5) {
                n += 1;
                continue;
            }
            match idp.run_queued_unlinks().await {
                Ok(0) => {}
                Ok(done) => tracing::info!(done, "queued NIA unlinks ran"),
                Err(e) => tracing::error!(error = %e, "queued NIA unlinks failed"),
            }
            match idp.run_queued_login_resets(&config.public_url).await {
                Ok(0) => {}
                Ok(done) => tracing::info!(done, "queued login resets ran"),
                Err(e) => tracing::error!(error = %e, "queued login resets failed"),
            }
            if let Some(m) = &mailer {
                match idp.deliver_outbox(m).await {
                    Ok(0) => {}
                    Ok(sent) => tracing::info!(sent, "outbox delivered"),
                    Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
                }
            }
            // every minute (n counts seconds): NIA's means of a batch of persons against ours
            if n.is_multiple_of(60) {
                match idp.reconcile_means().await {
                    Ok(r) if r.orphans_deactivated == 0 && r.missing_at_nia == 0 => {}
                    Ok(r) => tracing::warn!(
                        orphans_deactivated = r.orphans_deactivated,
                        missing_at_nia = r.missing_at_nia,
                        "NIA means reconciled"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "reconciling NIA means failed; next run retries")
                    }
                }
            }
            // every minute: a newly imported FIDO metadata BLOB replaces the one in use
            if n.is_multiple_of(60) {
                let mtime = crate::mds_import::blob_mtime(&config);
                if mtime != blob_mtime {
                    blob_mtime = mtime;
                    match crate::load_metadata(&config, idp.clock.now()) {
                        Ok(md) => {
                            idp.set_metadata(md);
                            match idp.reevaluate_keys().await {
                                Ok(changed) if changed.is_empty() => {}
                                Ok(changed) => {
                                    tracing::warn!(keys = ?changed, "security keys changed NIA eligibility with the new metadata")
                                }
                                Err(e) => {
                                    tracing::error!(error = %e, "re-evaluating security keys failed")
                                }
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "new FIDO metadata refused; keeping the old")
                        }
                    }
                }
            }
            // every ten minutes
            if n.is_multiple_of(600) {
                if let Err(e) = idp.remind_office_requests().await {
                    tracing::error!(error = %e, "reminding Czech POINT requests failed");
                }
                if let Err(e) = idp.expire_pairings().await {
                    tracing::error!(error = %e, "expiring pairing requests failed");
                }
                if let Err(e) = idp.housekeeping().await {
                    tracing::error!(error = %e, "housekeeping failed");
                }
            }
            n += 1;
        }
        tracing::info!("background jobs stopped");
    })
}
