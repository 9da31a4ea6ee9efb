//! `cargo xtask wasm`: install what is missing, then build `underhood-sim-wasm` and run `wasm-bindgen`.
//! The `wasm-bindgen` CLI must match the library version in `Cargo.lock` exactly, or the glue it writes is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd;

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm";
const PACKAGE: &str = "underhood-sim-wasm";
const ARTIFACT: &str = "underhood_sim_wasm";
/// The `name` section maps function indices to Rust paths, for stack traces and `twiggy`.
/// It is a quarter of the module (516 KiB of 1980), so every bundle we ship goes without it;
/// `target/wasm32-unknown-unknown/wasm/` keeps it for measuring.
pub(crate) const REMOVE_NAMES: &str = "--remove-name-section";

/// Builds the WASM bundle into `web/pkg/` (for browsers) and `target/wasm-node/` (for Node.js).
pub(crate) fn build() -> Result<()> {
    let root = cmd::root();
    let Compiled { wasm, bindgen } = compile()?;
    let web_pkg = root.join("web/pkg");
    let node_dir = node_module_dir();
    for (target, out_dir) in [("web", &web_pkg), ("nodejs", &node_dir)] {
        cmd::run(
            Command::new(&bindgen)
                .current_dir(&root)
                .args([
                    "--target",
                    target,
                    "--no-typescript",
                    REMOVE_NAMES,
                    "--out-dir",
                ])
                .arg(out_dir)
                .arg(&wasm),
        )?;
    }

    let bundled = web_pkg.join(format!("{ARTIFACT}_bg.wasm"));
    eprintln!(
        "wasm: {} ({}), {} ({})",
        kib(&wasm)?,
        relative(&wasm),
        kib_and_gzip(&bundled)?,
        relative(&bundled)
    );
    Ok(())
}

/// The compiled module before `wasm-bindgen`, and a `wasm-bindgen` CLI that matches it.
pub(crate) struct Compiled {
    /// `underhood_sim_wasm.wasm` as cargo built it.
    pub(crate) wasm: PathBuf,
    /// The `wasm-bindgen` CLI of exactly the library's version.
    pub(crate) bindgen: PathBuf,
}

/// Installs what is missing and builds `underhood-sim-wasm` for `wasm32-unknown-unknown`.
pub(crate) fn compile() -> Result<Compiled> {
    let root = cmd::root();
    ensure_target()?;
    // Build before reading Cargo.lock: the build brings the lock file up to date.
    cmd::run(cmd::cargo().args([
        "build",
        "--package",
        PACKAGE,
        "--target",
        TARGET,
        "--profile",
        PROFILE,
    ]))?;
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let version = locked_version(&lock, "wasm-bindgen").map_err(|err| {
        anyhow::anyhow!("{err}; `{PACKAGE}` should depend on `wasm-bindgen` (pinned with `=`)")
    })?;
    let bindgen = ensure_bindgen(&version)?;
    let wasm = cmd::target_dir()
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{ARTIFACT}.wasm"));
    Ok(Compiled { wasm, bindgen })
}

/// The CommonJS module that `build` writes with `wasm-bindgen --target nodejs`.
pub(crate) fn node_module() -> PathBuf {
    node_module_dir().join(format!("{ARTIFACT}.js"))
}

fn node_module_dir() -> PathBuf {
    cmd::target_dir().join("wasm-node")
}

/// Adds the `wasm32-unknown-unknown` target through rustup unless it is installed.
fn ensure_target() -> Result<()> {
    let installed = cmd::stdout(Command::new("rustup").args(["target", "list", "--installed"]))
        .with_context(|| {
            format!("cannot ask rustup for the installed targets; install the `{TARGET}` target for your toolchain by hand")
        })?;
    if installed.lines().any(|line| line.trim() == TARGET) {
        return Ok(());
    }
    cmd::run(Command::new("rustup").args(["target", "add", TARGET]))
}

/// Returns a `wasm-bindgen` CLI of exactly `version`, installing it with `cargo install` if needed.
fn ensure_bindgen(version: &str) -> Result<PathBuf> {
    let on_path = PathBuf::from("wasm-bindgen");
    let in_cargo_home = cargo_home().map(|home| home.join("bin").join("wasm-bindgen"));
    let candidates = std::iter::once(on_path).chain(in_cargo_home.clone());
    let mut found = Vec::new();
    for candidate in candidates {
        match bindgen_version(&candidate) {
            Some(have) if have == version => return Ok(candidate),
            Some(have) => found.push(format!("{} is {have}", candidate.display())),
            None => {}
        }
    }
    let found = if found.is_empty() {
        "none is installed".to_string()
    } else {
        found.join(", ")
    };
    eprintln!(
        "wasm-bindgen CLI {version} is needed ({found}); installing it with cargo install, which takes about 3 minutes"
    );
    cmd::run(cmd::cargo().args(["install", "wasm-bindgen-cli", "--version", version]))?;
    let Some(installed) = in_cargo_home else {
        bail!("cannot find cargo's bin directory: set CARGO_HOME or HOME");
    };
    match bindgen_version(&installed) {
        Some(have) if have == version => Ok(installed),
        have => bail!(
            "after `cargo install`, {} reports version {have:?}, expected {version}",
            installed.display()
        ),
    }
}

/// The version `program --version` reports, or `None` if it does not run.
fn bindgen_version(program: &Path) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_bindgen_version(&String::from_utf8_lossy(&out.stdout)).map(str::to_string)
}

/// Parses `wasm-bindgen 0.2.130` (possibly followed by more words) into `0.2.130`.
fn parse_bindgen_version(stdout: &str) -> Option<&str> {
    let mut words = stdout.split_whitespace();
    match (words.next(), words.next()) {
        (Some("wasm-bindgen"), Some(version)) => Some(version),
        _ => None,
    }
}

fn cargo_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Some(PathBuf::from(home));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo"))
}

/// Why `locked_version` found no single version.
#[derive(Debug, PartialEq, Eq)]
enum LockError {
    Missing { name: String },
    Ambiguous { name: String, versions: Vec<String> },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Missing { name } => write!(f, "Cargo.lock has no package `{name}`"),
            LockError::Ambiguous { name, versions } => write!(
                f,
                "Cargo.lock has several versions of `{name}`: {}",
                versions.join(", ")
            ),
        }
    }
}

/// The one version of package `name` in the text of a `Cargo.lock`.
fn locked_version(lock: &str, name: &str) -> Result<String, LockError> {
    let mut versions: Vec<String> = Vec::new();
    let mut current_name: Option<&str> = None;
    let mut current_version: Option<&str> = None;
    let mut finish = |package: Option<&str>, version: Option<&str>| match (package, version) {
        (Some(package), Some(version))
            if package == name && !versions.iter().any(|seen| seen == version) =>
        {
            versions.push(version.to_string());
        }
        _ => {}
    };
    for line in lock.lines().map(str::trim) {
        if line.starts_with('[') {
            finish(current_name.take(), current_version.take());
        } else if let Some(value) = string_field(line, "name") {
            current_name = Some(value);
        } else if let Some(value) = string_field(line, "version") {
            current_version = Some(value);
        }
    }
    finish(current_name, current_version);
    match versions.len() {
        0 => Err(LockError::Missing {
            name: name.to_string(),
        }),
        1 => Ok(versions.remove(0)),
        _ => Err(LockError::Ambiguous {
            name: name.to_string(),
            versions,
        }),
    }
}

/// The value of a line `key = "value"`.
fn string_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    rest.trim().strip_prefix('"')?.strip_suffix('"')
}

pub(crate) fn kib(path: &Path) -> Result<String> {
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("reading the size of {}", path.display()))?
        .len();
    Ok(format!("{:.1} KiB", bytes as f64 / 1024.0))
}

/// The size of `path` and of it compressed by `gzip -9` (what a server sends to browsers), as
/// `1476.0 KiB, 381.2 KiB gzip`; only the first when `gzip` is not installed.
pub(crate) fn kib_and_gzip(path: &Path) -> Result<String> {
    let raw = kib(path)?;
    let gzipped = Command::new("gzip")
        .args(["-9", "--stdout"])
        .arg(path)
        .output()
        .ok()
        .filter(|out| out.status.success());
    Ok(match gzipped {
        Some(out) => format!("{raw}, {:.1} KiB gzip", out.stdout.len() as f64 / 1024.0),
        None => raw,
    })
}

pub(crate) fn relative(path: &Path) -> String {
    let root = cmd::root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(lock: &str, expected: Result<&str, LockError>) {
        assert_eq!(
            locked_version(lock, "wasm-bindgen"),
            expected.map(str::to_string)
        );
    }

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.999"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "abc"
dependencies = [
 "cfg-if",
 "wasm-bindgen-macro",
]

[[package]]
name = "anyhow"
version = "1.0.0"
"#;

    #[test]
    fn lock_parsing() {
        check(LOCK, Ok("0.2.130"));
        check(
            "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.1\"",
            Ok("0.2.1"),
        );
        check(
            "[[package]]\nversion = \"0.2.1\"\nname = \"wasm-bindgen\"\n",
            Ok("0.2.1"),
        );
        check(
            "version = 4\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.0\"\n",
            Err(LockError::Missing {
                name: "wasm-bindgen".to_string(),
            }),
        );
        check(
            "",
            Err(LockError::Missing {
                name: "wasm-bindgen".to_string(),
            }),
        );
        check(
            &format!("{LOCK}\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n"),
            Err(LockError::Ambiguous {
                name: "wasm-bindgen".to_string(),
                versions: vec!["0.2.130".to_string(), "0.2.100".to_string()],
            }),
        );
    }

    #[test]
    fn sizes_are_reported_raw_and_gzipped() {
        let dir = cmd::target_dir().join("xtask-test");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("zeros.bin");
        std::fs::write(&file, vec![0u8; 4096]).unwrap();
        let shown = kib_and_gzip(&file).unwrap();
        assert!(shown.starts_with("4.0 KiB"), "{shown}");
        if let Some(gzipped) = shown.strip_prefix("4.0 KiB, ") {
            // 4 KiB of zeros compress to a few dozen bytes.
            assert!(
                gzipped.starts_with("0.0") || gzipped.starts_with("0.1"),
                "{shown}"
            );
            assert!(gzipped.ends_with(" KiB gzip"), "{shown}");
        }
        assert!(kib_and_gzip(&dir.join("missing")).is_err());
    }

    #[test]
    fn bindgen_version_parsing() {
        assert_eq!(
            parse_bindgen_version("wasm-bindgen 0.2.130\n"),
            Some("0.2.130")
        );
        assert_eq!(
            parse_bindgen_version("wasm-bindgen 0.2.130 (abc1234)"),
            Some("0.2.130")
        );
        assert_eq!(parse_bindgen_version("wasm-pack 0.13.0"), None);
        assert_eq!(parse_bindgen_version(""), None);
    }
}
