//! Automation for the underhood workspace, run as `cargo xtask <command>`.
//! It replaces shell scripts: building the WASM bundle, serving `web/`, and running everything CI runs.
//!
//! It uses only `std` and `anyhow` so that it compiles in seconds, and it never edits source files.

mod bench_checker;
mod bench_lincheck;
mod cmd;
mod determinism;
mod downstream;
mod hardening;
mod json;
mod msrv;
mod npm;
mod release;
mod serve;
mod test;
mod vault_clients;
mod wasm;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const HELP: &str = "\
usage: cargo xtask <command>

commands:
  web [--port N]  build the WASM bundle and serve web/ on http://127.0.0.1:8080 (or port N)
  test            everything CI runs: fmt, clippy, tests (no unlisted skips), the example
                  crates under examples/ (as downstream users build them), loom, Vault
                  clients, WASM build, determinism, browser test, npm package, every fuzz target
                  for a bounded time
  vault-clients   the secret server against hvac (PyPI, in a virtualenv) and node-vault (npm)
  fuzz            build the fuzz crate and run every target for 12 s, on the stable toolchain
                  without a sanitizer (installs cargo-fuzz with cargo install when missing)
  msrv            check every crate with exactly the Rust its rust-version names (rustup installs it)
  package         cargo package every published crate without building it, and report sizes
  release-check   before publishing: msrv, cargo package --workspace (each crate verified against
                  its packaged siblings; sizes reported), cargo semver-checks where a release exists
  downstream      format-check, lint (clippy -D warnings) and test the example crates under
                  examples/ as downstream users build them
  loom            the loom models of acl-model and sim (RUSTFLAGS='--cfg loom', bounded)
  determinism     every gallery scenario natively and in WASM (after `cargo xtask wasm`): the same
                  trace hash under seeds 1 to 3, the same full trace under seed 1
  wasm            install what is missing, build the WASM bundle into web/pkg and target/wasm-node
  npm [--check]   build the npm package underhood-sim (wasm-bindgen web and bundler targets,
                  TypeScript declarations) into target/npm/underhood-sim, pack it offline into
                  target/npm/ and report the tarball size; --check also installs the tarball
                  offline into a project and runs it in Node.js, tsc and Chromium (examples/embed)
  bench-wasm [--baseline NODE_MODULE]
                  build the WASM bundle and measure events per second of the gallery scenario `bench`,
                  and the model checker (TLA+ TwoPhase, 7 and 8 RMs) in WASM and natively; with
                  --baseline (an earlier target/wasm-node/underhood_sim_wasm.js, copied aside), time
                  both builds interleaved instead and print the ratio of medians current/baseline
  bench-checker [--max-n N]
                  our model checker against stateright 0.31 on the TLA+ TwoPhase model (N up to 10)
  bench-lincheck PORCUPINE
                  our linearizability checker against Porcupine (a source tree or git directory,
                  built in a temporary directory with Go) on Porcupine's histories, same run
  help            print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Dispatches one command line (without the program name).
fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        print!("{HELP}");
        return Ok(());
    };
    match command.as_str() {
        "help" | "--help" | "-h" => {
            no_more_args(command, rest)?;
            print!("{HELP}");
            Ok(())
        }
        "wasm" => {
            no_more_args(command, rest)?;
            wasm::build()
        }
        "npm" => match rest {
            [] => npm::build().map(|_| ()),
            [flag] if flag == "--check" => npm::check(),
            _ => bail!("usage: cargo xtask npm [--check]"),
        },
        "web" => {
            let port = parse_port(rest)?;
            wasm::build()?;
            serve::serve_forever(&cmd::root().join("web"), port)
        }
        "test" => {
            no_more_args(command, rest)?;
            test::run_all()
        }
        "vault-clients" => {
            no_more_args(command, rest)?;
            vault_clients::check()
        }
        "fuzz" => {
            no_more_args(command, rest)?;
            hardening::fuzz()
        }
        "loom" => {
            no_more_args(command, rest)?;
            hardening::loom()
        }
        "downstream" => {
            no_more_args(command, rest)?;
            downstream::check()
        }
        "determinism" => {
            no_more_args(command, rest)?;
            determinism::check()
        }
        "package" => {
            no_more_args(command, rest)?;
            release::package_without_verify()
        }
        "release-check" => {
            no_more_args(command, rest)?;
            release::check()
        }
        "msrv" => {
            no_more_args(command, rest)?;
            msrv::check()
        }
        "bench-wasm" => match rest {
            [] => bench_wasm(),
            [flag, baseline] if flag == "--baseline" => {
                bench_wasm_against(std::path::Path::new(baseline))
            }
            _ => bail!("usage: cargo xtask bench-wasm [--baseline NODE_MODULE]"),
        },
        "bench-lincheck" => match rest {
            [dir] => bench_lincheck::run(std::path::Path::new(dir)),
            _ => bail!("usage: cargo xtask bench-lincheck PORCUPINE_SOURCE_OR_GIT_DIR"),
        },
        "bench-checker" => {
            let max_n = match rest {
                [] => 10,
                [flag, n] if flag == "--max-n" => n
                    .parse()
                    .with_context(|| format!("--max-n takes a number, got `{n}`"))?,
                _ => bail!("usage: cargo xtask bench-checker [--max-n N]"),
            };
            bench_checker::run(max_n)
        }
        other => bail!("unknown command `{other}`\n\n{HELP}"),
    }
}

/// Builds the WASM bundle and runs `xtask/bench-wasm.mjs` on the Node.js build, then the same
/// model-checker runs natively (release, one thread), so the WASM/native ratio comes from one run.
fn bench_wasm() -> Result<()> {
    wasm::build()?;
    let root = cmd::root();
    cmd::run(
        std::process::Command::new("node")
            .current_dir(&root)
            .arg(root.join("xtask/bench-wasm.mjs"))
            .arg(wasm::node_module()),
    )?;
    for rms in ["7", "8"] {
        cmd::run(cmd::cargo().args([
            "run",
            "--release",
            "-q",
            "-p",
            "underhood-cli",
            "--",
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            rms,
            "--json",
        ]))?;
    }
    Ok(())
}

/// Builds the WASM bundle and times it against `baseline` (an earlier `target/wasm-node/`
/// module, copied aside) in one interleaved run: the ratio of medians, for a change's speed cost.
fn bench_wasm_against(baseline: &std::path::Path) -> Result<()> {
    if !baseline.is_file() {
        bail!(
            "--baseline wants the underhood_sim_wasm.js of an earlier `cargo xtask wasm` (copy target/wasm-node/ aside first), got {}",
            baseline.display()
        );
    }
    let baseline = std::path::absolute(baseline)
        .with_context(|| format!("resolving {}", baseline.display()))?;
    wasm::build()?;
    let root = cmd::root();
    cmd::run(
        std::process::Command::new("node")
            .current_dir(&root)
            .arg(root.join("xtask/bench-wasm-compare.mjs"))
            .arg(baseline)
            .arg(wasm::node_module()),
    )
}

fn no_more_args(command: &str, rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => bail!("`{command}` takes no arguments, got `{extra}`\n\n{HELP}"),
    }
}

/// Parses the arguments of `web`: nothing, or `--port N`.
fn parse_port(args: &[String]) -> Result<u16> {
    match args {
        [] => Ok(serve::DEFAULT_PORT),
        [flag, value] if flag == "--port" => value
            .parse()
            .with_context(|| format!("`--port` wants a number from 0 to 65535, got `{value}`")),
        _ => bail!(
            "`web` takes only `--port N`, got `{}`\n\n{HELP}",
            args.join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(args: &[&str], expected: Option<u16>) {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        assert_eq!(parse_port(&args).ok(), expected);
    }

    #[test]
    fn port_arguments() {
        check(&[], Some(8080));
        check(&["--port", "9000"], Some(9000));
        check(&["--port", "0"], Some(0));
        check(&["--port"], None);
        check(&["--port", "70000"], None);
        check(&["--port", "x"], None);
        check(&["--prot", "9000"], None);
        check(&["--port", "1", "extra"], None);
    }
}
