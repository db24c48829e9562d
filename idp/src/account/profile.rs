//! The citizen's profile: names, birth date, structured permanent address, organization.

use serde_json::json;

use crate::account::validate::{self, COUNTRIES};
use crate::audit::{Audit, Event};
use crate::error::{Error, FieldViolation, Result, Violation};
use crate::{Idp, RequestInfo};

#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// ISO `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub street: Option<String>,
    pub house_number: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub organization: Option<String>,
}

/// The form as submitted: raw strings, validated by `update_profile`.
#[derive(Clone, Debug, Default)]
pub struct ProfileInput {
    pub first_name: String,
    pub last_name: String,
    pub birth_date: String,
    pub street: String,
    pub house_number: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
    pub organization: String,
}

impl Profile {
    fn field_names_changed(&self, other: &Profile) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let pairs: [(&'static str, &Option<String>, &Option<String>); 9] = [
            ("first_name", &self.first_name, &other.first_name),
            ("last_name", &self.last_name, &other.last_name),
            ("birth_date", &self.birth_date, &other.birth_date),
            ("street", &self.street, &other.street),
            ("house_number", &self.house_number, &other.house_number),
            ("city", &self.city, &other.city),
            ("postcode", &self.postcode, &other.postcode),
            ("country", &self.country, &other.country),
            ("organization", &self.organization, &other.organization),
        ];
        for (name, a, b) in pairs {
            if a != b {
                changed.push(name);
            }
        }
        changed
    }
}

/// The fields that name the person a waiting Czech POINT request is for.
const LOCKED_BY_CZECH_POINT: [&str; 3] = ["first_name", "last_name", "birth_date"];

/// The fields that come from the population register while the account is linked to NIA.
pub const LOCKED_BY_NIA: [&str; 9] = [
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "house_number",
    "city",
    "postcode",
    "country",
    "organization",
];

/// Validates every field and returns all violations at once.
pub fn validate_profile(input: &ProfileInput, today: time::Date) -> Result<Profile> {
    let mut errors = Vec::new();
    let mut text = |field: &str, raw: &str, max: usize| match validate::optional_text(raw, max) {
        Ok(v) => v,
        Err(v) => {
            errors.push(FieldViolation::new(field, v));
            None
        }
    };
    let first_name = text("first_name", &input.first_name, validate::NAME_MAX);
    let last_name = text("last_name", &input.last_name, validate::NAME_MAX);
    let street = text("street", &input.street, validate::STREET_MAX);
    let house_number = text(
        "house_number",
        &input.house_number,
        validate::HOUSE_NUMBER_MAX,
    );
    let city = text("city", &input.city, validate::CITY_MAX);
    let organization = text(
        "organization",
        &input.organization,
        validate::ORGANIZATION_MAX,
    );
    let birth_date = validate::birth_date(&input.birth_date, today).unwrap_or_else(|v| {
        errors.push(FieldViolation::new("birth_date", v));
        None
    });
    let country = input.country.trim().to_uppercase();
    let country = if country.is_empty() {
        "CZ".to_owned()
    } else {
        country
    };
    if !COUNTRIES.contains(&country.as_str()) {
        errors.push(FieldViolation::new("country", Violation::CountryInvalid));
    }
    // An address is all or nothing (a street is optional: villages number houses only).
    let postcode_raw = input.postcode.trim();
    let any_address =
        street.is_some() || house_number.is_some() || city.is_some() || !postcode_raw.is_empty();
    let mut postcode = None;
    if any_address {
        if house_number.is_none() && !errors.iter().any(|e| e.field == "house_number") {
            errors.push(FieldViolation::new(
                "house_number",
                Violation::AddressIncomplete,
            ));
        }
        if city.is_none() && !errors.iter().any(|e| e.field == "city") {
            errors.push(FieldViolation::new("city", Violation::AddressIncomplete));
        }
        if postcode_raw.is_empty() {
            errors.push(FieldViolation::new(
                "postcode",
                Violation::AddressIncomplete,
            ));
        } else {
            match validate::postcode(postcode_raw, &country) {
                Ok(p) => postcode = Some(p),
                Err(v) => errors.push(FieldViolation::new("postcode", v)),
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok(Profile {
        first_name,
        last_name,
        birth_date,
        street,
        house_number,
        city,
        postcode,
        country: any_address.then_some(country),
        organization,
    })
}

impl Idp {
    pub async fn profile(&self, account_id: i64) -> Result<Profile> {
        sqlx::query_as(
            "SELECT first_name, last_name, birth_date, street, house_number, city, postcode, \
             country, organization FROM profiles WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(Error::NotFound)
    }

    /// Saves the profile if every field is valid; otherwise nothing changes. The audit event
    /// names the changed fields, not their values.
    pub async fn update_profile(
        &self,
        account_id: i64,
        actor: &str,
        input: &ProfileInput,
        req: &RequestInfo,
    ) -> Result<Profile> {
        let new = validate_profile(input, self.clock.today())?;
        let old = self.profile(account_id).await?;
        let changed = old.field_names_changed(&new);
        if self.nia_link(account_id).await?.is_some() {
            let locked: Vec<FieldViolation> = changed
                .iter()
                .filter(|f| LOCKED_BY_NIA.contains(f))
                .map(|f| FieldViolation::new(f, Violation::LockedByNia))
                .collect();
            if !locked.is_empty() {
                return Err(Error::Invalid(locked));
            }
        }
        // while a Czech POINT request waits, the person it is for stays the same: the
        // register's data are used only for the name and birth date the request began with
        let waiting: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pairing_requests WHERE account_id = $1 AND method = $2 \
             AND state IN ($3, $4)",
        )
        .bind(account_id)
        .bind(crate::nia::pairing::Method::CzechPoint.as_str())
        .bind(crate::nia::pairing::State::AwaitingOffice.as_str())
        .bind(crate::nia::pairing::State::DataReceived.as_str())
        .fetch_one(&self.db.pool)
        .await?;
        if waiting.0 > 0 {
            let locked: Vec<FieldViolation> = changed
                .iter()
                .filter(|f| LOCKED_BY_CZECH_POINT.contains(f))
                .map(|f| FieldViolation::new(f, Violation::LockedByCzechPoint))
                .collect();
            if !locked.is_empty() {
                return Err(Error::Invalid(locked));
            }
        }
        if changed.is_empty() {
            return Ok(new);
        }
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE profiles SET first_name = $1, last_name = $2, birth_date = $3, street = $4, \
             house_number = $5, city = $6, postcode = $7, country = $8, organization = $9, \
             updated_at = $10 WHERE account_id = $11",
        )
        .bind(&new.first_name)
        .bind(&new.last_name)
        .bind(&new.birth_date)
        .bind(&new.street)
        .bind(&new.house_number)
        .bind(&new.city)
        .bind(&new.postcode)
        .bind(&new.country)
        .bind(&new.organization)
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        Audit::new(now, Some(account_id), actor, req)
            .record(
                &mut *tx,
                Event::ProfileChanged,
                json!({ "fields": changed }),
            )
            .await?;
        tx.commit().await?;
        Ok(new)
    }
}
