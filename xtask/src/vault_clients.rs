//! `underhood secret server` against real Vault clients: `hvac` from PyPI in a virtualenv, and
//! `node-vault` from npm, each driving a fresh server (`crates/secret-server/tests/clients/`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::cmd;

/// The client versions the suites were written against.
const HVAC: &str = "hvac==2.4.0";
const NODE_VAULT: &str = "node-vault@0.12.0";

/// Installs what is missing, then runs both suites.
pub(crate) fn check() -> Result<()> {
    cmd::run(cmd::cargo().args(["build", "-p", "underhood-cli"]))?;
    let work = cmd::target_dir().join("vault-clients");
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let suites = cmd::root().join("crates/secret-server/tests/clients");
    let python = ensure_hvac(&work)?;
    let node_modules = ensure_node_vault(&work)?;
    with_server(&work, "hvac", |url| {
        cmd::run(
            Command::new(&python)
                .arg(suites.join("hvac_suite.py"))
                .arg(url),
        )
    })?;
    with_server(&work, "node-vault", |url| {
        cmd::run(
            Command::new("node")
                .env("NODE_PATH", &node_modules)
                .arg(suites.join("node_vault_suite.js"))
                .arg(url),
        )
    })
}

/// A virtualenv with hvac; installs python3-venv with apt-get if the venv module is missing.
fn ensure_hvac(work: &Path) -> Result<PathBuf> {
    let venv = work.join("venv");
    let python = venv.join("bin/python");
    let installed = |python: &Path| {
        Command::new(python)
            .args([
                "-c",
                &format!("import hvac; assert hvac.__version__ == '{}'", &HVAC[6..]),
            ])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if python.exists() && installed(&python) {
        return Ok(python);
    }
    if !python.exists() && !venv_works(&venv) {
        apt_install(&["python3-venv"])?;
        if !venv_works(&venv) {
            bail!(
                "`python3 -m venv {}` fails even after installing python3-venv",
                venv.display()
            );
        }
    }
    cmd::run(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        HVAC,
    ]))?;
    Ok(python)
}

fn venv_works(venv: &Path) -> bool {
    let _ = fs::remove_dir_all(venv);
    Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .is_ok_and(|status| status.success())
}

/// node-vault installed under `work/node`; installs nodejs and npm with apt-get if missing.
fn ensure_node_vault(work: &Path) -> Result<PathBuf> {
    let prefix = work.join("node");
    let modules = prefix.join("node_modules");
    let wanted = format!("\"version\": \"{}\"", &NODE_VAULT[11..]);
    let manifest = modules.join("node-vault/package.json");
    if fs::read_to_string(&manifest).is_ok_and(|text| text.contains(&wanted)) {
        return Ok(modules);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        apt_install(&["nodejs", "npm"])?;
    }
    fs::create_dir_all(&prefix)?;
    cmd::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&prefix)
            .arg(NODE_VAULT),
    )?;
    Ok(modules)
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let is_root = cmd::stdout(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !is_root {
        bail!(
            "the Vault client suites need {}; install them (for example `sudo apt-get install {}`) and rerun",
            packages.join(", "),
            packages.join(" ")
        );
    }
    eprintln!("installing {} with apt-get", packages.join(", "));
    cmd::run(Command::new("apt-get").arg("update"))?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(packages),
    )
}

/// Starts `underhood secret server` on fresh storage, runs `suite` with its URL, stops it.
fn with_server(work: &Path, name: &str, suite: impl FnOnce(&str) -> Result<()>) -> Result<()> {
    let storage = work.join(format!("storage-{name}"));
    let _ = fs::remove_dir_all(&storage);
    let binary = cmd::target_dir().join("debug/underhood");
    let mut server = Command::new(&binary)
        .args(["secret", "server", "--listen", "127.0.0.1:0", "--storage"])
        .arg(&storage)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let result = address(&mut server).and_then(|url| suite(&url));
    let _ = server.kill();
    let _ = server.wait();
    result.with_context(|| format!("the {name} suite failed"))
}

fn address(server: &mut Child) -> Result<String> {
    let stdout = server.stdout.take().context("no stdout")?;
    for line in BufReader::new(stdout).lines() {
        if let Some(address) = line?.strip_prefix("Api Address: ") {
            return Ok(address.to_owned());
        }
    }
    bail!("the server exited before printing its address")
}
