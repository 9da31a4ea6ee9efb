//! `cargo xtask bench-checker`: our model checker against stateright 0.31 on the identical
//! TLA+ TwoPhase model, in one run, on this machine.
//!
//! The stateright side is a small program written here into `target/stateright-bench/` (its own
//! cargo workspace, so stateright never enters ours) and built in release mode. Both sides run
//! under `/usr/bin/time -v` for peak memory.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd;

const CARGO_TOML: &str = r#"[package]
name = "stateright-bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
stateright = "=0.31.0"

[profile.release]
codegen-units = 1
lto = true

[workspace]
"#;

const MAIN_RS: &str = r#"//! The TLA+ TwoPhase spec as a stateright model, written the way stateright's own examples are.
use std::collections::BTreeSet;
use std::time::Instant;
use stateright::{Checker, Model, Property};

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum Rm { Working, Prepared, Committed, Aborted }
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum Tm { Init, Committed, Aborted }
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
enum Msg { Prepared(usize), Commit, Abort }

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct State { rm: Vec<Rm>, tm: Tm, tm_prepared: Vec<bool>, msgs: BTreeSet<Msg> }

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Action { TmRcvPrepared(usize), TmCommit, TmAbort, RmPrepare(usize), RmChooseToAbort(usize), RmRcvCommit(usize), RmRcvAbort(usize) }

struct TwoPhase { n: usize }

impl Model for TwoPhase {
    type State = State;
    type Action = Action;
    fn init_states(&self) -> Vec<State> {
        vec![State { rm: vec![Rm::Working; self.n], tm: Tm::Init, tm_prepared: vec![false; self.n], msgs: BTreeSet::new() }]
    }
    fn actions(&self, s: &State, out: &mut Vec<Action>) {
        if s.tm == Tm::Init && s.tm_prepared.iter().all(|p| *p) { out.push(Action::TmCommit); }
        if s.tm == Tm::Init { out.push(Action::TmAbort); }
        for i in 0..self.n {
            if s.tm == Tm::Init && s.msgs.contains(&Msg::Prepared(i)) { out.push(Action::TmRcvPrepared(i)); }
            if s.rm[i] == Rm::Working { out.push(Action::RmPrepare(i)); out.push(Action::RmChooseToAbort(i)); }
            if s.msgs.contains(&Msg::Commit) { out.push(Action::RmRcvCommit(i)); }
            if s.msgs.contains(&Msg::Abort) { out.push(Action::RmRcvAbort(i)); }
        }
    }
    fn next_state(&self, s: &State, a: Action) -> Option<State> {
        let mut t = s.clone();
        match a {
            Action::TmRcvPrepared(i) => t.tm_prepared[i] = true,
            Action::TmCommit => { t.tm = Tm::Committed; t.msgs.insert(Msg::Commit); }
            Action::TmAbort => { t.tm = Tm::Aborted; t.msgs.insert(Msg::Abort); }
            Action::RmPrepare(i) => { t.rm[i] = Rm::Prepared; t.msgs.insert(Msg::Prepared(i)); }
            Action::RmChooseToAbort(i) => t.rm[i] = Rm::Aborted,
            Action::RmRcvCommit(i) => t.rm[i] = Rm::Committed,
            Action::RmRcvAbort(i) => t.rm[i] = Rm::Aborted,
        }
        Some(t)
    }
    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::always("consistent", |_, s: &State| {
            !(s.rm.contains(&Rm::Committed) && s.rm.contains(&Rm::Aborted))
        })]
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let threads: usize = args[2].parse().unwrap();
    let order = args[3].as_str();
    let start = Instant::now();
    let builder = TwoPhase { n }.checker().threads(threads);
    let (unique, states, depth) = if order == "bfs" {
        let c = builder.spawn_bfs().join();
        (c.unique_state_count(), c.state_count(), c.max_depth())
    } else {
        let c = builder.spawn_dfs().join();
        (c.unique_state_count(), c.state_count(), c.max_depth())
    };
    println!("{{\"unique_states\":{unique},\"states\":{states},\"max_depth\":{depth},\"seconds\":{}}}", start.elapsed().as_secs_f64());
}
"#;

/// One configuration of the comparison.
struct Case {
    n: u32,
    threads: u32,
    /// `dfs` or `bfs`.
    order: &'static str,
}

/// Builds both sides and prints a table: N, threads, order, unique states, seconds,
/// unique states per second and peak memory for each, and the speed ratio.
pub(crate) fn run(max_n: u32) -> Result<()> {
    cmd::run(cmd::cargo().args(["build", "--release", "-p", "underhood-cli"]))?;
    let target = cmd::target_dir();
    let ours = target.join("release/underhood");
    let dir = target.join("stateright-bench");
    std::fs::create_dir_all(dir.join("src")).context("creating target/stateright-bench")?;
    std::fs::write(dir.join("Cargo.toml"), CARGO_TOML)?;
    std::fs::write(dir.join("src/main.rs"), MAIN_RS)?;
    cmd::run(
        cmd::cargo()
            .current_dir(&dir)
            .args(["build", "--release", "--quiet"])
            .env("CARGO_TARGET_DIR", dir.join("target")),
    )?;
    let theirs = dir.join("target/release/stateright-bench");
    let cases = [
        Case {
            n: 7,
            threads: 1,
            order: "dfs",
        },
        Case {
            n: 7,
            threads: 1,
            order: "bfs",
        },
        Case {
            n: 9,
            threads: 1,
            order: "bfs",
        },
        Case {
            n: 9,
            threads: 2,
            order: "dfs",
        },
        Case {
            n: 9,
            threads: 2,
            order: "bfs",
        },
        Case {
            n: 10,
            threads: 2,
            order: "dfs",
        },
    ];
    println!(
        "| N | threads | order | unique states | underhood s | stateright s | underhood unique/s | stateright unique/s | speed-up | underhood peak MB | stateright peak MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for case in cases.iter().filter(|c| c.n <= max_n) {
        let mut our_cmd = Command::new(&ours);
        our_cmd.args([
            "sim",
            "check",
            "--model",
            "two-phase-tla",
            "--rms",
            &case.n.to_string(),
            "--threads",
            &case.threads.to_string(),
            "--json",
        ]);
        if case.order == "dfs" {
            our_cmd.arg("--dfs");
        }
        let (our_json, our_peak) = timed(our_cmd)?;
        let mut their_cmd = Command::new(&theirs);
        their_cmd.args([
            case.n.to_string(),
            case.threads.to_string(),
            case.order.to_owned(),
        ]);
        let (their_json, their_peak) = timed(their_cmd)?;
        let our_unique = number(&our_json, "unique_states")?;
        let their_unique = number(&their_json, "unique_states")?;
        let our_s = number(&our_json, "seconds")?;
        let their_s = number(&their_json, "seconds")?;
        if (our_unique - their_unique).abs() > 0.5 {
            bail!(
                "unique-state counts differ at N={}: {our_unique} vs {their_unique}",
                case.n
            );
        }
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0}k | {:.0}k | {:.2}× | {:.0} | {:.0} |",
            case.n,
            case.threads,
            case.order,
            our_unique,
            our_s,
            their_s,
            our_unique / our_s / 1e3,
            their_unique / their_s / 1e3,
            their_s / our_s,
            our_peak as f64 / 1e6,
            their_peak as f64 / 1e6,
        );
    }
    Ok(())
}

/// Runs a command under `/usr/bin/time -v`; returns its stdout and peak resident bytes.
fn timed(command: Command) -> Result<(String, u64)> {
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let time = Path::new("/usr/bin/time");
    let started = Instant::now();
    let output = if time.exists() {
        Command::new(time)
            .arg("-v")
            .arg(&program)
            .args(&args)
            .output()
    } else {
        Command::new(&program).args(&args).output()
    }
    .with_context(|| format!("running {}", program.to_string_lossy()))?;
    if !output.status.success() {
        bail!(
            "{} failed after {:?}: {}",
            program.to_string_lossy(),
            started.elapsed(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak_kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        peak_kb * 1024,
    ))
}

/// A number field of a one-line JSON object, without a JSON parser.
fn number(json: &str, field: &str) -> Result<f64> {
    let key = format!("\"{field}\":");
    let start = json
        .find(&key)
        .with_context(|| format!("no {field} in {json}"))?
        + key.len();
    let rest = &json[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-' || c == '+'))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .with_context(|| format!("{field} is not a number in {json}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_from_one_line_json() {
        let json = r#"{"unique_states":288,"seconds":0.5e-3,"verdict":"ok"}"#;
        assert_eq!(number(json, "unique_states").unwrap(), 288.0);
        assert_eq!(number(json, "seconds").unwrap(), 0.0005);
        assert!(number(json, "states").is_err());
    }
}
