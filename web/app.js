// The page's controller: it owns the current run, the controls, the URL and the render loop.
// Rendering lives in cards.js and diagram.js; every call into the simulator goes through sim.js.

import { loadSimulation, Run } from './sim.js';
import { parseHash, formatHash } from './url.js';
import { Cards } from './cards.js';
import { Diagram } from './diagram.js';
import { EventLog } from './eventlog.js';
import { el, escapeHtml } from './dom.js';
import { ChosenLog } from './chosenlog.js';
import { Timeline } from './timeline.js';
import { Checker } from './checker.js';
import { PROTOCOL_PROMISE, scenarioGroups } from './protocols.js';
import { CompareView, parseCompareHash } from './compare.js';
import { HistoryView } from './history.js';
import { RecordingView } from './recording.js';
import { ClientHistory, heartbeatNoise, isPaxos, namedOperations, sameOp, violationSlot } from './paxos.js';

const $ = id => document.getElementById(id);

const S = {
  Simulation: null,
  gallery: [],
  /** The scenario: `{name}` from the gallery, or `{json, base}` as edited from gallery scenario `base`. */
  source: null,
  seed: '',
  /** Every injection of this run, as `injected()` recorded them; a rewound run replays all of them. */
  tape: [],
  run: null,
  duration: 0,
  trace: [],
  state: null,
  /** Virtual time shown, in ms; the run has processed every event up to floor(clock). */
  clock: 0,
  playing: false,
  lastTs: null,
  speed: 100,
  highlight: null,
  axis: 'compressed',
  pxPerMs: 1,
  writtenHash: '',
  summaryAt: 0,
  /** When the panels that are slow to redraw were last drawn; while playing they lag a little. */
  panelsAt: 0,
  violationsKey: '',
  /** Nodes a failed fsync stopped, by id: `{record, t}` (until they restart). */
  fsyncStops: new Map(),
  /** Multi-Paxos only: every client operation so far, rebuilt from the trace. */
  history: new ClientHistory(),
  /** Whether heartbeats are hidden from the diagram and the log (a Multi-Paxos run only). */
  hideHeartbeats: true,
  noise: () => false,
  /** Each invariant of the running protocol and where it stands at the current point, from the simulator. */
  invariants: null,
  invariantsKey: '',
  /** The operations the linearizability violation names, and a key for them. */
  badOps: [],
  badKey: '',
};

const cards = new Cards($('cards'), {
  crash: (node, loseUnsynced) => inject(loseUnsynced ? { type: 'crash', node, lose_unsynced: true } : { type: 'crash', node }, 'crash'),
  restart: node => inject({ type: 'restart', node }, 'restart'),
  inject: (fault, what) => inject(fault, what),
  selectionChanged: () => renderControls(),
  showElection: node => {
    for (let k = S.trace.length - 1; k >= 0; k--) {
      const e = S.trace[k];
      if (e.kind === 'output' && e.node === node && String(e.label).startsWith('elected')) {
        selectEvent(e.i);
        $('diagram').scrollIntoView({ block: 'center', behavior: 'smooth' });
        return;
      }
    }
  },
});

const diagram = new Diagram($('diagram'), $('tooltip'), {
  dropMessage: id => inject({ type: 'drop_message', id }, 'drop message'),
  selectEvent: i => selectEvent(i),
});

const chosenLog = new ChosenLog($('chosen-log'));

const timeline = new Timeline($('timeline'), $('tooltip'), { selectEvent: i => selectEvent(i) });

const eventLog = new EventLog($('log'), i => selectEvent(i));

const checker = new Checker($('checker'), () => S.source?.name ?? (S.source?.replay !== undefined ? S.source.base : null), {
  showReplay: (replay, base) => {
    if (guard('replaying the counterexample', () => start({ replay, base }, '', [], 0))) clearError();
    writeHash();
    $('diagram').scrollIntoView({ block: 'start', behavior: 'smooth' });
  },
});

/** The compare view, once the simulator is loaded. */
let compareView = null;

/** The event filter when nothing is hidden. */
const SHOW_ALL = () => false;

boot();

async function boot() {
  window.addEventListener('error', e => showError(`unexpected error: ${e.message}`));
  window.addEventListener('unhandledrejection', e => showError(`unexpected error: ${message(e.reason)}`));
  wireControls();
  rememberIntro();
  try {
    S.Simulation = await loadSimulation();
    S.gallery = JSON.parse(S.Simulation.gallery());
  } catch (e) {
    showError(message(e));
    $('status').textContent = 'simulator not available';
    return;
  }
  $('scenario').replaceChildren(...scenarioGroups(S.gallery));
  wireCompare();
  wireHistory();
  wireRecording();
  loadFromHash();
  window.addEventListener('hashchange', () => {
    if (location.hash !== S.writtenHash) loadFromHash();
  });
}

// ---- runs ----

/** Starts a fresh run and replays it to time `t`. Throws what the simulator throws. */
function start(source, seed, tape, t) {
  pause();
  const run = new Run(S.Simulation, source, seed, tape);
  if (S.run) S.run.free();
  S.run = run;
  S.source = source;
  S.tape = tape;
  S.seed = run.seed();
  S.duration = run.durationMs();
  S.trace = [];
  S.noise = heartbeatNoise(S.trace);
  S.history = new ClientHistory();
  S.fsyncStops = new Map();
  S.clock = 0;
  S.highlight = null;
  chosenLog.slot = null;
  eventLog.reset();
  showSource(source);
  $('seed').value = S.seed;
  $('scrubber').max = String(S.duration);
  if (t > 0) {
    const until = Math.min(t, S.duration);
    run.runUntil(until);
    S.clock = until;
  }
  sync();
}

function loadFromHash() {
  if (openCompareFromHash()) return;
  let link = { scenario: null, json: null, replay: null, from: null, seed: null, faults: null, t: null };
  const problems = [];
  try {
    link = parseHash(location.hash);
  } catch (e) {
    problems.push(message(e));
  }
  let source;
  if (link.replay) {
    source = { replay: link.replay, base: link.from ?? '' };
  } else if (link.json) {
    source = { json: link.json, base: link.from ?? '' };
  } else {
    const known = S.gallery.some(g => g.name === link.scenario);
    source = { name: known ? link.scenario : defaultScenario() };
    if (link.scenario && !known) problems.push(`the link names an unknown scenario "${link.scenario}"; showing ${source.name}`);
  }
  // Replay the link; failing that, keep what works of it: first the seed, then only the scenario.
  const attempts = [[source, link.seed ?? '', link.faults ?? [], link.t ?? 0], [source, link.seed ?? '', [], 0],
    [source, '', [], 0], [runnable(source), '', [], 0], [{ name: defaultScenario() }, '', [], 0]];
  for (const [src, seed, faults, t] of attempts) {
    try {
      start(src, seed, faults, t);
      break;
    } catch (e) {
      if (!problems.length || !problems[problems.length - 1].endsWith(message(e))) problems.push(`could not replay the link: ${message(e)}`);
    }
  }
  if (problems.length) showError(problems.join('\n'));
  else clearError();
  writeHash();
}

/** A source that takes seeds and faults: a counterexample's replay gives way to its scenario. */
function runnable(source) {
  if (source.replay === undefined) return source;
  return S.gallery.some(g => g.name === source.base) ? { name: source.base } : { name: defaultScenario() };
}

/** Shows the scenario's name, description and JSON text. */
function showSource(source) {
  const picker = $('scenario');
  picker.querySelector('option[data-edited]')?.remove();
  if (source.replay !== undefined) {
    picker.prepend(el('option', { value: '', 'data-edited': '' }, `${source.base || 'scenario'} (counterexample)`));
    picker.value = '';
    let steps = '?';
    try {
      steps = JSON.parse(source.replay).script.length;
    } catch {
      // The run started, so the text parses; keep '?' if it somehow does not.
    }
    $('scenario-desc').textContent = `A counterexample the model checker found${source.base ? ` in ${source.base}` : ''}, `
      + `replayed through the simulator: ${steps} steps, one every 10 ms, each chosen by the checker (which message arrives, `
      + 'which timer fires, who crashes). Step through it; faults cannot be injected into a replay. Pick a scenario or a seed to leave it.';
    $('source').value = source.replay;
    $('source-status').textContent = '';
    return;
  }
  if (source.json !== undefined) {
    const label = source.base ? `${source.base} (edited)` : '(edited scenario)';
    picker.prepend(el('option', { value: '', 'data-edited': '' }, label));
    picker.value = '';
  } else {
    picker.value = source.name;
  }
  const entry = S.gallery.find(g => g.name === (source.name ?? source.base));
  $('scenario-desc').textContent = source.json !== undefined
    ? `An edited scenario${source.base ? `, based on ${source.base}` : ''}: the link carries its whole JSON text.`
    : entry ? entry.description : '';
  let text = source.json;
  if (text === undefined) {
    try {
      text = S.Simulation.scenarioJson(source.name);
    } catch (e) {
      text = message(e);
    }
  }
  $('source').value = text;
  $('source-status').textContent = '';
}

/** Whether a source text is a replay (`{scenario, seed, script}`) rather than a scenario. */
function isReplay(text) {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && Array.isArray(v.script);
  } catch {
    return false;
  }
}

function defaultScenario() {
  return (S.gallery.find(g => g.name === 'happy-path') ?? S.gallery[0]).name;
}

/** Applies a fault now. A rewound run whose tape holds later faults forks: those are forgotten. */
function inject(fault, what) {
  if (!S.run) return;
  guard(what, () => {
    const steps = S.run.steps();
    const now = Math.floor(S.clock);
    const isPast = f => f.after_event < steps || (f.after_event === steps && (f.at_ms === undefined || f.at_ms <= now));
    if (S.tape.some(f => !isPast(f))) start(S.source, S.seed, S.tape.filter(isPast), now);
    S.run.inject(fault);
    S.tape = S.run.injected();
  });
  sync();
  writeHash();
}

/** Pulls new trace events and the state from the run, then redraws. */
function sync() {
  const run = S.run;
  if (!run) return;
  guard('reading the simulation', () => {
    const fresh = run.eventsSince(S.trace.length);
    for (const e of fresh) S.trace.push(e);
    S.state = run.state();
    S.invariants = run.invariants();
    if (isPaxos(S.state)) S.history.add(fresh);
    noteFsyncStops(fresh);
  });
  render();
}

/**
 * Which nodes a failed fsync stopped: the engine emits the disk's `fsync_failed` and then the
 * node's crash; a restart clears it. The card says why the node is down.
 */
function noteFsyncStops(fresh) {
  for (const e of fresh) {
    if (e.kind === 'disk' && e.what === 'fsync_failed') S.fsyncStops.set(e.node, { record: e.record, t: e.t });
    else if (e.kind === 'restart') S.fsyncStops.delete(e.node);
  }
}

// ---- playing ----

function play() {
  if (!S.run || S.playing) return;
  if (S.clock >= S.duration || S.run.finished()) {
    if (!guard('rewinding', () => start(S.source, S.seed, S.tape, 0))) return;
  }
  S.playing = true;
  S.lastTs = null;
  renderControls();
  requestAnimationFrame(frame);
}

function pause() {
  if (!S.playing) return;
  S.playing = false;
  render();
  renderSlow();
  writeHash();
}

function frame(ts) {
  if (!S.playing) return;
  const dt = S.lastTs === null ? 0 : Math.min(ts - S.lastTs, 100);
  S.lastTs = ts;
  const target = Math.min(S.clock + (S.speed * dt) / 1000, S.duration);
  const ok = guard('playing', () => {
    S.run.runUntil(target);
    S.clock = target;
  });
  sync();
  if (!ok || S.clock >= S.duration || S.run.finished()) {
    pause();
    return;
  }
  requestAnimationFrame(frame);
}

function stepOnce() {
  if (!S.run) return;
  pause();
  guard('step', () => {
    S.run.step(1);
    S.clock = Math.max(S.clock, S.run.now());
  });
  sync();
  writeHash();
}

function runToEnd() {
  if (!S.run) return;
  pause();
  guard('run to end', () => {
    S.run.runToEnd();
    // A run whose queue empties early ends there, not at its duration.
    S.clock = S.run.now();
  });
  sync();
  writeHash();
}

/** Moves to time t: forwards by running on, backwards by a deterministic re-run from the start. */
function seek(t) {
  if (!S.run) return;
  pause();
  guard('seek', () => {
    if (t < Math.floor(S.clock)) {
      start(S.source, S.seed, S.tape, t);
    } else {
      S.run.runUntil(t);
      S.clock = t;
    }
  });
  sync();
}

function selectEvent(i) {
  S.highlight = i;
  eventLog.select(i);
  render();
  if (isPaxos(S.state) && S.trace[i]) timeline.reveal(S.trace[i].t);
  diagram.scrollToEvent(i);
}

// ---- rendering ----

function render() {
  if (!S.state) return;
  const paxos = isPaxos(S.state);
  const protocol = protocolOf(S.state);
  if (document.body.dataset.protocol !== protocol) document.body.dataset.protocol = protocol;
  const hidden = paxos && S.hideHeartbeats ? S.noise : null;
  // While playing, the log, the chosen log and the timeline redraw a few times a second, not every frame.
  const now = performance.now();
  const panels = !S.playing || now - S.panelsAt > 200;
  if (panels) S.panelsAt = now;
  cards.update(S.state, S.fsyncStops);
  diagram.update({
    trace: S.trace, state: S.state, clock: S.clock, axis: S.axis === 'compressed' ? 'compressed' : 'linear', pxPerMs: S.pxPerMs,
    highlight: S.highlight, playing: S.playing, paxos, hidden,
  });
  if (panels) eventLog.update(S.trace, hidden ?? SHOW_ALL, new Map(S.state.nodes.map(n => [n.id, n.name])));
  renderViolations();
  renderInvariants();
  if (paxos && panels) renderPaxos();
  renderControls();
  if (!S.playing || now - S.summaryAt > 250) renderSlow();
}

/** The parts that cost a call into the simulator each: the summary and the trace hash. */
function renderSlow() {
  if (!S.run) return;
  S.summaryAt = performance.now();
  guard('summary', () => {
    $('summary').textContent = S.run.summary();
    $('hash').textContent = S.playing ? '' : `trace ${S.run.traceHash()}`;
  });
}

function renderControls() {
  const st = S.state;
  $('play').textContent = S.playing ? '❚❚ Pause' : '▶ Play';
  $('play').setAttribute('aria-pressed', String(S.playing));
  if (!st) return;
  const finished = st.finished || S.clock >= S.duration;
  document.body.dataset.scenario = S.source.name ?? (S.source.replay !== undefined ? 'replay' : 'edited');
  checker.hints();
  document.body.dataset.finished = String(finished);
  $('step').disabled = finished;
  $('end').disabled = finished;
  const shown = Math.floor(S.clock);
  if (document.activeElement !== $('scrubber')) $('scrubber').value = String(shown);
  $('time-out').textContent = `${shown} / ${S.duration} ms`;
  const selected = cards.selected();
  $('partition').disabled = selected.length === 0 || selected.length >= st.nodes.length;
  $('partition').title = $('partition').disabled ? 'Tick some (not all) nodes on their cards first' : 'Cut the ticked nodes off from the others';
  $('heal').disabled = !st.partition;
  $('status').innerHTML = [
    `<b>t = ${shown} ms</b>`,
    `${st.steps} steps`,
    `${S.trace.length} events`,
    `seed ${escapeHtml(S.seed)}`,
    S.tape.length ? `${S.tape.length} injected fault${S.tape.length === 1 ? '' : 's'}` : '',
    finished ? '<span class="pill done">finished</span>' : S.playing ? '<span class="pill live">playing</span>' : '',
  ].filter(Boolean).join(' · ');
  const hiddenEvents = S.trace.length - eventLog.rows.length;
  $('log-count').textContent = `${S.trace.length} events${hiddenEvents > 0 ? ` · ${hiddenEvents} heartbeats hidden` : ''}`;
  $('clear-faults').hidden = S.tape.length === 0;
  $('clear-faults').textContent = `Clear ${S.tape.length} injected fault${S.tape.length === 1 ? '' : 's'}`;
}

/** The Multi-Paxos panels: the chosen log per replica and the client history. */
function renderPaxos() {
  const st = S.state;
  const bad = namedOperations(st.violations);
  const badKey = JSON.stringify(bad);
  const newlyBad = badKey !== S.badKey && bad.length > 0;
  if (badKey !== S.badKey) {
    S.badKey = badKey;
    S.badOps = bad;
  }
  chosenLog.update(st);
  const conflicts = chosenLog.conflicts();
  $('chosen-note').textContent = conflicts.length
    ? `${conflicts.length} slot${conflicts.length === 1 ? '' : 's'} with two different commands`
    : st.nodes.some(n => n.up) ? 'each replica lists its last 16 applied slots' : '';
  $('chosen-note').classList.toggle('bad-note', conflicts.length > 0);
  timeline.update({
    history: S.history, clock: S.clock, playing: S.playing, badKey: S.badKey,
    isBad: op => S.badOps.length > 0 && S.badOps.some(named => sameOp(op, named)),
  });
  if (newlyBad) showBadOps();
  const ops = S.history.ops;
  const pending = ops.filter(o => o.response === null).length;
  $('timeline-note').textContent = ops.length
    ? `${ops.length} operation${ops.length === 1 ? '' : 's'}, ${pending} pending${S.badOps.length ? ` · ${S.badOps.length} in red cannot be ordered` : ''}`
    : 'no client operation yet';
  $('timeline-note').classList.toggle('bad-note', S.badOps.length > 0);
}

/** Scrolls the timeline to the operations the linearizability violation names. */
function showBadOps() {
  const t1 = Math.min(...S.badOps.map(o => o.invoke));
  const t2 = Math.max(...S.badOps.map(o => o.response ?? S.clock));
  // Zoom out until all of them fit.
  const zoom = $('timeline-zoom');
  const fits = timeline.widthFor(t1, t2);
  const current = Number(zoom.value);
  if (current === 0 || current > fits) {
    const options = [...zoom.options].map(o => Number(o.value)).filter(v => v > 0 && v <= fits);
    const best = options.length ? Math.max(...options) : 0;
    if (best !== current) {
      zoom.value = String(best);
      timeline.setScale(best);
    }
  }
  timeline.scrollToSpan(t1, t2);
}

/** The protocol a state belongs to, as scenario files name it. */
function protocolOf(state) {
  return state.protocol?.name ?? (isPaxos(state) ? 'multi-paxos' : 'two-phase-commit');
}

/** What a correct protocol promises, for the banner's note. */
const PROMISE = {
  vrrp: 'VRRP (RFC 5798) promises a master while any router is up; it cannot promise only one. It has no quorum: a backup that stops hearing the master cannot tell a dead master from a broken network, so under a partition both sides hold the virtual IP, and a preempting router holds it together with the old master for one network delay. The <b>lease</b> variant asks a majority of routers and a witness before holding the address, and never has two holders, at the price of no holder at all on a minority side.',
  'two-phase-commit': 'A correct 2PC never commits a transaction at one node and aborts it at another.',
  ...PROTOCOL_PROMISE,
  'multi-paxos': 'A correct Multi-Paxos never chooses two commands for one slot, every replica applies the same command in each slot, and every reply is consistent with some order of the operations that respects real time (linearizability).',
};

/** The invariant line: each invariant of the running protocol, holding or violated since an event (a link to it). */
function renderInvariants() {
  const list = S.invariants;
  $('invariants-row').hidden = !list;
  if (!list) return;
  const key = JSON.stringify(list);
  if (key === S.invariantsKey) return;
  S.invariantsKey = key;
  $('invariants').replaceChildren(...list.map(inv => {
    const since = inv.violated_since;
    const item = el('li', {
      class: `inv ${since ? 'violated' : 'holds'}`, 'data-testid': 'invariant', 'data-name': inv.name,
      'data-state': since ? 'violated' : 'holds', title: inv.promise || inv.name,
    });
    item.append(el('span', { class: 'inv-mark', 'aria-hidden': 'true' }, since ? '✗' : '✓'), el('b', {}, inv.name));
    if (!since) {
      item.append(el('span', { class: 'sr-only' }, ` holds: ${inv.promise}`));
      return item;
    }
    const link = el('button', { type: 'button', class: 'link', 'data-testid': 'invariant-event', 'data-ev': String(since.event) }, `event #${since.event}`);
    link.addEventListener('click', () => {
      selectEvent(since.event);
      $('diagram').scrollIntoView({ block: 'center', behavior: 'smooth' });
    });
    const more = inv.violations > 1 ? `, ${inv.violations} reports` : '';
    item.append(` violated since `, link, el('span', { class: 'muted' }, ` (t = ${since.time} ms${more})`));
    return item;
  }));
}

/** Violations repeat (each replica reports the same slot); the banner shows a few of each kind. */
const PER_INVARIANT = 3;

function renderViolations() {
  const vs = S.state.violations ?? [];
  const key = JSON.stringify(vs);
  if (key === S.violationsKey) return;
  S.violationsKey = key;
  const banner = $('violation-banner');
  banner.hidden = vs.length === 0;
  if (!vs.length) {
    banner.replaceChildren();
    return;
  }
  const entry = S.gallery.find(g => g.name === (S.source.name ?? S.source.base));
  // VRRP's lease variant is a sound design of its own, not a planted bug: when it breaks, a clock did.
  const broken = entry && entry.variant && entry.variant !== 'correct' && !(entry.protocol === 'vrrp' && entry.variant === 'lease');
  const protocol = protocolOf(S.state);
  // Group by invariant, dropping repeats of the same detail.
  const groups = new Map();
  for (const v of vs) {
    if (!groups.has(v.invariant)) groups.set(v.invariant, { shown: [], details: new Set(), total: 0 });
    const g = groups.get(v.invariant);
    g.total++;
    if (g.details.has(v.detail)) continue;
    g.details.add(v.detail);
    g.shown.push(v);
  }
  const items = [];
  for (const [invariant, g] of groups) {
    for (const v of g.shown.slice(0, PER_INVARIANT)) items.push(violationItem(v));
    const more = g.total - Math.min(g.shown.length, PER_INVARIANT);
    if (more > 0) items.push(`<li class="more">… and ${more} more <b>${escapeHtml(invariant)}</b> report${more === 1 ? '' : 's'}${g.shown.length > PER_INVARIANT ? ` (${g.shown.length - PER_INVARIANT} distinct)` : ''}</li>`);
  }
  const names = [...groups.keys()];
  const blames = new Map();
  for (const b of vs.map(blameOf).filter(Boolean)) blames.set(JSON.stringify(b), b);
  const blame = [...blames.values()].map(b => `<p class="v-env" data-testid="violation-environment" data-environment="${escapeHtml(b.env)}">${blameHtml(b)}</p>`).join('');
  banner.innerHTML = `<div class="v-title">⚠ Invariant violated: ${names.map(escapeHtml).join(', ')}</div><ul>${items.join('')}</ul>${blame}
    <p class="v-note">${broken ? `This scenario runs the deliberately broken variant <b>${escapeHtml(entry.variant)}</b>. ` : ''}${PROMISE[protocol]}</p>`;
}

/**
 * What a violation blames when the environment, not the protocol, broke a promise the protocol
 * relies on: `{env, node, fault, at}` from its `broken_by` (`{environment, node, fault, at_ms}`)
 * or `environment`, or null.
 */
function blameOf(v) {
  const by = v.broken_by;
  if (by && typeof by === 'object') return { env: String(by.environment ?? 'environment'), node: by.node, fault: by.fault, at: by.at_ms };
  const env = v.environment;
  if (env === null || env === undefined || env === false || env === '') return null;
  if (typeof env === 'object') return { env: String(env.kind ?? env.environment ?? 'environment'), node: env.node, fault: env.fault, at: env.at_ms };
  return { env: String(env) };
}

/** The banner's sentence for a blame: which part of the environment broke the promise, and how. */
function blameHtml(b) {
  const who = Number.isInteger(b.node) ? ` of <b>${escapeHtml(S.state.nodes.find(n => n.id === b.node)?.name ?? `n${b.node}`)}</b>` : '';
  const how = b.fault ? ` (${escapeHtml(String(b.fault).replace(/_/g, ' '))}${b.at !== undefined ? `, at ${escapeHtml(b.at)} ms` : ''})` : '';
  if (b.env === 'disk') {
    return `The <b>disk</b>${who}, not the protocol, broke this promise: it acknowledged a write it never stored${how}. `
      + 'A protocol is only as durable as the disk it trusts; the invariant is there to catch a disk that lies.';
  }
  if (b.env === 'clock') return `A <b>clock</b>${who}, not the protocol, broke this promise${how}: it ran outside the bound the protocol states.`;
  return `The environment (<b>${escapeHtml(b.env)}</b>)${who}, not the protocol, broke this promise${how}.`;
}

function violationItem(v) {
  // The chosen-log panel that a slot points into exists for Multi-Paxos only.
  const slot = isPaxos(S.state) ? violationSlot(v) : null;
  const ops = v.operations ?? [];
  const lin = ops.length > 0;
  const what = lin ? 'Show operations' : slot !== null ? `Show slot #${slot}` : 'Show event';
  const detail = lin ? operationsDetail(v) : escapeHtml(v.detail);
  return `<li><b>${escapeHtml(v.invariant)}</b>: ${detail} <span class="muted">(t = ${escapeHtml(v.time)} ms, event #${escapeHtml(v.event)})</span>
      <button type="button" data-testid="show-violation" data-ev="${escapeHtml(v.event)}" data-time="${escapeHtml(v.time)}"${slot !== null ? ` data-slot="${slot}"` : ''}${lin ? ' data-lin=""' : ''}>${what}</button></li>`;
}

/** The client operations a violation names, one per line, from its structured `operations`. */
function operationsDetail(v) {
  const n = v.operations.length;
  const key = Number.isInteger(v.key) ? ` on key k${v.key}` : '';
  const head = n === 1
    ? `no order of the history${key} explains this operation`
    : `no order of these ${n} operations${key} explains what the clients saw`;
  return `${escapeHtml(head)}:<ol class="lin-ops" data-testid="violation-ops">${v.operations.map(operationItem).join('')}</ol>`;
}

/** `c3 #5 get k0 = 2503 [711 ms, 715 ms]`. */
function operationItem(o) {
  const result = o.result === null ? '' : ` ${o.result}`;
  const end = o.response === null ? 'pending' : `${o.response} ms`;
  return `<li class="mono" data-testid="violation-op" data-client="${escapeHtml(o.client)}" data-seq="${escapeHtml(o.seq)}">`
    + `${escapeHtml(`c${o.client} #${o.seq} ${o.op}${result} [${o.invoke} ms, ${end}]`)}</li>`;
}

/** The banner's "Show" button: the event, and for Multi-Paxos the slot or the operations too. */
function showViolation(button) {
  const ev = Number(button.dataset.ev);
  if (button.dataset.slot !== undefined) {
    const slot = Number(button.dataset.slot);
    // The replicas list only recent slots; if this one has scrolled away, go back to the moment.
    if (!chosenLog.has(slot) && Number(button.dataset.time) < S.clock) seek(Number(button.dataset.time));
    selectEvent(ev);
    chosenLog.highlight(slot);
    $('chosen-panel').scrollIntoView({ block: 'center', behavior: 'smooth' });
    return;
  }
  selectEvent(ev);
  if (button.dataset.lin !== undefined && S.badOps.length) {
    showBadOps();
    $('timeline').classList.remove('flash');
    void $('timeline').offsetWidth;
    $('timeline').classList.add('flash');
    $('timeline-panel').scrollIntoView({ block: 'center', behavior: 'smooth' });
    return;
  }
  $('diagram').scrollIntoView({ block: 'center', behavior: 'smooth' });
}

// ---- URL ----

function writeHash() {
  if (compareView?.active) {
    const hash = compareView.hash();
    S.writtenHash = hash;
    if (hash !== location.hash) history.replaceState(null, '', hash);
    return;
  }
  if (!S.run) return;
  const hash = formatHash({ source: S.source, seed: S.seed, faults: S.tape, t: Math.floor(S.clock) });
  S.writtenHash = hash;
  if (hash !== location.hash) history.replaceState(null, '', hash);
}

async function copyLink() {
  writeHash();
  const button = $('copy-link');
  try {
    await navigator.clipboard.writeText(location.href);
    button.textContent = '✓ Copied';
  } catch {
    window.prompt('Copy this link:', location.href);
  }
  setTimeout(() => { button.textContent = 'Copy link'; }, 1500);
}

// ---- compare view ----

function wireCompare() {
  compareView = new CompareView($('compare'), $('tooltip'), S.Simulation, {
    changed: () => writeHash(),
    error: text => showError(text),
  });
  if (!compareView.init()) {
    compareView = null;
    $('open-compare').hidden = true;
    return;
  }
  $('open-compare').addEventListener('click', () => {
    if (compareView.open(compareView.select.value, '')) clearError();
    $('compare').scrollIntoView({ block: 'start', behavior: 'smooth' });
  });
}

// ---- "Open a history" (history.js) ----

function wireHistory() {
  const view = new HistoryView($('history'), { error: text => showError(text), clearError: () => clearError() });
  view.init();
  $('open-history').addEventListener('click', () => view.open());
}

// ---- "Open a recorded run" (recording.js) ----

function wireRecording() {
  const view = new RecordingView($('recording'), $('tooltip'));
  view.init();
  $('open-recording').addEventListener('click', () => view.open());
}

/** Opens the comparison a `#compare=NAME&seed=N` link names; false if the link names none. */
function openCompareFromHash() {
  const link = parseCompareHash(location.hash);
  if (!link || !compareView) {
    if (compareView?.active) compareView.close(true);
    return false;
  }
  // The single-scenario view below keeps running its default scenario.
  if (!S.run) guard('starting the scenario', () => start({ name: defaultScenario() }, '', [], 0));
  if (compareView.open(link.name, link.seed)) clearError();
  writeHash();
  return true;
}

// ---- controls ----

function wireControls() {
  $('scenario').addEventListener('change', e => {
    if (!e.target.value) return;
    if (guard('starting the scenario', () => start({ name: e.target.value }, '', [], 0))) clearError();
    writeHash();
  });
  $('seed').addEventListener('change', e => {
    const seed = e.target.value.trim();
    if (!/^\d*$/.test(seed)) {
      showError(`a seed is a decimal number, not "${seed}"`);
      e.target.value = S.seed;
      return;
    }
    if (guard('starting with that seed', () => start(runnable(S.source), seed, [], 0))) clearError();
    else e.target.value = S.seed;
    writeHash();
  });
  $('random-seed').addEventListener('click', () => {
    const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
    const seed = ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    if (guard('starting with a random seed', () => start(runnable(S.source), seed, [], 0))) clearError();
    writeHash();
  });
  $('play').addEventListener('click', () => (S.playing ? pause() : play()));
  $('step').addEventListener('click', stepOnce);
  $('end').addEventListener('click', runToEnd);
  $('rewind').addEventListener('click', () => {
    guard('rewinding', () => start(S.source, S.seed, S.tape, 0));
    writeHash();
  });
  const speedOf = v => Math.round(5 * 100 ** (v / 100));
  $('speed').value = String(Math.round((100 * Math.log(S.speed / 5)) / Math.log(100)));
  $('speed').addEventListener('input', e => {
    S.speed = speedOf(Number(e.target.value));
    $('speed-out').textContent = `${S.speed} ms/s`;
  });
  $('scrubber').addEventListener('input', e => seek(Number(e.target.value)));
  $('scrubber').addEventListener('change', () => writeHash());
  $('copy-link').addEventListener('click', copyLink);
  $('clear-faults').addEventListener('click', () => {
    if (guard('clearing faults', () => start(S.source, S.seed, [], 0))) clearError();
    writeHash();
  });
  $('run-source').addEventListener('click', () => {
    const json = $('source').value;
    const base = S.source.name ?? S.source.base;
    const ok = guard('running the edited scenario', () => start(isReplay(json) ? { replay: json, base } : { json, base }, S.seed, [], 0));
    if (ok) clearError();
    $('source-status').textContent = ok ? 'running the edited scenario' : 'not valid: see the message above';
    writeHash();
  });
  $('partition').addEventListener('click', () => {
    if (!S.state) return;
    const selected = cards.selected();
    const rest = S.state.nodes.map(n => n.id).filter(id => !selected.includes(id));
    cards.clearSelection();
    inject({ type: 'partition', groups: [selected, rest] }, 'partition');
  });
  $('heal').addEventListener('click', () => inject({ type: 'heal' }, 'heal'));
  $('axis').addEventListener('change', e => {
    const v = e.target.value;
    S.axis = v === 'compressed' ? 'compressed' : 'linear';
    S.pxPerMs = v.startsWith('linear-') ? Number(v.slice(7)) : 1;
    render();
  });
  $('violation-banner').addEventListener('click', e => {
    const button = e.target.closest('button[data-ev]');
    if (button) showViolation(button);
  });
  $('hide-heartbeats').addEventListener('change', e => {
    S.hideHeartbeats = e.target.checked;
    render();
  });
  $('timeline-zoom').addEventListener('change', e => timeline.setScale(Number(e.target.value)));
  document.addEventListener('keydown', e => {
    if (e.target.closest('input, select, textarea, button, summary, dialog, [data-drop]') || e.metaKey || e.ctrlKey || e.altKey) return;
    const keys = {
      ' ': () => (S.playing ? pause() : play()), ArrowRight: stepOnce, End: runToEnd, Home: () => $('rewind').click(),
      '?': () => $('shortcuts').showModal(),
    };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });
  $('error').addEventListener('click', e => {
    if (e.target.closest('.dismiss')) clearError();
  });
}

/** The "How to use" panel starts closed, so the simulator is the first screen; it stays as the reader left it. */
function rememberIntro() {
  const intro = $('intro');
  try {
    intro.open = localStorage.getItem('underhood.intro') === 'open';
    intro.addEventListener('toggle', () => localStorage.setItem('underhood.intro', intro.open ? 'open' : 'closed'));
  } catch {
    // Storage can be disabled; the panel then simply starts closed.
  }
}

// ---- errors ----

/** Runs `f`; if the simulator throws, shows the message in the page and returns false. */
function guard(what, f) {
  try {
    f();
    return true;
  } catch (e) {
    S.playing = false;
    showError(`${what} failed: ${message(e)}`);
    return false;
  }
}

function showError(text) {
  const box = $('error');
  box.replaceChildren(el('span', { class: 'error-text' }, text), el('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss' }, '×'));
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

function message(e) {
  return e && e.message ? e.message : String(e);
}
