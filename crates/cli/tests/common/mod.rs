//! What every CLI test needs: run the `underhood` binary and check its exit status and output.
// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs `underhood` with `args` and no input.
pub(crate) fn underhood(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_underhood"))
        .args(args)
        .output()
        .expect("the underhood binary runs")
}

/// Runs `underhood`, asserts the exit status and that stdout contains `stdout_has`; returns stdout.
#[track_caller]
pub(crate) fn check(args: &[&str], status: i32, stdout_has: &str) -> String {
    let (stdout, stderr) = run_expecting(args, status);
    assert!(
        stdout.contains(stdout_has),
        "{args:?}: {stdout_has:?} not in\n{stdout}\n{stderr}"
    );
    stdout
}

/// Like [`check`], but `output_has` may be on stdout or stderr (errors and progress).
#[track_caller]
pub(crate) fn check_any(args: &[&str], status: i32, output_has: &str) -> String {
    let (stdout, stderr) = run_expecting(args, status);
    assert!(
        stdout.contains(output_has) || stderr.contains(output_has),
        "{args:?}: {output_has:?} not in\n{stdout}\n{stderr}"
    );
    stdout
}

#[track_caller]
fn run_expecting(args: &[&str], status: i32) -> (String, String) {
    let out = underhood(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(status),
        "{args:?}\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}
