//! Parsing and planning speed.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use underhood_cpuflags::{Cpu, baseline};

fn benches(c: &mut Criterion) {
    let text = include_str!("../testdata/cpuinfo/x86_64-cascadelake-gold-6248.txt");
    c.bench_function("from_cpuinfo/cascadelake-80-cpus", |b| {
        b.iter(|| Cpu::from_cpuinfo(black_box(text)))
    });
    let hosts: Vec<Cpu> = [
        text,
        include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt"),
    ]
    .iter()
    .map(|t| Cpu::from_cpuinfo(t).expect("fixture parses"))
    .collect();
    c.bench_function("baseline/2-hosts", |b| {
        b.iter(|| baseline(black_box(&hosts)))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
