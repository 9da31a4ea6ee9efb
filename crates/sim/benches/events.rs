//! Simulated events per second on the `bench` gallery scenario (2PC: 5 participants, 10 000
//! transactions, loss, duplication, conflicts, crashes and a partition) and on `paxos-bench`
//! (Multi-Paxos: 5 replicas, 8 clients, 10 000 operations, a leader crash), with the trace kept
//! and with only its hash; and the linearizability check of the 10 000-operation history.
//! Run with `cargo bench -p underhood-sim`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use underhood_sim::{
    MultiPaxos, OnViolation, Recording, Run, RunOptions, Sim, gallery, linearizability,
};

fn run(recording: Recording) -> u64 {
    run_scenario("bench", recording)
}

fn run_scenario(name: &str, recording: Recording) -> u64 {
    // The gallery always holds these; a failure here is a broken build, not bad input.
    let scenario = gallery::find(name).expect("bench scenario");
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

fn paxos(c: &mut Criterion) {
    let n = run_scenario("paxos-bench", Recording::HashOnly);
    let mut group = c.benchmark_group("paxos-bench-scenario");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    group.bench_function("recording-off", |b| {
        b.iter(|| run_scenario("paxos-bench", Recording::HashOnly))
    });
    group.finish();

    let scenario = gallery::find("paxos-bench").expect("bench scenario");
    let mut sim = Sim::new(
        MultiPaxos::new(&scenario, scenario.seed),
        &scenario.environment(),
        scenario.seed,
        &[],
        Recording::HashOnly,
        OnViolation::Continue,
    )
    .expect("bench scenario is valid");
    sim.run_to_end();
    let history = sim.protocol().operations();
    assert!(history.len() >= 10_000);
    let mut group = c.benchmark_group("linearizability");
    group.sample_size(10);
    group.throughput(Throughput::Elements(history.len() as u64));
    group.bench_function("paxos-bench-history", |b| {
        b.iter(|| linearizability::check(&history).is_ok())
    });
    group.finish();
}

criterion_group!(benches, events, paxos);
criterion_main!(benches);
