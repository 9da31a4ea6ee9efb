// Multi-Paxos views derived from the trace and the state: the client history, the noise filter,
// and where a violation points (a slot, or a set of client operations).

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

/**
 * The operations a linearizability violation names, parsed from its detail:
 * `c3 put k0=2503 [487 ms, 495 ms]; c0 get k0 = 2503 [711 ms, 711 ms]; c1 put k0=7 [90 ms, pending]`.
 */
export function parseLinearizability(detail) {
  const out = [];
  const re = /c(\d+) ([^;[\]]+?) \[(\d+) ms, (?:(\d+) ms|pending)\]/g;
  for (const m of String(detail).matchAll(re)) {
    const text = m[2].trim();
    const read = text.match(/^(get \S+) = (\S+)$/);
    out.push({
      client: Number(m[1]),
      op: read ? read[1] : text,
      result: read ? `= ${read[2]}` : null,
      invoke: Number(m[3]),
      response: m[4] === undefined ? null : Number(m[4]),
    });
  }
  return out;
}

/** Does history operation `op` match one named by a violation? */
export function sameOp(op, named) {
  return op.client === named.client && op.op === named.op && op.invoke === named.invoke
    && op.response === named.response && (named.result === null || op.result === named.result);
}

/** The slot an agreement or log-consistency violation is about, or null. */
export function violationSlot(v) {
  if (v.invariant !== 'agreement' && v.invariant !== 'log-consistency') return null;
  const m = String(v.detail).match(/(?:slot |at )#(\d+)/);
  return m ? Number(m[1]) : null;
}

/**
 * The decisions an agreement violation names, from its detail
 * `slot #0 chose c1#1 put k1=101 under ballot 1.1 and no-op under ballot 4.2`; [] if it names none.
 */
export function agreementDecisions(v) {
  if (v.invariant !== 'agreement') return [];
  const m = String(v.detail).match(/slot #(\d+) chose (.+?) under ballot (\S+) and (.+?) under ballot (\S+)$/);
  if (!m) return [];
  const slot = Number(m[1]);
  return [{ slot, command: m[2], ballot: m[3] }, { slot, command: m[4], ballot: m[5] }];
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
