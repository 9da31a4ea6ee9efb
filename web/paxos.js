// Multi-Paxos views derived from the trace and the state: the client history, the noise filter,
// and where a violation points (its slot, its client operations), read from its structured fields.

/** True for a run of the Multi-Paxos simulator (its state carries the protocol's history). */
export function isPaxos(state) {
  return Boolean(state && state.protocol && Array.isArray(state.protocol.history));
}

/**
 * The complete client history, rebuilt from the trace (the state keeps only the last 60 operations).
 * An operation is invoked by its first request and completed by its first reply that is not a redirect.
 * Feed it trace events in order with `add`; `ops` lists every operation in invocation order.
 */
export class ClientHistory {
  constructor() {
    this.ops = [];
    this.byKey = new Map();
    this.clients = new Set();
  }

  add(events) {
    for (const e of events) {
      if (e.kind === 'request' && e.request) {
        const { client, seq } = e.request;
        const key = `${client}:${seq}`;
        if (this.byKey.has(key)) {
          this.byKey.get(key).attempts++;
          continue;
        }
        const op = {
          client, seq, invoke: e.t, response: null, result: null, event: e.i, replyEvent: null, attempts: 1,
          op: e.label.replace(/^c\d+ #\d+ /, ''), node: e.node, replyNode: null,
        };
        this.byKey.set(key, op);
        this.ops.push(op);
        this.clients.add(client);
      } else if (e.kind === 'output' && e.output && e.output.reply) {
        const { client, seq, reply } = e.output.reply;
        const op = this.byKey.get(`${client}:${seq}`);
        if (!op || op.response !== null || !reply || reply.done === undefined) continue;
        op.response = e.t;
        op.replyEvent = e.i;
        op.replyNode = e.node;
        op.result = reply.done === 'written' ? 'ok' : `= ${reply.done && reply.done.read !== null && reply.done.read !== undefined ? reply.done.read : 'nil'}`;
      }
    }
  }
}

/** The client operations the violations name (each violation's structured `operations`). */
export function namedOperations(violations) {
  return (violations ?? []).flatMap(v => v.operations ?? []);
}

/** Is history operation `op` one a violation names? `(client, seq)` names an operation. */
export function sameOp(op, named) {
  return op.client === named.client && op.seq === named.seq;
}

/** The slot a violation is about, or null. */
export function violationSlot(v) {
  return Number.isInteger(v.slot) ? v.slot : null;
}

/**
 * The values a violation says a quorum chose in its slot under a ballot, as
 * `[{ slot, command, ballot }]`; [] if it names none.
 */
export function chosenDecisions(v) {
  const slot = violationSlot(v);
  if (slot === null) return [];
  return (v.decisions ?? [])
    .filter(d => d.node === null && typeof d.ballot === 'string')
    .map(d => ({ slot, command: d.value, ballot: d.ballot }));
}

/**
 * Trace events the "hide heartbeats" switch hides: heartbeat messages and timers, and election
 * timeouts that found the leader alive (nothing happens at that node in the same instant).
 * Returns a function of the event index; it works on the trace as it grows.
 */
export function heartbeatNoise(trace) {
  return i => {
    const e = trace[i];
    if (!e) return false;
    const label = e.label ?? '';
    switch (e.kind) {
      case 'send': case 'deliver': case 'drop':
        return label.startsWith('heartbeat');
      case 'timer': {
        if (label.startsWith('heartbeat')) return true;
        if (!label.startsWith('election')) return false;
        // The effects of a timeout follow it directly, and a queue event's trace arrives whole.
        const next = trace[i + 1];
        const acted = next && next.t === e.t && ((next.kind === 'persist' && next.node === e.node) || (next.kind === 'send' && next.from === e.node));
        return !acted;
      }
      default:
        return false;
    }
  };
}

/** A stable pastel colour for a command, so equal commands look equal across replicas. */
export function commandColor(command) {
  let h = 2166136261;
  for (const ch of String(command)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hue = h % 360;
  return { bg: `hsl(${hue} 70% 92%)`, line: `hsl(${hue} 55% 55%)`, ink: `hsl(${hue} 45% 28%)` };
}

/** "c3#50 put k0=5003" → { client: "c3#50", op: "put k0=5003" }. */
export function splitCommand(command) {
  const m = String(command).match(/^(c\d+#\d+) (.*)$/);
  return m ? { client: m[1], op: m[2] } : { client: '', op: String(command) };
}
