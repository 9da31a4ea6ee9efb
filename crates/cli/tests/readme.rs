//! README drift: every command `underhood --help` lists appears in the root README.

mod common;

use common::underhood;

/// The command names in the `Commands:` section of a clap help text, without `help`.
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_is_in_the_readme() {
    let out = underhood(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("help is UTF-8");
    let names = commands(&help);
    assert!(names.len() >= 7, "too few commands parsed from\n{help}");
    let readme = include_str!("../../../README.md");
    for name in names {
        assert!(
            readme.contains(&format!("`underhood {name}")),
            "`underhood {name}` is in --help but not in README.md"
        );
    }
}

#[test]
fn commands_are_read_from_the_help_section_only() {
    let help = "About\n\nCommands:\n  sim   x\n  lb    y\n  help  z\n\nOptions:\n  -h, --help\n";
    assert_eq!(commands(help), ["sim", "lb"]);
}

/// The READMEs whose `sh` blocks are run, relative to the workspace root.
const READMES: &[&str] = &[
    "README.md",
    "crates/acl-model/README.md",
    "crates/cli/README.md",
    "crates/consensus/README.md",
    "crates/cpuflags/README.md",
    "crates/lb/README.md",
    "crates/lincheck/README.md",
    "crates/secret-crypto/README.md",
    "crates/secret-server/README.md",
    "crates/sim/README.md",
    "crates/sparse/README.md",
    "crates/zerocopy/README.md",
];

/// Command lines a test cannot run to completion, with the reason; matched by prefix.
const NOT_RUN: &[(&str, &str)] = &[(
    "underhood secret server",
    "serves until a signal; tests/secret_server.rs starts it and drives it over HTTP",
)];

/// Command lines that exit with a status other than 0, as the README says; matched by prefix.
const EXIT_STATUS: &[(&str, i32)] = &[
    // A gallery scenario with a bug: an invariant is violated.
    ("underhood sim run --scenario announce-before-log", 1),
    ("underhood sim run --scenario paxos-stale-reads", 1),
    // The checker finds the counterexample and saves it; the replay shows the violation.
    ("underhood sim check --scenario vote-before-log", 1),
    ("underhood sim replay cex.json", 1),
    // The fixtures hold a shadowed ACL, so lint reports a finding.
    ("underhood acl lint", 1),
    // "not enough shares: 2 given, 3 needed"
    (
        "head -n 2 checked.txt | underhood secret combine --format underhood",
        2,
    ),
];

/// Every `underhood …` command line in the READMEs' `sh` blocks runs, in a fresh directory per
/// README holding the files the README names, and exits as the README says.
#[test]
fn readme_command_lines_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = tempfile::tempdir().expect("temporary directory");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_underhood"),
        bin.path().join("underhood"),
    )
    .expect("symlink to the binary");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut matched = std::collections::BTreeSet::new();
    for readme in READMES {
        let text = std::fs::read_to_string(root.join(readme)).expect("README readable");
        let lines = command_lines(&text);
        if lines.is_empty() {
            continue;
        }
        let dir = fixtures(&root);
        for (number, line) in lines {
            if let Some((_, why)) = NOT_RUN.iter().find(|(p, _)| line.starts_with(p)) {
                eprintln!("{readme}:{number}: not run ({why}): {line}");
                matched.insert(line.clone());
                continue;
            }
            let expected = EXIT_STATUS
                .iter()
                .find(|(p, _)| line.starts_with(p))
                .map_or(0, |(prefix, status)| {
                    matched.insert((*prefix).to_string());
                    *status
                });
            let out = std::process::Command::new("bash")
                .args(["-o", "pipefail", "-c", &line])
                .current_dir(dir.path())
                .env("PATH", &path)
                .stdin(std::process::Stdio::null())
                .output()
                .expect("bash runs");
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{readme}:{number}: `{line}`\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 40, "only {ran} README command lines ran");
    for (prefix, _) in EXIT_STATUS {
        assert!(
            matched.contains(*prefix),
            "no README line starts with `{prefix}`"
        );
    }
    for (prefix, _) in NOT_RUN {
        assert!(
            matched.iter().any(|line| line.starts_with(prefix)),
            "no README line starts with `{prefix}`"
        );
    }
}

/// The lines of the `sh` blocks that call `underhood` (others, such as `cargo xtask web` or
/// `cargo install`, are not run), with their line numbers: continuation lines (after `|` or
/// `\`) joined, `cargo run [--release] -p underhood-cli --` read as `underhood`.
fn command_lines(readme: &str) -> Vec<(usize, String)> {
    let mut blocks: Vec<Vec<(usize, String)>> = Vec::new();
    let mut current: Option<Vec<(usize, String)>> = None;
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in readme.lines().enumerate() {
        let number = index + 1;
        match (&mut current, raw.trim_end()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), line) => {
                let line = line
                    .replace("cargo run --release -p underhood-cli -- ", "underhood ")
                    .replace("cargo run -p underhood-cli -- ", "underhood ");
                let (start, mut joined) = pending.take().unwrap_or((number, String::new()));
                joined.push_str(line.trim());
                if joined.ends_with('|') || joined.ends_with('\\') {
                    joined = joined.trim_end_matches('\\').to_string();
                    joined.push(' ');
                    pending = Some((start, joined));
                } else if !joined.is_empty() && !joined.starts_with('#') {
                    block.push((start, joined));
                }
            }
            (None, _) => {}
        }
    }
    blocks
        .into_iter()
        .flatten()
        .filter(|(_, line)| calls_underhood(line))
        .collect()
}

fn calls_underhood(line: &str) -> bool {
    line.starts_with("underhood ") || line.contains("| underhood ")
}

/// A directory with every file the READMEs' command lines read.
fn fixtures(root: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a file name")).expect("directory");
        std::fs::write(path, text).expect("fixture written");
    };
    let copy = |from: &str, to: &str| {
        let text = std::fs::read_to_string(root.join(from)).expect("repository file readable");
        write(to, &text);
    };
    let cpuinfo = "crates/cpuflags/testdata/cpuinfo";
    copy(
        &format!("{cpuinfo}/x86_64-haswell-e5-2680v3.txt"),
        "host-a.cpuinfo",
    );
    copy(
        &format!("{cpuinfo}/x86_64-cascadelake-gold-6248.txt"),
        "host-b.cpuinfo",
    );
    copy(
        "crates/cpuflags/testdata/sysctl/macos-intel-i9-9880h.txt",
        "mac.sysctl",
    );
    let graviton = format!("{cpuinfo}/aarch64-neoverse-n1-graviton2.txt");
    copy(&graviton, &graviton);
    copy(
        &format!("{cpuinfo}/ppc64le-power9-powernv.txt"),
        "power9.cpuinfo",
    );
    copy("crates/sim/scenarios/happy-path.json", "my-scenario.json");
    let acls = r#"[
 {"principal":"User:*","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"PREFIXED","name":"orders-"},
 {"principal":"User:alice","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"LITERAL","name":"orders-eu"}
]"#;
    write("acls.json", acls);
    write("old.json", acls);
    write(
        "new.json",
        r#"[{"principal":"User:*","host":"*","operation":"READ","permission":"ALLOW","resource_type":"TOPIC","pattern_type":"PREFIXED","name":"orders-"}]"#,
    );
    write(
        "store/latest/history.edn",
        "[{:process 0, :type :invoke, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :cas, :value [1 2]}\n\
         {:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :ok, :f :cas, :value [1 2]}\n\
         {:process 0, :type :invoke, :f :read, :value nil}\n\
         {:process 0, :type :ok, :f :read, :value 2}]\n",
    );
    write(
        "jepsen.log",
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
         INFO  jepsen.util - 1\t:invoke\t:write\t4\n\
         INFO  jepsen.util - 0\t:ok\t:read\t0\n\
         INFO  jepsen.util - 1\t:ok\t:write\t4\n",
    );
    for (file, key) in [("runs/a.jsonl", "x"), ("runs/b.jsonl", "y")] {
        write(
            file,
            &format!(
                "{{\"process\": 0, \"type\": \"invoke\", \"f\": \"put\", \"key\": \"{key}\", \"value\": \"v\"}}\n\
                 {{\"process\": 0, \"type\": \"ok\", \"f\": \"put\", \"key\": \"{key}\", \"value\": \"v\"}}\n\
                 {{\"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"{key}\", \"value\": null}}\n\
                 {{\"process\": 1, \"type\": \"ok\", \"f\": \"get\", \"key\": \"{key}\", \"value\": \"v\"}}\n"
            ),
        );
    }
    dir
}

/// Each crate README's "Use it from your project" Rust snippet (its doc test) appears in the
/// root README without its hidden lines, so the copies there cannot drift.
#[test]
fn root_readme_snippets_match_the_crates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = std::fs::read_to_string(root.join("README.md")).expect("README readable");
    let mut checked = 0;
    for readme in READMES.iter().filter(|r| r.starts_with("crates/")) {
        let text = std::fs::read_to_string(root.join(readme)).expect("README readable");
        let Some(section) = text.split("## Use it from your project").nth(1) else {
            panic!("{readme} has no \"Use it from your project\" section");
        };
        let name = readme
            .trim_start_matches("crates/")
            .trim_end_matches("/README.md");
        assert!(
            section.contains(&format!("cargo add underhood-{name}"))
                || section.contains("cargo install underhood-cli"),
            "{readme}: the section does not say `cargo add underhood-{name}`"
        );
        let Some(code) = section.split("```rust").nth(1) else {
            continue;
        };
        let code = code.split_once('\n').map_or("", |(_, rest)| rest);
        let code = code.split("```").next().unwrap_or_default();
        let visible: Vec<&str> = code
            .lines()
            .filter(|line| !line.starts_with("# ") && *line != "#")
            .collect();
        assert!(
            visible.len() <= 9,
            "{readme}: the snippet has {} lines",
            visible.len()
        );
        let copy = format!("```rust\n{}\n```", visible.join("\n"));
        assert!(
            workspace.contains(&copy),
            "README.md lacks {readme}'s snippet:\n{copy}"
        );
        assert!(workspace.contains(&format!("<code>cargo add underhood-{name}</code>")));
        checked += 1;
    }
    assert_eq!(
        checked, 10,
        "every library crate has a snippet in the root README"
    );
}

#[test]
fn command_lines_join_continuations_and_skip_other_blocks() {
    let readme = "```sh\ncargo xtask web\n```\n\n```sh\n# a comment | underhood x\necho x |\n  underhood acl eval --acls a.json\ncargo run --release -p underhood-cli -- lb maglev\n```\n\n```text\nunderhood sim list\n```\n";
    assert_eq!(
        command_lines(readme),
        [
            (7, "echo x | underhood acl eval --acls a.json".to_string()),
            (9, "underhood lb maglev".to_string())
        ]
    );
}
