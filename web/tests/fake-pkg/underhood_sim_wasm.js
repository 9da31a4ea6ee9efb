// A stand-in for the wasm-bindgen output of crates/sim-wasm, for working on the page without Rust.
// It implements docs/sim-wasm-api.md with a tiny deterministic Two-Phase Commit simulator in plain JS.
// Its numbers are not those of the real simulator; only the shapes of the API and the JSON are meant to match.
// Serve it in place of web/pkg/ with `node web/tests/serve-fake.mjs`; never copy it into web/pkg/,
// which is the real build's output.

export default async function init() {}

const MASK = (1n << 64n) - 1n;

/** splitmix64, enough for a fake. */
class Rng {
  constructor(seed) { this.s = BigInt.asUintN(64, BigInt(seed)); }
  next() {
    this.s = (this.s + 0x9e3779b97f4a7c15n) & MASK;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  }
  below(n) { return Number(this.next() % BigInt(n)); }
}

const BASE = {
  protocol: '2pc', variant: 'correct', participants: 3, seed: '1', duration_ms: 1000,
  delay_ms: [3, 9], loss_per_mille: 0, vote_timeout_ms: 50, decision_timeout_ms: 60, retry_ms: 40,
  disk_ms: 2, txs: [{ tx: 1, at: 10 }], votes: {}, faults: [], triggers: [], rules: [],
};

// A trigger schedules faults relative to the first output with a given label (at a given node):
// fixed times would miss the interesting window for most seeds.
const on = (label, node, ...faults) => ({ on: label, node, faults: faults.map(([after_ms, fault]) => ({ after_ms, fault })) });
const crash = node => ({ type: 'crash', node });
const restart = node => ({ type: 'restart', node });

const GALLERY = [
  ['happy-path', 'Three participants, two transactions, a reliable network: everyone votes commit and everyone commits.',
    { txs: [{ tx: 1, at: 10 }, { tx: 2, at: 200 }] }],
  ['no-vote', 'P2 cannot do its part of t1 and votes abort: one "no" aborts the transaction everywhere.',
    { votes: { 2: 'abort' } }],
  ['coordinator-crash-before-decision', 'The coordinator crashes after sending PREPARE and before deciding. Participants that voted commit are stuck in doubt: 2PC blocks.',
    { triggers: [on('voted commit t1', undefined, [1, crash(0)])] }],
  ['coordinator-crash-after-decision', 'The coordinator forces COMMIT, starts announcing it and crashes; after restart it re-sends the decision from its log.',
    { triggers: [on('decided commit t1', 0, [0, crash(0)], [250, restart(0)])], rules: [{ label: 'commit t1', to: 3, until: 100 }] }],
  ['participant-crash-after-yes', 'P2 votes commit and crashes; it recovers in doubt from its PREPARED record and asks for the outcome.',
    { triggers: [on('voted commit t1', 2, [1, crash(2)], [200, restart(2)])] }],
  ['lost-messages', 'A lossy network (20% of messages dropped): timeouts and retries still reach one outcome.',
    { loss_per_mille: 200, txs: [{ tx: 1, at: 10 }, { tx: 2, at: 250 }, { tx: 3, at: 500 }] }],
  ['partition-during-commit', 'The network splits {C, P1} from {P2, P3} while votes are in flight, and heals later.',
    { triggers: [on('voted commit t1', undefined, [0, { type: 'partition', groups: [[0, 1], [2, 3]] }], [350, { type: 'heal' }])] }],
  ['announce-before-log', 'Broken: the coordinator announces COMMIT before forcing it to its log, then crashes. After restart it presumes abort.',
    { variant: 'announce-before-log', triggers: [on('decided commit t1', 0, [1, { type: 'crash', node: 0, lose_unsynced: true }], [10, restart(0)])], rules: [{ label: 'commit t1', to: 3, until: 100 }] }],
  ['vote-before-log', 'Broken: P1 votes commit before its PREPARED record is on disk, crashes, and forgets that it voted.',
    { variant: 'vote-before-log', triggers: [on('voted commit t1', 1, [1, { type: 'crash', node: 1, lose_unsynced: true }], [10, restart(1)])],
      rules: [{ label: 'commit t1', to: 1, until: 150 }, { label: 'commit t1', to: 3, until: 150 }] }],
  ['abort-on-timeout', 'Broken: in-doubt participants give up and abort when the decision is late, while the coordinator committed.',
    { variant: 'abort-on-timeout', triggers: [on('decided commit t1', 0, [0, { type: 'partition', groups: [[0, 1], [2, 3]] }], [300, { type: 'heal' }])] }],
].map(([name, description, over]) => ({ name, description, scenario: { ...BASE, ...over, name, description } }));

function parseJson(text, what) {
  try { return JSON.parse(text); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}

function checkSeed(seed) {
  if (seed === '') return null;
  if (!/^[0-9]{1,20}$/.test(seed) || BigInt(seed) > MASK) throw new Error(`seed must be a decimal u64, got ${JSON.stringify(seed)}`);
  return seed;
}

const FAULT_TYPES = ['crash', 'restart', 'partition', 'heal', 'drop_message'];

export class Simulation {
  static gallery() {
    return JSON.stringify(GALLERY.map(g => ({ name: g.name, description: g.description, protocol: '2pc', variant: g.scenario.variant })));
  }

  static scenarioJson(name) {
    const g = GALLERY.find(g => g.name === name);
    if (!g) throw new Error(`unknown gallery scenario ${JSON.stringify(name)} (expected one of: ${GALLERY.map(g => g.name).join(', ')})`);
    return JSON.stringify(g.scenario, null, 2);
  }

  static fromGallery(name, seed, injectedJson) {
    return new Simulation(Simulation.scenarioJson(name), seed, injectedJson);
  }

  constructor(scenarioJson, seed, injectedJson) {
    const sc = { ...BASE, ...parseJson(scenarioJson, 'scenario') };
    this.sc = sc;
    this.seedText = checkSeed(String(seed)) ?? String(sc.seed);
    this.rng = new Rng(this.seedText);
    const pending = parseJson(injectedJson || '[]', 'injected faults');
    if (!Array.isArray(pending)) throw new Error('injected faults must be a JSON list');
    pending.forEach(f => this.checkFault(f));
    this.pending = pending.map(f => ({ ...f }));
    this.injectedList = [];
    this.trace = [];
    this.queue = [];
    this.seq = 0;
    this.nowMs = 0;
    this.stepCount = 0;
    this.msgId = 0;
    this.inFlight = new Map();
    this.partition = null;
    this.decisions = new Map(); // tx -> Map(node -> outcome)
    this.violationList = [];
    this.fired = new Set();
    const n = sc.participants;
    this.nodes = [];
    for (let id = 0; id <= n; id++) {
      this.nodes.push({ id, name: id === 0 ? 'C' : `P${id}`, role: id === 0 ? 'coordinator' : 'participant',
        up: true, inc: 0, log: [], txs: new Map(), inDoubtMs: 0 });
    }
    for (const t of sc.txs) this.push(t.at, { kind: 'request', tx: t.tx });
    for (const f of sc.faults) this.push(f.at, { kind: 'fault', fault: f.fault });
  }

  free() {}
  seed() { return this.seedText; }
  now() { return this.nowMs; }
  steps() { return this.stepCount; }
  durationMs() { return this.sc.duration_ms; }
  eventCount() { return this.trace.length; }
  eventsSince(cursor) { return JSON.stringify(this.trace.slice(cursor)); }
  injected() { return JSON.stringify(this.injectedList); }
  violations() { return JSON.stringify(this.violationList); }
  finished() { return this.queue.length === 0 || this.queue[0].t > this.sc.duration_ms; }

  step(n) {
    let ran = 0;
    while (ran < n) {
      this.applyPending(Infinity);
      if (this.finished()) break;
      this.runOne();
      ran++;
    }
    return ran;
  }

  runUntil(tMs) {
    if (typeof tMs !== 'number' || !Number.isFinite(tMs)) throw new Error(`runUntil wants a finite number, got ${tMs}`);
    const limit = Math.min(tMs, this.sc.duration_ms);
    let ran = 0;
    for (;;) {
      this.applyPending(limit);
      if (this.finished() || this.queue[0].t > limit) break;
      this.runOne();
      ran++;
    }
    this.nowMs = Math.max(this.nowMs, limit);
    this.applyPending(limit);
    return ran;
  }

  runToEnd() { return this.runUntil(this.sc.duration_ms); }

  inject(faultJson) {
    const f = parseJson(faultJson, 'fault');
    this.checkFault(f);
    const rec = { ...f, after_event: this.stepCount, at_ms: this.nowMs };
    this.applyFault(f, 'injected');
    this.injectedList.push(rec);
    return JSON.stringify(rec);
  }

  state() {
    return JSON.stringify({
      now: this.nowMs, steps: this.stepCount, finished: this.finished(), duration_ms: this.sc.duration_ms,
      nodes: this.nodes.map(nd => {
        const txs = [...nd.txs.entries()].sort((a, b) => a[0] - b[0]).map(([tx, s]) => {
          if (s.state === 'voting') return { tx, state: 'voting', commit_votes: s.yes.size, participants: this.sc.participants };
          if (s.state === 'in_doubt') return { tx, state: 'in_doubt', since: s.since };
          return { tx, state: 'decided', outcome: s.outcome };
        });
        const inDoubt = [...nd.txs.values()].filter(s => s.state === 'in_doubt');
        return { id: nd.id, name: nd.name, role: nd.role, up: nd.up, log: nd.log.map(r => r.label), unsynced: nd.log.filter(r => !r.synced).length, txs,
          in_doubt_ms: nd.inDoubtMs + (nd.up ? inDoubt.reduce((a, s) => a + this.nowMs - s.since, 0) : 0),
          in_doubt_now: nd.up ? inDoubt.length : 0 };
      }),
      partition: this.partition,
      in_flight: [...this.inFlight.values()].map(m => ({ id: m.id, from: m.from, to: m.to, label: m.label, sent_at: m.sent_at, deliver_at: m.deliver_at })),
      violations: this.violationList,
    });
  }

  traceHash() {
    let h = 0xcbf29ce484222325n;
    const s = JSON.stringify(this.trace);
    for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & MASK;
    return h.toString(16).padStart(16, '0');
  }

  summary() {
    const st = JSON.parse(this.state());
    const lines = [`scenario ${this.sc.name ?? '(custom)'} · variant ${this.sc.variant} · seed ${this.seedText}`,
      `t=${st.now}ms of ${st.duration_ms}ms · ${st.steps} steps · ${this.trace.length} events${st.finished ? ' · finished' : ''}`];
    for (const nd of st.nodes) {
      const txs = nd.txs.map(t => t.state === 'decided' ? `t${t.tx} ${t.outcome}` : t.state === 'in_doubt' ? `t${t.tx} IN DOUBT since ${t.since}ms` : `t${t.tx} voting ${t.commit_votes}/${t.participants}`);
      lines.push(`${nd.name.padEnd(3)} ${nd.up ? 'up  ' : 'down'} ${txs.join(', ') || '-'}${nd.in_doubt_ms ? ` (in doubt ${nd.in_doubt_ms}ms)` : ''}`);
    }
    lines.push(this.violationList.length ? `VIOLATIONS: ${this.violationList.map(v => `${v.invariant}: ${v.detail}`).join('; ')}` : 'invariants: ok');
    lines.push(`trace hash ${this.traceHash()}`);
    return lines.join('\n');
  }

  // ---- internals ----

  checkFault(f) {
    if (!f || !FAULT_TYPES.includes(f.type)) throw new Error(`unknown fault type ${JSON.stringify(f && f.type)} (expected one of: ${FAULT_TYPES.join(', ')})`);
    if ((f.type === 'crash' || f.type === 'restart') && !(Number.isInteger(f.node) && f.node >= 0 && f.node <= this.sc.participants)) {
      throw new Error(`no node ${JSON.stringify(f.node)} in this scenario`);
    }
    if (f.type === 'partition' && !(Array.isArray(f.groups) && f.groups.every(Array.isArray))) throw new Error('partition wants groups: [[ids], [ids]]');
  }

  applyPending(limit) {
    while (this.pending.length && this.pending[0].after_event <= this.stepCount && (this.pending[0].at_ms ?? 0) <= limit) {
      const rec = this.pending.shift();
      if (rec.at_ms !== undefined) this.nowMs = Math.max(this.nowMs, rec.at_ms);
      this.applyFault(rec, 'injected');
      this.injectedList.push({ ...rec });
    }
  }

  push(t, item) {
    const e = { t, seq: this.seq++, ...item };
    let lo = 0, hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.t < e.t || (q.t === e.t && q.seq < e.seq)) lo = mid + 1; else hi = mid;
    }
    this.queue.splice(lo, 0, e);
  }

  emit(ev) {
    const e = { i: this.trace.length, t: this.nowMs, ...ev };
    this.trace.push(e);
    if (e.kind === 'output') {
      this.sc.triggers.forEach((tr, k) => {
        if (this.fired.has(k) || tr.on !== e.label || (tr.node !== undefined && tr.node !== e.node)) return;
        this.fired.add(k);
        for (const f of tr.faults) this.push(this.nowMs + f.after_ms, { kind: 'fault', fault: f.fault });
      });
    }
    return e;
  }

  runOne() {
    const e = this.queue.shift();
    this.nowMs = Math.max(this.nowMs, e.t);
    this.stepCount++;
    const before = this.trace.length;
    if (e.kind === 'request') this.onRequest(e.tx);
    else if (e.kind === 'deliver') this.onDeliver(e.msg);
    else if (e.kind === 'timer') this.onTimer(e);
    else if (e.kind === 'disk') this.onDisk(e);
    else if (e.kind === 'fault') this.applyFault(e.fault, 'scenario');
    this.checkInvariants(before);
  }

  applyFault(f, _source) {
    if (f.type === 'crash') {
      const nd = this.nodes[f.node];
      if (!nd.up) return;
      let lost = 0;
      if (f.lose_unsynced) {
        lost = nd.log.filter(r => !r.synced).length;
        nd.log = nd.log.filter(r => r.synced);
      }
      nd.up = false;
      nd.inc++;
      for (const s of nd.txs.values()) if (s.state === 'in_doubt') nd.inDoubtMs += this.nowMs - s.since;
      nd.txs = new Map();
      if (f.lose_unsynced) this.queue = this.queue.filter(q => !(q.kind === 'disk' && q.node === nd.id));
      this.emit({ kind: 'crash', node: nd.id, lost, label: `crash ${nd.name}${f.lose_unsynced ? ' (power loss)' : ''}` });
    } else if (f.type === 'restart') {
      const nd = this.nodes[f.node];
      if (nd.up) return;
      nd.up = true;
      this.emit({ kind: 'restart', node: nd.id, label: `restart ${nd.name}` });
      this.recover(nd);
    } else if (f.type === 'partition') {
      this.partition = f.groups.map(g => [...g]);
      const names = this.partition.map(g => `{${g.map(i => this.nodes[i]?.name ?? i).join(',')}}`).join(' | ');
      this.emit({ kind: 'partition', groups: this.partition, label: `partition ${names}` });
    } else if (f.type === 'heal') {
      this.partition = null;
      this.emit({ kind: 'heal', label: 'heal' });
    } else if (f.type === 'drop_message') {
      const m = this.inFlight.get(f.id);
      if (!m) throw new Error(`message ${f.id} is not in flight`);
      this.inFlight.delete(m.id);
      this.queue = this.queue.filter(q => !(q.kind === 'deliver' && q.msg.id === m.id));
      this.emit({ kind: 'drop', id: m.id, from: m.from, to: m.to, reason: 'injected', label: m.label });
    }
  }

  send(from, to, body) {
    const [lo, hi] = this.sc.delay_ms;
    const delay = lo + this.rng.below(hi - lo + 1);
    const lost = this.sc.loss_per_mille > 0 && this.rng.below(1000) < this.sc.loss_per_mille;
    const m = { id: this.msgId++, from, to, ...body, sent_at: this.nowMs, deliver_at: this.nowMs + delay, lost };
    m.label = msgLabel(m);
    this.inFlight.set(m.id, m);
    this.emit({ kind: 'send', id: m.id, from, to, label: m.label, msg: body });
    this.push(m.deliver_at, { kind: 'deliver', msg: m });
  }

  timer(nd, at, timer) {
    this.push(at, { kind: 'timer', node: nd.id, inc: nd.inc, timer });
  }

  persist(nd, record, durability) {
    nd.log.push({ ...record, synced: durability === 'forced' });
    this.emit({ kind: 'persist', node: nd.id, durability, label: record.label, record });
    if (durability === 'lazy') this.push(this.nowMs + this.sc.disk_ms, { kind: 'disk', node: nd.id });
  }

  output(nd, output) {
    const label = output.type === 'voted' ? `voted ${output.vote} t${output.tx}` : `decided ${output.outcome} t${output.tx}`;
    this.emit({ kind: 'output', node: nd.id, label, output });
    if (output.type === 'decided') {
      if (!this.decisions.has(output.tx)) this.decisions.set(output.tx, new Map());
      this.decisions.get(output.tx).set(nd.id, output.outcome);
    }
  }

  participantsOf() { return this.nodes.filter(n => n.id !== 0).map(n => n.id); }

  onRequest(tx) {
    const c = this.nodes[0];
    this.emit({ kind: 'request', node: 0, label: `begin t${tx}${c.up ? '' : ' (coordinator down)'}` });
    if (!c.up) return;
    c.txs.set(tx, { state: 'voting', yes: new Set() });
    for (const p of this.participantsOf()) this.send(0, p, { type: 'prepare', tx, work: this.sc.votes[p] === 'abort' ? 'conflict' : 'ready' });
    this.timer(c, this.nowMs + this.sc.vote_timeout_ms, { type: 'vote_timeout', tx });
  }

  onDeliver(m) {
    this.inFlight.delete(m.id);
    const to = this.nodes[m.to];
    const cut = this.partition && !this.partition.some(g => g.includes(m.from) && g.includes(m.to));
    const ruled = this.sc.rules.some(r => r.label === m.label && r.to === m.to && this.nowMs <= r.until);
    const reason = ruled ? 'rule' : m.lost ? 'loss' : cut ? 'partition' : !to.up ? 'receiver_down' : null;
    if (reason) {
      this.emit({ kind: 'drop', id: m.id, from: m.from, to: m.to, reason, label: m.label });
      return;
    }
    this.emit({ kind: 'deliver', id: m.id, from: m.from, to: m.to, label: m.label });
    if (to.id === 0) this.coordinatorGets(to, m); else this.participantGets(to, m);
  }

  decide(c, tx, outcome) {
    const announce = () => { for (const p of this.participantsOf()) this.send(0, p, { type: 'decision', tx, outcome }); };
    const rec = { label: `${outcome === 'commit' ? 'committed' : 'aborted'} t${tx}`, kind: outcome, tx };
    c.txs.set(tx, { state: 'decided', outcome, acks: new Set() });
    if (outcome === 'commit' && this.sc.variant === 'announce-before-log') {
      announce();
      this.persist(c, rec, 'lazy');
    } else {
      this.persist(c, rec, outcome === 'commit' ? 'forced' : 'lazy');
      announce();
    }
    this.output(c, { type: 'decided', tx, outcome });
    if (outcome === 'commit') this.timer(c, this.nowMs + this.sc.retry_ms, { type: 'resend', tx });
  }

  coordinatorGets(c, m) {
    const s = c.txs.get(m.tx);
    if (m.type === 'vote') {
      if (!s || s.state !== 'voting') return;
      if (m.vote === 'abort') this.decide(c, m.tx, 'abort');
      else {
        s.yes.add(m.from);
        if (s.yes.size === this.sc.participants) this.decide(c, m.tx, 'commit');
      }
    } else if (m.type === 'ack') {
      if (s && s.state === 'decided') {
        s.acks.add(m.from);
        if (s.acks.size === this.sc.participants) this.persist(c, { label: `end t${m.tx}`, kind: 'end', tx: m.tx }, 'lazy');
      }
    } else if (m.type === 'query') {
      let status;
      if (!s) {
        // Presumed abort: nothing known means abort.
        const logged = c.log.find(r => r.tx === m.tx && (r.kind === 'commit' || r.kind === 'abort'));
        status = logged ? logged.kind : 'abort';
        if (!logged) { c.txs.set(m.tx, { state: 'decided', outcome: 'abort', acks: new Set() }); this.output(c, { type: 'decided', tx: m.tx, outcome: 'abort' }); }
      } else status = s.state === 'decided' ? s.outcome : 'in_doubt';
      if (status !== 'in_doubt') this.send(0, m.from, { type: 'decision', tx: m.tx, outcome: status });
    }
  }

  participantGets(p, m) {
    const s = p.txs.get(m.tx);
    if (m.type === 'prepare') {
      if (s) return;
      if (m.work === 'conflict') {
        p.txs.set(m.tx, { state: 'decided', outcome: 'abort' });
        this.persist(p, { label: `aborted t${m.tx}`, kind: 'abort', tx: m.tx }, 'lazy');
        this.output(p, { type: 'voted', tx: m.tx, vote: 'abort' });
        this.output(p, { type: 'decided', tx: m.tx, outcome: 'abort' });
        this.send(p.id, 0, { type: 'vote', tx: m.tx, vote: 'abort' });
        return;
      }
      const rec = { label: `prepared t${m.tx}`, kind: 'prepared', tx: m.tx };
      p.txs.set(m.tx, { state: 'in_doubt', since: this.nowMs });
      if (this.sc.variant === 'vote-before-log') {
        this.send(p.id, 0, { type: 'vote', tx: m.tx, vote: 'commit' });
        this.persist(p, rec, 'lazy');
      } else {
        this.persist(p, rec, 'forced');
        this.send(p.id, 0, { type: 'vote', tx: m.tx, vote: 'commit' });
      }
      this.output(p, { type: 'voted', tx: m.tx, vote: 'commit' });
      this.timer(p, this.nowMs + this.sc.decision_timeout_ms, { type: 'decision_timeout', tx: m.tx });
    } else if (m.type === 'decision' || m.type === 'status') {
      const outcome = m.outcome ?? m.status;
      if (outcome === 'in_doubt') return;
      if (!s || s.state === 'in_doubt') this.learn(p, m.tx, outcome, s);
      if (outcome === 'commit' && m.from === 0) this.send(p.id, 0, { type: 'ack', tx: m.tx });
    } else if (m.type === 'query') {
      const status = !s ? 'abort' : s.state === 'decided' ? s.outcome : 'in_doubt';
      if (!s) this.learn(p, m.tx, 'abort', s);
      this.send(p.id, m.from, { type: 'status', tx: m.tx, status });
    }
  }

  learn(p, tx, outcome, s) {
    if (s && s.state === 'in_doubt') p.inDoubtMs += this.nowMs - s.since;
    p.txs.set(tx, { state: 'decided', outcome });
    this.persist(p, { label: `${outcome === 'commit' ? 'committed' : 'aborted'} t${tx}`, kind: outcome, tx }, outcome === 'commit' ? 'forced' : 'lazy');
    this.output(p, { type: 'decided', tx, outcome });
  }

  onTimer(e) {
    const nd = this.nodes[e.node];
    if (!nd.up || nd.inc !== e.inc) return;
    const tm = e.timer;
    const s = nd.txs.get(tm.tx);
    if (tm.type === 'vote_timeout') {
      if (!s || s.state !== 'voting') return;
      this.emit({ kind: 'timer', node: nd.id, label: `vote timeout t${tm.tx}`, timer: tm });
      this.decide(nd, tm.tx, 'abort');
    } else if (tm.type === 'resend') {
      if (!s || s.state !== 'decided' || s.acks.size === this.sc.participants) return;
      this.emit({ kind: 'timer', node: nd.id, label: `resend t${tm.tx}`, timer: tm });
      for (const p of this.participantsOf()) if (!s.acks.has(p)) this.send(0, p, { type: 'decision', tx: tm.tx, outcome: s.outcome });
      this.timer(nd, this.nowMs + this.sc.retry_ms, tm);
    } else if (tm.type === 'decision_timeout') {
      if (!s || s.state !== 'in_doubt') return;
      this.emit({ kind: 'timer', node: nd.id, label: `decision timeout t${tm.tx}`, timer: tm });
      if (this.sc.variant === 'abort-on-timeout') { this.learn(nd, tm.tx, 'abort', s); return; }
      for (const q of this.nodes) if (q.id !== nd.id) this.send(nd.id, q.id, { type: 'query', tx: tm.tx });
      this.timer(nd, this.nowMs + this.sc.retry_ms, tm);
    }
  }

  onDisk(e) {
    // The oldest lazy write of the node reaches the disk; this is not a trace event.
    const record = this.nodes[e.node].log.find(r => !r.synced);
    if (record) record.synced = true;
  }

  recover(nd) {
    const outcomes = new Map();
    for (const r of nd.log) if (r.kind === 'commit' || r.kind === 'abort') outcomes.set(r.tx, r.kind);
    if (nd.id === 0) {
      for (const [tx, outcome] of outcomes) {
        nd.txs.set(tx, { state: 'decided', outcome, acks: new Set() });
        if (outcome === 'commit' && !nd.log.some(r => r.kind === 'end' && r.tx === tx)) {
          for (const p of this.participantsOf()) this.send(0, p, { type: 'decision', tx, outcome });
          this.timer(nd, this.nowMs + this.sc.retry_ms, { type: 'resend', tx });
        }
      }
      return;
    }
    for (const r of nd.log) {
      if (r.kind !== 'prepared') continue;
      if (outcomes.has(r.tx)) continue;
      nd.txs.set(r.tx, { state: 'in_doubt', since: this.nowMs });
      this.timer(nd, this.nowMs + this.sc.decision_timeout_ms, { type: 'decision_timeout', tx: r.tx });
    }
    for (const [tx, outcome] of outcomes) nd.txs.set(tx, { state: 'decided', outcome });
  }

  checkInvariants(from) {
    for (let i = from; i < this.trace.length; i++) {
      const e = this.trace[i];
      if (e.kind !== 'output' || e.output.type !== 'decided') continue;
      const seen = this.decisions.get(e.output.tx);
      const other = [...seen.entries()].find(([, o]) => o !== e.output.outcome);
      if (!other || this.violationList.some(v => v.tx === e.output.tx)) continue;
      const [c, a] = e.output.outcome === 'commit' ? [e.node, other[0]] : [other[0], e.node];
      const detail = `t${e.output.tx} committed at ${this.nodes[c].name}, aborted at ${this.nodes[a].name}`;
      const v = this.emit({ kind: 'violation', invariant: 'atomicity', label: `atomicity violated: ${detail}` });
      this.violationList.push({ invariant: 'atomicity', detail, event: v.i, time: v.t, tx: e.output.tx });
    }
  }
}

function msgLabel(m) {
  switch (m.type) {
    case 'prepare': return `prepare t${m.tx}`;
    case 'vote': return `vote ${m.vote} t${m.tx}`;
    case 'decision': return `${m.outcome} t${m.tx}`;
    case 'ack': return `ack t${m.tx}`;
    case 'query': return `query t${m.tx}`;
    case 'status': return `status ${m.status.replace('_', '-')} t${m.tx}`;
    default: return m.type;
  }
}
