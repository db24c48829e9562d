//! The citizen's account: creating it and logging in with a password (throttled, never locked
//! out), the argon2id pool, database sessions, the new login made for one action, the profile
//! and the verified contacts, and the field rules they share.

pub mod accounts;
pub mod action_login;
pub mod contacts;
pub mod password;
pub mod profile;
pub mod sessions;
pub mod validate;
