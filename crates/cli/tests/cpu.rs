//! The `underhood cpu` command-line contract: output shapes and exit statuses.

use serde_json::Value;

mod common;
use common::check_any as check;

fn capture(name: &str) -> String {
    format!("{}/../cpuflags/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[track_caller]
fn json(args: &[&str]) -> Value {
    serde_json::from_str(&check(args, 0, "{")).expect("one JSON object")
}

#[track_caller]
fn detect(flag: &str, file: &str, uarch: &str, level: Option<&str>, hypervisor: bool) {
    let path = capture(file);
    let v = json(&["cpu", "detect", flag, &path, "--json"]);
    assert_eq!(v["microarchitecture"], uarch, "{file}");
    assert_eq!(v["psabi_level"].as_str(), level, "{file}");
    assert_eq!(v["hypervisor"], hypervisor, "{file}");
    assert!(v["flags"].is_array() && v["ancestors"].is_array(), "{file}");
    assert!(v["vendor"].is_string() && v["arch"].is_string(), "{file}");
}

#[test]
fn detect_json_on_captures_of_every_architecture() {
    detect(
        "--cpuinfo",
        "cpuinfo/x86_64-haswell-e5-2680v3.txt",
        "haswell",
        Some("x86_64_v3"),
        false,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/x86_64-cascadelake-gold-6248.txt",
        "cascadelake",
        Some("x86_64_v4"),
        false,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/x86_64-kvm-guest-skylake-server-ibrs.txt",
        "skylake_avx512",
        Some("x86_64_v4"),
        true,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/x86_64-zen3-epyc-7763.txt",
        "zen3",
        Some("x86_64_v3"),
        false,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/aarch64-neoverse-n1-graviton2.txt",
        "neoverse_n1",
        None,
        false,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/ppc64le-power9-powernv.txt",
        "power9le",
        None,
        false,
    );
    detect(
        "--cpuinfo",
        "cpuinfo/riscv64-u74mc-visionfive2.txt",
        "u74mc",
        None,
        false,
    );
    detect("--sysctl", "sysctl/macos-m2-pro.txt", "m2", None, false);
    detect(
        "--sysctl",
        "sysctl/macos-intel-i9-9880h.txt",
        "skylake",
        Some("x86_64_v3"),
        false,
    );
    let v = json(&[
        "cpu",
        "detect",
        "--cpuinfo",
        &capture("cpuinfo/x86_64-haswell-e5-2680v3.txt"),
        "--json",
    ]);
    assert_eq!(v["vendor"], "GenuineIntel");
    assert_eq!(v["arch"], "x86_64");
    assert_eq!(v["ancestors"][0], "ivybridge");
    assert!(v["flags"].as_array().unwrap().iter().any(|f| f == "avx2"));
}

#[test]
fn detect_notes_heterogeneous_and_partial_captures() {
    let v = json(&[
        "cpu",
        "detect",
        "--cpuinfo",
        &capture("cpuinfo/aarch64-rk3399-big-little.txt"),
        "--json",
    ]);
    assert_eq!(v["heterogeneous"], true);
    assert_eq!(v["cores"].as_array().unwrap().len(), 2);
    check(
        &[
            "cpu",
            "detect",
            "--cpuinfo",
            &capture("cpuinfo/aarch64-rk3399-big-little.txt"),
        ],
        0,
        "heterogeneous: yes",
    );
    let v = json(&[
        "cpu",
        "detect",
        "--cpuinfo",
        &capture("cpuinfo/x86_64-truncated.txt"),
        "--json",
    ]);
    assert_eq!(v["microarchitecture"], "haswell");
    assert_eq!(v["missing"][0]["missing"], "truncated_line");
    let truncated = capture("cpuinfo/x86_64-truncated.txt");
    check(
        &["cpu", "detect", "--cpuinfo", &truncated],
        0,
        "warning: line 76 was cut short",
    );
}

#[test]
fn detect_reads_the_running_host() {
    let v = json(&["cpu", "detect", "--json"]);
    assert!(v["microarchitecture"].is_string() && v["hypervisor"].is_boolean());
    check(&["cpu", "detect"], 0, "microarchitecture: ");
}

#[test]
fn baseline_prints_models_extras_the_cpu_string_and_xml() {
    let haswell = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    let cascade = capture("cpuinfo/x86_64-cascadelake-gold-6248.txt");
    let text = check(
        &["cpu", "baseline", &haswell, &cascade],
        0,
        "best qemu model: Haswell-v4",
    );
    for needle in [
        "psabi level: x86_64_v3",
        "best libvirt model: Haswell-noTSX-IBRS",
        "qemu: -cpu Haswell-v4,+",
        "<cpu mode='custom' match='exact'",
        "qemu extra flags: ",
        "common flags (",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    assert!(
        text.contains("qemu Haswell-v3 would also need: hle rtm"),
        "{text}"
    );
    let v = json(&["cpu", "baseline", &haswell, &cascade, "--json"]);
    assert_eq!(v["qemu_near_misses"][0]["model"], "Haswell-v3");
    assert_eq!(v["hosts"], 2);
    assert_eq!(v["psabi_level"], "x86_64_v3");
    assert_eq!(v["qemu_model"], "Haswell-v4");
    assert_eq!(v["libvirt_model"], "Haswell-noTSX-IBRS");
    assert!(
        v["qemu_cpu"]
            .as_str()
            .unwrap()
            .starts_with("Haswell-v4,+md-clear")
    );
    assert!(
        v["libvirt_xml"]
            .as_str()
            .unwrap()
            .contains("<feature policy='require' name='tsc_adjust'/>")
    );
    assert!(
        v["qemu_extra"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "tsc-adjust")
    );
    assert!(v["flags"].as_array().unwrap().iter().any(|f| f == "avx2"));
    // Non-x86 fleets: flags and microarchitecture, no named model.
    let v = json(&[
        "cpu",
        "baseline",
        &capture("cpuinfo/aarch64-neoverse-v2-grace.txt"),
        &capture("cpuinfo/aarch64-neoverse-n1-graviton2.txt"),
        "--json",
    ]);
    assert_eq!(v["microarchitecture"], "neoverse_n1");
    assert!(v["qemu_model"].is_null() && v["psabi_level"].is_null());
}

#[test]
fn compare_reports_missing_flags_safety_and_advice() {
    let haswell = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    let v = json(&[
        "cpu",
        "compare",
        "--guest",
        "Westmere,+pcid",
        "--cpuinfo",
        &haswell,
        "--json",
    ]);
    assert_eq!(v["migration_safe"], true);
    assert_eq!(v["missing"].as_array().unwrap().len(), 0);
    assert!(
        v["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["flag"] == "invpcid" && r["action"] == "add")
    );
    let v = json(&[
        "cpu",
        "compare",
        "--guest",
        "Haswell",
        "--cpuinfo",
        &haswell,
        "--json",
    ]);
    assert_eq!(v["migration_safe"], false);
    assert_eq!(v["missing"], serde_json::json!(["hle", "rtm"]));
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Westmere",
            "--cpuinfo",
            &haswell,
        ],
        0,
        "migration to this host: safe",
    );
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Westmere",
            "--cpuinfo",
            &haswell,
        ],
        0,
        "recommend: add +pcid",
    );
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Haswell",
            "--cpuinfo",
            &haswell,
        ],
        0,
        "missing on host: hle rtm",
    );
    check(
        &["cpu", "compare", "--guest", "qemu64", "host"],
        0,
        "migration to this host: ",
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let haswell = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    check(
        &["cpu", "detect", "--cpuinfo", "/nonexistent/cpuinfo"],
        2,
        "reading /nonexistent/cpuinfo",
    );
    check(
        &["cpu", "detect", "--cpuinfo", "/dev/null"],
        2,
        "the capture is empty",
    );
    check(
        &["cpu", "detect", "--cpuinfo", &haswell, "--sysctl", &haswell],
        2,
        "cannot be used with",
    );
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Pentium9",
            "--cpuinfo",
            &haswell,
        ],
        2,
        "unknown CPU model \"Pentium9\"",
    );
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Westmere,+warp",
            "--cpuinfo",
            &haswell,
        ],
        2,
        "unknown CPU flag \"warp\"",
    );
    check(&["cpu", "compare", "--guest", "Westmere"], 2, "required");
    check(
        &[
            "cpu",
            "compare",
            "--guest",
            "Westmere",
            "--cpuinfo",
            &capture("cpuinfo/aarch64-neoverse-n1-graviton2.txt"),
        ],
        2,
        "x86 only",
    );
    check(&["cpu", "baseline"], 2, "required");
    check(
        &[
            "cpu",
            "baseline",
            &haswell,
            &capture("cpuinfo/aarch64-neoverse-n1-graviton2.txt"),
        ],
        2,
        "no guest CPU runs on both",
    );
}

#[test]
fn flags_qemu_cannot_set_are_listed_not_invented() {
    // The fuzz crash of issue 22: `hwp_notify` has no QEMU or libvirt name.
    let haswell = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    let v = json(&[
        "cpu",
        "compare",
        "--guest",
        "n270,+hwp_notify",
        "--cpuinfo",
        &haswell,
        "--json",
    ]);
    assert_eq!(v["guest"], "n270");
    assert_eq!(v["qemu_cpu"], "n270");
    assert_eq!(v["not_expressible"], serde_json::json!(["hwp_notify"]));
    assert!(!v["libvirt_xml"].as_str().unwrap().contains("hwp"));
    let text = check(
        &[
            "cpu",
            "compare",
            "--guest",
            "n270,+hwp_notify",
            "--cpuinfo",
            &haswell,
        ],
        0,
        "not expressible for QEMU or libvirt (left out): hwp_notify",
    );
    assert!(text.contains("guest: n270\n"), "{text}");
    // What was printed parses back to the same guest, with nothing left out.
    let again = json(&[
        "cpu",
        "compare",
        "--guest",
        "n270",
        "--cpuinfo",
        &haswell,
        "--json",
    ]);
    assert_eq!(again["guest"], "n270");
    assert_eq!(again["not_expressible"], serde_json::json!([]));
    // A baseline always says what it could not express (nothing, for these hosts).
    let cascade = capture("cpuinfo/x86_64-cascadelake-gold-6248.txt");
    let plan = json(&["cpu", "baseline", &haswell, &cascade, "--json"]);
    assert!(plan["not_expressible"].is_array(), "{plan}");
    let printed = plan["qemu_cpu"].as_str().unwrap();
    let again = json(&[
        "cpu",
        "compare",
        "--guest",
        printed,
        "--cpuinfo",
        &haswell,
        "--json",
    ]);
    assert_eq!(again["guest"], printed);
}

#[test]
fn endless_or_oversized_captures_are_refused_with_exit_2() {
    check(
        &["cpu", "detect", "--cpuinfo", "/dev/zero"],
        2,
        "/dev/zero is larger than the input limit of 67108864 bytes; raise it with --max-input-bytes",
    );
    let haswell = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    check(
        &[
            "cpu",
            "detect",
            "--cpuinfo",
            &haswell,
            "--max-input-bytes",
            "1000",
        ],
        2,
        "larger than the input limit of 1000 bytes",
    );
    check(
        &[
            "--max-input-bytes",
            "1000000",
            "cpu",
            "detect",
            "--cpuinfo",
            &haswell,
        ],
        0,
        "microarchitecture: haswell",
    );
    check(
        &["cpu", "baseline", &haswell, "/dev/zero"],
        2,
        "--max-input-bytes",
    );
    let dir = std::env::temp_dir();
    check(
        &["cpu", "detect", "--cpuinfo", dir.to_str().unwrap()],
        2,
        "it is a directory",
    );
}

/// `--machine` names what POWER's /proc/cpuinfo does not say; without it the assumption is
/// stated, in the text and in `--json`'s `missing`.
#[test]
fn detect_machine_decides_power_endianness() {
    let power = capture("cpuinfo/ppc64le-power9-powernv.txt");
    let assumed = json(&["cpu", "detect", "--cpuinfo", &power, "--json"]);
    assert_eq!(assumed["arch"], "ppc64le");
    assert_eq!(assumed["microarchitecture"], "power9le");
    assert_eq!(
        assumed["missing"],
        serde_json::json!([{"missing": "endianness"}])
    );
    check(
        &["cpu", "detect", "--cpuinfo", &power],
        0,
        "warning: POWER /proc/cpuinfo does not state its endianness; little-endian ppc64le assumed (--machine ppc64 for big-endian)",
    );

    let big = json(&[
        "cpu",
        "detect",
        "--cpuinfo",
        &power,
        "--machine",
        "ppc64",
        "--json",
    ]);
    assert_eq!(big["arch"], "ppc64");
    assert_eq!(big["microarchitecture"], "power9");
    assert_eq!(big["missing"], serde_json::json!([]));
    let little = json(&[
        "cpu",
        "detect",
        "--cpuinfo",
        &power,
        "--machine",
        "ppc64le",
        "--json",
    ]);
    assert_eq!(little["arch"], "ppc64le");
    assert_eq!(little["missing"], serde_json::json!([]));
    let text = check(
        &["cpu", "detect", "--cpuinfo", &power, "--machine", "ppc64"],
        0,
        "arch: ppc64\n",
    );
    assert!(!text.contains("warning"), "{text}");

    // Other architectures: the output is the same with or without their machine.
    let x86 = capture("cpuinfo/x86_64-haswell-e5-2680v3.txt");
    assert_eq!(
        json(&[
            "cpu",
            "detect",
            "--cpuinfo",
            &x86,
            "--machine",
            "x86_64",
            "--json"
        ]),
        json(&["cpu", "detect", "--cpuinfo", &x86, "--json"])
    );

    // A machine that contradicts the capture, an unknown machine, or a machine without a
    // capture: exit 2.
    check(
        &["cpu", "detect", "--cpuinfo", &x86, "--machine", "ppc64"],
        2,
        "the capture shows x86_64, not the machine given (ppc64)",
    );
    check(
        &["cpu", "detect", "--cpuinfo", &power, "--machine", "sparc64"],
        2,
        "unknown machine `sparc64`",
    );
    check(&["cpu", "detect", "--machine", "ppc64"], 2, "--cpuinfo");
}
