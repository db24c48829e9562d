//! The unauthenticated edges where other organisations' XML reaches us (NIA's answer at the
//! ACS, the register's delivery at the intake): the cheap checks made before any XML is
//! read, and the count of what they turned away.
//!
//! Anyone can post to these addresses, so a reject must cost us next to nothing: it is
//! counted (`/metrics`) and only a sample reaches the audit log — the first of every minute
//! per edge, with how many came since the last sample — instead of one row each.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde_json::json;

use crate::audit::{Audit, Event};
use crate::error::Result;
use crate::{Idp, RequestInfo};

/// Which edge turned a message away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    NiaAcs,
    RobIntake,
    /// Our SSO endpoint, where NIA's login requests arrive.
    NiaSso,
}

impl Edge {
    pub fn name(self) -> &'static str {
        match self {
            Edge::NiaAcs => "nia_acs",
            Edge::RobIntake => "rob_intake",
            Edge::NiaSso => "nia_sso",
        }
    }

    fn index(self) -> usize {
        match self {
            Edge::NiaAcs => 0,
            Edge::RobIntake => 1,
            Edge::NiaSso => 2,
        }
    }
}

/// Rejects at the public edges, for the metric and the audit sample.
#[derive(Debug, Default)]
pub struct EdgeCounters {
    rejected: [AtomicU64; 3],
    /// Rejects since the last sample written to the audit log.
    unsampled: [AtomicU64; 3],
    /// The minute (Unix seconds / 60) of the last sample.
    sampled_minute: [AtomicI64; 3],
}

impl EdgeCounters {
    /// Every reject so far at `edge` (since the process started).
    pub fn rejected(&self, edge: Edge) -> u64 {
        self.rejected[edge.index()].load(Ordering::Relaxed)
    }

    /// Counts a reject; returns how many the audit sample stands for when this one is to be
    /// sampled (the first of its minute), else `None`.
    fn count(&self, edge: Edge, now: i64) -> Option<u64> {
        let i = edge.index();
        self.rejected[i].fetch_add(1, Ordering::Relaxed);
        self.unsampled[i].fetch_add(1, Ordering::Relaxed);
        let minute = now.div_euclid(60);
        let last = self.sampled_minute[i].load(Ordering::Relaxed);
        if last != minute
            && self.sampled_minute[i]
                .compare_exchange(last, minute, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // this reject and every one since the last sample
            Some(self.unsampled[i].swap(0, Ordering::Relaxed))
        } else {
            None
        }
    }
}

/// Refuses a document type declaration (and with it every entity trick) before any parser
/// sees the message: neither NIA's answers nor the register's deliveries have one. A NUL
/// byte or a UTF-16 byte-order mark is refused too: the parser would read such a body as
/// UTF-16, where a declaration is not spelled with these bytes.
pub fn has_doctype(xml: &[u8]) -> bool {
    xml.contains(&0)
        || xml.starts_with(&[0xFF, 0xFE])
        || xml.starts_with(&[0xFE, 0xFF])
        || xml.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"))
        || xml.windows(8).any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"))
}

impl Idp {
    /// A message at a public edge that nothing of ours vouches for (unknown RelayState or
    /// code, too large, not XML): counted, sampled into the audit log.
    pub(crate) async fn edge_reject(
        &self,
        edge: Edge,
        reason: &str,
        req: &RequestInfo,
    ) -> Result<()> {
        let now = self.clock.now();
        if let Some(count) = self.edges.count(edge, now) {
            let details = json!({ "edge": edge.name(), "reason": reason, "rejects_since_last_sample": count });
            Audit::new(now, None, edge.name(), req)
                .record(&self.db.pool, Event::PublicEdgeRejected, details)
                .await?;
        }
        Ok(())
    }

    /// A delivery at the intake without the data box's credential.
    pub async fn intake_unauthenticated(&self, req: &RequestInfo) -> Result<()> {
        self.edge_reject(Edge::RobIntake, "no transport credential", req)
            .await
    }

    /// The counters behind `/metrics`.
    pub fn edge_counters(&self) -> &EdgeCounters {
        &self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_counted_in_full_and_sampled_once_a_minute() {
        let c = EdgeCounters::default();
        // the start of a minute
        let t = 1_800_000_040 - 40;
        assert_eq!(c.count(Edge::NiaAcs, t), Some(1));
        for i in 1..1000 {
            assert_eq!(c.count(Edge::NiaAcs, t + i % 60), None, "reject {i}");
        }
        // the next minute's first reject carries the 999 unsampled ones and itself
        assert_eq!(c.count(Edge::NiaAcs, t + 60), Some(1000));
        assert_eq!(c.rejected(Edge::NiaAcs), 1001);
        assert_eq!(c.rejected(Edge::RobIntake), 0);
        assert_eq!(c.count(Edge::RobIntake, t + 60), Some(1));
    }

    #[test]
    fn doctype_and_entities_are_found_in_any_case() {
        assert!(has_doctype(
            b"<?xml version=\"1.0\"?><!doctype x [<!ENTITY a \"b\">]><x/>"
        ));
        assert!(has_doctype(
            b"<x><!ENTITY a SYSTEM \"file:///etc/passwd\"></x>"
        ));
        assert!(!has_doctype(
            b"<samlp:Response ID=\"_1\"><x>DOCTYPE</x></samlp:Response>"
        ));
    }
}
