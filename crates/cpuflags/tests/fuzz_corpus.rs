//! Replays the committed seed corpora of the cpuflags fuzz targets (`fuzz/corpus/cpuflags_*`)
//! with the checks of the targets themselves, so a crash input kept there fails `cargo test` too.

use std::fs;
use std::path::PathBuf;

use underhood_cpuflags::{
    Cpu, GuestCpu, baseline, canonical_flag, libvirt_flag, microarchitecture, psabi, qemu_flag,
};

/// The files of one target's corpus, sorted, with their names.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/corpus/{target}"));
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// What `fuzz/fuzz_targets/cpuflags_guest.rs` checks.
#[track_caller]
fn check_guest(guest: &GuestCpu) {
    let printed = guest.qemu_cpu();
    let again = GuestCpu::parse(&printed).expect("a printed guest parses");
    assert_eq!(again.model, guest.model);
    assert_eq!(again.added, guest.added);
    assert_eq!(again.removed, guest.removed);
    assert_eq!(again.flags(), guest.flags());
    assert!(again.not_expressible.is_empty());
    assert_eq!(again.qemu_cpu(), printed);
    for item in printed.split(',').skip(1) {
        let name = &item[1..];
        assert_eq!(qemu_flag(&canonical_flag(name)), Some(name), "{printed}");
    }
    let xml = guest.libvirt_xml();
    let features = xml.matches("<feature ").count();
    assert_eq!(features, guest.added.len() + guest.removed.len(), "{xml}");
    for flag in guest.added.iter().chain(&guest.removed) {
        let name = libvirt_flag(flag).expect("a flag QEMU sets has a libvirt name");
        assert!(xml.contains(&format!("name='{name}'")), "{xml}");
    }
}

#[test]
fn guest_corpus_parses_and_prints_back() {
    for (name, bytes) in corpus("cpuflags_guest") {
        let text = String::from_utf8_lossy(&bytes);
        // Every seed is a real model with real flags, so each must parse.
        let guest = GuestCpu::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_guest(&guest);
    }
}

#[test]
fn the_fuzz_crash_input_n270_hwp_notify() {
    let guest = GuestCpu::parse("n270,+hwp_notify").unwrap();
    assert_eq!(guest.qemu_cpu(), "n270");
    assert!(guest.added.is_empty());
    assert_eq!(
        guest.not_expressible.iter().collect::<Vec<_>>(),
        ["hwp_notify"]
    );
    assert!(!guest.libvirt_xml().contains("hwp"));
    check_guest(&guest);
    // The spelling the old printer invented now reads as the same flag.
    assert_eq!(GuestCpu::parse("n270,+hwp-notify").unwrap(), guest);
}

#[test]
fn cpuinfo_and_sysctl_corpora_classify_and_plan() {
    for (target, parse) in [
        ("cpuflags_cpuinfo", Cpu::from_cpuinfo as fn(&str) -> _),
        ("cpuflags_sysctl", Cpu::from_sysctl),
    ] {
        for (name, bytes) in corpus(target) {
            let text = String::from_utf8_lossy(&bytes);
            let cpu = parse(&text).unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
            let _ = microarchitecture(&cpu);
            let _ = psabi(&cpu.flags);
            let plan = baseline(std::slice::from_ref(&cpu)).expect("one host has a baseline");
            assert_eq!(plan.flags, cpu.kvm_offers(), "{target}/{name}");
            if let Some(cpu_string) = plan.qemu_cpu() {
                let guest = GuestCpu::parse(&cpu_string).expect("a printed baseline parses");
                check_guest(&guest);
            }
        }
    }
}
