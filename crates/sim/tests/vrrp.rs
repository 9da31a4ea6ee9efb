//! VRRP in the simulator: every gallery scenario tells its story with the timing RFC 5798
//! promises, and the lease variant never has two VIP holders whatever the faults.

use proptest::prelude::*;
use underhood_consensus::NodeId;
use underhood_consensus::vrrp::{Config, Node, Output};
use underhood_sim::{
    EventKind, Fault, OnViolation, ProtocolConfig, Recording, Scenario, ScenarioError, Sim, Vrrp,
    When, gallery,
};

/// When each router became master, and when it let go (step down, stop or crash), in order.
fn vip_changes(sim: &Sim<Vrrp>) -> Vec<(u64, u32, bool)> {
    sim.trace()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Output {
                node,
                output: Output::BecameMaster { .. },
            } => Some((e.time.0, node.0, true)),
            EventKind::Output {
                node,
                output: Output::BecameBackup { .. } | Output::Stopped,
            } => Some((e.time.0, node.0, false)),
            _ => None,
        })
        .collect()
}

fn run(name: &str) -> (Sim<Vrrp>, Scenario) {
    let scenario = gallery::find(name).unwrap();
    let mut sim = Sim::new(
        Vrrp::new(&scenario),
        &scenario.environment(),
        scenario.seed,
        &[],
        Recording::Full,
        OnViolation::Continue,
    )
    .unwrap();
    sim.run_to_end();
    (sim, scenario)
}

fn violations(sim: &Sim<Vrrp>) -> Vec<(&'static str, u64)> {
    sim.violations()
        .iter()
        .map(|v| (v.invariant, v.time.0))
        .collect()
}

fn holders(sim: &Sim<Vrrp>) -> Vec<u32> {
    sim.protocol().holders().map(|n| n.0).collect()
}

const MDI_200: u64 = 3000 + 56 * 1000 / 256; // 3218 ms
const MDI_150: u64 = 3000 + 106 * 1000 / 256; // 3414 ms
const MAX_LATENCY: u64 = 8;

#[test]
fn rfc_5798_intervals() {
    assert_eq!(Config::skew_ms(200, 1000), 218);
    assert_eq!(Config::master_down_ms(200, 1000), MDI_200);
    assert_eq!(Config::master_down_ms(150, 1000), MDI_150);
    assert_eq!(Config::master_down_ms(255, 1000), 3003);
    assert_eq!(Config::skew_ms(1, 100), 99);
}

#[test]
fn master_crash_fails_over_within_the_master_down_interval() {
    let (sim, _) = run("vrrp-master-crash");
    assert_eq!(violations(&sim), vec![]);
    let changes = vip_changes(&sim);
    // R1 wins the first election after its (shortest) master-down interval.
    assert_eq!(changes[0], (MDI_200, 0, true));
    // R2 takes over no later than one master-down interval after the last advertisement it
    // heard, which left R1 at most one advertisement interval before the crash at 8 s.
    let (t, node, up) = changes[1];
    assert_eq!((node, up), (1, true), "{changes:?}");
    assert!(t > 8000 && t <= 8000 + MDI_150 + MAX_LATENCY, "{changes:?}");
    assert!(t >= 8000 + MDI_150 - 1000, "{changes:?}");
    assert_eq!(changes.len(), 2, "R3 stays backup: {changes:?}");
    assert_eq!(holders(&sim), vec![1]);
}

#[test]
fn preemption_takes_the_vip_back_and_overlaps_for_one_network_delay() {
    let (sim, _) = run("vrrp-preempt");
    let changes = vip_changes(&sim);
    // R1 restarts at 14 s, ignores R2's lower advertisements and takes over after its
    // master-down interval; R2 lets go when R1's advertisement reaches it.
    let back = changes
        .iter()
        .find(|c| c.1 == 0 && c.2 && c.0 > 14_000)
        .expect("R1 takes the VIP back");
    assert_eq!(back.0, 14_000 + MDI_200);
    let r2_down = changes
        .iter()
        .find(|c| c.1 == 1 && !c.2)
        .expect("R2 steps down");
    assert!(r2_down.0 >= back.0 && r2_down.0 <= back.0 + MAX_LATENCY);
    assert_eq!(violations(&sim), vec![("single-vip-holder", back.0)]);
    assert_eq!(holders(&sim), vec![0]);
}

#[test]
fn without_preemption_the_vip_stays() {
    let (sim, _) = run("vrrp-no-preempt");
    assert_eq!(violations(&sim), vec![]);
    assert_eq!(holders(&sim), vec![1]);
    assert_eq!(vip_changes(&sim).iter().filter(|c| c.2).count(), 2);
}

#[test]
fn a_flapping_uplink_with_preemption_moves_the_vip_every_time() {
    let (sim, _) = run("vrrp-flapping");
    let takeovers: Vec<u32> = vip_changes(&sim)
        .iter()
        .filter(|c| c.2)
        .map(|c| c.1)
        .collect();
    assert_eq!(takeovers, vec![0, 1, 0, 1, 0]);
    assert_eq!(violations(&sim).len(), 4);
}

#[test]
fn a_partition_makes_two_masters() {
    let (sim, _) = run("vrrp-split-brain");
    let v = violations(&sim);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].0, "single-vip-holder");
    assert!(v[0].1 > 8000 + MDI_150 - 1000 && v[0].1 <= 8000 + MDI_150 + MAX_LATENCY);
    // After the heal R2 hears R1's higher priority and steps down.
    assert_eq!(holders(&sim), vec![0]);
    let (_, split) = sim.protocol().outage_and_split_ms(sim.now());
    assert!(split > 4000, "split brain lasted {split} ms");
}

#[test]
fn the_lease_avoids_split_brain_under_the_same_partition() {
    let (sim, _) = run("vrrp-lease-partition");
    assert_eq!(violations(&sim), vec![]);
    let changes = vip_changes(&sim);
    // R1 lets go when its lease runs out (at most 3 s after the partition), strictly before R2
    // takes over.
    let r1_down = changes.iter().find(|c| c.1 == 0 && !c.2).unwrap();
    let r2_up = changes.iter().find(|c| c.1 == 1 && c.2).unwrap();
    assert!(r1_down.0 > 8000 && r1_down.0 <= 11_000, "{changes:?}");
    assert!(r2_up.0 > r1_down.0 && r2_up.0 < 16_000, "{changes:?}");
    assert_eq!(holders(&sim), vec![0], "R1 preempts after the heal");
}

#[test]
fn the_lease_costs_availability_without_a_majority() {
    let (sim, _) = run("vrrp-lease-no-quorum");
    assert_eq!(violations(&sim), vec![]);
    let changes = vip_changes(&sim);
    let r2_up = changes.iter().find(|c| c.1 == 1 && c.2).unwrap();
    // W restarts at 16 s and stays silent for one lease (3 s).
    assert!(r2_up.0 >= 19_000, "{changes:?}");
    let (none, _) = sim.protocol().outage_and_split_ms(sim.now());
    assert!(none >= 10_000, "no VIP for {none} ms");
}

#[test]
fn gallery_runs_are_deterministic() {
    for s in gallery::gallery()
        .into_iter()
        .filter(|s| s.name.starts_with("vrrp-"))
    {
        let hash = |recording| {
            let mut sim = Sim::new(
                Vrrp::new(&s),
                &s.environment(),
                s.seed,
                &[],
                recording,
                OnViolation::Continue,
            )
            .unwrap();
            sim.run_to_end();
            sim.trace_hash()
        };
        assert_eq!(
            hash(Recording::Full),
            hash(Recording::HashOnly),
            "{}",
            s.name
        );
    }
}

#[test]
fn bad_vrrp_settings_are_typed_errors() {
    let base = gallery::source("vrrp-master-crash").unwrap();
    for (from, to) in [
        ("\"priorities\": [\n      200", "\"priorities\": [\n      0"),
        ("\"priorities\": [", "\"advert_ms\": 0, \"priorities\": ["),
        ("\"priorities\": [", "\"priorities\": [1, 2, 3, "),
        (
            "\"priorities\": [",
            "\"operator\": [{\"at_ms\": 1, \"node\": 7, \"action\": \"start\"}], \"priorities\": [",
        ),
        (
            "\"priorities\": [",
            "\"operator\": [{\"at_ms\": 1, \"node\": 0, \"action\": \"set_priority\", \"priority\": 255}], \"priorities\": [",
        ),
        (
            "\"correct\"",
            "\"lease\", \"vrrp\": {\"lease_ms\": 100, \"renew_ms\": 100}, \"x\": 0",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        assert!(Scenario::from_json(&text).is_err(), "accepted: {text}");
    }
}

fn lease_scenario(
    priorities: Vec<u8>,
    witnesses: u32,
    faults: Vec<Fault>,
    seed: u64,
) -> Result<Scenario, ScenarioError> {
    gallery::find("vrrp-lease-partition").unwrap().edit(|s| {
        s.nodes = priorities.len() as u32 + witnesses;
        if let ProtocolConfig::Vrrp(c) = &mut s.protocol {
            c.vrrp.priorities = priorities;
            c.vrrp.witnesses = Some(witnesses);
        }
        s.faults = faults;
        s.seed = seed;
        s.duration_ms = 30_000;
    })
}

fn fault_strategy(nodes: u32) -> impl Strategy<Value = Fault> {
    let at = |ms: u64| When {
        at_ms: Some(ms),
        after_event: None,
    };
    prop_oneof![
        (0..nodes, 0u64..30_000).prop_map(move |(node, ms)| Fault::Crash {
            node,
            lose_unsynced: false,
            when: at(ms),
        }),
        (0..nodes, 0u64..30_000).prop_map(move |(node, ms)| Fault::Restart { node, when: at(ms) }),
        (
            proptest::collection::vec(0..3u32, nodes as usize),
            0u64..30_000
        )
            .prop_map(move |(side, ms)| {
                let groups = (0..3)
                    .map(|g| (0..nodes).filter(|&n| side[n as usize] == g).collect())
                    .collect();
                Fault::Partition {
                    groups,
                    when: at(ms),
                }
            }),
        (0u64..30_000).prop_map(move |ms| Fault::Heal { when: at(ms) }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever crashes, restarts and partitions happen, the lease variant never lets two
    /// routers hold the VIP at once.
    #[test]
    fn the_lease_variant_never_has_two_holders(
        priorities in proptest::collection::vec(1u8..=254, 2..4),
        witnesses in 1u32..3,
        faults in proptest::collection::vec(fault_strategy(5), 0..8),
        seed in any::<u64>(),
    ) {
        let nodes = priorities.len() as u32 + witnesses;
        let faults: Vec<Fault> = faults.into_iter().filter(|f| match f {
            Fault::Crash { node, .. } | Fault::Restart { node, .. } => *node < nodes,
            Fault::Partition { groups, .. } => groups.iter().flatten().all(|n| *n < nodes),
            _ => true,
        }).collect();
        let s = lease_scenario(priorities, witnesses, faults, seed);
        prop_assume!(s.is_ok());
        let s = s.unwrap();
        let mut sim = Sim::new(Vrrp::new(&s), &s.environment(), seed, &[], Recording::HashOnly, OnViolation::Stop).unwrap();
        sim.add_invariant(underhood_sim::Invariant::new(
            "single-vip-holder (state)",
            |nodes: &[Option<&Node>]| match Vrrp::masters(nodes) {
                0 | 1 => Ok(()),
                n => Err(format!("{n} masters")),
            },
        ));
        sim.run_to_end();
        prop_assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    }

    /// Without faults, plain VRRP ends with exactly the highest-priority router as master (the
    /// highest id among equals). On the way, routers whose master-down intervals differ by less
    /// than a network delay may both take over for a moment.
    #[test]
    fn plain_vrrp_elects_the_highest_priority(
        priorities in proptest::collection::vec(1u8..=254, 2..6),
        seed in any::<u64>(),
    ) {
        let s = gallery::find("vrrp-master-crash").unwrap().edit(|s| {
            s.nodes = priorities.len() as u32;
            if let ProtocolConfig::Vrrp(c) = &mut s.protocol {
                c.vrrp.priorities = priorities.clone();
            }
            s.faults.clear();
            s.duration_ms = 12_000;
        }).unwrap();
        let mut sim = Sim::new(Vrrp::new(&s), &s.environment(), seed, &[], Recording::HashOnly, OnViolation::Continue).unwrap();
        sim.run_to_end();
        let best = (0..priorities.len()).max_by_key(|&i| (priorities[i], i)).unwrap() as u32;
        let holders: Vec<u32> = sim.protocol().holders().map(|n: NodeId| n.0).collect();
        // Equal priorities can race: both time out together, then the higher id wins.
        prop_assert_eq!(holders, vec![best]);
    }
}
