//! Simulated events per second on the `bench` gallery scenario (5 participants, 10 000
//! transactions, loss, duplication, conflicts, crashes and a partition), with the trace kept
//! and with only its hash. Run with `cargo bench -p underhood-sim`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use underhood_sim::{OnViolation, Recording, Run, RunOptions, gallery};

fn run(recording: Recording) -> u64 {
    // The gallery always holds "bench"; a failure here is a broken build, not bad input.
    let scenario = gallery::find("bench").expect("bench scenario");
    let mut run = Run::new(
        &scenario,
        RunOptions {
            recording,
            on_violation: OnViolation::Continue,
            ..RunOptions::default()
        },
    )
    .expect("bench scenario is valid");
    run.run_to_end()
}

fn events(c: &mut Criterion) {
    let n = run(Recording::HashOnly);
    let mut group = c.benchmark_group("2pc-bench-scenario");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    group.bench_function("recording-off", |b| b.iter(|| run(Recording::HashOnly)));
    group.bench_function("recording-on", |b| b.iter(|| run(Recording::Full)));
    group.finish();
}

criterion_group!(benches, events);
criterion_main!(benches);
