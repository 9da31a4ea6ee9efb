//! `cargo xtask bench-lincheck PORCUPINE`: our linearizability checker against Porcupine on the
//! same histories in one run. Porcupine is built from a source tree or git directory given on
//! the command line, in a temporary directory, and never enters this repository.
//!
//! Both sides time the check alone (histories parsed beforehand): ours with criterion
//! (`benches/porcupine.rs`, median), Porcupine with its own Go benchmarks run five times
//! (median ns/op per benchmark, summed per set).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cmd, json};

/// The three sets: (criterion id, Porcupine benchmarks).
const SETS: [(&str, &str); 3] = [
    ("etcd-102", "^BenchmarkEtcdJepsen[0-9]+$"),
    (
        "kv-by-key",
        "^BenchmarkKv(1Client|10Clients|50Clients)(Ok|Bad)$",
    ),
    (
        "kv-no-partition-c10",
        "^BenchmarkKvNoPartition10Clients(Ok|Bad)$",
    ),
];

pub(crate) fn run(porcupine: &Path) -> Result<()> {
    if cmd::stdout(Command::new("go").arg("version")).is_err() {
        bail!("needs Go: install Debian's golang-go (`apt-get install golang-go`) and rerun");
    }
    let dir = std::env::temp_dir().join(format!("underhood-porcupine-{}", std::process::id()));
    let result = measure(porcupine, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(porcupine: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    if porcupine.join("go.mod").is_file() {
        cmd::run(
            Command::new("cp")
                .arg("-r")
                .arg(porcupine.join("."))
                .arg(dir),
        )?;
    } else {
        // A bare git directory, such as a fetched snapshot.
        let script = format!(
            "git --git-dir '{}' archive HEAD | tar -x -C '{}'",
            porcupine.display(),
            dir.display()
        );
        cmd::run(Command::new("sh").args(["-c", &script]))?;
    }
    cmd::run(
        Command::new("nice")
            .arg("cargo")
            .args(["bench", "-p", "underhood-lincheck", "--bench", "porcupine"])
            .current_dir(cmd::root()),
    )?;
    let mut ours = Vec::new();
    for (id, _) in SETS {
        let path: PathBuf = cmd::target_dir()
            .join("criterion/porcupine-sets")
            .join(id)
            .join("new/estimates.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let estimates = json::parse(&text)?;
        let median = match estimates
            .field("median")
            .and_then(|m| m.field("point_estimate"))
        {
            Some(json::Value::Number(n)) => n.parse::<f64>()?,
            _ => bail!("no median in {}", path.display()),
        };
        ours.push(median / 1e9);
    }
    let pattern = SETS
        .map(|(_, p)| p.trim_start_matches('^').trim_end_matches('$'))
        .join("|");
    let out = cmd::stdout(
        Command::new("nice")
            .args(["go", "test", "-run", "^$", "-bench"])
            .arg(format!("^({pattern})$"))
            .args(["-benchtime", "100ms", "-count", "5"])
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .current_dir(dir),
    )?;
    // Benchmark name -> ns/op of each run.
    let mut runs: Vec<(String, Vec<f64>)> = Vec::new();
    for line in out.lines().filter(|l| l.starts_with("Benchmark")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = fields.iter().position(|f| *f == "ns/op") else {
            continue;
        };
        let name = fields[0]
            .rsplit_once('-')
            .map_or(fields[0], |(n, _)| n)
            .to_owned();
        let ns: f64 = fields[at - 1].parse()?;
        match runs.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(ns),
            None => runs.push((name, vec![ns])),
        }
    }
    println!("set                   underhood (s)  Porcupine (s)  ratio");
    for ((id, regex), ours) in SETS.iter().zip(ours) {
        let inner = regex.trim_start_matches('^').trim_end_matches('$');
        let prefix = inner.split(['(', '[']).next().unwrap_or(inner);
        let members: Vec<&(String, Vec<f64>)> = runs
            .iter()
            .filter(|(name, _)| name.starts_with(prefix) && matches_set(name, id))
            .collect();
        if members.is_empty() {
            bail!("Porcupine ran no benchmark of set {id}");
        }
        let theirs: f64 = members.iter().map(|(_, v)| median(v)).sum::<f64>() / 1e9;
        println!(
            "{id:<21} {ours:>13.4} {theirs:>14.4} {:>6.2}x   ({} Porcupine benchmarks)",
            ours / theirs,
            members.len()
        );
    }
    Ok(())
}

/// Whether a Porcupine benchmark belongs to a set (the kv sets share a prefix).
fn matches_set(name: &str, id: &str) -> bool {
    match id {
        "etcd-102" => name.starts_with("BenchmarkEtcdJepsen"),
        "kv-by-key" => name.starts_with("BenchmarkKv") && !name.contains("NoPartition"),
        _ => name.starts_with("BenchmarkKvNoPartition10"),
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
