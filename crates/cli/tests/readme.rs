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
