//! The MSRV check: every workspace crate compiles with exactly the Rust it declares.
//! Crates are grouped by their `rust-version`; each group is checked (`cargo check`, all
//! targets and features) with that toolchain, which rustup installs when it is missing.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd;
use crate::json::{self, Value};

/// Checks every workspace crate with the toolchain named by its `rust-version`.
pub(crate) fn check() -> Result<()> {
    let groups = declared_versions()?;
    for (version, packages) in &groups {
        ensure_toolchain(version)?;
        let mut command = Command::new("rustup");
        command
            .current_dir(cmd::root())
            // The outer cargo's variables would pin the toolchain that runs xtask.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC")
            .env_remove("RUSTDOC")
            .env_remove("CARGO")
            // Errors and warnings only: the progress lines would bury them in CI's log.
            .env("CARGO_TERM_QUIET", "true")
            .args([
                "run",
                version,
                "cargo",
                "check",
                "--all-targets",
                "--all-features",
            ])
            .arg("--target-dir")
            .arg(cmd::target_dir().join("msrv"));
        for package in packages {
            command.args(["-p", package]);
        }
        cmd::run(&mut command).with_context(|| {
            format!("the crates declaring rust-version {version} do not build with Rust {version}")
        })?;
    }
    Ok(())
}

/// Workspace crates by declared `rust-version`; a crate that declares none is an error.
fn declared_versions() -> Result<BTreeMap<String, Vec<String>>> {
    let text = cmd::stdout(cmd::cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata = json::parse(&text)?;
    let Some(Value::Array(packages)) = metadata.field("packages") else {
        bail!("`cargo metadata` printed no `packages` array");
    };
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in packages {
        let Some(Value::String(name)) = package.field("name") else {
            bail!("`cargo metadata` printed a package without a name");
        };
        match package.field("rust_version") {
            Some(Value::String(version)) => groups
                .entry(version.clone())
                .or_default()
                .push(name.clone()),
            _ => bail!(
                "crate `{name}` declares no rust-version; add `rust-version.workspace = true`"
            ),
        }
    }
    Ok(groups)
}

/// Installs toolchain `version` (minimal profile) through rustup unless it is there.
fn ensure_toolchain(version: &str) -> Result<()> {
    let installed = cmd::stdout(Command::new("rustup").args(["toolchain", "list"]))
        .context("the MSRV check needs rustup to install the declared toolchain")?;
    let prefix = format!("{version}-");
    if installed.lines().any(|line| line.starts_with(&prefix)) {
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["toolchain", "install", version, "--profile", "minimal"]))
}
