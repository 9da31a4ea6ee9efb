//! The lazy backup's failure, recorded for people to look at in the browser page: the file
//! carries the shrunk run (every event, each node's state as it changed), the violation, the
//! seed and the faults. The page's browser test opens the copy committed under
//! `web/tests/fixtures`, which must stay what this code produces.

use std::path::Path;

use primary_backup::{Backup, PrimaryBackup, backup_has_acked_writes};
use underhood_sim::prelude::*;
use underhood_sim::{FoundBy, RecordedKind, RecordedRun, SCRIPT_STEP_MS};

/// The committed copy the browser test opens.
const FIXTURE: &str = "../../web/tests/fixtures/lazy-backup.recorded.json";
/// The committed copy of the exhaustive counterexample the browser test opens.
const EXHAUSTIVE_FIXTURE: &str = "../../web/tests/fixtures/lazy-backup-exhaustive.recorded.json";

/// Fails unless the committed file at `fixture` is `text`; `UNDERHOOD_BLESS=1` rewrites it.
fn same_as_committed(fixture: &str, text: &str, what: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture);
    if std::env::var_os("UNDERHOOD_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is not what {what} records now; rerun with UNDERHOOD_BLESS=1 if the change is intended",
        path.display()
    );
}

fn failure() -> CheckFailure {
    let options =
        CheckOptions { runs: 200, duration_ms: 500, recordings: None, ..CheckOptions::default() };
    check_with(|_| PrimaryBackup(Backup::Lazy), &[backup_has_acked_writes()], &options).unwrap_err()
}

#[test]
fn the_lazy_backup_failure_is_recorded_with_its_violation_and_power_loss() {
    let failure = failure();
    let recorded =
        failure.recorded_run(|_| PrimaryBackup(Backup::Lazy), &[backup_has_acked_writes()]);
    assert_eq!(recorded.violation().invariant, "backup-has-acked-writes");
    assert_eq!(recorded.seed(), failure.seed);
    assert_eq!(recorded.shrunk(), failure.shrunk.as_slice());
    // The power loss that forgets the un-synced write, and the lazy write it forgets.
    let events = recorded.events();
    assert!(
        events.iter().any(|e| matches!(e.what, RecordedKind::Crash { node: 2, lost: 1.., .. }))
    );
    assert!(events.iter().any(|e| matches!(e.what, RecordedKind::Persist { node: 2, .. })));
    assert!(matches!(events.last().map(|e| &e.what), Some(RecordedKind::Violation { .. })));
    // The backup's last state holds nothing; the client's says it saw a write acknowledged.
    let last = |node| recorded.states().iter().rfind(|s| s.node == node).unwrap();
    assert!(last(2).state.as_deref().unwrap().contains("value: 0"), "{:?}", last(2));
    assert!(!last(0).state.as_deref().unwrap().contains("acked: 0"), "{:?}", last(0));
    assert_eq!(RecordedRun::from_json(&recorded.to_json()).unwrap(), recorded);
}

/// `UNDERHOOD_BLESS=1 cargo test --test recording` rewrites the fixtures after an intended change.
#[test]
fn the_fixture_the_browser_test_opens_is_what_this_code_records() {
    let recorded =
        failure().recorded_run(|_| PrimaryBackup(Backup::Lazy), &[backup_has_acked_writes()]);
    assert_eq!(recorded.found_by(), FoundBy::Check);
    same_as_committed(FIXTURE, &(recorded.to_json() + "\n"), "the lazy backup");
}

/// With `CheckOptions::recordings` (or `UNDERHOOD_RECORDINGS`), the failure saves its file
/// and says where.
#[test]
fn the_failure_saves_its_recording_and_says_where() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("primary-backup-recordings");
    let options = CheckOptions {
        runs: 200,
        duration_ms: 500,
        recordings: Some(dir.clone()),
        ..CheckOptions::default()
    };
    let invariants = [backup_has_acked_writes()];
    let failure = check_with(|_| PrimaryBackup(Backup::Lazy), &invariants, &options).unwrap_err();
    let path = failure.saved().unwrap();
    assert!(path.starts_with(&dir));
    assert!(failure.to_string().contains(&path.display().to_string()), "{failure}");
    let saved = RecordedRun::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(saved.violation().invariant, "backup-has-acked-writes");
}

/// The exhaustive checker's shortest counterexample, replayed and recorded the same way: the
/// page draws the seven steps, the power loss among them, and the broken invariant at the end.
#[test]
fn the_exhaustive_counterexample_is_recorded_step_by_step() {
    let invariants = [backup_has_acked_writes()];
    let make = || PrimaryBackup(Backup::Lazy);
    let failure = check_exhaustive(make, &invariants, &ExhaustiveOptions::default()).unwrap_err();
    let recorded = failure.recorded_run(make, &invariants);
    assert_eq!(recorded.violation().invariant, "backup-has-acked-writes");
    assert_eq!(
        recorded.found_by(),
        FoundBy::Exhaustive { steps: 7, unique_states: failure.unique_states }
    );
    assert_eq!(recorded.seed(), 0);
    assert!(recorded.faults().is_empty() && recorded.shrunk().is_empty());
    let events = recorded.events();
    // The replay breaks the invariant itself, at the recorded violation event, on the last step.
    let last = events.last().unwrap();
    assert!(matches!(last.what, RecordedKind::Violation { .. }), "{last:?}");
    assert_eq!(recorded.violation().event, last.i);
    assert_eq!(last.t, failure.script.len() as u64 * SCRIPT_STEP_MS);
    assert!(
        events.iter().any(|e| matches!(e.what, RecordedKind::Crash { node: 2, lost: 1.., .. })),
        "the power loss at the backup"
    );
    let last_state = |node| recorded.states().iter().rfind(|s| s.node == node).unwrap();
    assert!(last_state(2).state.as_deref().unwrap().contains("value: 0"), "{:?}", last_state(2));
    assert_eq!(RecordedRun::from_json(&recorded.to_json()).unwrap(), recorded);
    same_as_committed(EXHAUSTIVE_FIXTURE, &(recorded.to_json() + "\n"), "the exhaustive check");
}

/// A panic in the protocol's code ends the replay where it happens; the recording keeps what
/// came before and the panic's message.
#[test]
fn an_exhaustive_panic_is_recorded_up_to_the_panic() {
    let invariants = [backup_has_acked_writes()];
    let make = || PrimaryBackup(Backup::Panics);
    let failure = check_exhaustive(make, &invariants, &ExhaustiveOptions::default()).unwrap_err();
    let recorded = failure.recorded_run(make, &invariants);
    assert_eq!(recorded.violation().invariant, "no-panic");
    assert!(
        recorded.violation().detail.contains("no room for write 2"),
        "{:?}",
        recorded.violation()
    );
    assert!(!recorded.events().is_empty());
    assert_eq!(recorded.violation().event, recorded.events().len() as u64);
    assert_eq!(RecordedRun::from_json(&recorded.to_json()).unwrap(), recorded);
}

/// With `ExhaustiveOptions::recordings` (or `UNDERHOOD_RECORDINGS`), the exhaustive failure
/// saves its counterexample too and says where; a directory that cannot be written is said, and
/// the failure is the same.
#[test]
fn the_exhaustive_failure_saves_its_recording_and_says_where() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("primary-backup-exhaustive");
    let invariants = [backup_has_acked_writes()];
    let make = || PrimaryBackup(Backup::Lazy);
    let options =
        ExhaustiveOptions { recordings: Some(dir.clone()), ..ExhaustiveOptions::default() };
    let failure = check_exhaustive(make, &invariants, &options).unwrap_err();
    let path = failure.saved().unwrap();
    assert_eq!(path, dir.join("backup-has-acked-writes-exhaustive.json"));
    assert!(failure.to_string().contains(&path.display().to_string()), "{failure}");
    let saved = RecordedRun::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(saved, failure.recorded_run(make, &invariants));

    // A file where the directory should be: nothing saved, the reason in the message.
    let blocked = Path::new(env!("CARGO_TARGET_TMPDIR")).join("primary-backup-not-a-dir");
    std::fs::write(&blocked, "a file").unwrap();
    let options = ExhaustiveOptions { recordings: Some(blocked), ..ExhaustiveOptions::default() };
    let again = check_exhaustive(make, &invariants, &options).unwrap_err();
    assert!(again.saved().is_none());
    assert!(again.to_string().contains("could not save the recorded run"), "{again}");
    assert_eq!(again.steps, failure.steps);
}
