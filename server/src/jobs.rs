//! Background work. Every second the server asks the job queue (`idp::jobs`) for what is
//! due and claims it: the completion of confirmed pairing requests, the work that waits for
//! NIA (unlinks and login resets queued during an outage, keys added after linking), and the
//! recurring tasks (registry changes, the
//! outbox's e-mail and SMS, the means reconciliation, reminders, expiry, housekeeping),
//! each run by one server per period however many share the database. Loading a newly imported FIDO metadata file is done by every server (each
//! holds it in memory). The loop stops when shutdown is signalled.

use std::time::Duration;

use tokio::sync::watch;

pub fn spawn(
    idp: idp::Idp,
    transports: idp::outbox::Transports,
    config: std::sync::Arc<crate::Config>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut n: u64 = 0;
        let mut blob_mtime = crate::mds_import::blob_mtime(&config);
        if let Err(e) = idp.schedule_recurring().await {
            tracing::error!(error = %e, "scheduling the recurring jobs failed");
        }
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            // pairing requests the citizen confirmed are completed at NIA (the job queue says
            // which, and that one server does each)
            match idp.drive_pairings().await {
                Ok(0) => {}
                Ok(done) => tracing::info!(done, "pairing requests finished"),
                Err(e) => tracing::error!(error = %e, "completing pairing requests failed"),
            }
            // unlinks and login resets queued during an outage, keys added after linking
            match idp.drive_queued_work(&config.public_url).await {
                Ok(0) => {}
                Ok(done) => tracing::info!(done, "work waiting for NIA done"),
                Err(e) => tracing::error!(error = %e, "running queued work failed"),
            }
            // the recurring work that is due, claimed by this server
            match idp.claim_recurring().await {
                Ok(due) => {
                    for (id, task) in due {
                        let error = run(&idp, &transports, task).await.err();
                        if let Some(e) = &error {
                            tracing::error!(task = task.name(), error = %e, "a recurring job failed");
                        }
                        if let Err(e) = idp
                            .ran(id, task, error.map(|e| e.to_string()).as_deref())
                            .await
                        {
                            tracing::error!(task = task.name(), error = %e, "a recurring job could not be rescheduled");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "claiming recurring jobs failed"),
            }
            // every minute (n counts seconds), in every server: a newly imported FIDO
            // metadata BLOB replaces the one in use
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
            n += 1;
        }
        tracing::info!("background jobs stopped");
    })
}

/// One recurring task; what it did is logged when it did something.
async fn run(
    idp: &idp::Idp,
    transports: &idp::outbox::Transports,
    task: idp::jobs::Task,
) -> Result<(), idp::Error> {
    use idp::jobs::Task;
    let done = match task {
        Task::RegistryChanges => idp.apply_registry_changes().await?,
        Task::Outbox => idp.deliver_outbox(transports).await?,
        Task::ReconcileMeans => {
            let r = idp.reconcile_means().await?;
            r.orphans_deactivated + r.missing_at_nia
        }
        Task::OfficeReminders => idp.remind_office_requests().await?,
        Task::ExpirePairings => idp.expire_pairings().await?,
        Task::Housekeeping => {
            idp.housekeeping().await?;
            0
        }
    };
    if done > 0 {
        tracing::info!(task = task.name(), done, "recurring job did work");
    }
    Ok(())
}
