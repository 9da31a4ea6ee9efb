//! The determinism check: every gallery scenario, under seeds 1 to 3, has the same trace hash
//! natively and in WASM, and under seed 1 the same full trace: every event, compared field by
//! field as the JSON both sides print (`underhood sim run --json` and `eventsSince(0)`), so a
//! difference the 64-bit hash could miss still fails.
//! Natively it runs the `underhood` binary; in WASM it runs `xtask/determinism.mjs` under Node.js.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

use crate::json::Value;
use crate::{cmd, json, wasm};

/// The seeds every scenario runs with.
const SEEDS: [u64; 3] = [1, 2, 3];

/// The seed under which every scenario's full trace is compared, not only its hash.
const FULL_TRACE_SEED: u64 = 1;

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
    let (wasm, wasm_traces) = run_wasm(node_module, &names)?;

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
    let traces_failed = compare_traces(cli, &names, &wasm_traces);
    println!(
        "determinism: {} passed, {failed} failed; full traces (seed {FULL_TRACE_SEED}): {} equal, {traces_failed} differ",
        runs.len() - failed,
        names.len() - traces_failed,
    );
    if failed > 0 || traces_failed > 0 {
        bail!(
            "{failed} of {} hashes and {traces_failed} of {} full traces differ between native and WASM or did not run",
            runs.len(),
            names.len()
        );
    }
    Ok(())
}

/// Compares each scenario's full native trace under [`FULL_TRACE_SEED`] with the WASM one;
/// returns how many differ or failed to run, after printing the first difference of each.
fn compare_traces(cli: &Path, names: &[String], wasm: &[(String, String)]) -> usize {
    let mut failed = 0;
    for name in names {
        let result = native_events(cli, name).and_then(|native| {
            let Some((_, text)) = wasm.iter().find(|(n, _)| n == name) else {
                bail!("xtask/determinism.mjs printed no trace");
            };
            let wasm = json::parse(text).context("reading the WASM trace")?;
            match first_difference(&native, &wasm) {
                None => Ok(()),
                Some(at) => bail!("the traces differ at {at}"),
            }
        });
        if let Err(err) = result {
            eprintln!("full trace of {name} seed {FULL_TRACE_SEED}: {err:#}");
            failed += 1;
        }
    }
    failed
}

/// The `events` array of `underhood sim run --json` for `name` under [`FULL_TRACE_SEED`].
fn native_events(cli: &Path, name: &str) -> Result<Value> {
    let seed = FULL_TRACE_SEED.to_string();
    let mut command = Command::new(cli);
    command.args(["sim", "run", "--scenario", name, "--seed", &seed, "--json"]);
    let out = cmd::output(&mut command)?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        bail!("`{}` failed ({})", cmd::show(&command), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    match json::parse(&text)? {
        Value::Object(fields) => fields
            .into_iter()
            .find(|(key, _)| key == "events")
            .map(|(_, events)| events)
            .context("`sim run --json` printed no `events`"),
        _ => bail!("`sim run --json` printed no object"),
    }
}

/// Where two JSON values first differ, as a path such as `[12].msg.tx`; `None` when equal
/// (numbers compare as written, objects in order).
fn first_difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                if let Some(at) = first_difference(x, y) {
                    return Some(format!("[{i}]{at}"));
                }
            }
            (x.len() != y.len()).then(|| format!(" (lengths {} and {})", x.len(), y.len()))
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((kx, x), (ky, y)) in x.iter().zip(y) {
                if kx != ky {
                    return Some(format!(".{kx} (the other has .{ky})"));
                }
                if let Some(at) = first_difference(x, y) {
                    return Some(format!(".{kx}{at}"));
                }
            }
            (x.len() != y.len()).then(|| format!(" ({} and {} fields)", x.len(), y.len()))
        }
        _ => (a != b).then(|| format!(" ({a:?} against {b:?})")),
    }
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

/// Hashes, as `(name, seed, hash)`, and full traces under [`FULL_TRACE_SEED`], as `(name, JSON)`.
type WasmRuns = (Vec<(String, u64, String)>, Vec<(String, String)>);

/// Runs every scenario under every seed in Node.js.
fn run_wasm(node_module: &Path, names: &[String]) -> Result<WasmRuns> {
    let root = cmd::root();
    let seeds = SEEDS.map(|seed| seed.to_string()).join(",");
    let mut command = Command::new("node");
    command
        .current_dir(&root)
        .arg(root.join("xtask/determinism.mjs"))
        .arg(node_module)
        .arg(seeds)
        .arg(FULL_TRACE_SEED.to_string())
        .args(names);
    let stdout = cmd::stdout(&mut command)?;
    let mut hashes = Vec::new();
    let mut traces = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("events\t") {
            let Some((name, events)) = rest.split_once('\t') else {
                bail!("xtask/determinism.mjs printed an unexpected line: {line:?}");
            };
            traces.push((name.to_string(), events.to_string()));
            continue;
        }
        let parsed = match line.split('\t').collect::<Vec<_>>()[..] {
            [name, seed, hash] => seed.parse().ok().map(|seed| (name, seed, hash)),
            _ => None,
        };
        let Some((name, seed, hash)) = parsed else {
            bail!("xtask/determinism.mjs printed an unexpected line: {line:?}");
        };
        hashes.push((name.to_string(), seed, normalize_hash(hash)));
    }
    Ok((hashes, traces))
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
    fn first_difference_names_the_path() {
        let parse = |text: &str| json::parse(text).unwrap();
        let a = parse(r#"[{"t":1,"msg":{"tx":1}},{"t":2}]"#);
        assert_eq!(first_difference(&a, &a), None);
        let b = parse(r#"[{"t":1,"msg":{"tx":2}},{"t":2}]"#);
        assert_eq!(
            first_difference(&a, &b).as_deref(),
            Some("[0].msg.tx (Number(\"1\") against Number(\"2\"))")
        );
        let shorter = parse(r#"[{"t":1,"msg":{"tx":1}}]"#);
        assert_eq!(
            first_difference(&a, &shorter).as_deref(),
            Some(" (lengths 2 and 1)")
        );
        let renamed = parse(r#"[{"t":1,"mesg":{"tx":1}},{"t":2}]"#);
        assert_eq!(
            first_difference(&a, &renamed).as_deref(),
            Some("[0].msg (the other has .mesg)")
        );
        // Numbers compare as written: a float printed differently is a difference.
        assert!(first_difference(&parse("[1.0]"), &parse("[1]")).is_some());
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
