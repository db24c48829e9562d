//! The link to NIA: the client that speaks NIA's protocols (`client`), the conditions of
//! linking (`eligibility`), the level of assurance a login through NIA reaches (`loa`), the
//! pairing request and its two ways of verifying identity (`pairing`: eObčanka, Czech POINT,
//! completion), the register's changes (`registry`), the
//! one way a link ends (`unlink`), the means that follow the keys (`means`), the means
//! reconciliation with NIA (`reconcile`), and logins to government services through NIA
//! (`login`, with our identity-provider side of SAML in `saml_idp`).

pub mod client;
pub mod eligibility;
pub mod loa;
pub mod login;
pub mod means;
pub mod pairing;
pub mod reconcile;
pub mod registry;
pub mod saml_idp;
pub mod unlink;

impl crate::Idp {
    /// The NIA client, or an internal error when the server was built without one.
    pub(crate) fn nia_client(&self) -> crate::Result<std::sync::Arc<client::NiaClient>> {
        self.nia()
            .ok_or_else(|| crate::Error::Internal("no NIA client configured".into()))
    }
}
