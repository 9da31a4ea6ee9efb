//! The CI steps that go past `cargo test`: every fuzz target for a bounded time, the loom
//! models, and the check that no test skipped itself unless it is listed here.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd;

/// The only tests allowed to print `skipped…` and pass, with why. Each needs something of the
/// machine that a CI container may not give: this machine has all of them and none skips here
/// (the step prints every skip, so a CI log says which ran). Add `("test_name", "reason")`
/// here, never in the test, when a skip is unavoidable.
pub(crate) const ALLOWED_SKIPS: &[(&str, &str)] = &[
    (
        "copying_across_filesystems_falls_back_from_copy_file_range",
        "needs a tmpfs at /dev/shm on another filesystem than the temp dir",
    ),
    (
        "fixed_layouts_on_the_temp_dir_filesystem",
        "needs the temp dir on ext4 or tmpfs (extent layouts are filesystem-specific)",
    ),
    (
        "random_layouts_match_the_model",
        "needs the temp dir on ext4 or tmpfs (extent layouts are filesystem-specific)",
    ),
    (
        "many_extents_span_several_fiemap_calls",
        "needs the temp dir on ext4 or tmpfs (extent layouts are filesystem-specific)",
    ),
    (
        "fixed_layouts_on_tmpfs_fall_back_to_seek_hole",
        "needs a writable tmpfs at /dev/shm",
    ),
    (
        "random_layouts_match_the_model_on_tmpfs",
        "needs a writable tmpfs at /dev/shm",
    ),
    (
        "overcommit_then_enospc_on_a_tiny_filesystem",
        "needs unprivileged user and mount namespaces (`unshare`) to mount a 1 MiB tmpfs",
    ),
    (
        "copy_shows_progress_on_a_terminal_only",
        "needs util-linux `script` to give the CLI a terminal",
    ),
];

/// Fuzzing time per target; with about twenty targets the step stays under five minutes.
const FUZZ_SECONDS_PER_TARGET: u64 = 12;

/// `cargo test` with every passing test's output captured, then a check that no test skipped
/// itself (printed a line starting with `skipped`) unless [`ALLOWED_SKIPS`] lists it.
///
/// The full output is long (every passing test's output is shown to find skips), so only what
/// matters is printed: the totals, every skip, and on failure the failing tests' sections and
/// cargo's errors. CI's log then shows the failure whatever else ran before.
pub(crate) fn test_without_skips() -> Result<()> {
    let mut command = cmd::cargo();
    command
        // Libtest's own format is parsed below; cargo's progress lines go nowhere anyway.
        .env_remove("CARGO_TERM_QUIET")
        .args([
            "test",
            "--workspace",
            "--all-features",
            "--",
            "--show-output",
        ]);
    let shown = cmd::show(&command);
    eprintln!("$ {shown}");
    let out = cmd::output(&mut command)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let totals = totals(&stdout);
    eprintln!(
        "{} test binaries: {} passed, {} failed, {} ignored",
        totals.binaries, totals.passed, totals.failed, totals.ignored
    );
    let skips = skipped_tests(&stdout);
    for (name, line) in &skips {
        eprintln!("skip: {name}: {line}");
    }
    if !out.status.success() {
        eprintln!("{}", failures(&stdout));
        eprintln!("{}", errors(&stderr));
        bail!("`{shown}` failed ({})", out.status);
    }
    if totals.ignored > 0 {
        bail!(
            "{} test(s) are #[ignore]d; the house style asserts on errors instead",
            totals.ignored
        );
    }
    let unexpected: Vec<&(String, String)> = skips
        .iter()
        .filter(|(name, _)| !ALLOWED_SKIPS.iter().any(|(allowed, _)| allowed == name))
        .collect();
    if !unexpected.is_empty() {
        let names: Vec<&str> = unexpected.iter().map(|(name, _)| name.as_str()).collect();
        bail!(
            "{} test(s) skipped without being listed in ALLOWED_SKIPS (xtask/src/hardening.rs): {}",
            names.len(),
            names.join(", ")
        );
    }
    Ok(())
}

/// The sums of libtest's `test result:` lines.
#[derive(Debug, Default, PartialEq)]
struct Totals {
    binaries: u64,
    passed: u64,
    failed: u64,
    ignored: u64,
}

fn totals(output: &str) -> Totals {
    let mut totals = Totals::default();
    for rest in output
        .lines()
        .filter_map(|line| line.strip_prefix("test result: "))
    {
        totals.binaries += 1;
        for part in rest.split(['.', ';']) {
            let mut words = part.split_whitespace();
            let (Some(count), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match kind {
                "passed" => totals.passed += count,
                "failed" => totals.failed += count,
                "ignored" => totals.ignored += count,
                _ => {}
            }
        }
    }
    totals
}

/// Libtest's `failures:` sections (each failing test's output and panic) and the `running`
/// and `test result:` lines of binaries with a failure.
fn failures(output: &str) -> String {
    let mut shown = Vec::new();
    let mut inside = false;
    for line in output.lines() {
        if line == "failures:" {
            inside = true;
        } else if line.starts_with("test result:") {
            if inside {
                shown.push(line);
            }
            inside = false;
        }
        if inside {
            shown.push(line);
        }
    }
    shown.join("\n")
}

/// cargo's and rustc's error lines with what follows them (a compile error), and the last
/// lines of stderr (a doc test or a build script that failed).
fn errors(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut shown: Vec<&str> = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        if line.starts_with("error") {
            shown.extend(lines[idx..lines.len().min(idx + 20)].iter());
        }
    }
    let tail = lines.len().saturating_sub(40);
    shown.push("--- end of stderr:");
    shown.extend(lines[tail..].iter());
    shown.join("\n")
}

/// `(test name, line)` for every `skipped…` line in `--show-output` blocks.
fn skipped_tests(output: &str) -> Vec<(String, String)> {
    let mut current: Option<&str> = None;
    let mut found = Vec::new();
    for line in output.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            current = Some(name);
        } else if line == "successes:" || line.starts_with("test result:") {
            current = None;
        } else if let Some(name) = current
            && line
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("skipped")
        {
            found.push((name.to_owned(), line.trim().to_owned()));
        }
    }
    found
}

/// Runs the loom models (`--cfg loom`) in their own target directory, bounded in preemptions
/// and time.
pub(crate) fn loom() -> Result<()> {
    let target = cmd::target_dir().join("loom");
    for (package, filter) in [
        ("underhood-acl-model", &["--test", "loom"][..]),
        ("underhood-sim", &["--lib", "loom_tests"][..]),
    ] {
        let mut command = cmd::cargo();
        command
            .env("RUSTFLAGS", "--cfg loom")
            .env("CARGO_TARGET_DIR", &target)
            .env("LOOM_MAX_PREEMPTIONS", "3")
            .env("LOOM_MAX_DURATION", "120")
            .args(["test", "--release", "-p", package])
            .args(filter);
        cmd::run(&mut command)?;
    }
    Ok(())
}

/// Builds the fuzz crate and runs every target for [`FUZZ_SECONDS_PER_TARGET`] from its
/// committed corpus (`fuzz/corpus/<target>/`, read only: new inputs go to a scratch folder),
/// printing the executions of each; any crash fails the step.
///
/// It runs on the default (stable) toolchain: without a sanitizer cargo-fuzz passes no `-Z`
/// flag, and this machine kind cannot fetch a nightly toolchain. cargo-fuzz is installed with
/// `cargo install` when missing.
pub(crate) fn fuzz() -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = cmd::root();
    let fuzz_dir = root.join("fuzz");
    let targets = fuzz_targets(&fuzz_dir)?;
    // No sanitizer: it would need nightly, and the libraries are safe Rust but for two small
    // `sys.rs` modules; the build and the runs are also much faster.
    cmd::run(fuzz_command(&fuzz_dir).args(["build", "--sanitizer", "none"]))?;
    let scratch = cmd::target_dir().join("fuzz-scratch");
    let mut summary = Vec::new();
    for target in &targets {
        let work = scratch.join(target);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
        let mut command = fuzz_command(&fuzz_dir);
        command
            .args(["run", "--sanitizer", "none", target])
            .arg(&work);
        let seeds = fuzz_dir.join("corpus").join(target);
        if seeds.is_dir() {
            command.arg(&seeds);
        }
        command.args([
            "--",
            &format!("-max_total_time={FUZZ_SECONDS_PER_TARGET}"),
            "-print_final_stats=1",
        ]);
        let shown = cmd::show(&command);
        eprintln!("$ {shown}");
        let out = cmd::output(&mut command)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            eprint!("{stderr}");
            bail!(
                "fuzz target {target} failed ({}): see the crash above",
                out.status
            );
        }
        let runs = executions(&stderr).unwrap_or(0);
        eprintln!("fuzz {target}: {runs} executions in {FUZZ_SECONDS_PER_TARGET} s, no crash");
        summary.push((target.clone(), runs));
    }
    eprintln!();
    for (target, runs) in &summary {
        eprintln!("fuzz executions  {runs:>12}  {target}");
    }
    Ok(())
}

fn fuzz_command(fuzz_dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(fuzz_dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .arg("fuzz");
    command
}

/// The `[[bin]]` names of `fuzz/Cargo.toml`.
fn fuzz_targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let manifest =
        std::fs::read_to_string(fuzz_dir.join("Cargo.toml")).context("reading fuzz/Cargo.toml")?;
    let targets: Vec<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            section.lines().find_map(|line| {
                let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        })
        .collect();
    if targets.is_empty() {
        bail!("no [[bin]] target in fuzz/Cargo.toml");
    }
    Ok(targets)
}

/// libFuzzer's `stat::number_of_executed_units: N`, or its `Done N runs` line.
fn executions(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|line| {
        if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
            return rest.trim().parse().ok();
        }
        line.strip_prefix("Done ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// Installs cargo-fuzz with `cargo install` when `cargo fuzz` is missing.
fn ensure_cargo_fuzz() -> Result<()> {
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if present {
        return Ok(());
    }
    eprintln!("installing cargo-fuzz with cargo install");
    cmd::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_are_found_in_show_output_blocks() {
        let output = "\
running 2 tests
test a ... ok
test b ... ok

successes:

---- fs::copies_across stdout ----
skipped: /dev/shm is not available

---- fs::other stdout ----
all fine, nothing skipped here

successes:
    fs::copies_across
    fs::other

test result: ok. 2 passed
";
        assert_eq!(
            skipped_tests(output),
            [(
                "fs::copies_across".to_owned(),
                "skipped: /dev/shm is not available".to_owned()
            )]
        );
    }

    #[test]
    fn totals_add_up_every_binary() {
        let output = "test result: ok. 3 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out\n\
                      test result: FAILED. 1 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(
            totals(output),
            Totals {
                binaries: 2,
                passed: 4,
                failed: 4,
                ignored: 2
            }
        );
    }

    #[test]
    fn failures_keep_only_the_failing_sections() {
        let output = "running 2 tests\ntest a ... ok\ntest b ... FAILED\n\nsuccesses:\n\n\
                      ---- a stdout ----\nnoise\n\nfailures:\n\n---- b stdout ----\n\
                      thread 'b' panicked at src/lib.rs:1:1:\nboom\n\nfailures:\n    b\n\n\
                      test result: FAILED. 1 passed; 1 failed; 0 ignored\n";
        let shown = failures(output);
        assert!(
            shown.contains("panicked at src/lib.rs:1:1:\nboom"),
            "{shown}"
        );
        assert!(shown.ends_with("test result: FAILED. 1 passed; 1 failed; 0 ignored"));
        assert!(!shown.contains("noise"), "{shown}");
    }

    #[test]
    fn executions_come_from_libfuzzer_stats() {
        assert_eq!(
            executions("#1\tINITED\nDone 12345 runs in 12 second(s)\n"),
            Some(12345)
        );
        assert_eq!(
            executions("stat::number_of_executed_units: 777\nstat::average_exec_per_sec: 64\n"),
            Some(777)
        );
        assert_eq!(executions("nothing"), None);
    }
}
