//! Property tests: baseline laws, parser robustness, vocabulary and psABI laws.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::sample::subsequence;
use underhood_cpuflags::{
    Cpu, GuestCpu, Missing, baseline, canonical_flag, libvirt_flag, libvirt_models,
    microarchitecture, psabi, qemu_flag, qemu_models,
};

const HASWELL: &str = include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt");
const CASCADE: &str = include_str!("../testdata/cpuinfo/x86_64-cascadelake-gold-6248.txt");
const ZEN3: &str = include_str!("../testdata/cpuinfo/x86_64-zen3-epyc-7763.txt");
const GRAVITON: &str = include_str!("../testdata/cpuinfo/aarch64-neoverse-n1-graviton2.txt");
const POWER9: &str = include_str!("../testdata/cpuinfo/ppc64le-power9-powernv.txt");
const RISCV: &str = include_str!("../testdata/cpuinfo/riscv64-u74mc-visionfive2.txt");
const M2: &str = include_str!("../testdata/sysctl/macos-m2-pro.txt");
const MAC_INTEL: &str = include_str!("../testdata/sysctl/macos-intel-i9-9880h.txt");

/// A host: one of the real x86 captures with some flags taken away.
fn host() -> impl Strategy<Value = Cpu> {
    let templates: Vec<Cpu> = [HASWELL, CASCADE, ZEN3]
        .iter()
        .map(|t| Cpu::from_cpuinfo(t).expect("fixture parses"))
        .collect();
    (0..templates.len(), any::<u64>()).prop_map(move |(idx, seed)| {
        let mut cpu = templates[idx].clone();
        let mut bits = seed;
        // Drop about one flag in eight, decided by the seed's bits.
        cpu.flags.retain(|_| {
            bits = bits.rotate_left(3) ^ 0x9e37_79b9_7f4a_7c15;
            bits % 8 != 0
        });
        cpu
    })
}

/// Every name the vendored name map gives any flag (Linux, QEMU, libvirt), as written there.
fn map_names() -> Vec<String> {
    let map: serde_json::Value =
        serde_json::from_str(include_str!("../data/name_map.json")).expect("name map parses");
    let mut names = BTreeSet::new();
    for entry in map["all_cpuid_features"].as_array().expect("feature list") {
        for tool in ["linux", "qemu", "libvirt"] {
            if let Some(name) = entry[tool].as_str() {
                names.insert(name.to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// Every QEMU and libvirt model name.
fn model_names() -> Vec<String> {
    qemu_models()
        .iter()
        .chain(libvirt_models())
        .map(|m| m.name.clone())
        .collect()
}

/// Checks that a guest's `-cpu` string parses back to the same guest and names only flags in
/// QEMU's spelling, and that its libvirt element names exactly its flags in libvirt's.
fn prints_back(guest: &GuestCpu) -> Result<(), TestCaseError> {
    let printed = guest.qemu_cpu();
    let again =
        GuestCpu::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
    prop_assert_eq!(again.model, guest.model, "{}", printed);
    prop_assert_eq!(&again.added, &guest.added, "{}", printed);
    prop_assert_eq!(&again.removed, &guest.removed, "{}", printed);
    prop_assert_eq!(again.flags(), guest.flags(), "{}", printed);
    prop_assert!(again.not_expressible.is_empty(), "{}", printed);
    prop_assert_eq!(again.qemu_cpu(), printed.clone());
    for item in printed.split(',').skip(1) {
        let name = &item[1..];
        prop_assert_eq!(qemu_flag(&canonical_flag(name)), Some(name), "{}", printed);
    }
    let xml = guest.libvirt_xml();
    prop_assert_eq!(
        xml.matches("<feature ").count(),
        guest.added.len() + guest.removed.len()
    );
    for flag in guest.added.iter().chain(&guest.removed) {
        let name = libvirt_flag(flag).expect("a flag QEMU sets has a libvirt name");
        prop_assert!(xml.contains(&format!("name='{name}'")), "{}", xml);
    }
    Ok(())
}

#[test]
fn every_flag_of_the_name_map_parses_and_prints_back() {
    let mut not_expressible = BTreeSet::new();
    for name in map_names() {
        for spelling in [name.replace('-', "_"), name.replace('_', "-")] {
            for item in [
                format!("+{spelling}"),
                format!("-{spelling}"),
                format!("{spelling}=on"),
            ] {
                let spec = format!("Westmere,{item}");
                let guest = GuestCpu::parse(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
                prints_back(&guest).unwrap_or_else(|e| panic!("{spec}: {e}"));
                // Exactly the flags QEMU has no name for are set aside, never printed.
                let canonical = canonical_flag(&spelling);
                assert_eq!(
                    guest.not_expressible.contains(&canonical),
                    qemu_flag(&canonical).is_none(),
                    "{spec}"
                );
                if guest.not_expressible.contains(&canonical) {
                    not_expressible.insert(canonical);
                }
            }
        }
    }
    // The flags of the fuzz crash and the libvirt-only ones are among them.
    for flag in ["hwp_notify", "flush_l1d", "ospke", "cqm"] {
        assert!(not_expressible.contains(flag), "{flag}");
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_baseline_is_in_every_host_and_its_models_in_the_baseline(hosts in prop::collection::vec(host(), 1..5)) {
        let plan = baseline(&hosts).unwrap();
        for host in &hosts {
            prop_assert!(plan.flags.is_subset(&host.kvm_offers()));
            // Beyond the twins KVM adds, every flag is the host's own.
            let twins = ["spec_ctrl", "amd_stibp", "amd_ssbd"];
            prop_assert!(plan.flags.iter().all(|f| host.flags.contains(f) || twins.contains(&f.as_str())));
        }
        if let Some(name) = &plan.qemu_model {
            let model = underhood_cpuflags::find_model(name).unwrap();
            prop_assert!(model.flags.is_subset(&plan.flags));
            for flag in &plan.qemu_extra {
                prop_assert!(plan.flags.contains(flag) && !model.flags.contains(flag));
            }
        }
    }

    #[test]
    fn adding_a_host_never_grows_the_baseline(hosts in prop::collection::vec(host(), 1..4), extra in host()) {
        let before = baseline(&hosts).unwrap();
        let mut more = hosts.clone();
        more.push(extra);
        let after = baseline(&more).unwrap();
        prop_assert!(after.flags.is_subset(&before.flags));
        let level = |p: &Option<underhood_cpuflags::Psabi>| p.as_ref().and_then(|p| p.level);
        prop_assert!(level(&after.psabi) <= level(&before.psabi));
    }

    #[test]
    fn the_baseline_does_not_depend_on_host_order(hosts in prop::collection::vec(host(), 1..5), rotate in 0usize..5) {
        let mut turned = hosts.clone();
        turned.rotate_left(rotate % hosts.len());
        let mut reversed = hosts.clone();
        reversed.reverse();
        let plan = baseline(&hosts).unwrap();
        prop_assert_eq!(&plan, &baseline(&turned).unwrap());
        prop_assert_eq!(&plan, &baseline(&reversed).unwrap());
    }

    #[test]
    fn parsers_never_panic_on_any_text(text in "(?s).{0,400}") {
        let _ = Cpu::from_cpuinfo(&text).map(|cpu| microarchitecture(&cpu));
        let _ = Cpu::from_sysctl(&text).map(|cpu| microarchitecture(&cpu));
        let _ = GuestCpu::parse(&text);
    }

    #[test]
    fn parsers_never_panic_on_key_value_soup(lines in prop::collection::vec(
        (prop::sample::select(vec!["processor", "flags", "Features", "CPU part", "CPU implementer", "cpu", "isa", "uarch", "vendor_id", "platform", "machdep.cpu.features", "hw.optional.arm.FEAT_AES", "machdep.cpu.brand_string", "hw.perflevel0.logicalcpu", "hw.machine", ""]),
         "[ -~]{0,30}", prop::sample::select(vec![":", " = ", "", "\t: "])),
        0..30)) {
        let text: String = lines.iter().map(|(k, v, sep)| format!("{k}{sep}{v}\n")).collect();
        if let Ok(cpu) = Cpu::from_cpuinfo(&text) {
            let _ = microarchitecture(&cpu);
            let _ = baseline(&[cpu]);
        }
        if let Ok(cpu) = Cpu::from_sysctl(&text) {
            let _ = microarchitecture(&cpu);
        }
    }

    #[test]
    fn a_cut_capture_keeps_its_flags_or_says_what_it_lost(
        which in 0usize..8,
        cut in 0.0f64..1.0,
    ) {
        let text = [HASWELL, CASCADE, ZEN3, GRAVITON, POWER9, RISCV, M2, MAC_INTEL][which];
        let full = Cpu::from_capture(text).unwrap();
        let mut at = (text.len() as f64 * cut) as usize;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if let Ok(cpu) = Cpu::from_capture(&text[..at]) {
            prop_assert_eq!(cpu.arch, full.arch);
            // Captures are homogeneous: every complete flag list is the full one. A flag list cut
            // in the first block keeps its whole words, and the capture says so.
            let cut_word = cpu.missing.iter().any(|m| matches!(m, Missing::TruncatedWord { .. }));
            if which < 6 && !cpu.flags.is_empty() {
                if cut_word {
                    prop_assert!(cpu.flags.is_subset(&full.flags));
                } else {
                    prop_assert_eq!(&cpu.flags, &full.flags);
                }
            }
            if which >= 6 {
                // A sysctl dump cut short only loses keys.
                prop_assert!(cpu.flags.is_subset(&full.flags));
            }
        }
    }

    #[test]
    fn canonical_names_are_fixed_points(name in "[a-z0-9_.-]{1,20}") {
        let once = canonical_flag(&name);
        prop_assert_eq!(canonical_flag(&once), once.clone());
    }

    #[test]
    fn more_flags_never_lower_the_psabi_level(base in host(), more in subsequence(
        vec!["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", "pni", "popcnt"], 0..16)) {
        let before = psabi(&base.flags).level;
        let mut flags = base.flags.clone();
        flags.extend(more.iter().map(|f| (*f).to_owned()));
        prop_assert!(psabi(&flags).level >= before);
    }

    #[test]
    fn a_guest_prints_back_to_itself(
        model in 0usize..200,
        add in subsequence(vec!["pcid", "invpcid", "aes", "avx2", "x2apic", "tsc_deadline_timer", "pdpe1gb", "ssbd", "md_clear"], 0..9),
        remove in subsequence(vec!["sse4_2", "lahf_lm", "pclmulqdq", "hle", "rtm"], 0..5),
    ) {
        let models = qemu_models();
        let model = &models[model % models.len()];
        let mut spec = model.name.clone();
        for flag in &add {
            spec.push_str(&format!(",+{flag}"));
        }
        for flag in &remove {
            spec.push_str(&format!(",-{flag}"));
        }
        let guest = GuestCpu::parse(&spec).unwrap();
        let again = GuestCpu::parse(&guest.qemu_cpu()).unwrap();
        prop_assert_eq!(again.flags(), guest.flags());
        let flags: BTreeSet<String> = guest.flags();
        for flag in &remove {
            prop_assert!(!flags.contains(*flag));
        }
    }

    #[test]
    fn any_guest_of_map_flags_prints_back_to_itself(
        model in prop::sample::select(model_names()),
        items in prop::collection::vec(
            (prop::sample::select(map_names()), 0u8..4, any::<bool>()), 0..12),
    ) {
        let mut spec = model;
        for (name, how, dashes) in items {
            let name = if dashes { name.replace('_', "-") } else { name.replace('-', "_") };
            let item = match how {
                0 => format!("+{name}"),
                1 => format!("-{name}"),
                2 => format!("{name}=on"),
                _ => format!("{name}=off"),
            };
            spec.push(',');
            spec.push_str(&item);
        }
        let guest = GuestCpu::parse(&spec).map_err(|e| TestCaseError::fail(format!("{spec}: {e}")))?;
        prints_back(&guest)?;
    }

    #[test]
    fn a_baseline_cpu_string_parses_back_to_model_and_extra(hosts in prop::collection::vec(host(), 1..4)) {
        let plan = baseline(&hosts).unwrap();
        for flag in &plan.not_expressible {
            prop_assert!(qemu_flag(flag).is_none(), "{}", flag);
        }
        if let Some(printed) = plan.qemu_cpu() {
            let guest = GuestCpu::parse(&printed).unwrap();
            prop_assert_eq!(Some(&guest.model.name), plan.qemu_model.as_ref());
            let extra: BTreeSet<String> = plan.qemu_extra.iter().cloned().collect();
            prop_assert_eq!(&guest.added, &extra);
            prop_assert!(guest.removed.is_empty() && guest.not_expressible.is_empty());
            prints_back(&guest)?;
        }
        if let Some(xml) = plan.libvirt_xml() {
            prop_assert_eq!(xml.matches("<feature ").count(), plan.libvirt_extra.len());
        }
    }
}
