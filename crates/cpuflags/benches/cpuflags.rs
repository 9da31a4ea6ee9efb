//! Parsing, classification and planning speed on the captures in `testdata/`.
//!
//! `cargo bench -p underhood-cpuflags`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use underhood_cpuflags::{Cpu, GuestCpu, baseline, compare, microarchitecture};

const CASCADE: &str = include_str!("../testdata/cpuinfo/x86_64-cascadelake-gold-6248.txt");
const HASWELL: &str = include_str!("../testdata/cpuinfo/x86_64-haswell-e5-2680v3.txt");
const ZEN3: &str = include_str!("../testdata/cpuinfo/x86_64-zen3-epyc-7763.txt");

fn benches(c: &mut Criterion) {
    c.bench_function("from_cpuinfo/cascadelake-8-cpus", |b| {
        b.iter(|| Cpu::from_cpuinfo(black_box(CASCADE)))
    });
    let hosts: Vec<Cpu> = [CASCADE, HASWELL, ZEN3]
        .iter()
        .map(|t| Cpu::from_cpuinfo(t).expect("fixture parses"))
        .collect();
    c.bench_function("microarchitecture/cascadelake", |b| {
        b.iter(|| microarchitecture(black_box(&hosts[0])))
    });
    c.bench_function("baseline/3-hosts", |b| {
        b.iter(|| baseline(black_box(&hosts)))
    });
    let guest = GuestCpu::parse("Westmere,+pcid").expect("known model");
    c.bench_function("compare/westmere-on-haswell", |b| {
        b.iter(|| compare(black_box(&guest), black_box(&hosts[1])))
    });
    c.bench_function("detect_host", |b| b.iter(Cpu::detect_host));
}

criterion_group!(group, benches);
criterion_main!(group);
