//! Maglev table build for 1 000 backends at M = 65 537, and lookups against hash-mod-N in the
//! same run.
//!
//! `cargo bench -p underhood-lb --bench maglev`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use underhood_lb::{Backends, FlowKey, Maglev, ModN, TableSize, synthetic_flows};

fn backends(n: usize) -> Backends {
    let spec: Vec<String> = (0..n).map(|i| format!("backend-{i:04}")).collect();
    Backends::parse(&spec.join(",")).expect("distinct names")
}

fn benches(c: &mut Criterion) {
    let thousand = backends(1_000);
    let size = TableSize::new(65_537).expect("prime");
    c.bench_function("build/1000-backends/65537", |b| {
        b.iter(|| Maglev::new(black_box(&thousand), size))
    });
    let weighted = Backends::parse(
        &(0..1_000)
            .map(|i| format!("backend-{i:04}:{}", 1 + i % 4))
            .collect::<Vec<_>>()
            .join(","),
    )
    .expect("distinct names");
    c.bench_function("build/1000-backends-weights-1-4/65537", |b| {
        b.iter(|| Maglev::new(black_box(&weighted), size))
    });

    let maglev = Maglev::new(&thousand, size).expect("65537 ≥ 1000");
    let mod_n = ModN::new(&thousand);
    const BATCH: u64 = 4_096;
    let flows: Vec<FlowKey> = synthetic_flows(BATCH).collect();
    let hashes: Vec<u64> = flows.iter().map(FlowKey::hash).collect();
    let mut group = c.benchmark_group("lookup");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("maglev/prehashed", |b| {
        b.iter(|| {
            for &hash in black_box(&hashes) {
                black_box(maglev.lookup(hash));
            }
        })
    });
    group.bench_function("mod-n/prehashed", |b| {
        b.iter(|| {
            for &hash in black_box(&hashes) {
                black_box(mod_n.lookup(hash));
            }
        })
    });
    group.bench_function("maglev/hash-5-tuple", |b| {
        b.iter(|| {
            for flow in black_box(&flows) {
                black_box(maglev.lookup(flow.hash()));
            }
        })
    });
    group.bench_function("mod-n/hash-5-tuple", |b| {
        b.iter(|| {
            for flow in black_box(&flows) {
                black_box(mod_n.lookup(flow.hash()));
            }
        })
    });
    group.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
