//! What the graph counts of an entity beyond the trail: the findings that name it and the flow
//! records and DNS queries attributed to it. Its CloudTrail activity (calls by API and hour,
//! addresses, user agents, principals) is answered from the index's postings when its profile
//! is opened ([`crate::pivot::Activity`]), not counted for every entity of every event here.

use crate::model::Ts;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profile {
    pub first_seen: Option<Ts>,
    pub last_seen: Option<Ts>,
    /// Findings that involve this entity.
    pub findings: u64,
    /// Flow-log records and DNS queries attributed to this entity.
    pub flows: u64,
    pub queries: u64,
}

impl Profile {
    pub fn seen(&mut self, t: Ts) {
        self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
        self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
    }

    /// Anything counted: the profile of an entity only the trail names is not.
    pub(super) fn counted(&self) -> bool {
        self.findings + self.flows + self.queries > 0
    }

    /// Adds what `o` counted of the same entity in another graph.
    pub(super) fn absorb(&mut self, o: &Profile) {
        for t in [o.first_seen, o.last_seen].into_iter().flatten() {
            self.seen(t);
        }
        self.findings += o.findings;
        self.flows += o.flows;
        self.queries += o.queries;
    }
}
