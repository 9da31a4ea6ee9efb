//! The primary-backup register under the simulator and the exhaustive checker, as a downstream
//! crate tests its own protocol: one dependency, one import.

use primary_backup::{Backup, PrimaryBackup, backup_has_acked_writes};
use underhood_sim::prelude::*;

/// Random runs: crashes (some with power loss), restarts, partitions, losses and delays.
fn options() -> CheckOptions {
    CheckOptions { runs: 200, duration_ms: 500, ..CheckOptions::default() }
}

#[test]
fn the_synced_backup_passes_every_seed_and_the_exhaustive_check() {
    let invariants = [backup_has_acked_writes()];
    let report = check_with(|_| PrimaryBackup(Backup::Synced), &invariants, &options()).unwrap();
    assert_eq!(report.runs, 200);
    let options = ExhaustiveOptions { loss: true, ..ExhaustiveOptions::default() };
    let report = check_exhaustive(|| PrimaryBackup(Backup::Synced), &invariants, &options).unwrap();
    assert!(!report.truncated);
    assert!(report.unique_states > 100, "{report:?}");
}

#[test]
fn the_lazy_backup_is_caught_by_simulation_with_a_power_loss() {
    let invariants = [backup_has_acked_writes()];
    let failure = check_with(|_| PrimaryBackup(Backup::Lazy), &invariants, &options()).unwrap_err();
    assert_eq!(failure.violation.invariant, "backup-has-acked-writes", "{failure}");
    // The shrunk schedule needs the backup to lose its un-synced write and come back.
    let power_loss = |f: &Fault| matches!(f, Fault::Crash { node: 2, lose_unsynced: true, .. });
    assert!(failure.shrunk.iter().any(power_loss), "{failure}");
    assert!(failure.shrunk.len() <= failure.faults.len());
    // The failure rebuilds itself.
    let again = failure.reproduce(|_| PrimaryBackup(Backup::Lazy), &invariants).unwrap_err();
    assert_eq!(again.violation, failure.violation);
}

#[test]
fn the_lazy_backup_is_caught_exhaustively_with_a_shortest_path() {
    let invariants = [backup_has_acked_writes()];
    let failure = check_exhaustive(
        || PrimaryBackup(Backup::Lazy),
        &invariants,
        &ExhaustiveOptions::default(),
    )
    .unwrap_err();
    assert_eq!(failure.invariant, "backup-has-acked-writes", "{failure}");
    // Send, forward, store lazily and acknowledge, forward the acknowledgement, receive it,
    // lose power at the backup, restart it: seven steps, and none shorter exists.
    assert_eq!(failure.steps.len(), 7, "{failure}");
    assert!(failure.steps.iter().any(|s| s.starts_with("power-loss")), "{failure}");
    assert_eq!(failure.script.len(), 7);
}

#[test]
fn a_panic_in_step_is_a_violation_with_a_seed_a_shrunk_schedule_and_the_message() {
    let invariants = [backup_has_acked_writes()];
    let failure =
        check_with(|_| PrimaryBackup(Backup::Panics), &invariants, &options()).unwrap_err();
    assert_eq!(failure.violation.invariant, "no-panic");
    assert!(failure.violation.detail.contains("no room for write 2"), "{failure}");
    // The network alone gets the second write there: nothing to shrink to.
    assert!(failure.shrunk.is_empty(), "{failure}");
    let again = failure.reproduce(|_| PrimaryBackup(Backup::Panics), &invariants).unwrap_err();
    assert_eq!(again.violation, failure.violation);
    // The exhaustive checker finds it too, with the path that leads there.
    let failure = check_exhaustive(
        || PrimaryBackup(Backup::Panics),
        &invariants,
        &ExhaustiveOptions::default(),
    )
    .unwrap_err();
    assert_eq!(failure.invariant, "no-panic");
    assert!(failure.detail.contains("no room for write 2"), "{failure}");
}

#[test]
fn a_panic_in_an_invariant_is_a_violation_of_that_invariant() {
    let strict = Invariant::new("never-two", |nodes: &[Option<&primary_backup::Node>]| {
        if let Some(primary_backup::Node::Client { acked: 2 }) = nodes[0] {
            panic!("the client saw two writes acknowledged");
        }
        Ok(())
    });
    let failure =
        check_with(|_| PrimaryBackup(Backup::Synced), std::slice::from_ref(&strict), &options())
            .unwrap_err();
    assert_eq!(failure.violation.invariant, "never-two");
    assert!(failure.violation.detail.contains("two writes acknowledged"), "{failure}");
    let failure = check_exhaustive(
        || PrimaryBackup(Backup::Synced),
        &[strict],
        &ExhaustiveOptions::default(),
    )
    .unwrap_err();
    assert_eq!(failure.invariant, "never-two");
}

/// A power loss at the backup once both writes are acknowledged, and a restart.
fn power_loss_at_the_backup() -> Vec<Fault> {
    vec![Fault::power_loss(2).at_ms(100), Fault::restart(2).at_ms(200)]
}

#[test]
fn caller_supplied_faults_reproduce_alone() {
    let invariants = [backup_has_acked_writes()];
    let options = CheckOptions {
        runs: 1,
        random_faults: false,
        faults: power_loss_at_the_backup(),
        ..options()
    };
    let lazy = |_| PrimaryBackup(Backup::Lazy);
    let failure = check_with(lazy, &invariants, &options).unwrap_err();
    assert_eq!(failure.violation.invariant, "backup-has-acked-writes", "{failure}");
    // Both faults are needed, and both are in the reproducer.
    assert_eq!(failure.shrunk, power_loss_at_the_backup(), "{failure}");
    assert_eq!(failure.options().faults, power_loss_at_the_backup());
    let again = failure.reproduce(lazy, &invariants).unwrap_err();
    assert_eq!(again.violation, failure.violation);
}

#[test]
fn caller_supplied_faults_reproduce_with_random_ones() {
    let invariants = [backup_has_acked_writes()];
    let options = CheckOptions { runs: 3, faults: power_loss_at_the_backup(), ..options() };
    let lazy = |_| PrimaryBackup(Backup::Lazy);
    let failure = check_with(lazy, &invariants, &options).unwrap_err();
    // The run had the caller's faults first, then the seed's.
    assert_eq!(failure.faults[..2], power_loss_at_the_backup());
    assert!(failure.faults.len() > 2, "{failure}");
    assert!(failure.shrunk.len() <= failure.faults.len());
    assert!(!failure.shrunk.is_empty(), "{failure}");
    let again = failure.reproduce(lazy, &invariants).unwrap_err();
    assert_eq!(again.violation, failure.violation);
}

#[test]
fn proptest_chosen_faults_reproduce() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    use underhood_sim::strategies::fault_schedule;

    let invariants = [backup_has_acked_writes()];
    let lazy = |_| PrimaryBackup(Backup::Lazy);
    let mut runner = TestRunner::deterministic();
    let mut failures = 0;
    // About one schedule in a hundred has the power loss and the restart it takes.
    for seed in 0..1_000 {
        let faults = fault_schedule(3, 300, &[]).new_tree(&mut runner).unwrap().current();
        let options = CheckOptions {
            runs: 1,
            first_seed: seed,
            random_faults: false,
            faults: faults.clone(),
            ..options()
        };
        let Err(failure) = check_with(lazy, &invariants, &options) else { continue };
        failures += 1;
        assert_eq!(failure.faults, faults);
        // Shrinking drops faults and simplifies the rest (earlier, fewer matches).
        assert!(failure.shrunk.len() <= faults.len(), "{failure}");
        let again = failure.reproduce(lazy, &invariants).unwrap_err();
        assert_eq!(again.violation, failure.violation, "{failure}");
    }
    assert!(failures > 0, "no schedule of 1000 broke the lazy backup");
}

#[test]
fn random_rules_name_the_protocols_message_kinds() {
    // An invariant that breaks at once shows each seed's whole random schedule.
    let at_once =
        Invariant::new("at-once", |_: &[Option<&primary_backup::Node>]| Err("stop".into()));
    let mut kinds = Vec::new();
    for seed in 1..=40 {
        let options = CheckOptions { runs: 1, first_seed: seed, ..options() };
        let failure =
            check_with(|_| PrimaryBackup(Backup::Synced), std::slice::from_ref(&at_once), &options)
                .unwrap_err();
        for fault in &failure.faults {
            if let Fault::Drop { pattern } | Fault::Delay { pattern, .. } = fault {
                kinds.push(pattern.kind.clone());
            }
        }
    }
    assert!(kinds.len() > 5, "{kinds:?}");
    assert!(kinds.iter().all(|k| matches!(k.as_deref(), Some("write" | "ack"))), "{kinds:?}");
}

#[test]
fn a_rule_naming_an_unknown_kind_is_refused() {
    let options = CheckOptions {
        faults: vec![Fault::drop_messages(Pattern::kind("wirte").to(2))],
        ..options()
    };
    let failure =
        check_with(|_| PrimaryBackup(Backup::Synced), &[backup_has_acked_writes()], &options)
            .unwrap_err();
    assert_eq!(failure.violation.invariant, "harness-setup");
    assert!(failure.violation.detail.contains("wirte"), "{failure}");
}

#[test]
fn a_hand_written_rule_breaks_the_lazy_backup_only_with_a_power_loss() {
    let invariants = [backup_has_acked_writes()];
    // Losing the first acknowledgement to the client makes it re-send: still correct.
    let faults = vec![
        Fault::drop_messages(Pattern::kind("ack").to(0)),
        Fault::crash(2).at_ms(100),
        Fault::restart(2).at_ms(200),
    ];
    let options = CheckOptions { runs: 20, random_faults: false, faults, ..options() };
    check_with(|_| PrimaryBackup(Backup::Lazy), &invariants, &options).unwrap();
    // A crash keeps the OS buffer; a power loss does not.
    let faults = vec![Fault::power_loss(2).at_ms(100), Fault::restart(2).at_ms(200)];
    let options = CheckOptions { faults, ..options };
    check_with(|_| PrimaryBackup(Backup::Lazy), &invariants, &options).unwrap_err();
}
