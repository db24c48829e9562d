//! The link to NIA: the client that speaks NIA's protocols (`client`), the conditions of
//! linking (`eligibility`), the pairing request and its two ways of verifying identity
//! (`pairing`: eObčanka, Czech POINT, completion), the register's changes (`registry`), the
//! one way a link ends (`unlink`) and the means reconciliation with NIA (`reconcile`).

pub mod client;
pub mod eligibility;
pub mod pairing;
pub mod reconcile;
pub mod registry;
pub mod unlink;
