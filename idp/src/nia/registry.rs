//! The population register's changes for linked persons (NIA's notifications), applied to
//! the profiles they concern; the register's data written to a profile at linking too.

use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::{NiaError, RegistryData};
use crate::outbox::Outgoing;
use crate::{Idp, RequestInfo};

impl Idp {
    /// The job: registry changes of linked persons update their locked profile fields; each
    /// change is audited and the citizen is told by e-mail. Returns how many were applied.
    pub async fn apply_registry_changes(&self) -> Result<usize> {
        let client = self.nia_client()?;
        let since: i64 =
            sqlx::query("SELECT value FROM nia_cursor WHERE name = 'registry_changes'")
                .fetch_optional(&self.db.pool)
                .await?
                .map(|r| r.try_get("value"))
                .transpose()?
                .unwrap_or(0);
        let (changes, last) = match client.changes(since).await {
            Ok(c) => c,
            Err(NiaError::Unavailable(_)) => return Ok(0),
            Err(e) => return Err(Error::Internal(e.to_string())),
        };
        let job = RequestInfo::job("registry");
        let mut applied = 0;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        for c in &changes {
            let Some(r) = sqlx::query("SELECT account_id FROM nia_links WHERE bsi = $1")
                .bind(&c.bsi)
                .fetch_optional(&mut *tx)
                .await?
            else {
                continue;
            };
            let account_id: i64 = r.try_get("account_id")?;
            let data = RegistryData {
                bsi: c.bsi.clone(),
                given_name: c.given_name.clone(),
                family_name: c.family_name.clone(),
                birth_date: c.birth_date.clone(),
                birth_place: None,
                street: c.address.as_ref().map(|a| a.street.clone()),
                house_number: c.address.as_ref().map(|a| a.number.clone()),
                city: c.address.as_ref().map(|a| a.city.clone()),
                postcode: c.address.as_ref().map(|a| a.postcode.clone()),
            };
            let changed = write_registry_profile(&mut tx, account_id, &data, now).await?;
            if changed.is_empty() {
                continue;
            }
            Audit::new(now, Some(account_id), "population-register", &job)
                .record(
                    &mut *tx,
                    Event::RegistryChanged,
                    json!({ "seq": c.seq, "fields": changed }),
                )
                .await?;
            crate::notices::to_verified_email(
                &mut tx,
                account_id,
                now,
                &Outgoing {
                    subject: "mojeID: změna údajů z registru obyvatel / population register update".into(),
                    body: format!(
                        "Registr obyvatel ohlásil změnu vašich údajů; v účtu mojeID jsme je aktualizovali ({fields}).\n\n\
The population register reported a change of your data; your mojeID profile has been updated ({fields}).\n",
                        fields = changed.join(", ")
                    ),
                },
            )
            .await?;
            applied += 1;
        }
        sqlx::query("DELETE FROM nia_cursor WHERE name = 'registry_changes'")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO nia_cursor (name, value) VALUES ('registry_changes', $1)")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }
}

/// Writes the register's data into the profile (the locked fields); returns the names of
/// the fields that changed.
pub(crate) async fn write_registry_profile(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    d: &RegistryData,
    now: i64,
) -> Result<Vec<&'static str>> {
    let old = sqlx::query(
        "SELECT first_name, last_name, birth_date, street, house_number, city, postcode, organization FROM profiles WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    let mut changed = Vec::new();
    // stored as the profile form stores it ("602 00")
    let postcode = d
        .postcode
        .as_deref()
        .map(|p| crate::account::validate::postcode(p, "CZ").unwrap_or_else(|_| p.to_owned()));
    let new: [(&'static str, Option<&str>); 7] = [
        ("first_name", Some(d.given_name.as_str())),
        ("last_name", Some(d.family_name.as_str())),
        ("birth_date", Some(d.birth_date.as_str())),
        ("street", d.street.as_deref()),
        ("house_number", d.house_number.as_deref()),
        ("city", d.city.as_deref()),
        ("postcode", postcode.as_deref()),
    ];
    for (name, value) in new {
        let current: Option<String> = old.try_get(name)?;
        if current.as_deref() != value {
            changed.push(name);
        }
    }
    let org: Option<String> = old.try_get("organization")?;
    if org.is_some() {
        changed.push("organization");
    }
    if !changed.is_empty() {
        sqlx::query(
            "UPDATE profiles SET first_name = $1, last_name = $2, birth_date = $3, street = $4, house_number = $5, \
             city = $6, postcode = $7, country = 'CZ', organization = NULL, updated_at = $8 WHERE account_id = $9",
        )
        .bind(&d.given_name)
        .bind(&d.family_name)
        .bind(&d.birth_date)
        .bind(&d.street)
        .bind(&d.house_number)
        .bind(&d.city)
        .bind(&postcode)
        .bind(now)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(changed)
}
