//! A broken invariant as data: its name, one sentence for people, and the evidence (nodes,
//! transaction, slot, key, the decisions or client operations that contradict each other) for
//! programs, so the browser renders a violation without reading the sentence.

use serde::Serialize;
use underhood_consensus::{NodeId, Time, TxId};

/// An invariant a protocol checks on every run: its name, as its violations carry it, and
/// what it promises, in one sentence for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RunInvariant {
    /// The name (`"atomicity"`), as in [`Violation::invariant`].
    pub name: &'static str,
    /// What it promises (`"no transaction commits at one node and aborts at another"`).
    pub promise: &'static str,
}

/// Where an invariant stands at some point of a run: it holds, or a violation of it was
/// reported at an event. [`crate::Run::invariants`] lists one per invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvariantStatus {
    /// The name.
    pub name: &'static str,
    /// What it promises; empty for an invariant the protocol does not list (a custom check).
    pub promise: &'static str,
    /// The first violation so far: `None` while the invariant holds.
    pub violated_since: Option<ViolatedSince>,
    /// How many violations of it were reported so far.
    pub violations: usize,
}

/// The first violation of an invariant: the index of its `violation` trace event and its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ViolatedSince {
    /// The index of the `violation` event in the trace.
    pub event: u64,
    /// When, in ms.
    pub time: Time,
}

/// A broken invariant.
///
/// Protocols build one in a line and add what they know:
///
/// ```
/// use underhood_consensus::{NodeId, TxId};
/// use underhood_sim::{Decided, Violation};
///
/// let v = Violation::new("atomicity", "t1 committed at P1 but aborted at P2")
///     .tx(TxId(1))
///     .nodes([NodeId(1), NodeId(2)])
///     .decisions([Decided::by(NodeId(1), "commit"), Decided::by(NodeId(2), "abort")]);
/// let json = serde_json::to_value(&v)?;
/// assert_eq!(json["tx"], 1);
/// assert_eq!(json["decisions"][1]["value"], "abort");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Violation {
    /// The invariant's name (`"atomicity"`).
    pub invariant: &'static str,
    /// What happened, in one sentence, for the command line. Programs read `evidence` instead.
    pub detail: String,
    /// What the violation is about, as data (boxed: violations are rare, and results that
    /// carry one stay small).
    #[serde(flatten)]
    pub evidence: Box<Evidence>,
}

/// What a violation is about. Every field is optional: a site fills in what it knows, and
/// readers treat an empty list or `None` as "not said".
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Evidence {
    /// The nodes involved, the one that broke the invariant first (the one that decided last,
    /// the one that took the address), then the ones it contradicts.
    pub nodes: Vec<NodeId>,
    /// The transaction (atomic commit).
    pub tx: Option<TxId>,
    /// The log position (Multi-Paxos).
    pub slot: Option<u64>,
    /// The key whose history cannot be ordered (linearizability).
    pub key: Option<u64>,
    /// The decisions that contradict each other, in the order they were made.
    pub decisions: Vec<Decided>,
    /// The client operations that contradict each other, in invocation order.
    pub operations: Vec<ClientOperation>,
}

/// One decision a violation names: a node's outcome, a replica's applied command, or a value a
/// quorum chose under a ballot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Decided {
    /// The node that decided, or `None` for a value a quorum chose.
    pub node: Option<NodeId>,
    /// What was decided, labelled as the trace and the state label it (`"commit"`,
    /// `"c1#1 put k1=101"`, `"no-op"`).
    pub value: String,
    /// The ballot it was decided under, labelled as the state labels it (`"4.2"`), for Paxos.
    pub ballot: Option<String>,
}

/// A client operation a violation names, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct ClientOperation {
    /// The client that issued it.
    pub client: u32,
    /// The client's sequence number for it; `(client, seq)` names the operation in the trace's
    /// requests and replies.
    pub seq: u64,
    /// The operation, labelled as its request is (`"put k0=2503"`, `"get k0"`).
    pub op: String,
    /// The result the client received (`"ok"`, `"= 2503"`, `"= nil"`), or `None` if none came.
    pub result: Option<String>,
    /// When it was invoked.
    pub invoke: Time,
    /// When the reply arrived, or `None` if it was still pending at the end.
    pub response: Option<Time>,
}

impl Violation {
    /// A violation of `invariant` with its one-sentence `detail` and no evidence yet.
    pub fn new(invariant: &'static str, detail: impl Into<String>) -> Violation {
        Violation {
            invariant,
            detail: detail.into(),
            evidence: Box::default(),
        }
    }

    /// Adds nodes it is about.
    #[must_use]
    pub fn nodes(mut self, nodes: impl IntoIterator<Item = NodeId>) -> Violation {
        self.evidence.nodes.extend(nodes);
        self
    }

    /// Names the transaction.
    #[must_use]
    pub fn tx(mut self, tx: TxId) -> Violation {
        self.evidence.tx = Some(tx);
        self
    }

    /// Names the log position.
    #[must_use]
    pub fn slot(mut self, slot: u64) -> Violation {
        self.evidence.slot = Some(slot);
        self
    }

    /// Names the key.
    #[must_use]
    pub fn key(mut self, key: u64) -> Violation {
        self.evidence.key = Some(key);
        self
    }

    /// Adds decisions that contradict each other.
    #[must_use]
    pub fn decisions(mut self, decisions: impl IntoIterator<Item = Decided>) -> Violation {
        self.evidence.decisions.extend(decisions);
        self
    }

    /// Adds client operations that contradict each other.
    #[must_use]
    pub fn operations(
        mut self,
        operations: impl IntoIterator<Item = ClientOperation>,
    ) -> Violation {
        self.evidence.operations.extend(operations);
        self
    }
}

impl Decided {
    /// `node` decided `value`.
    pub fn by(node: NodeId, value: impl Into<String>) -> Decided {
        Decided {
            node: Some(node),
            value: value.into(),
            ballot: None,
        }
    }

    /// A quorum chose `value` under `ballot`.
    pub fn chosen(value: impl Into<String>, ballot: impl ToString) -> Decided {
        Decided {
            node: None,
            value: value.into(),
            ballot: Some(ballot.to_string()),
        }
    }

    /// The same decision, made under `ballot`.
    #[must_use]
    pub fn under(mut self, ballot: impl ToString) -> Decided {
        self.ballot = Some(ballot.to_string());
        self
    }
}

impl ClientOperation {
    /// Operation `seq` of `client`, `op` as its request labels it, invoked at `invoke`, with no
    /// reply yet.
    pub fn new(client: u32, seq: u64, op: impl Into<String>, invoke: Time) -> ClientOperation {
        ClientOperation {
            client,
            seq,
            op: op.into(),
            result: None,
            invoke,
            response: None,
        }
    }

    /// The same operation, answered with `result` at `response`.
    #[must_use]
    pub fn replied(mut self, response: Time, result: impl Into<String>) -> ClientOperation {
        self.response = Some(response);
        self.result = Some(result.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn check(violation: Violation, expected: serde_json::Value) {
        assert_eq!(serde_json::to_value(&violation).unwrap(), expected);
    }

    #[test]
    fn a_bare_violation_says_nothing_more() {
        check(
            Violation::new("single-vip-holder", "two holders"),
            json!({
                "invariant": "single-vip-holder", "detail": "two holders", "nodes": [],
                "tx": null, "slot": null, "key": null, "decisions": [], "operations": [],
            }),
        );
    }

    #[test]
    fn decisions_carry_node_value_and_ballot() {
        check(
            Violation::new("agreement", "slot #3 chose a and b")
                .slot(3)
                .decisions([
                    Decided::chosen("no-op", "1.1"),
                    Decided::by(NodeId(2), "c0#1 get k0").under("4.2"),
                ]),
            json!({
                "invariant": "agreement", "detail": "slot #3 chose a and b", "nodes": [],
                "tx": null, "slot": 3, "key": null, "operations": [],
                "decisions": [
                    {"node": null, "value": "no-op", "ballot": "1.1"},
                    {"node": 2, "value": "c0#1 get k0", "ballot": "4.2"},
                ],
            }),
        );
    }

    #[test]
    fn operations_carry_client_seq_times_and_result() {
        check(
            Violation::new("linearizability", "no legal order")
                .key(0)
                .nodes([NodeId(1)])
                .tx(TxId(7))
                .operations([
                    ClientOperation::new(3, 5, "put k0=503", Time(487)),
                    ClientOperation::new(0, 9, "get k0", Time(711)).replied(Time(715), "= 503"),
                ]),
            json!({
                "invariant": "linearizability", "detail": "no legal order", "nodes": [1],
                "tx": 7, "slot": null, "key": 0, "decisions": [],
                "operations": [
                    {"client": 3, "seq": 5, "op": "put k0=503", "result": null, "invoke": 487, "response": null},
                    {"client": 0, "seq": 9, "op": "get k0", "result": "= 503", "invoke": 711, "response": 715},
                ],
            }),
        );
    }
}
