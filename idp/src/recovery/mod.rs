//! Getting back into an account and the help staff give: the online 2FA reset with two PINs
//! (`twofa_reset`), the back office's login reset from a paper form (`paper_reset`) and the
//! helpdesk's identity check and unlink (`helpdesk`).

pub mod helpdesk;
pub mod paper_reset;
pub mod twofa_reset;
