//! Crash points for the crash harness (`server/tests/cluster.rs`): at a step boundary of a flow
//! the code calls `point("flow.step")`; when the process was started with `CRASH_AT` naming
//! that point it is killed there with SIGKILL (`kill -9`: no destructor, no flush, no
//! rollback but the database's own). Elsewhere it does nothing. The server refuses to start
//! in production with `CRASH_AT` set.

use std::sync::OnceLock;

/// Every crash point, so that the harness and the configuration can name them.
pub const POINTS: &[&str] = &[
    // the completion job (`nia/pairing/complete.rs`)
    "complete.start",
    "complete.after_match",
    "complete.after_first_means",
    "complete.after_link",
    // NIA's answer at the ACS (`nia/pairing/eobcanka.rs`)
    "acs.verified",
    // the register's delivery from Czech POINT (`nia/pairing/czech_point.rs`)
    "intake.verified",
    // ending a link (`nia/unlink.rs`): NIA has deactivated the means, nothing local yet
    "unlink.after_nia",
    // the 2FA reset's finish (`recovery/twofa_reset.rs`), before its transaction commits
    "twofa_reset.before_commit",
    // a password login (`account/accounts.rs`), after the password was judged
    "login.verified",
];

/// The point `CRASH_AT` names, if any (read once; the configuration checks it too).
pub fn configured() -> Option<&'static str> {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    AT.get_or_init(|| std::env::var("CRASH_AT").ok().filter(|s| !s.is_empty()))
        .as_deref()
}

/// Kills this process with SIGKILL when `CRASH_AT` is `name`.
pub fn point(name: &'static str) {
    debug_assert!(POINTS.contains(&name), "unknown crash point {name}");
    if configured() != Some(name) {
        return;
    }
    tracing::warn!(
        point = name,
        "CRASH_AT reached: the process kills itself with SIGKILL"
    );
    let pid = std::process::id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .is_ok_and(|s| s.success());
    if killed {
        // SIGKILL is not handled: the process ends before this sleep does
        std::thread::sleep(std::time::Duration::from_secs(5));
    }
    // no `kill` to run (or it failed): abort, which likewise runs no destructor
    std::process::abort()
}
