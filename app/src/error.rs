//! The errors server functions return, and the one place that turns each into a message in the
//! user's language. The server maps the domain's errors here (`ssr::fail`); the browser shows
//! them next to the field they belong to.

use fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::i18n::{tr, tr_args, Lang};

/// Why a field's value was refused (mirrors the domain's `Violation`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldCode {
    Required,
    TooShort { min: usize },
    TooLong { max: usize },
    UsernameChars,
    UsernameTaken,
    InvalidCharacters,
    PasswordCommon,
    PasswordContainsUsername,
    EmailInvalid,
    PhoneInvalid,
    DateInvalid,
    DateInFuture,
    DateTooOld,
    PostcodeInvalid,
    CountryInvalid,
    AddressIncomplete,
    CodeWrong,
    CodeExpired,
    CodeMissing,
    CodeAttemptsExhausted,
    TooManyCodes { retry_after_secs: i64 },
    KeyDataIncorrect,
    KeyAlreadyRegistered,
    LockedByNia,
    LockedByCzechPoint,
    FileType,
    FileTooLarge { max_mb: usize },
    NotJson,
    ImageType,
    ImageTooLarge { max_mb: usize },
    NoVerifiedEmail,
    ReferenceTaken,
    LinkInvalid,
    LinkExpired,
    PasswordsDiffer,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("incorrect username or password")]
    BadCredentials,
    #[error("too many attempts")]
    Throttled { retry_after_secs: i64 },
    #[error("too many registrations")]
    TooManyRegistrations { retry_after_secs: i64 },
    #[error("not logged in")]
    NotAuthenticated,
    #[error("step-up needed")]
    StepUpRequired,
    #[error("step-up with the system key needed")]
    StepUpWithSystemKey,
    /// A new login made for this action (detaching, removing a key linked to NIA).
    #[error("a login made for this action needed")]
    ActionLoginRequired,
    #[error("security key refused")]
    BadSecurityKey,
    #[error("account inactive")]
    AccountInactive,
    #[error("overloaded")]
    Overloaded,
    #[error("forbidden")]
    Forbidden,
    #[error("conflict")]
    Conflict,
    #[error("not eligible for NIA")]
    NotEligible,
    #[error("NIA unavailable")]
    NiaUnavailable,
    /// A login through NIA that is over (expired, answered) or belongs to another browser.
    #[error("the login through NIA is over")]
    NiaLoginGone,
    #[error("cannot disable authenticator")]
    CannotDisableAuthenticator,
    #[error("internal error")]
    Internal,
    #[error("transport: {0}")]
    Transport(String),
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ApiError::Transport(value.to_string())
    }
}

fn minutes(secs: i64) -> FluentValue<'static> {
    FluentValue::from((secs + 59) / 60)
}

impl FieldCode {
    pub fn message(&self, lang: Lang) -> String {
        match self {
            FieldCode::Required => tr(lang, "err-required"),
            FieldCode::TooShort { min } => {
                tr_args(lang, "err-too-short", &[("min", (*min).into())])
            }
            FieldCode::TooLong { max } => tr_args(lang, "err-too-long", &[("max", (*max).into())]),
            FieldCode::UsernameChars => tr(lang, "err-username-chars"),
            FieldCode::UsernameTaken => tr(lang, "err-username-taken"),
            FieldCode::InvalidCharacters => tr(lang, "err-invalid-chars"),
            FieldCode::PasswordCommon => tr(lang, "err-password-common"),
            FieldCode::PasswordContainsUsername => tr(lang, "err-password-username"),
            FieldCode::EmailInvalid => tr(lang, "err-email"),
            FieldCode::PhoneInvalid => tr(lang, "err-phone"),
            FieldCode::DateInvalid => tr(lang, "err-date"),
            FieldCode::DateInFuture => tr(lang, "err-date-future"),
            FieldCode::DateTooOld => tr(lang, "err-date-old"),
            FieldCode::PostcodeInvalid => tr(lang, "err-postcode"),
            FieldCode::CountryInvalid => tr(lang, "err-country"),
            FieldCode::AddressIncomplete => tr(lang, "err-address-incomplete"),
            FieldCode::CodeWrong => tr(lang, "err-code-wrong"),
            FieldCode::CodeExpired => tr(lang, "err-code-expired"),
            FieldCode::CodeMissing => tr(lang, "err-code-missing"),
            FieldCode::CodeAttemptsExhausted => tr(lang, "err-code-exhausted"),
            FieldCode::KeyDataIncorrect => tr(lang, "check-refused"),
            FieldCode::KeyAlreadyRegistered => tr(lang, "err-key-already-registered"),
            FieldCode::LockedByNia => tr(lang, "err-locked-by-nia"),
            FieldCode::LockedByCzechPoint => tr(lang, "err-locked-by-czech-point"),
            FieldCode::FileType => tr(lang, "err-file-type"),
            FieldCode::FileTooLarge { max_mb } => {
                tr_args(lang, "err-file-too-large", &[("max", (*max_mb).into())])
            }
            FieldCode::NoVerifiedEmail => tr(lang, "err-no-verified-email"),
            FieldCode::ReferenceTaken => tr(lang, "err-reference-taken"),
            FieldCode::LinkInvalid => tr(lang, "err-link-invalid"),
            FieldCode::LinkExpired => tr(lang, "err-link-expired"),
            FieldCode::PasswordsDiffer => tr(lang, "err-passwords-differ"),
            FieldCode::NotJson => tr(lang, "err-not-json"),
            FieldCode::ImageType => tr(lang, "err-image-type"),
            FieldCode::ImageTooLarge { max_mb } => {
                tr_args(lang, "err-image-too-large", &[("max", (*max_mb).into())])
            }
            FieldCode::TooManyCodes { retry_after_secs } => tr_args(
                lang,
                "err-too-many-codes",
                &[("minutes", minutes(*retry_after_secs))],
            ),
        }
    }
}

impl ApiError {
    /// The message for a field, if this error is about it.
    pub fn field_message(&self, field: &str, lang: Lang) -> Option<String> {
        match self {
            ApiError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.code.message(lang)),
            _ => None,
        }
    }

    /// The message for the top of the form: what went wrong as a whole.
    pub fn summary(&self, lang: Lang) -> String {
        match self {
            ApiError::Invalid(_) => tr(lang, "form-has-errors"),
            ApiError::BadCredentials => tr(lang, "err-bad-credentials"),
            // the delays grow from a second: short ones are said in seconds
            ApiError::Throttled { retry_after_secs } if *retry_after_secs < 60 => tr_args(
                lang,
                "err-throttled-seconds",
                &[("seconds", (*retry_after_secs).max(1).into())],
            ),
            ApiError::Throttled { retry_after_secs } => tr_args(
                lang,
                "err-throttled",
                &[("minutes", minutes(*retry_after_secs))],
            ),
            ApiError::TooManyRegistrations { retry_after_secs } => tr_args(
                lang,
                "err-too-many-registrations",
                &[("minutes", minutes(*retry_after_secs))],
            ),
            ApiError::NotAuthenticated => tr(lang, "err-not-authenticated"),
            ApiError::StepUpRequired => tr(lang, "err-step-up"),
            ApiError::StepUpWithSystemKey => tr(lang, "err-step-up-system"),
            ApiError::ActionLoginRequired => tr(lang, "err-action-login"),
            ApiError::BadSecurityKey => tr(lang, "err-bad-key"),
            ApiError::AccountInactive => tr(lang, "err-account-inactive"),
            ApiError::Overloaded => tr(lang, "err-overloaded"),
            ApiError::Forbidden => tr(lang, "err-forbidden"),
            ApiError::Conflict => tr(lang, "err-conflict"),
            ApiError::NotEligible => tr(lang, "err-not-eligible"),
            ApiError::NiaUnavailable => tr(lang, "nia-outage"),
            ApiError::NiaLoginGone => tr(lang, "err-nia-login-gone"),
            ApiError::CannotDisableAuthenticator => tr(lang, "err-cannot-disable"),
            ApiError::Internal => tr(lang, "err-internal"),
            ApiError::Transport(_) => tr(lang, "err-network"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_found_by_field_in_both_languages() {
        let e = ApiError::Invalid(vec![FieldError {
            field: "email".into(),
            code: FieldCode::EmailInvalid,
        }]);
        assert_eq!(
            e.field_message("email", Lang::En).as_deref(),
            Some("Enter an e-mail address like name@example.com.")
        );
        assert_eq!(
            e.field_message("email", Lang::Cs).as_deref(),
            Some("Zadejte e-mailovou adresu ve tvaru jmeno@example.cz.")
        );
        assert_eq!(e.field_message("phone", Lang::En), None);
    }

    #[test]
    fn waiting_time_rounds_up_to_minutes() {
        let e = ApiError::Throttled {
            retry_after_secs: 61,
        };
        assert_eq!(
            e.summary(Lang::En),
            "Too many failed login attempts. Try again in 2 min."
        );
    }
}
