//! `underhood lin check`: linearizability of Jepsen histories (EDN, `jepsen.util` logs, JSON
//! lines) against a register, a CAS register or a key-value store, many files in parallel.
//!
//! Exit status: 0 when every file is linearizable, 1 when any is not, 3 when some are unknown
//! (the time budget ran out) and none is not, 2 on bad input.

use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use underhood_lincheck::{
    Budget, Completion, Exhausted, Format, History, HistoryWitness, ModelKind, Operation, Options,
    Partitioning, Report, Settings, Value, Verdict, check_history, parse_value,
};

#[derive(Subcommand, Debug)]
pub(crate) enum LinCommand {
    /// Check histories for linearizability: one line per file (`FILE: linearizable`,
    /// `FILE: NOT linearizable` with a witness, or `FILE: unknown (…)`).
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// History files (Jepsen EDN, jepsen.util log lines, or JSON lines); checked in parallel.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The model: register (read, write), cas-register (read, write, cas [old new]) or kv
    /// (get, put, append on strings, by :key).
    #[arg(long, value_enum)]
    model: ModelArg,
    /// The registers' value before any write, in EDN (default nil: unset).
    #[arg(long, value_name = "VALUE")]
    initial: Option<String>,
    /// The file format.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// Check all keys together instead of each key alone.
    #[arg(long)]
    no_partition: bool,
    /// Give up on a file after S seconds and call it unknown (exit 3).
    #[arg(long, value_name = "S")]
    max_seconds: Option<f64>,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModelArg {
    Register,
    CasRegister,
    Kv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Auto,
    Edn,
    JepsenLog,
    Jsonl,
}

pub(crate) fn run(command: LinCommand) -> Result<ExitCode> {
    match command {
        LinCommand::Check(args) => check(&args),
    }
}

/// What became of one file.
enum FileResult {
    Checked { report: Report, seconds: f64 },
    Bad(anyhow::Error),
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let initial = match &args.initial {
        None => Value::Nil,
        Some(text) => {
            parse_value(text).with_context(|| format!("--initial {text:?} is not an EDN value"))?
        }
    };
    let model = match args.model {
        ModelArg::Register => ModelKind::Register { initial },
        ModelArg::CasRegister => ModelKind::CasRegister { initial },
        ModelArg::Kv if args.initial.is_some() => {
            bail!("--initial applies to register and cas-register; kv keys start empty")
        }
        ModelArg::Kv => ModelKind::Kv,
    };
    let budget = match args.max_seconds {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Some(Duration::from_secs_f64(s)),
        Some(s) => bail!("--max-seconds takes a positive number of seconds, got {s}"),
    };
    let format = match args.format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Edn => Format::Edn,
        FormatArg::JepsenLog => Format::JepsenLog,
        FormatArg::Jsonl => Format::JsonLines,
    };
    let partitioning = match args.no_partition {
        true => Partitioning::Whole,
        false => Partitioning::ByKey,
    };
    let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    // One file gets every core for its partitions; many files get a core each.
    let per_file_threads = match args.files.len() {
        1 => cores,
        _ => NonZeroUsize::MIN,
    };
    let settings = Settings {
        model,
        partitioning,
        options: Options {
            budget: Budget::default(),
            threads: per_file_threads,
        },
    };
    let results: Vec<Mutex<Option<FileResult>>> =
        args.files.iter().map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    let work = || {
        loop {
            let idx = {
                let Ok(mut next) = next.lock() else { return };
                let idx = *next;
                *next += 1;
                idx
            };
            let Some(path) = args.files.get(idx) else {
                return;
            };
            let result = check_file(path, format, &settings, budget);
            if let Ok(mut slot) = results[idx].lock() {
                *slot = Some(result);
            }
        }
    };
    let workers = cores.get().min(args.files.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(work);
        }
    });

    let mut stdout = io::stdout().lock();
    let (mut bad_input, mut not, mut unknown) = (false, false, false);
    for (path, slot) in args.files.iter().zip(results) {
        let result = slot
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .context("a checking thread stopped early")?;
        let (report, seconds) = match result {
            FileResult::Bad(err) => {
                bad_input = true;
                eprintln!("underhood: {err:#}");
                continue;
            }
            FileResult::Checked { report, seconds } => (report, seconds),
        };
        match &report.verdict {
            Verdict::Linearizable => {}
            Verdict::NotLinearizable(_) => not = true,
            Verdict::Unknown(_) => unknown = true,
        }
        if args.json {
            print_json(&mut stdout, path, &settings.model, &report, seconds)?;
        } else {
            print_text(&mut stdout, path, &report, args.max_seconds)?;
        }
    }
    stdout.flush()?;
    Ok(ExitCode::from(match (bad_input, not, unknown) {
        (true, _, _) => 2,
        (false, true, _) => 1,
        (false, false, true) => 3,
        (false, false, false) => 0,
    }))
}

fn check_file(
    path: &Path,
    format: Format,
    settings: &Settings,
    budget: Option<Duration>,
) -> FileResult {
    let start = Instant::now();
    let mut settings = settings.clone();
    settings.options.budget.deadline = budget.map(|b| start + b);
    let bytes = match crate::files::read_limited(path) {
        Ok(bytes) => bytes,
        Err(err) => return FileResult::Bad(err),
    };
    let checked = History::parse(&bytes, format)
        .map_err(|e| located(path, e.line, e.column, &e.kind))
        .and_then(|history| {
            check_history(&history, &settings)
                .map_err(|e| located(path, e.line, e.column, &e.kind))
                .map(|report| (history, report))
        });
    match checked {
        Ok((_, report)) => FileResult::Checked {
            report,
            seconds: start.elapsed().as_secs_f64(),
        },
        Err(err) => FileResult::Bad(err),
    }
}

/// `FILE:LINE:COLUMN: what`, as compilers print positions.
fn located(path: &Path, line: usize, column: usize, kind: &dyn std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{}:{line}:{column}: {kind}", path.display())
}

fn print_text(
    out: &mut impl Write,
    path: &Path,
    report: &Report,
    max_seconds: Option<f64>,
) -> Result<()> {
    let file = path.display();
    match &report.verdict {
        Verdict::Linearizable => writeln!(out, "{file}: linearizable")?,
        Verdict::Unknown(why) => {
            let why = match (why, max_seconds) {
                (Exhausted::Time, Some(s)) => format!("time budget of {s} s exhausted"),
                (Exhausted::Time, None) => "time budget exhausted".to_owned(),
                (Exhausted::Steps, _) => "step budget exhausted".to_owned(),
            };
            writeln!(out, "{file}: unknown ({why})")?;
        }
        Verdict::NotLinearizable(witness) => {
            writeln!(out, "{file}: NOT linearizable")?;
            write_witness(out, witness)?;
        }
    }
    Ok(())
}

fn write_witness(out: &mut impl Write, witness: &HistoryWitness) -> Result<()> {
    let on_key = match &witness.key {
        Some(key) => format!(" on key {key}"),
        None => String::new(),
    };
    writeln!(out, "  cannot linearize{on_key}: {}", describe(&witness.op))?;
    let count = witness.linearized.len();
    match &witness.previous_ok {
        Some(previous) => writeln!(
            out,
            "  longest linearizable prefix: {} events, {count} operations linearized, the last {}",
            witness.prefix_events,
            describe(previous)
        )?,
        None => writeln!(
            out,
            "  longest linearizable prefix: {} events, no operation linearized",
            witness.prefix_events
        )?,
    }
    let states: Vec<String> = witness.states.iter().map(Value::to_string).collect();
    writeln!(out, "  possible states just before: {}", states.join(", "))?;
    Ok(())
}

/// `operation 7 (process 2, line 15): :cas [1 4] -> :ok`.
fn describe(op: &Operation) -> String {
    let outcome = match &op.completion {
        Completion::Ok { value, at } => match value {
            Value::Nil => format!(":ok (line {})", at.line),
            value if *value == op.value => format!(":ok (line {})", at.line),
            value => format!(":ok {value} (line {})", at.line),
        },
        Completion::Info { at: Some(at) } => format!(":info (line {})", at.line),
        Completion::Info { at: None } => ":info (never completed)".to_owned(),
        Completion::Fail { at } => format!(":fail (line {})", at.line),
    };
    format!(
        "operation {} (process {}, line {}): {} {} -> {outcome}",
        op.index, op.process, op.invoke.line, op.f, op.value
    )
}

fn print_json(
    out: &mut impl Write,
    path: &Path,
    model: &ModelKind,
    report: &Report,
    seconds: f64,
) -> Result<()> {
    let (linearizable, witness) = match &report.verdict {
        Verdict::Linearizable => (json!(true), json!(null)),
        Verdict::NotLinearizable(witness) => (json!(false), serde_json::to_value(witness)?),
        Verdict::Unknown(_) => (json!(null), json!(null)),
    };
    let line = json!({
        "file": path.display().to_string(),
        "linearizable": linearizable,
        "model": model.name(),
        "operations": report.operations,
        "partitions": report.partitions,
        "seconds": seconds,
        "witness": witness,
    });
    writeln!(out, "{line}")?;
    Ok(())
}
