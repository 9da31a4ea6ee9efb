//! Typed errors of the simulator: bad scenarios, bad injected faults, bad seed ranges.

/// A scenario (or an injected fault) that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The text is not valid scenario JSON (the parser's message says where).
    #[error("invalid scenario JSON: {0}")]
    Json(serde_json::Error),
    /// The text is not valid replay JSON (the parser's message says where).
    #[error("invalid replay JSON (expected {{\"scenario\", \"seed\", \"script\"}}): {0}")]
    ReplayJson(serde_json::Error),
    /// The variant is not one the protocol has.
    #[error("unknown variant {variant:?} for {protocol} (expected one of: {expected})")]
    UnknownVariant {
        /// The protocol.
        protocol: &'static str,
        /// The name given.
        variant: String,
        /// The names accepted.
        expected: String,
    },
    /// Too few or too many nodes.
    #[error("a scenario needs 2 to {max} nodes, not {nodes}")]
    NodeCount {
        /// The count given.
        nodes: u32,
        /// The most allowed.
        max: u32,
    },
    /// A protocol value whose node count is not the environment's.
    #[error("the protocol has {protocol} nodes but the environment {environment}")]
    NodeMismatch {
        /// The protocol's node count.
        protocol: u32,
        /// The environment's node count.
        environment: u32,
    },
    /// A node id is not below the node count.
    #[error("{field}: node {node} does not exist (the scenario has nodes 0 to {})", nodes - 1)]
    NodeOutOfRange {
        /// Where the id was found.
        field: &'static str,
        /// The id.
        node: u32,
        /// The node count.
        nodes: u32,
    },
    /// A coordinator was named where a participant is needed.
    #[error(
        "node {node} is not a participant (the coordinator is node 0; acceptors come after the participants)"
    )]
    NotAParticipant {
        /// The id.
        node: u32,
    },
    /// The run would end before it starts.
    #[error("duration_ms must be greater than 0")]
    ZeroDuration,
    /// A run longer than the simulator accepts.
    #[error("duration_ms {duration_ms} is more than the {max} the simulator accepts")]
    DurationTooLong {
        /// The duration given.
        duration_ms: u64,
        /// The most allowed.
        max: u64,
    },
    /// A timeout of zero, which would fire at the same instant forever.
    #[error("{field} must be at least 1 ms")]
    ZeroTimeout {
        /// The field.
        field: &'static str,
    },
    /// A number outside the range the simulator accepts.
    #[error("{field} is {value}; it must be between {min} and {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The least allowed.
        min: u64,
        /// The most allowed.
        max: u64,
    },
    /// A signed number (a clock jump, a drift) outside the range the simulator accepts.
    #[error("{field} is {value}; it must be between {min} and {max}")]
    SignedOutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: i64,
        /// The least allowed.
        min: i64,
        /// The most allowed.
        max: i64,
    },
    /// A latency range with min above max.
    #[error("latency min {min} ms is greater than max {max} ms")]
    LatencyRange {
        /// The minimum.
        min: u64,
        /// The maximum.
        max: u64,
    },
    /// A rate above 1000 per mille.
    #[error("{field} is {value}, but a rate per mille is at most 1000")]
    PerMille {
        /// The field.
        field: &'static str,
        /// The value.
        value: u32,
    },
    /// More transactions than the simulator accepts.
    #[error("{transactions} transactions requested; at most {max}")]
    TooManyTransactions {
        /// The count given.
        transactions: u64,
        /// The most allowed.
        max: u64,
    },
    /// `participants_per_tx` is 0 or more than the participants.
    #[error("participants_per_tx {participants_per_tx} must be between 1 and {participants}")]
    ParticipantsPerTx {
        /// The value given.
        participants_per_tx: u32,
        /// How many participants exist.
        participants: u32,
    },
    /// A timed fault with neither `at_ms` nor `after_event`.
    #[error("fault {fault:?} needs at_ms or after_event")]
    FaultWithoutTime {
        /// The fault type.
        fault: &'static str,
    },
    /// A timed fault set after the run ends, so it could never happen.
    #[error(
        "fault {fault:?} at_ms {at_ms} is after the run ends (duration_ms {duration_ms}); it would never happen"
    )]
    FaultAfterEnd {
        /// The fault type.
        fault: &'static str,
        /// When it was set for.
        at_ms: u64,
        /// The scenario's duration.
        duration_ms: u64,
    },
    /// A workload whose first client request comes after the run ends.
    #[error(
        "workload.start_ms {start_ms} is after the run ends (duration_ms {duration_ms}); no client request would happen"
    )]
    WorkloadAfterEnd {
        /// When the first request was set for.
        start_ms: u64,
        /// The scenario's duration.
        duration_ms: u64,
    },
    /// A workload whose estimated size is over the scenario's event budget.
    #[error(
        "the workload needs about {estimated} events (transactions x nodes x 8), more than limits.max_events {max_events}; shrink the workload or raise limits.max_events (at most 100000000)"
    )]
    EventBudget {
        /// The estimate.
        estimated: u64,
        /// The budget.
        max_events: u64,
    },
    /// A workload whose estimated trace is over the scenario's memory budget.
    #[error(
        "the workload's trace needs about {estimated_mb} MiB, more than limits.max_memory_mb {max_memory_mb}; shrink the workload or raise limits.max_memory_mb (at most 4096)"
    )]
    MemoryBudget {
        /// The estimate, in MiB.
        estimated_mb: u64,
        /// The budget, in MiB.
        max_memory_mb: u64,
    },
    /// A node listed in two partition groups.
    #[error("node {node} is in two partition groups")]
    NodeInTwoGroups {
        /// The node.
        node: u32,
    },
    /// A partition with no nodes in it.
    #[error("a partition needs at least one non-empty group")]
    EmptyPartition,
    /// A message kind the protocol does not have.
    #[error("unknown message kind {kind:?} (expected one of: {expected})")]
    UnknownMessageKind {
        /// The kind given.
        kind: String,
        /// The kinds accepted.
        expected: String,
    },
    /// Rules count matches from 1.
    #[error("nth counts from 1; 0 never matches")]
    NthIsZero,
    /// A scenario for a custom protocol was run by name.
    #[error("a custom protocol cannot be run by name; pass it to underhood_sim::check")]
    CustomProtocol,
    /// No gallery scenario has this name.
    #[error("no gallery scenario named {name:?} (try `underhood sim list`)")]
    UnknownScenario {
        /// The name given.
        name: String,
    },
    /// The seed text is not a number.
    #[error("seed {text:?} is not a whole number from 0 to 18446744073709551615")]
    BadSeed {
        /// The text given.
        text: String,
    },
    /// A scripted run's choice cannot happen (the script does not fit the scenario).
    #[error("the script does not replay: {0}")]
    Script(#[from] crate::engine::ScriptError),
    /// A fault injected into a running simulation that cannot apply now.
    #[error("cannot inject {fault}: {reason}")]
    Inject {
        /// The fault type.
        fault: &'static str,
        /// Why (`node 2 is already down`).
        reason: InjectRefusal,
    },
}

/// Why an injected fault was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InjectRefusal {
    /// Rules apply for a whole run; they belong in the scenario.
    #[error("rules (drop, delay, crash_after_send) belong in the scenario, not in an injection")]
    RuleNotTimed,
    /// The message already arrived or was lost.
    #[error("message {0} is not in flight")]
    NotInFlight(u64),
    /// A scripted run replays a fixed path; it takes no other faults.
    #[error("a scripted run replays a fixed path (a counterexample); it takes no injections")]
    Scripted,
}

/// A run stopped because it outgrew one of its scenario's budgets (`limits` in the scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// It recorded `limits.max_events` events.
    #[error(
        "the run stopped at limits.max_events: {max_events} events recorded by {at_ms} ms of virtual time (raise limits.max_events in the scenario, at most 100000000)"
    )]
    Events {
        /// The budget.
        max_events: u64,
        /// When it stopped.
        at_ms: u64,
    },
    /// Its kept trace reached `limits.max_memory_mb`.
    #[error(
        "the run stopped at limits.max_memory_mb: its trace reached {max_memory_mb} MiB by {at_ms} ms of virtual time (raise limits.max_memory_mb in the scenario, at most 4096)"
    )]
    Memory {
        /// The budget, in MiB.
        max_memory_mb: u64,
        /// When it stopped.
        at_ms: u64,
    },
}
