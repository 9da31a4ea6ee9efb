//! Running child processes from the workspace root, with the command echoed first.
//! Every failure names the command that failed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

/// The workspace root: the parent of `xtask/`.
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `xtask/` always lives directly in the workspace root, so there is a parent.
    manifest_dir.parent().unwrap().to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `target/` in the root.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Whether cargo's progress lines (`Compiling …`, `Checking …`) are silenced.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences cargo's progress lines in every later [`cargo`] command (warnings and errors are
/// still printed), so that CI's log stays short enough to show the failure in full.
pub(crate) fn quiet_cargo() {
    QUIET.store(true, Ordering::Relaxed);
}

/// A `cargo` command (the one that runs xtask, from `$CARGO`) in the workspace root.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command.current_dir(root());
    if QUIET.load(Ordering::Relaxed) {
        command.env("CARGO_TERM_QUIET", "true");
    }
    command
}

/// Runs `command` with inherited stdio and fails unless it exits successfully.
pub(crate) fn run(command: &mut Command) -> Result<()> {
    let shown = show(command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` and captures its output, whatever its exit status.
pub(crate) fn output(command: &mut Command) -> Result<Output> {
    command
        .output()
        .with_context(|| format!("could not start `{}`", show(command)))
}

/// Runs `command`, fails unless it exits successfully, and returns its stdout.
pub(crate) fn stdout(command: &mut Command) -> Result<String> {
    let out = output(command)?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            show(command),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", show(command)))
}

/// The command line as a human would type it, for messages.
pub(crate) fn show(command: &Command) -> String {
    let program = Path::new(command.get_program());
    // Show `cargo`, not the absolute path in `$CARGO`.
    let program = match program.file_stem() {
        Some(stem) if program.is_absolute() => stem,
        _ => program.as_os_str(),
    };
    std::iter::once(program)
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
