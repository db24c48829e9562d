//! Field rules shared by registration, profile and contacts. Each returns the normalised
//! value or the violation to show next to the field.

use crate::error::Violation;

pub const NAME_MAX: usize = 100;
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;
pub const ORGANIZATION_MAX: usize = 200;
pub const STREET_MAX: usize = 150;
pub const HOUSE_NUMBER_MAX: usize = 20;
pub const CITY_MAX: usize = 100;

/// Countries a permanent address may be in (ISO 3166-1 alpha-2).
pub const COUNTRIES: &[&str] = &["CZ", "SK", "AT", "DE", "PL"];

/// Username: 3–64 of a–z, 0–9, '.', '_', '-'; stored case-folded.
pub fn username(raw: &str) -> Result<String, Violation> {
    let u = raw.trim().to_lowercase();
    let len = u.chars().count();
    if u.is_empty() {
        return Err(Violation::Required);
    }
    if len < USERNAME_MIN {
        return Err(Violation::TooShort { min: USERNAME_MIN });
    }
    if len > USERNAME_MAX {
        return Err(Violation::TooLong { max: USERNAME_MAX });
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Violation::UsernameChars);
    }
    Ok(u)
}

/// Optional free text: trimmed, `None` when empty, refused above `max` characters or when it
/// holds control characters.
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, Violation> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err(Violation::TooLong { max });
    }
    if t.chars().any(char::is_control) {
        return Err(Violation::InvalidCharacters);
    }
    Ok(Some(t.to_owned()))
}

/// Email: one '@', a local part and a domain with a dot, no spaces; domain lower-cased.
pub fn email(raw: &str) -> Result<String, Violation> {
    let e = raw.trim();
    if e.is_empty() {
        return Err(Violation::Required);
    }
    if e.chars().count() > EMAIL_MAX {
        return Err(Violation::TooLong { max: EMAIL_MAX });
    }
    let (local, domain) = e.rsplit_once('@').ok_or(Violation::EmailInvalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\"[]\\".contains(c));
    if !(domain_ok && local_ok) {
        return Err(Violation::EmailInvalid);
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// Phone: international form `+` and 8–15 digits; a 9-digit number is Czech (+420).
/// Spaces, dashes and dots between digits are ignored.
pub fn phone(raw: &str) -> Result<String, Violation> {
    let p = raw.trim();
    if p.is_empty() {
        return Err(Violation::Required);
    }
    let (plus, rest) = match p.strip_prefix('+') {
        Some(r) => (true, r),
        None => match p.strip_prefix("00") {
            Some(r) => (true, r),
            None => (false, p),
        },
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.'))
    {
        return Err(Violation::PhoneInvalid);
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let normalised = if plus {
        digits
    } else if digits.len() == 9 {
        format!("420{digits}")
    } else {
        return Err(Violation::PhoneInvalid);
    };
    if !(8..=15).contains(&normalised.len()) || normalised.starts_with('0') {
        return Err(Violation::PhoneInvalid);
    }
    Ok(format!("+{normalised}"))
}

/// Birth date as the Czech write it (`31. 12. 1980`, `31.12.1980`) or ISO (`1980-12-31`);
/// stored ISO. Not in the future, not before 1900.
pub fn birth_date(raw: &str, today: time::Date) -> Result<Option<String>, Violation> {
    let t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = if t.contains('-') {
        let mut p: Vec<&str> = t.split('-').collect();
        p.reverse();
        p
    } else {
        t.split('.').collect()
    };
    let [d, m, y] = parts.as_slice() else {
        return Err(Violation::DateInvalid);
    };
    let parse = |s: &str| {
        s.parse::<u16>()
            .ok()
            .filter(|_| !s.is_empty() && s.len() <= 4)
    };
    let (Some(d), Some(m), Some(y)) = (parse(d), parse(m), parse(y)) else {
        return Err(Violation::DateInvalid);
    };
    let month = u8::try_from(m)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or(Violation::DateInvalid)?;
    let day = u8::try_from(d).map_err(|_| Violation::DateInvalid)?;
    let date = time::Date::from_calendar_date(i32::from(y), month, day)
        .map_err(|_| Violation::DateInvalid)?;
    if date > today {
        return Err(Violation::DateInFuture);
    }
    if date.year() < 1900 {
        return Err(Violation::DateTooOld);
    }
    Ok(Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )))
}

/// Czech and Slovak postcodes are five digits (written `110 00`); others 3–10 of digits,
/// letters, spaces and dashes.
pub fn postcode(raw: &str, country: &str) -> Result<String, Violation> {
    let t = raw.trim();
    if matches!(country, "CZ" | "SK") {
        let digits: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 5 && digits.chars().all(|c| c.is_ascii_digit()) {
            return Ok(format!("{} {}", &digits[..3], &digits[3..]));
        }
        return Err(Violation::PostcodeInvalid);
    }
    if (3..=10).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        Ok(t.to_uppercase())
    } else {
        Err(Violation::PostcodeInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn usernames() {
        assert_eq!(username("  Jan.Novak "), Ok("jan.novak".into()));
        assert_eq!(username(""), Err(Violation::Required));
        assert_eq!(username("ab"), Err(Violation::TooShort { min: 3 }));
        assert_eq!(
            username(&"a".repeat(65)),
            Err(Violation::TooLong { max: 64 })
        );
        assert_eq!(username("jan novák"), Err(Violation::UsernameChars));
    }

    #[test]
    fn emails() {
        assert_eq!(email("Jan@Example.CZ"), Ok("Jan@example.cz".into()));
        for bad in [
            "jan",
            "jan@",
            "@example.cz",
            "jan@example",
            "jan @example.cz",
            "jan@ex..cz",
        ] {
            assert_eq!(email(bad), Err(Violation::EmailInvalid), "{bad}");
        }
        assert_eq!(email(""), Err(Violation::Required));
    }

    #[test]
    fn phones() {
        assert_eq!(phone("777 123 456"), Ok("+420777123456".into()));
        assert_eq!(phone("+420 777-123-456"), Ok("+420777123456".into()));
        assert_eq!(phone("00421 905 123 456"), Ok("+421905123456".into()));
        for bad in [
            "12345",
            "777 123 45a",
            "+0 123 456 789",
            "+1234567890123456",
        ] {
            assert_eq!(phone(bad), Err(Violation::PhoneInvalid), "{bad}");
        }
    }

    #[test]
    fn birth_dates() {
        let today = date!(2026 - 11 - 25);
        assert_eq!(
            birth_date("31. 12. 1980", today),
            Ok(Some("1980-12-31".into()))
        );
        assert_eq!(
            birth_date("1980-12-31", today),
            Ok(Some("1980-12-31".into()))
        );
        assert_eq!(birth_date("", today), Ok(None));
        assert_eq!(birth_date("31.2.1980", today), Err(Violation::DateInvalid));
        assert_eq!(birth_date("yesterday", today), Err(Violation::DateInvalid));
        assert_eq!(birth_date("1.1.2030", today), Err(Violation::DateInFuture));
        assert_eq!(birth_date("1.1.1850", today), Err(Violation::DateTooOld));
    }

    #[test]
    fn postcodes() {
        assert_eq!(postcode("11000", "CZ"), Ok("110 00".into()));
        assert_eq!(postcode("110 00", "CZ"), Ok("110 00".into()));
        assert_eq!(postcode("1100", "CZ"), Err(Violation::PostcodeInvalid));
        assert_eq!(postcode("10115", "DE"), Ok("10115".into()));
    }
}
