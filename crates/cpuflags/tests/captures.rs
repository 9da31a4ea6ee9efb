//! Data-driven tests over the captures in `testdata/`: parse, classify, plan.

use std::collections::BTreeSet;

use underhood_cpuflags::{
    Arch, Cpu, Missing, ParseError, PsabiLevel, Source, UnknownMachine, baseline, canonical_flag,
    libvirt_flag, microarchitecture, psabi, qemu_flag,
};

/// What a capture must come out as.
struct Expect {
    arch: Arch,
    vendor: &'static str,
    uarch: &'static str,
    psabi: Option<PsabiLevel>,
    hypervisor: bool,
    /// `(count, kind contains)` per core group, in order.
    cores: &'static [(usize, &'static str)],
}

fn capture(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> Cpu {
    let text = capture(name);
    let cpu = if name.starts_with("sysctl/") {
        Cpu::from_sysctl(&text)
    } else if name.contains("ppc64le-") {
        // The file name says what `uname -m` said, which the text itself does not.
        Cpu::from_cpuinfo_on(&text, Arch::Ppc64le)
    } else {
        Cpu::from_cpuinfo(&text)
    };
    cpu.unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[track_caller]
fn check(name: &str, expect: Expect) {
    let cpu = parse(name);
    assert_eq!(cpu.arch, expect.arch, "{name}: arch");
    assert_eq!(cpu.vendor, expect.vendor, "{name}: vendor");
    assert_eq!(
        microarchitecture(&cpu).name,
        expect.uarch,
        "{name}: microarchitecture"
    );
    let level = (cpu.arch == Arch::X86_64)
        .then(|| psabi(&cpu.flags).level)
        .flatten();
    assert_eq!(level, expect.psabi, "{name}: psABI level");
    assert_eq!(cpu.hypervisor, expect.hypervisor, "{name}: hypervisor");
    let cores: Vec<(usize, &str)> = cpu
        .cores
        .iter()
        .map(|g| (g.count, g.kind.as_str()))
        .collect();
    assert_eq!(
        cores.len(),
        expect.cores.len(),
        "{name}: core groups {cores:?}"
    );
    for ((count, kind), (want_count, want_kind)) in cores.iter().zip(expect.cores) {
        assert_eq!(count, want_count, "{name}: {kind}");
        assert!(
            kind.contains(want_kind),
            "{name}: {kind:?} lacks {want_kind:?}"
        );
    }
    assert_eq!(cpu.missing, [], "{name}: a complete capture lacks nothing");
}

const NO_HV: bool = false;

#[test]
fn x86_captures_classify_as_archspec_does() {
    use PsabiLevel::*;
    let intel = "GenuineIntel";
    check(
        "cpuinfo/x86_64-westmere-x5670.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: intel,
            uarch: "westmere",
            psabi: Some(V2),
            hypervisor: NO_HV,
            cores: &[(4, "X5670")],
        },
    );
    // Haswell-EP shipped with TSX fused off: no hle/rtm, still haswell and v3.
    check(
        "cpuinfo/x86_64-haswell-e5-2680v3.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: intel,
            uarch: "haswell",
            psabi: Some(V3),
            hypervisor: NO_HV,
            cores: &[(4, "E5-2680 v3")],
        },
    );
    check(
        "cpuinfo/x86_64-cascadelake-gold-6248.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: intel,
            uarch: "cascadelake",
            psabi: Some(V4),
            hypervisor: NO_HV,
            cores: &[(8, "Gold 6248")],
        },
    );
    check(
        "cpuinfo/x86_64-kvm-guest-skylake-server-ibrs.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: intel,
            uarch: "skylake_avx512",
            psabi: Some(V4),
            hypervisor: true,
            cores: &[(2, "Skylake, IBRS")],
        },
    );
    check(
        "cpuinfo/x86_64-zen3-epyc-7763.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: "AuthenticAMD",
            uarch: "zen3",
            psabi: Some(V3),
            hypervisor: NO_HV,
            cores: &[(8, "EPYC 7763")],
        },
    );
    // macOS spells flags its own way (AVX1.0, LZCNT, CLFSOPT); archspec's conversions apply.
    check(
        "sysctl/macos-intel-i9-9880h.txt",
        Expect {
            arch: Arch::X86_64,
            vendor: intel,
            uarch: "skylake",
            psabi: Some(V3),
            hypervisor: NO_HV,
            cores: &[(16, "i9-9880H")],
        },
    );
}

#[test]
fn arm_power_and_riscv_captures_classify_as_archspec_does() {
    check(
        "cpuinfo/aarch64-neoverse-n1-graviton2.txt",
        Expect {
            arch: Arch::Aarch64,
            vendor: "ARM",
            uarch: "neoverse_n1",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(4, "0xd0c (neoverse_n1)")],
        },
    );
    check(
        "cpuinfo/aarch64-neoverse-v2-grace.txt",
        Expect {
            arch: Arch::Aarch64,
            vendor: "ARM",
            uarch: "neoverse_v2",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(4, "0xd4f")],
        },
    );
    // Four Cortex-A53 then two Cortex-A72: heterogeneous, flags are system-wide on arm64.
    check(
        "cpuinfo/aarch64-rk3399-big-little.txt",
        Expect {
            arch: Arch::Aarch64,
            vendor: "ARM",
            uarch: "cortex_a72",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(4, "0xd03"), (2, "0xd08")],
        },
    );
    check(
        "sysctl/macos-m2-pro.txt",
        Expect {
            arch: Arch::Aarch64,
            vendor: "Apple",
            uarch: "m2",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(8, "Performance"), (4, "Efficiency")],
        },
    );
    check(
        "cpuinfo/ppc64le-power9-powernv.txt",
        Expect {
            arch: Arch::Ppc64le,
            vendor: "IBM",
            uarch: "power9le",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(4, "POWER9")],
        },
    );
    // An LPAR under PowerVM.
    check(
        "cpuinfo/ppc64le-power10-pseries.txt",
        Expect {
            arch: Arch::Ppc64le,
            vendor: "IBM",
            uarch: "power10le",
            psabi: None,
            hypervisor: true,
            cores: &[(8, "POWER10")],
        },
    );
    check(
        "cpuinfo/riscv64-u74mc-visionfive2.txt",
        Expect {
            arch: Arch::Riscv64,
            vendor: "SiFive",
            uarch: "u74mc",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(4, "sifive,u74-mc")],
        },
    );
    check(
        "cpuinfo/riscv64-qemu-virt.txt",
        Expect {
            arch: Arch::Riscv64,
            vendor: "generic",
            uarch: "riscv64",
            psabi: None,
            hypervisor: NO_HV,
            cores: &[(2, "unknown")],
        },
    );
}

#[test]
fn each_vendor_keeps_its_own_speculation_control_names() {
    let intel = parse("cpuinfo/x86_64-cascadelake-gold-6248.txt");
    assert!(intel.flags.contains("spec_ctrl") && !intel.flags.contains("amd_ssbd"));
    let amd = parse("cpuinfo/x86_64-zen3-epyc-7763.txt");
    assert!(amd.flags.contains("amd_ssbd") && amd.flags.contains("amd_stibp"));
    assert!(!amd.flags.contains("spec_ctrl"));
    // KVM offers guests both vendors' names for what the host has.
    assert!(amd.kvm_offers().contains("spec_ctrl") && intel.kvm_offers().contains("amd_ssbd"));
}

#[test]
fn ancestors_follow_archspecs_order() {
    let haswell = microarchitecture(&parse("cpuinfo/x86_64-haswell-e5-2680v3.txt"));
    assert_eq!(
        haswell.ancestors,
        [
            "ivybridge",
            "x86_64_v3",
            "sandybridge",
            "westmere",
            "nehalem",
            "core2",
            "x86_64_v2",
            "nocona",
            "x86_64"
        ]
    );
    let m2 = microarchitecture(&parse("sysctl/macos-m2-pro.txt"));
    assert_eq!(
        m2.ancestors,
        [
            "m1", "armv8.5a", "armv8.4a", "armv8.3a", "armv8.2a", "armv8.1a", "aarch64"
        ]
    );
    assert_eq!(
        microarchitecture(&parse("cpuinfo/ppc64le-power9-powernv.txt")).ancestors,
        ["power8le", "ppc64le"]
    );
}

#[test]
fn equal_feature_sets_are_told_apart_by_cpu_part() {
    // Neoverse N2 and V2 list the same features; only the part number separates them.
    let grace = capture("cpuinfo/aarch64-neoverse-v2-grace.txt");
    let n2 = Cpu::from_cpuinfo(&grace.replace("0xd4f", "0xd49")).unwrap();
    assert_eq!(microarchitecture(&n2).name, "neoverse_n2");
    // An unknown part falls back to the feature rule.
    let other = Cpu::from_cpuinfo(&grace.replace("0xd4f", "0xfff")).unwrap();
    assert_eq!(microarchitecture(&other).name, "neoverse_v2");
}

#[test]
fn a_missing_niche_flag_falls_back_to_the_best_generic_level() {
    // Without `rdrand` no Intel model from sandybridge on fits, but x86_64_v3 still does: archspec
    // keeps only descendants of the best generic level, so the answer is the generic level.
    let text = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt").replace(" rdrand", "");
    let cpu = Cpu::from_cpuinfo(&text).unwrap();
    assert_eq!(microarchitecture(&cpu).name, "x86_64_v3");
    // A different vendor string rules out every vendor model.
    let text = capture("cpuinfo/x86_64-zen3-epyc-7763.txt").replace("AuthenticAMD", "HygonGenuine");
    assert_eq!(
        microarchitecture(&Cpu::from_cpuinfo(&text).unwrap()).name,
        "x86_64_v3"
    );
}

#[test]
fn power_without_a_generation_is_generic() {
    let text = capture("cpuinfo/ppc64le-power9-powernv.txt").replace("POWER9", "emulated");
    let cpu = Cpu::from_cpuinfo(&text).unwrap();
    assert_eq!(microarchitecture(&cpu).name, "ppc64le");
    assert!(cpu.missing.contains(&Missing::Generation));
}

#[test]
fn psabi_names_the_flags_that_block_the_next_level() {
    let westmere = psabi(&parse("cpuinfo/x86_64-westmere-x5670.txt").flags);
    assert_eq!(westmere.level, Some(PsabiLevel::V2));
    assert_eq!(
        westmere.blockers,
        [
            "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"
        ]
    );
    let zen3 = psabi(&parse("cpuinfo/x86_64-zen3-epyc-7763.txt").flags);
    assert_eq!(
        zen3.blockers,
        ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
    );
    assert_eq!(
        psabi(&parse("cpuinfo/x86_64-cascadelake-gold-6248.txt").flags).blockers,
        [""; 0]
    );
    assert_eq!(psabi(&BTreeSet::new()).level, None);
}

#[test]
fn a_truncated_capture_is_partial_and_says_what_was_cut() {
    let cpu = parse("cpuinfo/x86_64-truncated.txt");
    assert_eq!(
        cpu.missing,
        [
            Missing::TruncatedLine { line: 76 },
            Missing::Flags { processor: Some(2) }
        ]
    );
    // The two complete blocks still decide the flags: the cut word is not taken for a flag.
    assert_eq!(
        cpu.flags,
        parse("cpuinfo/x86_64-haswell-e5-2680v3.txt").flags
    );
    assert_eq!(microarchitecture(&cpu).name, "haswell");
    // Cut inside the first block, nothing stands in: the whole words are kept, the last one not.
    let cpu =
        Cpu::from_cpuinfo("processor : 0\nvendor_id : GenuineIntel\nflags : fpu sse ss").unwrap();
    assert_eq!(cpu.missing, [Missing::TruncatedWord { line: 3 }]);
    assert!(cpu.flags.contains("sse") && !cpu.flags.contains("ss"));
    let cpu = Cpu::from_cpuinfo("processor : 0\nvendor_id : GenuineIntel\nflags :").unwrap();
    assert_eq!(
        cpu.missing,
        [
            Missing::TruncatedLine { line: 3 },
            Missing::Flags { processor: Some(0) }
        ]
    );
}

#[test]
fn garbled_lines_are_reported_and_skipped() {
    let text =
        "processor : 0\nvendor_id : GenuineIntel\n\u{0}\u{1}garbage\nflags : fpu sse sse2\n\n";
    let cpu = Cpu::from_cpuinfo(text).unwrap();
    assert_eq!(cpu.missing, [Missing::GarbledLine { line: 3 }]);
    assert!(cpu.flags.contains("sse2"));
    // A block that lost its flag line: a partial CPU that says so.
    let cpu = Cpu::from_cpuinfo("processor : 3\nvendor_id : AuthenticAMD\n\n").unwrap();
    assert_eq!(cpu.missing, [Missing::Flags { processor: Some(3) }]);
    assert_eq!(microarchitecture(&cpu).name, "x86_64");
    let cpu =
        Cpu::from_cpuinfo("processor : 0\nCPU implementer : 0x99\nFeatures : fp\n\n").unwrap();
    assert_eq!(
        cpu.missing,
        [
            Missing::UnknownImplementer {
                code: "0x99".into()
            },
            Missing::CpuPart
        ]
    );
    let cpu = Cpu::from_cpuinfo("processor : 0\nflags : fpu\n\n").unwrap();
    assert_eq!(cpu.missing, [Missing::Vendor]);
    assert_eq!(cpu.vendor, "generic");
}

#[test]
fn captures_that_describe_no_cpu_are_errors() {
    assert_eq!(Cpu::from_cpuinfo(""), Err(ParseError::Empty));
    assert_eq!(Cpu::from_cpuinfo(" \n\t\n"), Err(ParseError::Empty));
    assert_eq!(
        Cpu::from_cpuinfo("hello: world\n"),
        Err(ParseError::UnknownArchitecture {
            keys: vec!["hello".into()]
        })
    );
    assert_eq!(
        Cpu::from_cpuinfo("flags : fpu\n"),
        Err(ParseError::NoProcessor)
    );
    assert!(matches!(
        Cpu::from_sysctl("kern.ostype: Darwin\n"),
        Err(ParseError::UnknownArchitecture { .. })
    ));
    assert_eq!(Cpu::from_sysctl(""), Err(ParseError::Empty));
}

#[test]
fn capture_format_is_sniffed() {
    assert_eq!(
        Cpu::from_capture(&capture("sysctl/macos-m2-pro.txt"))
            .unwrap()
            .source,
        Source::Sysctl
    );
    let cpuinfo = Cpu::from_capture(&capture("cpuinfo/x86_64-zen3-epyc-7763.txt")).unwrap();
    assert_eq!(cpuinfo.source, Source::Cpuinfo);
}

#[test]
fn cpuinfo_and_macos_spellings_meet_in_one_vocabulary() {
    let mac = parse("sysctl/macos-intel-i9-9880h.txt");
    for flag in [
        "pni",
        "sse4_1",
        "abm",
        "lahf_lm",
        "pdpe1gb",
        "nx",
        "lm",
        "fsgsbase",
        "tsc_deadline_timer",
        "clflushopt",
        "md_clear",
        "avx",
    ] {
        assert!(
            mac.flags.contains(flag),
            "{flag} missing from {:?}",
            mac.flags
        );
    }
    for (alias, linux) in [
        ("sse3", "pni"),
        ("SSE4.2", "sse4_2"),
        ("pclmuldq", "pclmulqdq"),
        ("lahf-lm", "lahf_lm"),
        ("tsc-deadline", "tsc_deadline_timer"),
        ("lzcnt", "abm"),
        ("cmt", "cqm"),
        ("ds", "dts"),
        ("sse4-1", "sse4_1"),
        ("i64", "lm"),
        ("bmi", "bmi1"),
    ] {
        assert_eq!(canonical_flag(alias), linux, "{alias}");
    }
    assert_eq!(qemu_flag("sse4_2"), Some("sse4.2"));
    assert_eq!(libvirt_flag("lahf_lm"), Some("lahf_lm"));
    assert_eq!(qemu_flag("lahf_lm"), Some("lahf-lm"));
}

#[test]
fn the_name_map_round_trips_for_every_differing_name() {
    let map: serde_json::Value =
        serde_json::from_str(include_str!("../data/name_map.json")).unwrap();
    for entry in map["differing"].as_array().unwrap() {
        let Some(linux) = entry["linux"].as_str() else {
            continue;
        };
        if let Some(qemu) = entry["qemu"].as_str() {
            assert_eq!(canonical_flag(qemu), linux, "qemu {qemu}");
            assert_eq!(qemu_flag(linux), Some(qemu), "linux {linux}");
        }
        if let Some(libvirt) = entry["libvirt"].as_str() {
            assert_eq!(canonical_flag(libvirt), linux, "libvirt {libvirt}");
            assert_eq!(libvirt_flag(linux), Some(libvirt), "linux {linux}");
        }
    }
}

#[test]
fn model_levels_agree_with_the_vendored_qemu_table() {
    let models: serde_json::Value =
        serde_json::from_str(include_str!("../data/models.json")).unwrap();
    let mut checked = 0;
    for model in underhood_cpuflags::qemu_models() {
        let want = models["qemu_7_2_models"][&model.name]["psabi_level"].as_str();
        let got = model
            .psabi_level
            .map(|l| l.name().trim_start_matches("x86_64_").to_owned());
        assert_eq!(got.as_deref(), want, "{}", model.name);
        checked += 1;
    }
    assert!(checked > 100, "{checked} models");
}

#[test]
fn every_hand_written_capture_is_covered() {
    let dir = format!("{}/testdata", env!("CARGO_MANIFEST_DIR"));
    for sub in ["cpuinfo", "sysctl"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let name = format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy());
            let cpu = parse(&name);
            // Each gives a usable answer.
            assert!(!microarchitecture(&cpu).name.is_empty(), "{name}");
        }
    }
}

#[test]
fn a_fleet_of_unlike_intel_hosts_gets_haswell_with_extras() {
    let hosts: Vec<Cpu> = [
        "cpuinfo/x86_64-haswell-e5-2680v3.txt",
        "cpuinfo/x86_64-cascadelake-gold-6248.txt",
        "cpuinfo/x86_64-kvm-guest-skylake-server-ibrs.txt",
    ]
    .into_iter()
    .map(parse)
    .collect();
    let plan = baseline(&hosts).unwrap();
    assert_eq!(plan.psabi.as_ref().unwrap().level, Some(PsabiLevel::V3));
    assert_eq!(plan.microarchitecture.name, "haswell");
    // Haswell-EP lacks TSX, so the TSX-less, IBRS model with the most features wins.
    assert_eq!(plan.qemu_model.as_deref(), Some("Haswell-v4"));
    assert_eq!(plan.libvirt_model.as_deref(), Some("Haswell-noTSX-IBRS"));
    assert_eq!(
        plan.qemu_cpu().unwrap(),
        "Haswell-v4,+md-clear,+pdpe1gb,+ss,+ssbd,+stibp,+tsc-adjust,+vme"
    );
    // libvirt's Haswell lacks f16c, rdrand and abm; they come back as extras in libvirt's names.
    let xml = plan.libvirt_xml().unwrap();
    for needle in [
        "<model fallback='forbid'>Haswell-noTSX-IBRS</model>",
        "<vendor>Intel</vendor>",
        "name='f16c'",
        "name='rdrand'",
        "name='abm'",
        "name='tsc_adjust'",
    ] {
        assert!(xml.contains(needle), "{needle} not in\n{xml}");
    }
    // Why nothing richer: the TSX models need hle and rtm, Broadwell needs what Haswell-EP lacks.
    let misses: Vec<(&str, Vec<&str>)> = plan
        .qemu_near_misses
        .iter()
        .map(|m| {
            (
                m.model.as_str(),
                m.missing.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(misses[0], ("Haswell-v3", vec!["hle", "rtm"]));
    assert!(
        misses
            .iter()
            .any(|(m, missing)| m.starts_with("Broadwell") && missing.contains(&"rdseed"))
    );
    // Host-only and migration-blocking flags never reach a guest.
    for flag in [
        "vmx",
        "invtsc",
        "hypervisor",
        "monitor",
        "dts",
        "constant_tsc",
    ] {
        assert!(!plan.qemu_extra.iter().any(|f| f == flag), "{flag}");
    }
}

#[test]
fn an_amd_fleet_gets_an_epyc_model() {
    let plan = baseline(&[parse("cpuinfo/x86_64-zen3-epyc-7763.txt")]).unwrap();
    assert_eq!(plan.qemu_model.as_deref(), Some("EPYC-Milan-v1"));
    assert_eq!(plan.libvirt_model.as_deref(), Some("EPYC-Milan"));
    assert!(plan.libvirt_xml().unwrap().contains("<vendor>AMD</vendor>"));
}

#[test]
fn mixed_vendors_get_vendor_neutral_models_and_the_flags_back_as_extras() {
    let plan = baseline(&[
        parse("cpuinfo/x86_64-zen3-epyc-7763.txt"),
        parse("cpuinfo/x86_64-haswell-e5-2680v3.txt"),
    ])
    .unwrap();
    assert_eq!(plan.vendor, None);
    // `qemu64` has `svm`, which Intel lacks; `kvm64` runs on both.
    assert_eq!(plan.qemu_model.as_deref(), Some("kvm64-v1"));
    assert_eq!(plan.libvirt_model.as_deref(), Some("cpu64-rhel6"));
    assert!(!plan.libvirt_xml().unwrap().contains("<vendor>"));
    // No advice names one vendor's twin of a speculation-control bit.
    assert!(
        plan.recommendations.iter().all(|r| r.flag != "amd_ssbd"),
        "{:?}",
        plan.recommendations
    );
    // The extras bring the guest up to the common psABI level.
    let mut guest = underhood_cpuflags::find_model("kvm64-v1")
        .unwrap()
        .flags
        .clone();
    guest.extend(plan.qemu_extra.iter().cloned());
    assert_eq!(psabi(&guest).level, Some(PsabiLevel::V3));
}

#[test]
fn non_x86_fleets_get_flags_and_a_microarchitecture_but_no_model() {
    let plan = baseline(&[
        parse("cpuinfo/aarch64-neoverse-v2-grace.txt"),
        parse("cpuinfo/aarch64-neoverse-n1-graviton2.txt"),
    ])
    .unwrap();
    assert_eq!(plan.microarchitecture.name, "neoverse_n1");
    assert_eq!(
        (plan.qemu_cpu(), plan.qemu_model, plan.psabi),
        (None, None, None)
    );
    assert_eq!(
        baseline(&[
            parse("cpuinfo/aarch64-neoverse-v2-grace.txt"),
            parse("cpuinfo/x86_64-zen3-epyc-7763.txt")
        ]),
        Err(underhood_cpuflags::PlanError::MixedArchitectures {
            index: 1,
            expected: Arch::Aarch64,
            found: Arch::X86_64
        })
    );
    assert_eq!(baseline(&[]), Err(underhood_cpuflags::PlanError::NoHosts));
}

#[test]
fn the_running_host_describes_itself() {
    // CPUID on x86-64, /proc/cpuinfo elsewhere on Linux; either way a usable description.
    let cpu = match Cpu::detect_host() {
        Ok(cpu) => cpu,
        // Only a platform with no detection path may fail.
        Err(err) => {
            assert!(
                matches!(err, underhood_cpuflags::HostError::Unsupported { .. }),
                "{err}"
            );
            return;
        }
    };
    assert!(!microarchitecture(&cpu).name.is_empty());
    if cfg!(target_arch = "x86_64") {
        assert_eq!((cpu.arch, cpu.source), (Arch::X86_64, Source::Cpuid));
        // Every x86-64 CPU has the v1 flags.
        assert!(
            psabi(&cpu.flags).level >= Some(PsabiLevel::V1),
            "{:?}",
            cpu.flags
        );
        assert!(!cpu.vendor.is_empty() && cpu.missing.is_empty());
    }
}

/// Inputs the fuzz targets found, kept as regressions.
#[test]
fn fuzz_finds_stay_fixed() {
    for name in [
        "cpuinfo-single-host-baseline.txt",
        "sysctl-single-host-baseline.txt",
    ] {
        let bytes = std::fs::read(format!(
            "{}/testdata/fuzz/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let Ok(cpu) = Cpu::from_capture(&text) else {
            continue;
        };
        let _ = microarchitecture(&cpu);
        // A fleet of one host offers guests exactly what KVM offers on that host.
        assert_eq!(
            baseline(std::slice::from_ref(&cpu)).unwrap().flags,
            cpu.kvm_offers(),
            "{name}"
        );
    }
}

/// POWER's /proc/cpuinfo does not say big- or little-endian: without the machine the parse
/// assumes ppc64le and says so; with it, the machine decides (and archspec's big-endian names).
#[test]
fn power_endianness_comes_from_the_machine_or_is_stated_as_assumed() {
    let text = capture("cpuinfo/ppc64le-power9-powernv.txt");
    let assumed = Cpu::from_cpuinfo(&text).unwrap();
    assert_eq!(assumed.arch, Arch::Ppc64le);
    assert_eq!(assumed.missing, [Missing::Endianness]);
    assert_eq!(microarchitecture(&assumed).name, "power9le");

    let big = Cpu::from_cpuinfo_on(&text, Arch::Ppc64).unwrap();
    assert_eq!(big.arch, Arch::Ppc64);
    assert_eq!(big.missing, []);
    assert_eq!(microarchitecture(&big).name, "power9");

    let x86 = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    assert_eq!(Cpu::from_cpuinfo(&x86).unwrap().missing, []);
    assert_eq!(
        Cpu::from_cpuinfo_on(&x86, Arch::X86_64).unwrap(),
        Cpu::from_cpuinfo(&x86).unwrap()
    );
    assert_eq!(
        Cpu::from_cpuinfo_on(&x86, Arch::Ppc64),
        Err(ParseError::MachineMismatch {
            machine: Arch::Ppc64,
            capture: Arch::X86_64
        })
    );
    for (machine, arch) in [
        ("x86_64", Arch::X86_64),
        ("aarch64", Arch::Aarch64),
        ("arm64", Arch::Aarch64),
        ("ppc64le", Arch::Ppc64le),
        ("ppc64", Arch::Ppc64),
        ("riscv64", Arch::Riscv64),
    ] {
        assert_eq!(machine.parse::<Arch>(), Ok(arch));
    }
    for bad in ["", "ppc", "PPC64", "i686", "x86-64", "ppc64le "] {
        assert_eq!(
            bad.parse::<Arch>(),
            Err(UnknownMachine {
                machine: bad.to_owned()
            })
        );
    }
}
