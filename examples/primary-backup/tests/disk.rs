//! The primary-backup register on disks that fail: every node's log goes through the
//! simulator's disk, so a downstream protocol gets torn writes, corruption and lying fsyncs by
//! adding disk faults to its schedule, with no change to its code.

use primary_backup::{Backup, PrimaryBackup, backup_has_acked_writes};
use underhood_sim::prelude::*;

fn options(faults: Vec<Fault>) -> CheckOptions {
    CheckOptions {
        runs: 20,
        duration_ms: 500,
        random_faults: false,
        faults,
        ..CheckOptions::default()
    }
}

#[test]
fn the_synced_backup_survives_torn_writes_and_refuses_a_corrupt_log() {
    let invariants = [backup_has_acked_writes()];
    let synced = |_| PrimaryBackup(Backup::Synced);
    // The backup loses power in the middle of its second write (which it never acknowledges)
    // and comes back without it.
    let torn = vec![
        Fault::disk(2, DiskFault::TornWrite).at_ms(0),
        Fault::on_write(2, 2, WriteCrash::PowerLoss),
        Fault::restart(2).at_ms(300),
    ];
    check_with(synced, &invariants, &options(torn)).unwrap();
    // Its acknowledged records are corrupted while it is down: it stays down rather than
    // come back holding less than it acknowledged.
    let corrupt = vec![
        Fault::crash(2).at_ms(200),
        Fault::disk(2, DiskFault::Corrupt).at_ms(210),
        Fault::restart(2).at_ms(220),
    ];
    check_with(synced, &invariants, &options(corrupt)).unwrap();
}

#[test]
fn a_lying_disk_breaks_the_synced_backup_and_takes_the_blame() {
    let invariants = [backup_has_acked_writes()];
    let synced = |_| PrimaryBackup(Backup::Synced);
    // Both of the backup's fsyncs lie: a lie before an honest fsync would leave a hole that
    // recovery detects (and the backup would stay down instead).
    let lie = vec![
        Fault::Disk { node: 2, fault: DiskFault::LostFsync, count: 2, when: When::at_ms(0) },
        Fault::power_loss(2).at_ms(200),
        Fault::restart(2).at_ms(210),
    ];
    let failure = check_with(synced, &invariants, &options(lie)).unwrap_err();
    assert_eq!(failure.violation.invariant, "backup-has-acked-writes");
    let by = failure.violation.broken_by.expect("the disk is blamed");
    assert_eq!((by.environment, by.node, by.fault), ("disk", 2, DiskFault::LostFsync));
    // The shrunk schedule still holds the lie, and the failure reproduces.
    assert!(failure.shrunk.iter().any(|f| matches!(f, Fault::Disk { .. })), "{failure}");
    let again = failure.reproduce(synced, &invariants).unwrap_err();
    assert_eq!(again.violation, failure.violation);
}
