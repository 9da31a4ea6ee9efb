//! `docs/HARNESS.md` shows this crate's code, compiled there as a doc test of `underhood-sim`:
//! the two stay the same.

#[test]
fn the_guide_shows_this_code() {
    let guide = include_str!("../../../docs/HARNESS.md");
    let lib = include_str!("../src/lib.rs");
    let code = &lib[lib.find("use underhood_sim::prelude::*;").unwrap()..];
    assert!(guide.contains(code), "docs/HARNESS.md and src/lib.rs differ: copy src/lib.rs over");
}

/// The guide says `underhood-sim` is the only dependency (serde and `underhood-consensus`
/// included): this crate, its example, has no other.
#[test]
fn underhood_sim_is_the_only_dependency() {
    let manifest = include_str!("../Cargo.toml");
    let start = manifest.find("[dependencies]").unwrap();
    let end = manifest[start..].find("\n[").map_or(manifest.len(), |n| start + n);
    let dependencies: Vec<&str> = manifest[start..end]
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .collect();
    assert_eq!(dependencies, ["underhood-sim = { path = \"../../crates/sim\" }"]);
}
