//! `cargo xtask test`'s downstream step: every crate under `examples/` is built and tested as a
//! user's crate would be, outside the workspace, depending on our crates by path. Each gets a
//! copy of the workspace's lock file first (cargo prunes what it does not use), so it builds
//! with the versions the workspace is tested with, and a new dependency of ours never leaves a
//! stale lock file behind.

use anyhow::{Context, Result};

use crate::cmd;

/// Checks formatting and lints (`clippy -D warnings`) and runs the tests of each example crate (sharing the workspace's target
/// directory, so the dependencies it shares with the workspace are built once).
pub(crate) fn check() -> Result<()> {
    let examples = cmd::root().join("examples");
    let mut manifests: Vec<_> = std::fs::read_dir(&examples)?
        .filter_map(|entry| Some(entry.ok()?.path().join("Cargo.toml")))
        .filter(|manifest| manifest.is_file())
        .collect();
    manifests.sort();
    for manifest in manifests {
        cmd::run(
            cmd::cargo()
                .arg("fmt")
                .arg("--manifest-path")
                .arg(&manifest)
                .arg("--check"),
        )?;
        let lock = manifest.with_file_name("Cargo.lock");
        std::fs::copy(cmd::root().join("Cargo.lock"), &lock)
            .with_context(|| format!("copying the workspace lock file to {}", lock.display()))?;
        // Held to the workspace's lint bar.
        cmd::run(
            cmd::cargo()
                .args(["clippy", "--all-targets", "--manifest-path"])
                .arg(&manifest)
                .args(["--", "-D", "warnings"])
                .env("CARGO_TARGET_DIR", cmd::target_dir()),
        )?;
        cmd::run(
            cmd::cargo()
                .args(["test", "--manifest-path"])
                .arg(&manifest)
                .env("CARGO_TARGET_DIR", cmd::target_dir()),
        )?;
    }
    Ok(())
}
