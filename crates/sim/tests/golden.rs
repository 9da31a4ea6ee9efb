//! The trace hash of every gallery scenario at seeds 1, 2 and 3, pinned before the protocol
//! plug-in refactor: a change that alters any run shows up here, and the commit that changes a
//! hash on purpose says why. Regenerate with `UNDERHOOD_BLESS=1 cargo test -p underhood-sim --test golden`.

use std::fmt::Write;

use underhood_sim::{Recording, Run, RunOptions, gallery};

const GOLDEN: &str = include_str!("golden/trace-hashes.txt");

fn current() -> String {
    let mut out = String::new();
    for scenario in gallery::gallery() {
        for seed in 1..=3 {
            let mut run = Run::new(
                &scenario,
                RunOptions {
                    seed: Some(seed),
                    recording: Recording::HashOnly,
                    ..RunOptions::default()
                },
            )
            .unwrap();
            run.run_to_end();
            let _ = writeln!(out, "{} {seed} {:016x}", scenario.name, run.trace_hash());
        }
    }
    out
}

#[test]
fn every_gallery_trace_hash_is_pinned() {
    let now = current();
    if std::env::var_os("UNDERHOOD_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/trace-hashes.txt");
        std::fs::write(path, &now).unwrap();
        return;
    }
    let mut changed = Vec::new();
    for line in GOLDEN.lines() {
        let (key, _) = line.rsplit_once(' ').unwrap();
        match now.lines().find(|l| l.rsplit_once(' ').unwrap().0 == key) {
            Some(l) if l == line => {}
            Some(l) => changed.push(format!("{line} -> {l}")),
            None => changed.push(format!("{line} -> gone")),
        }
    }
    for line in now.lines() {
        let key = line.rsplit_once(' ').unwrap().0;
        if !GOLDEN.lines().any(|l| l.rsplit_once(' ').unwrap().0 == key) {
            changed.push(format!("new, not pinned: {line}"));
        }
    }
    assert!(
        changed.is_empty(),
        "trace hashes changed:\n{}",
        changed.join("\n")
    );
}
