//! The identity domain's error type. The web layer maps each variant to a user message in one
//! place (`app::error`); nothing here is shown to a user verbatim.

use serde::{Deserialize, Serialize};

/// A reason a submitted value was refused, tied to the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Violation {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    UsernameChars,
    InvalidCharacters,
    UsernameTaken,
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
    TooManyCodes {
        retry_after_secs: i64,
    },
    /// The security key sent malformed or unacceptable registration data.
    KeyDataIncorrect,
    KeyAlreadyRegistered,
    /// The field comes from the population register while the account is linked to NIA.
    LockedByNia,
    /// The field names the person a waiting Czech POINT request is for.
    LockedByCzechPoint,
    /// An uploaded file of a type that is not accepted.
    FileType,
    FileTooLarge {
        max_mb: usize,
    },
    /// The account has no verified e-mail to send a link to.
    NoVerifiedEmail,
    /// A paper form with this reference number is already recorded.
    ReferenceTaken,
    /// A password link that does not exist or was used.
    LinkInvalid,
    LinkExpired,
    PasswordsDiffer,
    /// Text that should be JSON (a key test's result) and is not.
    NotJson,
    /// An attached image (a screenshot) that is not PNG or JPEG.
    ImageType,
    ImageTooLarge {
        max_mb: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    pub field: String,
    pub violation: Violation,
}

impl FieldViolation {
    pub fn new(field: &str, violation: Violation) -> Self {
        Self {
            field: field.to_owned(),
            violation,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldViolation>),
    #[error("incorrect username or password")]
    BadCredentials,
    #[error("too many failed logins; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("too many accounts created from this address; retry after {retry_after_secs} s")]
    TooManyRegistrations { retry_after_secs: i64 },
    #[error("not logged in")]
    NotAuthenticated,
    #[error("a recent login with a security key is needed")]
    StepUpRequired,
    /// The action needs a new login made for it (detaching from NIA, removing a key
    /// linked to NIA), whatever the age of the last one.
    #[error("a new login made for this action is needed")]
    ActionLoginRequired,
    #[error("a recent login with the account's system key is needed")]
    StepUpWithSystemKey,
    #[error("the security key's answer was refused")]
    BadSecurityKey,
    #[error("account is not active")]
    AccountInactive,
    #[error("not found")]
    NotFound,
    #[error("the request is in another state")]
    Conflict,
    /// Not allowed for this account or role.
    #[error("forbidden")]
    Forbidden,
    #[error("the account does not meet the conditions for NIA")]
    NotEligible,
    #[error("NIA is unavailable")]
    NiaUnavailable,
    /// NIA could not deactivate a means (outage): nothing changed.
    #[error("cannot disable authenticator")]
    CannotDisableAuthenticator,
    /// NIA answered and refused to deactivate a means (not an outage: waiting changes
    /// nothing); the citizen still sees "Cannot disable authenticator.", operators the code.
    #[error("NIA refused: {0}")]
    NiaRefused(String),
    #[error("the response from NIA was rejected")]
    NiaResponseInvalid,
    /// A login request that NIA did not send as it arrived (signature, issuer, address,
    /// time, a second use): nothing is shown but a plain page, nobody is sent anywhere.
    #[error("the login request from NIA was rejected")]
    NiaRequestInvalid,
    /// NIA's answer came back through a browser that did not start the login there.
    #[error("the NIA login was started in another browser")]
    NiaOtherBrowser,
    /// The register's person cannot be this account's owner (validated as somebody else,
    /// or not the person the profile names).
    #[error("the register's person does not match the account")]
    NiaPersonMismatch,
    #[error("password hashing is overloaded")]
    Overloaded,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &str, violation: Violation) -> Self {
        Error::Invalid(vec![FieldViolation::new(field, violation)])
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
