//! `cargo xtask release-check`: what must hold before publishing to crates.io.
//! The MSRV check, every published crate packaged in dependency order (sizes reported),
//! and `cargo semver-checks` against the last release of each crate that has one.
//!
//! `cargo package --workspace` packages the local crates first and verifies each dependent
//! against those packages (not against crates.io), so a crate that depends on an unpublished
//! sibling still verifies. `cargo xtask test` runs the cheap part ([`package_without_verify`]).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::json::{self, Value};
use crate::{cmd, msrv};

/// Crates already on crates.io, checked with `cargo semver-checks` against that release.
/// Empty: 0.1.0 is the first release, so there is no baseline yet.
const PUBLISHED: &[&str] = &[];

/// The full check: MSRV, packaging with verification, semver.
pub(crate) fn check() -> Result<()> {
    msrv::check()?;
    package(Verify::Build)?;
    semver()
}

/// Packages every crate without building the packages: fast enough for every CI run.
pub(crate) fn package_without_verify() -> Result<()> {
    package(Verify::Skip)
}

#[derive(Clone, Copy, PartialEq)]
enum Verify {
    Build,
    Skip,
}

fn package(verify: Verify) -> Result<()> {
    let mut command = cmd::cargo();
    command.args([
        "package",
        "--workspace",
        "--exclude",
        "xtask",
        "--allow-dirty",
    ]);
    if verify == Verify::Skip {
        command.arg("--no-verify");
    }
    cmd::run(&mut command)?;
    let mut total = 0;
    eprintln!("\npackage sizes (.crate, compressed):");
    for name in published_names()? {
        let path = crate_file(&name)?;
        let size = std::fs::metadata(&path)
            .with_context(|| format!("cargo package wrote no {}", path.display()))?
            .len();
        total += size;
        eprintln!("  {name:<28} {:>7.1} KiB", size as f64 / 1024.0);
    }
    eprintln!("  {:<28} {:>7.1} KiB", "total", total as f64 / 1024.0);
    Ok(())
}

/// The workspace crates that may be published (`publish` not `false`), in manifest order.
fn published_names() -> Result<Vec<String>> {
    let text = cmd::stdout(cmd::cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata = json::parse(&text)?;
    let Some(Value::Array(packages)) = metadata.field("packages") else {
        bail!("`cargo metadata` printed no `packages` array");
    };
    let mut names = Vec::new();
    for package in packages {
        let Some(Value::String(name)) = package.field("name") else {
            bail!("`cargo metadata` printed a package without a name");
        };
        // `publish = false` shows as an empty list of registries.
        let unpublished = matches!(package.field("publish"), Some(Value::Array(registries)) if registries.is_empty());
        if !unpublished {
            names.push(name.clone());
        }
    }
    Ok(names)
}

fn crate_file(name: &str) -> Result<PathBuf> {
    let dir = cmd::target_dir().join("package");
    let prefix = format!("{name}-");
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let is_version = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".crate"))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()));
        if is_version {
            return Ok(path);
        }
    }
    bail!("no {name}-VERSION.crate in {}", dir.display())
}

fn semver() -> Result<()> {
    if PUBLISHED.is_empty() {
        eprintln!(
            "semver: first release (0.1.0), no crate has a baseline on crates.io; cargo semver-checks runs once `PUBLISHED` in xtask/src/release.rs lists a released crate"
        );
        return Ok(());
    }
    let have = cmd::output(Command::new("cargo-semver-checks").arg("--version"))
        .is_ok_and(|out| out.status.success());
    if !have {
        cmd::run(cmd::cargo().args(["install", "--locked", "cargo-semver-checks"]))?;
    }
    for name in PUBLISHED {
        cmd::run(cmd::cargo().args(["semver-checks", "check-release", "-p", name]))?;
    }
    Ok(())
}
