//! `cargo xtask release-check`: what must hold before publishing to crates.io.
//! The MSRV check, every published crate packaged in dependency order (sizes reported) with its
//! licences, README and a CHANGELOG.md that documents the version, and `cargo semver-checks`
//! against the last release of each crate that has one.
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
    for Package { name, version } in published()? {
        let path = crate_file(&name)?;
        check_contents(&path, &name, &version)?;
        let size = std::fs::metadata(&path)
            .with_context(|| format!("cargo package wrote no {}", path.display()))?
            .len();
        total += size;
        eprintln!("  {name:<28} {:>7.1} KiB", size as f64 / 1024.0);
    }
    eprintln!("  {:<28} {:>7.1} KiB", "total", total as f64 / 1024.0);
    Ok(())
}

/// A publishable workspace crate.
struct Package {
    name: String,
    version: String,
}

/// Files every package carries beside its code: the licences, the README and the changelog.
const REQUIRED_FILES: &[&str] = &["README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Fails unless the `.crate` holds [`REQUIRED_FILES`] and its changelog documents `version`
/// (a `## [VERSION]` heading, as Keep a Changelog writes it).
fn check_contents(path: &std::path::Path, name: &str, version: &str) -> Result<()> {
    let listing = cmd::stdout(Command::new("tar").arg("-tzf").arg(path))?;
    let prefix = format!("{name}-{version}/");
    for file in REQUIRED_FILES {
        if !listing
            .lines()
            .any(|line| line == format!("{prefix}{file}"))
        {
            bail!("{} has no {file}", path.display());
        }
    }
    let changelog = cmd::stdout(
        Command::new("tar")
            .arg("-xzOf")
            .arg(path)
            .arg(format!("{prefix}CHANGELOG.md")),
    )?;
    if !changelog_documents(&changelog, version) {
        bail!("{name}'s CHANGELOG.md has no `## [{version}]` section");
    }
    Ok(())
}

fn changelog_documents(changelog: &str, version: &str) -> bool {
    let heading = format!("## [{version}]");
    changelog
        .lines()
        .any(|line| line == heading || line.starts_with(&format!("{heading} ")))
}

/// The workspace crates that may be published (`publish` not `false`), in manifest order.
fn published() -> Result<Vec<Package>> {
    let text = cmd::stdout(cmd::cargo().args(["metadata", "--format-version", "1", "--no-deps"]))?;
    let metadata = json::parse(&text)?;
    let Some(Value::Array(packages)) = metadata.field("packages") else {
        bail!("`cargo metadata` printed no `packages` array");
    };
    let mut published = Vec::new();
    for package in packages {
        let Some(Value::String(name)) = package.field("name") else {
            bail!("`cargo metadata` printed a package without a name");
        };
        let Some(Value::String(version)) = package.field("version") else {
            bail!("`cargo metadata` printed {name} without a version");
        };
        // `publish = false` shows as an empty list of registries.
        let unpublished = matches!(package.field("publish"), Some(Value::Array(registries)) if registries.is_empty());
        if !unpublished {
            published.push(Package {
                name: name.clone(),
                version: version.clone(),
            });
        }
    }
    Ok(published)
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

#[cfg(test)]
mod tests {
    use super::changelog_documents;

    #[test]
    fn a_changelog_documents_a_version_by_its_heading() {
        let text = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-12-06\n\n## [0.0.9]\n";
        assert!(changelog_documents(text, "0.1.0"));
        assert!(changelog_documents(text, "0.0.9"));
        assert!(!changelog_documents(text, "0.1"));
        assert!(!changelog_documents(text, "0.2.0"));
    }
}
