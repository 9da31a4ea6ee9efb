//! The determinism check: every gallery scenario, under seeds 1 to 3, has the same trace hash natively and in WASM.
//! Natively it runs the `underhood` binary; in WASM it runs `xtask/determinism.mjs` under Node.js.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

use crate::{cmd, json, wasm};

/// The seeds every scenario runs with.
const SEEDS: [u64; 3] = [1, 2, 3];

/// One scenario under one seed.
struct Run {
    name: String,
    seed: u64,
}

/// Builds the `underhood` binary, then compares native and WASM trace hashes.
pub(crate) fn check() -> Result<()> {
    cmd::run(cmd::cargo().args(["build", "--package", "underhood-cli"]))?;
    let cli = cmd::target_dir()
        .join("debug")
        .join(format!("underhood{}", std::env::consts::EXE_SUFFIX));
    compare(&cli, &wasm::node_module())
}

/// Compares the hashes of the `underhood` binary `cli` with those of the `wasm-bindgen --target nodejs` module.
fn compare(cli: &Path, node_module: &Path) -> Result<()> {
    let list = cmd::stdout(Command::new(cli).args(["sim", "list", "--json"]))?;
    let names = json::names(&list).context("reading `underhood sim list --json`")?;
    if names.is_empty() {
        bail!("`underhood sim list --json` lists no scenarios");
    }
    let runs: Vec<Run> = names
        .iter()
        .flat_map(|name| {
            SEEDS.map(|seed| Run {
                name: name.clone(),
                seed,
            })
        })
        .collect();

    let native = run_native(cli, &runs);
    let wasm = run_wasm(node_module, &names)?;

    let width = names.iter().map(String::len).max().unwrap_or(0).max(8);
    println!(
        "{:width$}  seed  {:18}  {:18}  result",
        "scenario", "native", "wasm"
    );
    let mut failed = 0;
    for (run, native) in runs.iter().zip(&native) {
        let wasm = wasm
            .iter()
            .find(|(name, seed, _)| *name == run.name && *seed == run.seed)
            .map(|(_, _, hash)| hash.as_str());
        let (native_shown, wasm_shown) = (
            native.as_ref().map_or("error", String::as_str),
            wasm.unwrap_or("missing"),
        );
        let result = match (native, wasm) {
            (Ok(native), Some(wasm)) if native == wasm => "ok",
            (Ok(_), Some(_)) => "MISMATCH",
            _ => "ERROR",
        };
        if result != "ok" {
            failed += 1;
        }
        println!(
            "{:width$}  {:<4}  {native_shown:18}  {wasm_shown:18}  {result}",
            run.name, run.seed,
        );
    }
    for (run, native) in runs.iter().zip(&native) {
        if let Err(err) = native {
            eprintln!("native {} seed {}: {err:#}", run.name, run.seed);
        }
    }
    println!(
        "determinism: {} passed, {failed} failed",
        runs.len() - failed
    );
    if failed > 0 {
        bail!(
            "{failed} of {} runs differ between native and WASM or did not run",
            runs.len()
        );
    }
    Ok(())
}

/// Runs every `run` with the native CLI, in parallel, and returns their hashes in order.
fn run_native(cli: &Path, runs: &[Run]) -> Vec<Result<String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<String>>>> =
        Mutex::new(runs.iter().map(|_| None).collect());
    let workers = std::thread::available_parallelism().map_or(4, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(runs.len()) {
            scope.spawn(|| {
                loop {
                    let idx = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(idx) else { break };
                    let hash = native_hash(cli, run);
                    // Only a panicking worker could poison the lock, and that panic propagates anyway.
                    results.lock().unwrap()[idx] = Some(hash);
                }
            });
        }
    });
    // Every index below `runs.len()` was claimed by exactly one worker, which stored a result.
    let results = results.into_inner().unwrap();
    results.into_iter().map(Option::unwrap).collect()
}

fn native_hash(cli: &Path, run: &Run) -> Result<String> {
    let seed = run.seed.to_string();
    let mut command = Command::new(cli);
    command.args(["sim", "run", "--scenario", &run.name, "--seed", &seed]);
    let out = cmd::output(&mut command)?;
    // Exit status 1 means an invariant was violated, which broken-variant scenarios do on purpose.
    if !matches!(out.status.code(), Some(0 | 1)) {
        bail!(
            "`{}` failed ({}): {}",
            cmd::show(&command),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match trace_hash(&stdout) {
        Some(hash) => Ok(hash),
        None => bail!("`{}` printed no `trace-hash:` line", cmd::show(&command)),
    }
}

/// Runs every scenario under every seed in Node.js; returns `(name, seed, hash)` triples.
fn run_wasm(node_module: &Path, names: &[String]) -> Result<Vec<(String, u64, String)>> {
    let root = cmd::root();
    let seeds = SEEDS.map(|seed| seed.to_string()).join(",");
    let mut command = Command::new("node");
    command
        .current_dir(&root)
        .arg(root.join("xtask/determinism.mjs"))
        .arg(node_module)
        .arg(seeds)
        .args(names);
    let stdout = cmd::stdout(&mut command)?;
    let mut hashes = Vec::new();
    for line in stdout.lines() {
        let parsed = match line.split('\t').collect::<Vec<_>>()[..] {
            [name, seed, hash] => seed.parse().ok().map(|seed| (name, seed, hash)),
            _ => None,
        };
        let Some((name, seed, hash)) = parsed else {
            bail!("xtask/determinism.mjs printed an unexpected line: {line:?}");
        };
        hashes.push((name.to_string(), seed, normalize_hash(hash)));
    }
    Ok(hashes)
}

/// The hash in the line `trace-hash: <hex>` of `underhood sim run` output.
fn trace_hash(stdout: &str) -> Option<String> {
    let hash = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("trace-hash:"))?
        .trim();
    if hash.is_empty() || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    Some(normalize_hash(hash))
}

fn normalize_hash(hash: &str) -> String {
    hash.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(stdout: &str, expected: Option<&str>) {
        assert_eq!(trace_hash(stdout).as_deref(), expected);
    }

    #[test]
    fn trace_hash_lines() {
        check("trace-hash: 0123456789abcdef\n", Some("0123456789abcdef"));
        check(
            "scenario: 2pc-happy\nseed: 1\nviolations: 0\ntrace-hash: 00FF00ff00ff00ff\nsteps: 10\n",
            Some("00ff00ff00ff00ff"),
        );
        check("  trace-hash:\tabc  \r\n", Some("abc"));
        check("", None);
        check("trace-hash:\n", None);
        check("trace-hash: xyz\n", None);
        check("trace-hash: 0x12\n", None);
        check("summary trace-hash: 12\n", None);
    }
}
