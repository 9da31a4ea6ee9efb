//! Checking Porcupine's published histories, in the three sets Porcupine's own benchmarks
//! cover: the 102 etcd logs (CAS register), the six key-value histories by key, and the two
//! 10-client key-value histories checked whole. Histories are parsed once, outside the timing,
//! as Porcupine's benchmarks do.
//!
//! `cargo bench -p underhood-lincheck --bench porcupine`; `cargo xtask bench-lincheck` runs this
//! and Porcupine's benchmarks in the same run and prints the ratios.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use underhood_lincheck::{
    Format, History, ModelKind, Options, Partitioning, Settings, Value, Verdict, check_history,
};

fn load(file: &str) -> History {
    let path = format!("{}/testdata/porcupine/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("the test histories are in the repository");
    History::parse(&bytes, Format::Auto).expect("Porcupine's histories parse")
}

/// The files of a set with their expected verdicts, from `verdicts.txt`.
fn set(model: &str, partitioning: &str) -> Vec<(History, bool)> {
    include_str!("../testdata/porcupine/verdicts.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields[..] {
                [file, m, p, verdict] if m == model && p == partitioning => {
                    Some((load(file), verdict == "linearizable"))
                }
                _ => None,
            }
        })
        .collect()
}

fn check_all(histories: &[(History, bool)], settings: &Settings) {
    for (history, linearizable) in histories {
        let report = check_history(black_box(history), settings).expect("the models fit");
        assert_eq!(
            matches!(report.verdict, Verdict::Linearizable),
            *linearizable
        );
    }
}

fn benches(c: &mut Criterion) {
    // Porcupine checks partitions on all cores; so do we.
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let options = Options {
        threads,
        ..Options::default()
    };
    let cas = Settings {
        model: ModelKind::CasRegister {
            initial: Value::Nil,
        },
        partitioning: Partitioning::ByKey,
        options: options.clone(),
    };
    let kv = Settings {
        model: ModelKind::Kv,
        partitioning: Partitioning::ByKey,
        options: options.clone(),
    };
    let kv_whole = Settings {
        partitioning: Partitioning::Whole,
        ..kv.clone()
    };
    let etcd = set("cas-register", "by-key");
    assert_eq!(etcd.len(), 102);
    let kv_by_key = set("kv", "by-key");
    let kv_10: Vec<(History, bool)> = set("kv", "whole")
        .into_iter()
        .filter(|(h, _)| h.lanes().len() == 10)
        .collect();
    assert_eq!(kv_10.len(), 2);

    let mut group = c.benchmark_group("porcupine-sets");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("etcd-102", |b| b.iter(|| check_all(&etcd, &cas)));
    group.bench_function("kv-by-key", |b| b.iter(|| check_all(&kv_by_key, &kv)));
    group.bench_function("kv-no-partition-c10", |b| {
        b.iter(|| check_all(&kv_10, &kv_whole))
    });
    group.finish();
}

criterion_group!(porcupine, benches);
criterion_main!(porcupine);
