//! archspec's own test captures (`testdata/archspec/`, copied from the archspec 0.2.7 PyPI
//! package, `archspec/json/tests/targets/`), classified by this crate. The expected name is
//! the one archspec's `tests/test_cpu.py::test_target_detection` expects: the last
//! `-`-separated part of the capture's file name.

use underhood_cpuflags::{Arch, Cpu, Missing, microarchitecture};

/// The Linux and macOS entries of archspec's `expected_target` parameter list, in its order.
const CAPTURES: &[&str] = &[
    "linux-ubuntu18.04-broadwell",
    "linux-rhel7-broadwell",
    "linux-rhel7-skylake_avx512",
    "linux-rhel7-ivybridge",
    "linux-rhel7-haswell",
    "linux-rhel7-x86_64_v3",
    "linux-rhel7-zen",
    "linux-ubuntu20.04-zen3",
    "linux-rocky8.5-zen4",
    "linux-scientific7-k10",
    "linux-scientificfermi6-bulldozer",
    "linux-scientificfermi6-piledriver",
    "linux-scientific7-piledriver",
    "linux-rhel6-piledriver",
    "linux-centos7-power8le",
    "linux-centos7-thunderx2",
    "linux-centos7-cascadelake",
    "darwin-mojave-ivybridge",
    "darwin-mojave-haswell",
    "darwin-mojave-skylake",
    "darwin-bigsur-m1",
    "darwin-monterey-m1",
    "bgq-rhel6-power7",
    "linux-amazon-cortex_a72",
    "linux-amazon-neoverse_n1",
    "linux-amazon-neoverse_v1",
    "linux-sifive-u74mc",
    "linux-asahi-m1",
    "linux-asahi-m2",
    "darwin-monterey-m2",
    "linux-rocky8-a64fx",
    "linux-unknown-sapphirerapids",
    "linux-rhel8-power9",
    "linux-unknown-power10",
    "linux-ubuntu22.04-neoverse_v2",
    "linux-rhel9-neoverse_v2",
    "linux-rhel8-neoverse_v1",
    "linux-unknown-neoverse_v2",
    "linux-rhel9-neoverse_n2",
    "linux-ubuntu22.04-neoverse_n2",
    "linux-rocky9-zen5",
    "darwin-sequoia-m3",
    "darwin-sequoia-m4",
    "linux-spacemit-x60",
    "linux-debian13-x60",
    "linux-ubuntu22.04-ampere1",
    "linux-ubuntu22.04-ampere1a",
    "linux-ubuntu24.04-alderlake",
    "linux-ubuntu26.04-arrowlake_s",
    "linux-ubuntu24.04-neoverse_v3ae",
    "linux-rocky9-zen6",
    "linux-ubuntu26.04-olympus",
];

/// Big-endian POWER machines. `/proc/cpuinfo` reads the same on `ppc64` and `ppc64le`, so our
/// parser takes POWER captures as `ppc64le`; archspec's test does not read the byte order from
/// the capture either but sets `platform.machine()` to the expected target's family (`ppc64`).
/// We do the same by setting the architecture, as a caller that knows the machine would.
const BIG_ENDIAN_POWER: &[&str] = &[
    "bgq-rhel6-power7",
    "linux-rhel8-power9",
    "linux-unknown-power10",
];

// Not here: archspec's `windows-cpuid-broadwell` and `windows-cpuid-icelake`, raw CPUID
// register dumps that archspec's test feeds to a mocked `cpuid` instruction. This crate reads
// CPUID only from the running processor and parses no register dumps, so they are not copied.

#[test]
fn archspec_captures_classify_as_archspec_expects() {
    let mut wrong = Vec::new();
    for name in CAPTURES {
        let expected = name.rsplit('-').next().unwrap_or_default();
        let path = format!("{}/testdata/archspec/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // Big-endian POWER reads like little-endian: archspec's test names the machine, and
        // so does this one, as `underhood cpu detect --machine ppc64` does.
        let parsed = if BIG_ENDIAN_POWER.contains(name) {
            Cpu::from_cpuinfo_on(&text, Arch::Ppc64)
        } else {
            Cpu::from_capture(&text)
        };
        let got = match parsed {
            Ok(cpu) => {
                // Some captures were saved without the final newline: that is all they lack,
                // besides the endianness of little-endian POWER, which is assumed.
                assert!(
                    cpu.missing.iter().all(|m| matches!(
                        m,
                        Missing::TruncatedLine { .. } | Missing::TruncatedWord { .. }
                    ) || (*m == Missing::Endianness
                        && cpu.arch == Arch::Ppc64le)),
                    "{name}: {:?}",
                    cpu.missing
                );
                microarchitecture(&cpu).name.to_owned()
            }
            Err(e) => format!("error: {e}"),
        };
        if got != expected {
            wrong.push(format!("{name}: got {got}, archspec expects {expected}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {}:\n{}",
        wrong.len(),
        CAPTURES.len(),
        wrong.join("\n")
    );
}
