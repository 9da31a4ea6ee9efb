//! `underhood cpu`: CPU feature detection and KVM guest CPU planning.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use underhood_cpuflags::{
    Action, Arch, Cpu, GuestCpu, Missing, NearMiss, Recommendation, baseline, compare,
    libvirt_flag, microarchitecture, psabi, qemu_flag,
};

#[derive(Subcommand, Debug)]
pub(crate) enum CpuCommand {
    /// Describe one CPU: flags, psABI level, archspec microarchitecture, hypervisor.
    Detect {
        #[command(flatten)]
        capture: Capture,
        /// The machine of a `--cpuinfo` capture as `uname -m` prints it (`ppc64`, `ppc64le`,
        /// `aarch64`, `x86_64`, `riscv64`), for what the text does not state: POWER's
        /// endianness (without it, `ppc64le` is assumed and said). A capture of another
        /// architecture is refused.
        #[arg(long, value_name = "MACHINE", requires = "cpuinfo")]
        machine: Option<Arch>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What a fleet has in common, and the named QEMU and libvirt models that run on all of it.
    ///
    /// Common flags QEMU has no name for are listed as not expressible, never written into the
    /// `-cpu` string or the libvirt element.
    Baseline {
        /// Captures, one per host: `/proc/cpuinfo` texts or macOS `sysctl` dumps.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a guest CPU (`Model,+flag,-flag`) against a host: what is missing, is migration safe.
    ///
    /// Flags QEMU cannot set (no QEMU name, such as `hwp_notify`) are listed as not expressible
    /// and left out of the printed guest, which parses back with `--guest` to the same guest.
    Compare {
        /// The guest CPU as QEMU writes it, e.g. `Westmere,+pcid`.
        #[arg(long)]
        guest: String,
        /// The host's `/proc/cpuinfo` text.
        #[arg(long, value_name = "FILE", conflicts_with = "host")]
        cpuinfo: Option<PathBuf>,
        /// `host`: compare against the running machine.
        #[arg(value_parser = ["host"], required_unless_present = "cpuinfo")]
        host: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
#[group(required = false, multiple = false)]
pub(crate) struct Capture {
    /// A Linux `/proc/cpuinfo` text (default: the running host).
    #[arg(long, value_name = "FILE")]
    cpuinfo: Option<PathBuf>,
    /// A macOS `sysctl machdep.cpu` / `sysctl hw` dump.
    #[arg(long, value_name = "FILE")]
    sysctl: Option<PathBuf>,
}

/// Runs one `underhood cpu` command.
pub(crate) fn run(command: CpuCommand) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        CpuCommand::Detect {
            capture,
            machine,
            json,
        } => {
            let cpu = if let Some(path) = &capture.cpuinfo {
                match machine {
                    Some(machine) => parse(path, |text| Cpu::from_cpuinfo_on(text, machine))?,
                    None => parse(path, Cpu::from_cpuinfo)?,
                }
            } else if let Some(path) = &capture.sysctl {
                parse(path, Cpu::from_sysctl)?
            } else {
                Cpu::detect_host().context("reading the running host's CPU")?
            };
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&detect_json(&cpu))?)?;
            } else {
                detect_text(&mut out, &cpu)?;
            }
        }
        CpuCommand::Baseline { files, json } => {
            let hosts = files
                .iter()
                .map(|path| parse(path, Cpu::from_capture))
                .collect::<Result<Vec<Cpu>>>()?;
            let plan = baseline(&hosts)?;
            let level = plan.psabi.as_ref().and_then(|p| p.level);
            let qemu_extra: Vec<&str> = plan
                .qemu_extra
                .iter()
                .filter_map(|f| qemu_flag(f))
                .collect();
            let libvirt_extra: Vec<&str> = plan
                .libvirt_extra
                .iter()
                .filter_map(|f| libvirt_flag(f))
                .collect();
            if json {
                let value = json!({
                    "hosts": plan.hosts,
                    "arch": plan.arch,
                    "vendor": plan.vendor,
                    "flags": plan.flags,
                    "psabi_level": level,
                    "psabi_blockers": plan.psabi.as_ref().map(|p| &p.blockers),
                    "microarchitecture": plan.microarchitecture.name,
                    "ancestors": plan.microarchitecture.ancestors,
                    "qemu_model": plan.qemu_model,
                    "libvirt_model": plan.libvirt_model,
                    "qemu_extra": qemu_extra,
                    "libvirt_extra": libvirt_extra,
                    "not_expressible": plan.not_expressible,
                    "qemu_cpu": plan.qemu_cpu(),
                    "libvirt_xml": plan.libvirt_xml(),
                    "qemu_near_misses": near_misses_json(&plan.qemu_near_misses, qemu_flag),
                    "libvirt_near_misses": near_misses_json(&plan.libvirt_near_misses, libvirt_flag),
                    "recommendations": recommendations_json(&plan.recommendations),
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                writeln!(out, "hosts: {} ({})", plan.hosts, plan.arch)?;
                writeln!(out, "vendor: {}", plan.vendor.as_deref().unwrap_or("mixed"))?;
                writeln!(
                    out,
                    "common flags ({}): {}",
                    plan.flags.len(),
                    join(&plan.flags)
                )?;
                if let Some(p) = &plan.psabi {
                    let level = p.level.map_or("none", |l| l.name());
                    writeln!(out, "psabi level: {level}{}", blockers(&p.blockers))?;
                }
                writeln!(out, "microarchitecture: {}", plan.microarchitecture.name)?;
                if plan.arch != Arch::X86_64 {
                    writeln!(
                        out,
                        "named guest models: none (QEMU and libvirt models known here are x86 only)"
                    )?;
                }
                if let Some(model) = &plan.qemu_model {
                    writeln!(out, "best qemu model: {model}")?;
                    writeln!(out, "qemu extra flags: {}", join(&qemu_extra))?;
                }
                if let Some(model) = &plan.libvirt_model {
                    writeln!(out, "best libvirt model: {model}")?;
                    writeln!(out, "libvirt extra flags: {}", join(&libvirt_extra))?;
                }
                for miss in &plan.qemu_near_misses {
                    let missing: Vec<String> = miss.missing.iter().map(|f| qemu_name(f)).collect();
                    writeln!(
                        out,
                        "qemu {} would also need: {}",
                        miss.model,
                        join(&missing)
                    )?;
                }
                for miss in &plan.libvirt_near_misses {
                    let missing: Vec<&str> = miss
                        .missing
                        .iter()
                        .map(|f| libvirt_flag(f).unwrap_or(f))
                        .collect();
                    writeln!(
                        out,
                        "libvirt {} would also need: {}",
                        miss.model,
                        join(&missing)
                    )?;
                }
                not_expressible_text(&mut out, &plan.not_expressible)?;
                if let Some(cpu) = plan.qemu_cpu() {
                    writeln!(out, "qemu: -cpu {cpu}")?;
                }
                if let Some(xml) = plan.libvirt_xml() {
                    writeln!(out, "libvirt:\n{xml}")?;
                }
                recommendations_text(&mut out, &plan.recommendations)?;
            }
        }
        CpuCommand::Compare {
            guest,
            cpuinfo,
            host: _,
            json,
        } => {
            let guest = GuestCpu::parse(&guest)?;
            let host = match &cpuinfo {
                Some(path) => parse(path, Cpu::from_capture)?,
                None => Cpu::detect_host().context("reading the running host's CPU")?,
            };
            let result = compare(&guest, &host)?;
            let missing_qemu: Vec<String> = result.missing.iter().map(|f| qemu_name(f)).collect();
            if json {
                let value = json!({
                    "guest": result.guest,
                    "host": {
                        "vendor": host.vendor,
                        "microarchitecture": microarchitecture(&host).name,
                        "psabi_level": result.host_psabi.level,
                    },
                    "missing": result.missing,
                    "missing_qemu": missing_qemu,
                    "migration_safe": result.migration_safe,
                    "vendor_matches": result.vendor_matches,
                    "unverifiable": result.unverifiable,
                    "not_expressible": result.not_expressible,
                    "guest_psabi_level": result.guest_psabi.level,
                    "qemu_cpu": guest.qemu_cpu(),
                    "libvirt_xml": guest.libvirt_xml(),
                    "recommendations": recommendations_json(&result.recommendations),
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
            } else {
                writeln!(out, "guest: {}", result.guest)?;
                not_expressible_text(&mut out, &result.not_expressible)?;
                writeln!(
                    out,
                    "host: {} {}",
                    host.vendor,
                    microarchitecture(&host).name
                )?;
                let missing = if missing_qemu.is_empty() {
                    "none".to_owned()
                } else {
                    join(&missing_qemu)
                };
                writeln!(out, "missing on host: {missing}")?;
                if !result.vendor_matches {
                    writeln!(out, "vendor: the guest model is not the host's vendor")?;
                }
                if !result.unverifiable.is_empty() {
                    writeln!(
                        out,
                        "unverifiable from /proc/cpuinfo: {}",
                        join(&result.unverifiable)
                    )?;
                }
                let verdict = if result.migration_safe {
                    "safe"
                } else {
                    "NOT safe"
                };
                writeln!(out, "migration to this host: {verdict}")?;
                let level = |p: &underhood_cpuflags::Psabi| p.level.map_or("none", |l| l.name());
                writeln!(
                    out,
                    "psabi level: guest {}, host {}",
                    level(&result.guest_psabi),
                    level(&result.host_psabi)
                )?;
                recommendations_text(&mut out, &result.recommendations)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse(
    path: &Path,
    parser: impl Fn(&str) -> Result<Cpu, underhood_cpuflags::ParseError>,
) -> Result<Cpu> {
    let bytes = crate::files::read_limited(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parser(&text).with_context(|| format!("parsing {}", path.display()))
}

fn detect_json(cpu: &Cpu) -> Value {
    let uarch = microarchitecture(cpu);
    let abi = (cpu.arch == Arch::X86_64).then(|| psabi(&cpu.flags));
    json!({
        "vendor": cpu.vendor,
        "arch": cpu.arch,
        "model_name": cpu.model_name,
        "flags": cpu.flags,
        "psabi_level": abi.as_ref().and_then(|p| p.level),
        "psabi_blockers": abi.as_ref().map(|p| &p.blockers),
        "microarchitecture": uarch.name,
        "ancestors": uarch.ancestors,
        "hypervisor": cpu.hypervisor,
        "hypervisor_vendor": cpu.hypervisor_vendor,
        "source": cpu.source,
        "cpu_part": cpu.cpu_part,
        "generation": cpu.generation,
        "cores": cpu.cores,
        "heterogeneous": cpu.is_heterogeneous(),
        "missing": cpu.missing,
    })
}

fn detect_text(out: &mut impl Write, cpu: &Cpu) -> Result<()> {
    let uarch = microarchitecture(cpu);
    writeln!(out, "arch: {}", cpu.arch)?;
    writeln!(out, "vendor: {}", cpu.vendor)?;
    if let Some(name) = &cpu.model_name {
        writeln!(out, "model name: {name}")?;
    }
    writeln!(out, "microarchitecture: {}", uarch.name)?;
    writeln!(out, "ancestors: {}", join(&uarch.ancestors))?;
    if cpu.arch == Arch::X86_64 {
        let p = psabi(&cpu.flags);
        writeln!(
            out,
            "psabi level: {}{}",
            p.level.map_or("none", |l| l.name()),
            blockers(&p.blockers)
        )?;
    }
    let hypervisor = match (&cpu.hypervisor, &cpu.hypervisor_vendor) {
        (true, Some(vendor)) => format!("yes ({vendor})"),
        (true, None) => "yes".to_owned(),
        (false, _) => "no".to_owned(),
    };
    writeln!(out, "hypervisor: {hypervisor}")?;
    for group in &cpu.cores {
        writeln!(out, "cores: {} x {}", group.count, group.kind)?;
    }
    if cpu.is_heterogeneous() {
        writeln!(
            out,
            "heterogeneous: yes (classified by the first core, as archspec does)"
        )?;
    }
    writeln!(out, "flags ({}): {}", cpu.flags.len(), join(&cpu.flags))?;
    for missing in &cpu.missing {
        if *missing == Missing::Endianness {
            writeln!(out, "warning: {missing} (--machine ppc64 for big-endian)")?;
        } else {
            writeln!(out, "warning: {missing}")?;
        }
    }
    Ok(())
}

/// The line naming flags that QEMU and libvirt cannot set, left out of what is printed.
fn not_expressible_text(out: &mut impl Write, flags: &[String]) -> Result<()> {
    if !flags.is_empty() {
        writeln!(
            out,
            "not expressible for QEMU or libvirt (left out): {}",
            join(flags)
        )?;
    }
    Ok(())
}

fn blockers(list: &[&str]) -> String {
    if list.is_empty() {
        String::new()
    } else {
        format!(" (next level needs: {})", list.join(" "))
    }
}

fn qemu_name(flag: &str) -> String {
    qemu_flag(flag).map_or_else(|| flag.to_owned(), str::to_owned)
}

fn near_misses_json(list: &[NearMiss], name: fn(&str) -> Option<&'static str>) -> Value {
    list.iter()
        .map(|miss| {
            let missing: Vec<&str> = miss.missing.iter().map(|f| name(f).unwrap_or(f)).collect();
            json!({"model": miss.model, "missing": missing})
        })
        .collect()
}

fn recommendations_json(list: &[Recommendation]) -> Value {
    list.iter()
        .map(|r| json!({"flag": r.flag, "qemu": qemu_flag(r.flag), "action": r.action, "reason": r.reason}))
        .collect()
}

fn recommendations_text(out: &mut impl Write, list: &[Recommendation]) -> Result<()> {
    for r in list {
        let what = match r.action {
            Action::Add => format!("add +{}", qemu_name(r.flag)),
            Action::Remove => format!("remove -{}", qemu_name(r.flag)),
            Action::Unavailable => format!("not on every host: {}", qemu_name(r.flag)),
        };
        writeln!(out, "recommend: {what}: {}", r.reason)?;
    }
    Ok(())
}

fn join<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
