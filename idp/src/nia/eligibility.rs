//! The conditions of linking: what the account must meet before a pairing request starts
//! (names, address, verified contacts, a certified key, no organization, a fresh login with
//! password and key), and who may own an account validated before.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::account::sessions::{AuthRecord, Freshness};
use crate::error::{Error, Result};
use crate::nia::pairing::Method;
use crate::Idp;

/// The conditions of linking that the account itself must meet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub first_name: bool,
    pub last_name: bool,
    pub address: bool,
    pub email: bool,
    pub phone: bool,
    pub certified_key: bool,
    /// Linking is for natural non-business persons: the Organization field must be empty.
    pub no_organization: bool,
}

/// The account's validation (identity verified at NIA with eObčanka or at Czech POINT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    pub at: i64,
    /// `czech_point` or `eobcanka`; `None` for a validation recorded without a request.
    pub method: Option<Method>,
}

impl Eligibility {
    pub fn all(&self) -> bool {
        self.first_name
            && self.last_name
            && self.address
            && self.email
            && self.phone
            && self.certified_key
            && self.no_organization
    }
}

impl Idp {
    /// Why the register's person (`bsi`, empty when the register does not say; `birth_date`)
    /// cannot be this account's owner, if they cannot (`not_the_validated_person`).
    pub(crate) async fn other_person(
        &self,
        account_id: i64,
        bsi: &str,
        birth_date: &str,
    ) -> Result<Option<&'static str>> {
        let row =
            sqlx::query("SELECT validated_bsi, validated_birth_date FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&self.db.pool)
                .await?;
        Ok(not_the_validated_person(
            row.try_get::<Option<String>, _>("validated_bsi")?
                .as_deref(),
            row.try_get::<Option<String>, _>("validated_birth_date")?
                .as_deref(),
            bsi,
            birth_date,
        ))
    }

    pub async fn nia_eligibility(&self, account_id: i64) -> Result<Eligibility> {
        let p = self.profile(account_id).await?;
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let c = sqlx::query(
            "SELECT email, email_verified_at, phone, phone_verified_at FROM contacts WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let (email, phone) = match c {
            Some(r) => {
                let ev: Option<i64> = r.try_get("email_verified_at")?;
                let pv: Option<i64> = r.try_get("phone_verified_at")?;
                let e: Option<String> = r.try_get("email")?;
                let ph: Option<String> = r.try_get("phone")?;
                (filled(&e) && ev.is_some(), filled(&ph) && pv.is_some())
            }
            None => (false, false),
        };
        let keys = self.security_keys(account_id).await?;
        Ok(Eligibility {
            first_name: filled(&p.first_name),
            last_name: filled(&p.last_name),
            address: filled(&p.street)
                && filled(&p.house_number)
                && filled(&p.city)
                && filled(&p.postcode),
            email,
            phone,
            certified_key: keys.iter().any(|k| k.nia_eligible),
            no_organization: !filled(&p.organization),
        })
    }

    /// Whether the account's identity was verified, when and how (`czech_point` or
    /// `eobcanka`): linking validates it, and it stays validated after detaching or a reset.
    pub async fn validation(&self, account_id: i64) -> Result<Option<Validation>> {
        let row = sqlx::query(
            "SELECT a.validated_at, (SELECT p.method FROM pairing_requests p WHERE p.account_id = a.id \
             AND p.state = $2 ORDER BY p.id DESC LIMIT 1) AS method FROM accounts a WHERE a.id = $1",
        )
        .bind(account_id)
        .bind(crate::nia::pairing::State::Completed.as_str())
        .fetch_one(&self.db.pool)
        .await?;
        let at: Option<i64> = row.try_get("validated_at")?;
        Ok(match at {
            Some(at) => Some(Validation {
                at,
                method: row
                    .try_get::<Option<String>, _>("method")?
                    .as_deref()
                    .map(Method::stored)
                    .transpose()?,
            }),
            None => None,
        })
    }

    /// What starting either way of linking needs: a fresh password + key login, no link yet,
    /// and every condition met.
    pub(crate) async fn may_start_pairing(
        &self,
        account_id: i64,
        session_auth: &[AuthRecord],
    ) -> Result<()> {
        if !Freshness::PasswordAndKey.holds(session_auth, self.clock.now()) {
            return Err(Error::StepUpRequired);
        }
        if self.nia_link(account_id).await?.is_some() {
            return Err(Error::Conflict);
        }
        if !self.nia_eligibility(account_id).await?.all() {
            return Err(Error::NotEligible);
        }
        Ok(())
    }
}

/// The one rule of who can own an account that was validated before: not a person with
/// another BSI (when both are known) or another birth date. `None` when the register's person
/// may be the owner (or the account was never validated).
pub(crate) fn not_the_validated_person(
    validated_bsi: Option<&str>,
    validated_birth_date: Option<&str>,
    bsi: &str,
    birth_date: &str,
) -> Option<&'static str> {
    if validated_bsi.is_some_and(|b| !bsi.is_empty() && b != bsi) {
        return Some("the account was validated as another person");
    }
    if validated_birth_date.is_some_and(|b| b.trim() != birth_date.trim()) {
        return Some("the account was validated with another birth date");
    }
    None
}
