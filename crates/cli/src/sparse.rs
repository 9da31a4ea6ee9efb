//! `underhood sparse`: thin and thick files, extent maps, holes and hole-preserving copies.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use underhood_sparse::{
    CopyOptions, Durability, MapMethod, MapSource, Prealloc, Progress, Provisioning, Size,
    SparsePolicy,
};

#[derive(Subcommand, Debug)]
pub(crate) enum SparseCommand {
    /// Create a new file of SIZE bytes (K/M/G/T suffixes), thin or thick; never overwrites.
    Create {
        #[command(flatten)]
        provisioning: ProvisioningArg,
        /// The size, such as 4096, 512K, 10G or 2T.
        size: Size,
        /// The file to create.
        file: PathBuf,
    },
    /// Apparent size against allocated bytes (as `du --apparent-size` against `du`).
    Stat {
        /// The file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The extent map: data, hole and unwritten (preallocated) runs.
    Map {
        /// The file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Deallocate LENGTH bytes at OFFSET; the file keeps its size and reads zeros there.
    Punch {
        /// The file.
        file: PathBuf,
        /// Where the hole starts (K/M/G/T suffixes allowed).
        offset: Size,
        /// How long it is.
        length: Size,
    },
    /// Make LENGTH bytes at OFFSET read as zeros while keeping them allocated.
    Zero {
        /// The file.
        file: PathBuf,
        /// Where the range starts (K/M/G/T suffixes allowed).
        offset: Size,
        /// How long it is.
        length: Size,
    },
    /// Punch every all-zero block of data (like `fallocate --dig-holes`).
    Dig {
        /// The file.
        file: PathBuf,
    },
    /// Convert a file in place between thin and thick; its content never changes.
    Convert {
        #[command(flatten)]
        provisioning: ProvisioningArg,
        /// The file.
        file: PathBuf,
    },
    /// Copy a file keeping its holes, through a synced temporary file renamed into place.
    Copy {
        /// The source file.
        src: PathBuf,
        /// The destination file (replaced atomically if it exists).
        dst: PathBuf,
        /// Which zeros become holes, as with `cp --sparse`.
        #[arg(long, value_enum, default_value_t = SparseArg::Auto)]
        sparse: SparseArg,
        /// What happens to preallocated, unwritten extents.
        #[arg(long, value_enum, default_value_t = PreallocArg::Preserve)]
        prealloc: PreallocArg,
        /// Skip the fsync of the copy and its directory (as `cp` does): still renamed into
        /// place whole, but a power loss before writeback can lose the data; run `sync` after.
        #[arg(long)]
        no_sync: bool,
    },
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub(crate) struct ProvisioningArg {
    /// Sparse: nothing allocated until written.
    #[arg(long)]
    thin: bool,
    /// Space reserved with fallocate, no zeros written.
    #[arg(long)]
    thick_lazy: bool,
    /// Space reserved and zeros written.
    #[arg(long)]
    thick_eager: bool,
}

impl ProvisioningArg {
    fn get(&self) -> Provisioning {
        if self.thin {
            Provisioning::Thin
        } else if self.thick_lazy {
            Provisioning::ThickLazy
        } else {
            Provisioning::ThickEager
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum SparseArg {
    /// Holes stay holes; data is copied as it is.
    Auto,
    /// Also every all-zero block becomes a hole.
    Always,
    /// Everything is written, holes as zeros.
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum PreallocArg {
    /// Unwritten extents stay preallocated.
    Preserve,
    /// Unwritten extents become holes.
    Thin,
    /// The whole destination is preallocated.
    Thick,
}

/// Runs one `underhood sparse` command.
pub(crate) fn run(command: SparseCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        SparseCommand::Create {
            provisioning,
            size,
            file,
        } => underhood_sparse::create(&file, size.bytes(), provisioning.get())?,
        SparseCommand::Stat { file, json } => {
            let stat = underhood_sparse::stat(&file)?;
            note_source(&file, stat.source);
            if json {
                let value = serde_json::json!({
                    "apparent_bytes": stat.apparent_bytes,
                    "allocated_bytes": stat.allocated_bytes,
                    "block_size": stat.block_size,
                    "data_extents": stat.data_extents,
                    "holes": stat.holes,
                    "unwritten_extents": stat.unwritten_extents,
                    "data_bytes": stat.data_bytes,
                    "unwritten_bytes": stat.unwritten_bytes,
                    "hole_bytes": stat.hole_bytes,
                    "source": source_name(stat.source),
                });
                writeln!(out, "{value}")?;
            } else {
                let line = |n: u64| format!("{n} bytes ({})", human(n));
                writeln!(out, "apparent size: {}", line(stat.apparent_bytes))?;
                writeln!(out, "allocated:     {}", line(stat.allocated_bytes))?;
                writeln!(out, "block size:    {}", stat.block_size)?;
                writeln!(
                    out,
                    "data:          {} extents, {}",
                    stat.data_extents,
                    line(stat.data_bytes)
                )?;
                writeln!(
                    out,
                    "unwritten:     {} extents, {}",
                    stat.unwritten_extents,
                    line(stat.unwritten_bytes)
                )?;
                writeln!(
                    out,
                    "holes:         {} runs, {}",
                    stat.holes,
                    line(stat.hole_bytes)
                )?;
                writeln!(out, "map source:    {}", stat.source)?;
            }
        }
        SparseCommand::Map { file, json } => {
            let map = underhood_sparse::map(&file, MapMethod::Auto)?;
            note_source(&file, map.source());
            if json {
                let list: Vec<serde_json::Value> = map
                    .extents()
                    .iter()
                    .map(|e| serde_json::json!({"offset": e.offset, "length": e.length, "kind": e.kind.name()}))
                    .collect();
                writeln!(out, "{}", serde_json::Value::Array(list))?;
            } else {
                writeln!(out, "{:>20} {:>20}  kind", "offset", "length")?;
                for e in map.extents() {
                    writeln!(out, "{:>20} {:>20}  {}", e.offset, e.length, e.kind.name())?;
                }
            }
        }
        SparseCommand::Punch {
            file,
            offset,
            length,
        } => underhood_sparse::punch_hole(&file, offset.bytes(), length.bytes())?,
        SparseCommand::Zero {
            file,
            offset,
            length,
        } => {
            let method = underhood_sparse::zero_range(&file, offset.bytes(), length.bytes())?;
            if method != underhood_sparse::ZeroMethod::ZeroRange {
                eprintln!(
                    "underhood: note: no FALLOC_FL_ZERO_RANGE for {}; zeroed by {method:?}",
                    file.display()
                );
            }
        }
        SparseCommand::Dig { file } => {
            let report = underhood_sparse::dig_holes(&file)?;
            note_source(&file, report.source);
            writeln!(
                out,
                "punched {} of {} scanned bytes",
                report.punched_bytes, report.scanned_bytes
            )?;
        }
        SparseCommand::Convert { provisioning, file } => {
            let report = underhood_sparse::convert(&file, provisioning.get())?;
            note_source(&file, report.source);
        }
        SparseCommand::Copy {
            src,
            dst,
            sparse,
            prealloc,
            no_sync,
        } => {
            let options = CopyOptions {
                sparse: match sparse {
                    SparseArg::Auto => SparsePolicy::Auto,
                    SparseArg::Always => SparsePolicy::Always,
                    SparseArg::Never => SparsePolicy::Never,
                },
                prealloc: match prealloc {
                    PreallocArg::Preserve => Prealloc::Preserve,
                    PreallocArg::Thin => Prealloc::Thin,
                    PreallocArg::Thick => Prealloc::Thick,
                },
                durability: if no_sync {
                    Durability::Deferred
                } else {
                    Durability::Sync
                },
            };
            let mut meter = Meter::new();
            let report = underhood_sparse::copy(&src, &dst, &options, |p| meter.show(p));
            meter.finish();
            note_source(&src, report?.source);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says on stderr when a fallback was used.
fn note_source(file: &Path, source: MapSource) {
    match source {
        MapSource::Fiemap => {}
        MapSource::SeekHole => eprintln!(
            "underhood: note: no FIEMAP for {}; mapped with SEEK_DATA/SEEK_HOLE (preallocated extents look like holes)",
            file.display()
        ),
        _ => eprintln!(
            "underhood: note: neither FIEMAP nor SEEK_HOLE for {}; treated as all data and scanned for zeros",
            file.display()
        ),
    }
}

fn source_name(source: MapSource) -> &'static str {
    match source {
        MapSource::Fiemap => "fiemap",
        MapSource::SeekHole => "seek-hole",
        _ => "whole-file",
    }
}

fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// Progress on stderr, only when it is a terminal and the copy is long.
struct Meter {
    enabled: bool,
    last: Option<Instant>,
    shown: bool,
}

impl Meter {
    const EVERY: Duration = Duration::from_millis(200);
    const LONG: u64 = 64 << 20;

    fn new() -> Meter {
        Meter {
            enabled: io::stderr().is_terminal(),
            last: None,
            shown: false,
        }
    }

    fn show(&mut self, progress: Progress) {
        if !self.enabled || progress.total < Self::LONG {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < Self::EVERY) {
            return;
        }
        self.last = Some(now);
        self.shown = true;
        let percent = progress.done as f64 * 100.0 / progress.total as f64;
        eprint!(
            "\r{} of {} ({percent:.0}%)  ",
            human(progress.done),
            human(progress.total)
        );
    }

    fn finish(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(bytes: u64, expected: &str) {
        assert_eq!(human(bytes), expected);
    }

    #[test]
    fn human_sizes() {
        check(0, "0 B");
        check(1023, "1023 B");
        check(1024, "1.0 KiB");
        check(3 << 30, "3.0 GiB");
        check(u64::MAX, "16.0 EiB");
    }

    #[test]
    fn extent_kinds_print_as_the_contract_says() {
        assert_eq!(underhood_sparse::ExtentKind::Unwritten.name(), "unwritten");
    }
}
