//! A guest CPU model against a host: what is missing, is migration safe, what to add.

use underhood_cpuflags::{Action, Cpu, GuestCpu, GuestSpecError, PlanError, compare};

fn host(name: &str) -> Cpu {
    let path = format!("{}/testdata/cpuinfo/{name}", env!("CARGO_MANIFEST_DIR"));
    Cpu::from_cpuinfo(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Compares `guest` with the capture `host` and checks the verdict, the missing flags (canonical)
/// and that each of `add` is recommended.
#[track_caller]
fn check(guest: &str, host_file: &str, safe: bool, missing: &[&str], add: &[&str]) {
    let result = compare(&GuestCpu::parse(guest).unwrap(), &host(host_file)).unwrap();
    assert_eq!(
        result.migration_safe, safe,
        "{guest} on {host_file}: {result:?}"
    );
    assert_eq!(result.missing, missing, "{guest} on {host_file}");
    for flag in add {
        assert!(
            result
                .recommendations
                .iter()
                .any(|r| r.flag == *flag && r.action == Action::Add),
            "{guest} on {host_file}: no advice to add {flag}: {:?}",
            result.recommendations
        );
    }
}

const WESTMERE: &str = "x86_64-westmere-x5670.txt";
const HASWELL: &str = "x86_64-haswell-e5-2680v3.txt";
const CASCADE: &str = "x86_64-cascadelake-gold-6248.txt";
const ZEN3: &str = "x86_64-zen3-epyc-7763.txt";

#[test]
fn guests_on_hosts() {
    // The classic: Westmere migrates anywhere, but without pcid KPTI flushes the TLB.
    check(
        "Westmere",
        HASWELL,
        true,
        &[],
        &[
            "pcid",
            "invpcid",
            "avx2",
            "x2apic",
            "tsc_deadline_timer",
            "md_clear",
        ],
    );
    check("Westmere,+pcid", HASWELL, true, &[], &["invpcid", "avx2"]);
    check("Westmere-IBRS,+pcid", WESTMERE, true, &[], &["pdpe1gb"]);
    // A newer model on an older host: the flags it lacks block start and migration.
    check(
        "Haswell-noTSX",
        WESTMERE,
        false,
        &[
            "abm",
            "avx",
            "avx2",
            "bmi1",
            "bmi2",
            "erms",
            "f16c",
            "fma",
            "fsgsbase",
            "invpcid",
            "movbe",
            "rdrand",
            "smep",
            "tsc_deadline_timer",
            "x2apic",
            "xsave",
            "xsaveopt",
        ],
        &[],
    );
    // Haswell-EP has TSX fused off: the TSX model does not fit it.
    check("Haswell", HASWELL, false, &["hle", "rtm"], &[]);
    check(
        "Skylake-Server-v4",
        CASCADE,
        true,
        &[],
        &["md_clear", "arch_capabilities"],
    );
    check("Cascadelake-Server-v4", CASCADE, true, &[], &[]);
    check("EPYC-Milan", ZEN3, true, &[], &[]);
    // A flag named in any spelling.
    check(
        "Westmere,+tsc-deadline,+x2apic,pcid=on",
        HASWELL,
        true,
        &[],
        &["invpcid"],
    );
    check("Westmere,+avx512f", HASWELL, false, &["avx512f"], &[]);
}

#[test]
fn invtsc_or_another_vendor_is_never_migration_safe() {
    let result = compare(
        &GuestCpu::parse("Haswell-noTSX,+invtsc").unwrap(),
        &host(HASWELL),
    )
    .unwrap();
    assert!(result.missing.is_empty() && !result.migration_safe);
    assert!(
        result
            .recommendations
            .iter()
            .any(|r| r.flag == "invtsc" && r.action == Action::Remove)
    );
    let result = compare(&GuestCpu::parse("Westmere").unwrap(), &host(ZEN3)).unwrap();
    assert!(result.missing.is_empty() && !result.vendor_matches && !result.migration_safe);
    let result = compare(&GuestCpu::parse("qemu64").unwrap(), &host(ZEN3)).unwrap();
    assert!(result.vendor_matches && result.migration_safe);
}

#[test]
fn arch_capabilities_bits_are_reported_as_unverifiable() {
    let result = compare(
        &GuestCpu::parse("Cascadelake-Server-v4").unwrap(),
        &host(CASCADE),
    )
    .unwrap();
    assert!(
        result.unverifiable.iter().any(|f| f == "mds-no"),
        "{:?}",
        result.unverifiable
    );
}

#[test]
fn guest_specs_print_back_in_qemu_and_libvirt_names() {
    let guest = GuestCpu::parse("Westmere, +pcid, -aes, +sse4.2, tsc_deadline_timer=on").unwrap();
    assert_eq!(
        guest.qemu_cpu(),
        "Westmere,+pcid,+sse4.2,+tsc-deadline,-aes"
    );
    let xml = guest.libvirt_xml();
    assert!(
        xml.contains("<feature policy='disable' name='aes'/>")
            && xml.contains("name='tsc-deadline'"),
        "{xml}"
    );
    let xml = GuestCpu::parse("Haswell-v1,+pcid").unwrap().libvirt_xml();
    assert!(
        xml.contains("<model fallback='forbid'>Haswell</model>"),
        "{xml}"
    );
    // The last word on a flag wins.
    let guest = GuestCpu::parse("Westmere,+pcid,-pcid").unwrap();
    assert!(!guest.flags().contains("pcid") && guest.added.is_empty());
}

#[test]
fn bad_guest_specs_are_typed_errors() {
    assert_eq!(GuestCpu::parse(""), Err(GuestSpecError::Empty));
    assert_eq!(GuestCpu::parse(",+pcid"), Err(GuestSpecError::Empty));
    assert_eq!(
        GuestCpu::parse("Pentium9"),
        Err(GuestSpecError::UnknownModel {
            name: "Pentium9".into()
        })
    );
    assert_eq!(
        GuestCpu::parse("Westmere,pcid"),
        Err(GuestSpecError::BadItem {
            item: "pcid".into()
        })
    );
    assert_eq!(
        GuestCpu::parse("Westmere,pcid=maybe"),
        Err(GuestSpecError::BadItem {
            item: "pcid=maybe".into()
        })
    );
    assert_eq!(
        GuestCpu::parse("Westmere,+warp-drive"),
        Err(GuestSpecError::UnknownFlag {
            name: "warp-drive".into()
        })
    );
    let arm = Cpu::from_cpuinfo(
        &std::fs::read_to_string(format!(
            "{}/testdata/cpuinfo/aarch64-neoverse-n1-graviton2.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        compare(&GuestCpu::parse("Westmere").unwrap(), &arm),
        Err(PlanError::NotX86 {
            arch: underhood_cpuflags::Arch::Aarch64
        })
    );
}

#[test]
fn libvirt_model_names_work_as_guests() {
    let result = compare(
        &GuestCpu::parse("Skylake-Server-noTSX-IBRS").unwrap(),
        &host(CASCADE),
    )
    .unwrap();
    assert!(result.migration_safe, "{result:?}");
}
