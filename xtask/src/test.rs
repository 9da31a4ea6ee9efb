//! `cargo xtask test`: everything CI runs, in order, stopping at the first failure.
//! The steps are fmt, clippy, the MSRV check (`cargo check` with each declared rust-version), tests (with doc tests, failing on any skip not listed in
//! `hardening::ALLOWED_SKIPS`), the example crates under `examples/` (as a downstream user
//! builds them), the loom models, the Vault client suites (hvac, node-vault)
//! against the secret server, the WASM build, the determinism check, the browser test, the npm package, and
//! every fuzz target for a bounded time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::{
    cmd, determinism, downstream, hardening, msrv, npm, release, serve, vault_clients, wasm,
};

/// Where Chromium must be for the browser test.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

/// One thing CI checks.
struct Step {
    name: &'static str,
    run: fn() -> Result<()>,
}

/// Every step, in the order CI runs them: cheap checks first.
const STEPS: [Step; 13] = [
    Step {
        name: "fmt",
        run: || cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"])),
    },
    Step {
        name: "clippy",
        run: || {
            cmd::run(cmd::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                // Feature-gated code (proptest strategies, the tokio adapter) is linted and
                // tested too.
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]))
        },
    },
    Step {
        name: "msrv",
        run: msrv::check,
    },
    Step {
        // The cheap part of `cargo xtask release-check`: every crate packages (sizes reported).
        name: "package",
        run: release::package_without_verify,
    },
    Step {
        name: "test",
        run: hardening::test_without_skips,
    },
    Step {
        // The worked example crates under `examples/`, tested as a downstream user would.
        name: "downstream",
        run: downstream::check,
    },
    Step {
        name: "loom",
        run: hardening::loom,
    },
    Step {
        name: "vault-clients",
        run: vault_clients::check,
    },
    Step {
        name: "wasm",
        run: wasm::build,
    },
    Step {
        name: "determinism",
        run: determinism::check,
    },
    Step {
        name: "browser",
        run: browser_test,
    },
    Step {
        // The npm package, installed from its tarball offline, in Node.js, tsc and Chromium.
        name: "npm",
        run: npm::check,
    },
    Step {
        name: "fuzz",
        run: hardening::fuzz,
    },
];

/// Runs every step; the error names the step that failed.
pub(crate) fn run_all() -> Result<()> {
    let total = STEPS.len();
    cmd::quiet_cargo();
    let mut passed: Vec<(&str, Duration)> = Vec::new();
    for (idx, step) in STEPS.iter().enumerate() {
        eprintln!("\n==> xtask test: step {}/{total}: {}", idx + 1, step.name);
        let start = Instant::now();
        if let Err(err) = (step.run)() {
            report(&passed);
            eprintln!("FAILED  {}", step.name);
            eprintln!(
                "xtask: {} passed, 1 failed, {} not run",
                passed.len(),
                total - passed.len() - 1
            );
            bail!("step {}/{total} `{}` failed: {err:#}", idx + 1, step.name);
        }
        passed.push((step.name, start.elapsed()));
    }
    report(&passed);
    println!("xtask: {} passed, 0 failed", passed.len());
    Ok(())
}

fn report(passed: &[(&str, Duration)]) {
    eprintln!();
    for (name, took) in passed {
        eprintln!("ok      {name} ({:.1}s)", took.as_secs_f64());
    }
}

/// Serves `web/` on a free port and runs `web/tests/browser.mjs` against it in Chromium.
fn browser_test() -> Result<()> {
    ensure_chromium()?;
    let root = cmd::root();
    let tests = root.join("web/tests");
    if !tests.join("node_modules").is_dir() {
        cmd::run(Command::new("npm").arg("ci").current_dir(&tests))?;
    }
    let port = serve::spawn(&root.join("web"))?;
    let url = format!("http://127.0.0.1:{port}/");
    eprintln!("serving web/ on {url}");
    cmd::run(
        Command::new("node")
            .current_dir(&root)
            .env("CHROMIUM", CHROMIUM)
            .arg(tests.join("browser.mjs"))
            .arg(&url)
            .arg("target/"),
    )
}

/// Installs Chromium with apt-get when it is missing and this runs as root.
pub(crate) fn ensure_chromium() -> Result<()> {
    if Path::new(CHROMIUM).exists() {
        return Ok(());
    }
    let is_root = cmd::stdout(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !is_root {
        bail!(
            "the browser test needs Chromium at {CHROMIUM}; install it (for example `sudo apt-get install chromium`) and rerun"
        );
    }
    eprintln!("installing Chromium with apt-get");
    cmd::run(Command::new("apt-get").arg("update"))?;
    cmd::run(Command::new("apt-get").args(["install", "-y", "chromium"]))?;
    if !Path::new(CHROMIUM).exists() {
        bail!("apt-get installed chromium, but {CHROMIUM} still does not exist");
    }
    Ok(())
}
