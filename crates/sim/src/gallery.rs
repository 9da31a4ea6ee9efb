//! The built-in scenarios, one JSON file each under `scenarios/`, compiled into the crate so the
//! CLI and the browser need no files.

use crate::error::ScenarioError;
use crate::scenario::Scenario;

/// Every gallery scenario's JSON text, in display order.
const SOURCES: [&str; 30] = [
    include_str!("../scenarios/happy-path.json"),
    include_str!("../scenarios/no-vote.json"),
    include_str!("../scenarios/coordinator-crash-before-decision.json"),
    include_str!("../scenarios/coordinator-crash-after-decision.json"),
    include_str!("../scenarios/participant-crash-after-yes.json"),
    include_str!("../scenarios/lost-messages.json"),
    include_str!("../scenarios/partition-during-commit.json"),
    include_str!("../scenarios/announce-before-log.json"),
    include_str!("../scenarios/vote-before-log.json"),
    include_str!("../scenarios/abort-on-timeout.json"),
    include_str!("../scenarios/bench.json"),
    include_str!("../scenarios/paxos-normal.json"),
    include_str!("../scenarios/paxos-minority-crash.json"),
    include_str!("../scenarios/paxos-majority-crash.json"),
    include_str!("../scenarios/paxos-dueling-proposers.json"),
    include_str!("../scenarios/paxos-partition-old-leader.json"),
    include_str!("../scenarios/paxos-storm.json"),
    include_str!("../scenarios/paxos-leader-crash-mid-slot.json"),
    include_str!("../scenarios/paxos-ignore-accepted.json"),
    include_str!("../scenarios/paxos-forgetful-acceptor.json"),
    include_str!("../scenarios/paxos-non-unique-ballots.json"),
    include_str!("../scenarios/paxos-stale-reads.json"),
    include_str!("../scenarios/paxos-bench.json"),
    include_str!("../scenarios/vrrp-master-crash.json"),
    include_str!("../scenarios/vrrp-preempt.json"),
    include_str!("../scenarios/vrrp-no-preempt.json"),
    include_str!("../scenarios/vrrp-flapping.json"),
    include_str!("../scenarios/vrrp-split-brain.json"),
    include_str!("../scenarios/vrrp-lease-partition.json"),
    include_str!("../scenarios/vrrp-lease-no-quorum.json"),
];

/// Every gallery scenario, parsed.
pub fn gallery() -> Vec<Scenario> {
    SOURCES
        .iter()
        .filter_map(|text| Scenario::from_json(text).ok())
        .collect()
}

/// The gallery scenario called `name`.
pub fn find(name: &str) -> Result<Scenario, ScenarioError> {
    gallery()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ScenarioError::UnknownScenario {
            name: name.to_owned(),
        })
}

/// The JSON text of the gallery scenario called `name`, as written.
pub fn source(name: &str) -> Result<&'static str, ScenarioError> {
    SOURCES
        .iter()
        .copied()
        .find(|text| Scenario::from_json(text).is_ok_and(|s| s.name == name))
        .ok_or_else(|| ScenarioError::UnknownScenario {
            name: name.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gallery_file_parses_and_names_are_unique() {
        for text in SOURCES {
            if let Err(e) = Scenario::from_json(text) {
                panic!("gallery scenario does not parse: {e}\n{text}");
            }
        }
        let mut names: Vec<String> = gallery().into_iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SOURCES.len());
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SOURCES.len());
    }
}
