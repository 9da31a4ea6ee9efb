//! The built-in scenarios, one JSON file each under `scenarios/`, compiled into the crate so the
//! CLI and the browser need no files.

use crate::error::ScenarioError;
use crate::scenario::Scenario;

/// Every gallery scenario's JSON text, in display order: each protocol's list, in the order
/// of the protocol registry.
fn sources() -> impl Iterator<Item = &'static str> {
    crate::protocols::GALLERIES.into_iter().flatten().copied()
}

/// One line of the gallery listing, as `underhood sim list --json` and the browser show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// The scenario's name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Its protocol's name.
    pub protocol: &'static str,
    /// Its variant's name.
    pub variant: &'static str,
}

/// Every gallery scenario's name, description, protocol and variant, in display order.
pub fn listing() -> Vec<Entry> {
    gallery()
        .iter()
        .map(|s| Entry {
            name: s.name.clone(),
            description: s.description.clone(),
            protocol: s.protocol_name(),
            variant: s.variant_name(),
        })
        .collect()
}

/// Every gallery scenario, parsed.
pub fn gallery() -> Vec<Scenario> {
    sources()
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
    sources()
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
        let n = sources().count();
        for text in sources() {
            if let Err(e) = Scenario::from_json(text) {
                panic!("gallery scenario does not parse: {e}\n{text}");
            }
        }
        let mut names: Vec<String> = gallery().into_iter().map(|s| s.name.clone()).collect();
        assert_eq!(names.len(), n);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
