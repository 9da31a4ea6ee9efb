//! How a run shows itself: the state and the trace as JSON for the browser, and the plain-text
//! summary for the CLI. Nothing here changes the run.

use serde_json::{Value, json};
use underhood_consensus::NodeId;

use super::Sim;
use crate::process::{Process, Protocol};

impl<P: Protocol> Sim<P> {
    /// A node's state; `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&P::Node> {
        self.nodes.get(id.0 as usize)?.node.as_ref()
    }

    /// The state of the run as JSON (`docs/sim-wasm-api.md`).
    pub fn state_json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let id = NodeId(i as u32);
                // The newest records only: a long run's log would make every frame heavy.
                const SHOWN: usize = 40;
                let records = slot.disk.records();
                let log: Vec<String> = records[records.len().saturating_sub(SHOWN)..]
                    .iter()
                    .map(<P::Node as Process>::label_record)
                    .collect();
                let mut v = json!({
                    "id": i, "name": self.protocol.node_name(id), "up": slot.node.is_some(),
                    "log": log, "log_len": records.len(),
                    "unsynced": slot.disk.unsynced(),
                });
                if let Value::Object(map) = &mut v {
                    map.insert(
                        "clock".to_owned(),
                        json!({
                            "local_ms": slot.clock.read(self.now),
                            "offset_ms": slot.clock.offset_ms(self.now),
                            "drift_ppm": slot.clock.drift_ppm(),
                        }),
                    );
                    map.insert("disk".to_owned(), slot.disk.view());
                    map.extend(self.protocol.node_details(id, slot.node.as_ref(), self.now));
                }
                v
            })
            .collect();
        let partitioned = self.group.iter().any(|g| *g != 0);
        let partition = partitioned.then(|| {
            let n_groups = self.group.iter().max().map_or(0, |m| m + 1);
            (0..n_groups)
                .map(|g| {
                    (0..self.group.len() as u32)
                        .filter(|n| self.group[*n as usize] == g)
                        .collect::<Vec<u32>>()
                })
                .filter(|g| !g.is_empty())
                .collect::<Vec<_>>()
        });
        let in_flight: Vec<Value> = self
            .in_flight
            .iter()
            .map(|(id, f)| {
                json!({
                    "id": id, "from": f.from.0, "to": f.to.0,
                    "label": <P::Node as Process>::label_msg(&f.msg),
                    "sent_at": f.sent_at.0, "deliver_at": f.deliver_at.0,
                })
            })
            .collect();
        let details = self.protocol.details(self.now);
        json!({
            "now": self.now.0, "steps": self.steps, "finished": self.finished(),
            "duration_ms": self.duration.0, "nodes": nodes, "partition": partition,
            "in_flight": in_flight, "violations": self.violations, "protocol": details,
        })
    }

    /// Kept trace events from index `from` on, as JSON.
    pub fn events_json(&self, from: usize) -> Value {
        let names: Vec<String> = (0..self.protocol.n_nodes())
            .map(|i| self.protocol.node_name(NodeId(i)))
            .collect();
        Value::Array(
            self.trace
                .iter()
                .enumerate()
                .skip(from)
                .map(|(i, e)| e.to_json(i as u64, &names))
                .collect(),
        )
    }

    /// A plain-text summary: events, decisions, liveness, invariants, and the trace hash.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "events: {} queue events, {} trace events, virtual time {} ms",
            self.steps, self.n_events, self.now.0
        );
        self.protocol.summarize(self.now, &mut out);
        for (i, slot) in self.nodes.iter().enumerate() {
            if let Some(refusal) = slot.disk.refused() {
                let name = self.protocol.node_name(NodeId(i as u32));
                let _ = writeln!(out, "disk: {name} stays down: recovery refused: {refusal}");
            }
        }
        if self.violations.is_empty() {
            let _ = writeln!(out, "invariants: all held");
        } else {
            for v in &self.violations {
                let _ = writeln!(
                    out,
                    "invariants: VIOLATED {} at event {} ({} ms): {}",
                    v.invariant, v.event, v.time.0, v.detail
                );
                if let Some(by) = v.broken_by {
                    let name = self.protocol.node_name(NodeId(by.node));
                    let _ = writeln!(out, "  {}", by.describe(&name));
                }
            }
        }
        let _ = writeln!(out, "trace-hash: {:016x}", self.trace_hash());
        out
    }
}
