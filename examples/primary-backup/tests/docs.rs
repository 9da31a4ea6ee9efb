//! `docs/HARNESS.md` shows this crate's code, compiled there as a doc test of `underhood-sim`:
//! the two stay the same.

#[test]
fn the_guide_shows_this_code() {
    let guide = include_str!("../../../docs/HARNESS.md");
    let lib = include_str!("../src/lib.rs");
    let code = &lib[lib.find("use underhood_sim::prelude::*;").unwrap()..];
    assert!(guide.contains(code), "docs/HARNESS.md and src/lib.rs differ: copy src/lib.rs over");
}
