//! The population register's changes for linked persons (NIA's notifications), applied to
//! the profiles they concern; the register's data written to a profile at linking too.

use std::collections::HashMap;

use serde_json::json;
use sqlx::Row;

use crate::audit::{Audit, Event};
use crate::error::{Error, Result};
use crate::nia::client::{Change, NiaError, RegistryData};
use crate::outbox::Outgoing;
use crate::{Idp, RequestInfo};

/// Changes applied per transaction: the cursor moves with each, so a crash repeats at most one
/// chunk (re-applying a change is a no-op), and no transaction holds the database's write lock
/// for long (on SQLite every login waits for it).
const CHUNK: usize = 500;

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
        let mut applied = 0;
        let chunks: Vec<&[Change]> = changes.chunks(CHUNK).collect();
        if chunks.is_empty() {
            self.apply_chunk(&[], last).await?;
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let upto = if i + 1 == chunks.len() {
                last
            } else {
                chunk.last().map_or(last, |c| c.seq)
            };
            applied += self.apply_chunk(chunk, upto).await?;
        }
        Ok(applied)
    }

    /// One transaction: the linked persons among `changes` read in one query, their changed
    /// profiles written, audited and mailed, and the cursor moved to `upto`.
    async fn apply_chunk(&self, changes: &[Change], upto: i64) -> Result<usize> {
        let job = RequestInfo::job("registry");
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let mut linked = linked_persons(&mut tx, changes).await?;
        let (mut events, mut mails) = (Vec::new(), Vec::new());
        let mut applied = 0;
        for c in changes {
            let Some(person) = linked.get_mut(c.bsi.as_str()) else {
                continue;
            };
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
            let changed =
                write_profile(&mut tx, person.account_id, &mut person.profile, &data, now).await?;
            if changed.is_empty() {
                continue;
            }
            events.push((
                person.account_id,
                json!({ "seq": c.seq, "fields": changed }),
            ));
            if let Some(email) = &person.email {
                let fields = changed.join(", ");
                mails.push((
                    person.account_id,
                    email.clone(),
                    Outgoing {
                        subject: "mojeID: změna údajů z registru obyvatel / population register update".into(),
                        body: format!(
                            "Registr obyvatel ohlásil změnu vašich údajů; v účtu mojeID jsme je aktualizovali ({fields}).\n\n\
The population register reported a change of your data; your mojeID profile has been updated ({fields}).\n"
                        ),
                    },
                ));
            }
            applied += 1;
        }
        Audit::new(now, None, "population-register", &job)
            .record_for_each(&mut *tx, Event::RegistryChanged, &events)
            .await?;
        crate::outbox::enqueue_each(&mut *tx, now, crate::outbox::Channel::Email, &mails).await?;
        sqlx::query("DELETE FROM nia_cursor WHERE name = 'registry_changes'")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO nia_cursor (name, value) VALUES ('registry_changes', $1)")
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }
}

/// A linked person as a registry change finds them: the account, the profile's register
/// fields as they are, and the verified e-mail the notice goes to.
struct Linked {
    account_id: i64,
    profile: StoredProfile,
    email: Option<String>,
}

/// The profile fields the register owns (and the organization, which a validated profile
/// does not have), as stored.
struct StoredProfile {
    fields: [Option<String>; 7],
    organization: Option<String>,
}

const REGISTER_FIELDS: [&str; 7] = [
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "house_number",
    "city",
    "postcode",
];

impl StoredProfile {
    fn read(row: &sqlx::any::AnyRow) -> Result<Self> {
        let mut fields: [Option<String>; 7] = Default::default();
        for (slot, name) in fields.iter_mut().zip(REGISTER_FIELDS) {
            *slot = row.try_get(name)?;
        }
        Ok(StoredProfile {
            fields,
            organization: row.try_get("organization")?,
        })
    }
}

/// The persons among `changes` who are linked to an account, by BSI, in one query.
async fn linked_persons(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    changes: &[Change],
) -> Result<HashMap<String, Linked>> {
    let mut found = HashMap::new();
    if changes.is_empty() {
        return Ok(found);
    }
    let placeholders: Vec<String> = (1..=changes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT l.bsi, l.account_id, p.first_name, p.last_name, p.birth_date, p.street, p.house_number, \
         p.city, p.postcode, p.organization, c.email \
         FROM nia_links l JOIN profiles p ON p.account_id = l.account_id \
         LEFT JOIN contacts c ON c.account_id = l.account_id AND c.email_verified_at IS NOT NULL \
         WHERE l.bsi IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for c in changes {
        query = query.bind(&c.bsi);
    }
    for row in query.fetch_all(&mut **tx).await? {
        found.insert(
            row.try_get("bsi")?,
            Linked {
                account_id: row.try_get("account_id")?,
                profile: StoredProfile::read(&row)?,
                email: row.try_get("email")?,
            },
        );
    }
    Ok(found)
}

/// Writes the register's data into the profile (the locked fields); returns the names of
/// the fields that changed.
pub(crate) async fn write_registry_profile(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    d: &RegistryData,
    now: i64,
) -> Result<Vec<&'static str>> {
    let row = sqlx::query(
        "SELECT first_name, last_name, birth_date, street, house_number, city, postcode, organization FROM profiles WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    write_profile(tx, account_id, &mut StoredProfile::read(&row)?, d, now).await
}

/// Writes the register's data over the profile as it was (`old`, which then holds the new
/// values: a second change of the same person compares with the first), when anything
/// differs; returns the names of the fields that changed.
async fn write_profile(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: i64,
    old: &mut StoredProfile,
    d: &RegistryData,
    now: i64,
) -> Result<Vec<&'static str>> {
    // stored as the profile form stores it ("602 00")
    let postcode = d
        .postcode
        .as_deref()
        .map(|p| crate::account::validate::postcode(p, "CZ").unwrap_or_else(|_| p.to_owned()));
    let new: [Option<&str>; 7] = [
        Some(d.given_name.as_str()),
        Some(d.family_name.as_str()),
        Some(d.birth_date.as_str()),
        d.street.as_deref(),
        d.house_number.as_deref(),
        d.city.as_deref(),
        postcode.as_deref(),
    ];
    let mut changed: Vec<&'static str> = REGISTER_FIELDS
        .iter()
        .zip(&old.fields)
        .zip(new)
        .filter(|((_, current), value)| current.as_deref() != *value)
        .map(|((name, _), _)| *name)
        .collect();
    if old.organization.is_some() {
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
        old.fields = new.map(|v| v.map(str::to_owned));
        old.organization = None;
    }
    Ok(changed)
}
