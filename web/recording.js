// "Open a recorded run": a failing run that `underhood_sim::check_with` recorded (any protocol,
// a user's own included: the file carries the run, nothing of the protocol runs here). WASM
// reads and checks the file (`parseRecordedRun` in docs/sim-wasm-api.md); this view draws its
// whole trace in the space-time diagram, moves through it with a slider, shows each node's
// recorded state at that point, and the violation with the seed and the shrunk faults (or, for
// the exhaustive checker's counterexample, its length and the states explored).

import { parseRecordedRun } from './sim.js';
import { Diagram } from './diagram.js';
import { el } from './dom.js';

/** Files larger than this are refused before they are read (the parser's own limit too). */
export const MAX_BYTES = 16 * 1024 * 1024;

/** The recorded-run panel. `root` is an element it fills; `tooltip` the page's tooltip. */
export class RecordingView {
  constructor(root, tooltip) {
    this.root = root;
    this.tooltip = tooltip;
    this.run = null;
    this.at = 0;
  }

  init() {
    this.file = el('input', { type: 'file', 'data-testid': 'recording-file', accept: '.json,application/json' });
    const close = el('button', { type: 'button', class: 'ghost', 'data-testid': 'recording-close' }, 'Close');
    this.error = el('div', { class: 'recording-error', 'data-testid': 'recording-error', role: 'alert', hidden: '' });
    this.banner = el('div', { class: 'violation-banner recording-banner', 'data-testid': 'recording-violation', role: 'alert', hidden: '' });
    this.start = el('button', { type: 'button', 'data-testid': 'recording-start', title: 'Before the first event' }, '⇤');
    this.back = el('button', { type: 'button', 'data-testid': 'recording-back', title: 'One event back' }, '◀');
    this.next = el('button', { type: 'button', 'data-testid': 'recording-next', title: 'One event on' }, '▶');
    this.end = el('button', { type: 'button', 'data-testid': 'recording-end', title: 'After the last event' }, '⇥');
    this.slider = el('input', { type: 'range', min: '0', max: '0', step: '1', value: '0', 'data-testid': 'recording-scrubber', 'aria-label': 'Events shown' });
    this.position = el('output', { class: 'mono', 'data-testid': 'recording-position' });
    this.transport = el('div', { class: 'recording-transport', hidden: '' }, this.start, this.back, this.slider, this.next, this.end, this.position);
    this.current = el('p', { class: 'recording-event mono', 'data-testid': 'recording-event' });
    this.cards = el('div', { class: 'cards recording-cards', 'data-testid': 'recording-cards' });
    this.diagramRoot = el('div', { class: 'diagram', 'data-testid': 'recording-diagram' });
    this.root.replaceChildren(
      el('div', { class: 'panel-head' }, el('h2', {}, 'Recorded run'),
        el('label', { class: 'field file' }, 'File ', this.file), close),
      el('p', { class: 'desc' }, 'A failing run saved by ', el('code', {}, 'underhood_sim::check_with'),
        ' (', el('code', {}, 'CheckOptions::recordings'), ' or ', el('code', {}, 'UNDERHOOD_RECORDINGS'),
        '): pick the file or drop it anywhere on the page. The run is drawn from the file; your protocol\'s code does not run here.'),
      this.error, this.banner, this.transport, this.current, this.cards, this.diagramRoot,
    );
    this.diagram = new Diagram(this.diagramRoot, this.tooltip, {
      dropMessage: () => {},
      selectEvent: i => this.seek(i + 1),
    });
    close.addEventListener('click', () => this.close());
    this.file.addEventListener('change', () => {
      const f = this.file.files?.[0];
      if (f) this.load(f);
    });
    this.slider.addEventListener('input', () => this.seek(Number(this.slider.value)));
    this.start.addEventListener('click', () => this.seek(0));
    this.back.addEventListener('click', () => this.seek(this.at - 1));
    this.next.addEventListener('click', () => this.seek(this.at + 1));
    this.end.addEventListener('click', () => this.seek(Infinity));
    // A file dropped anywhere on the page that no other panel took (the history panel takes
    // its own) opens here.
    document.addEventListener('dragover', e => {
      if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
    });
    document.addEventListener('drop', e => {
      const f = e.dataTransfer?.files?.[0];
      if (!f || e.defaultPrevented) return;
      e.preventDefault();
      this.open();
      this.load(f);
    });
  }

  open() {
    this.root.hidden = false;
    document.body.dataset.recording = 'open';
    this.root.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  close() {
    this.root.hidden = true;
    delete document.body.dataset.recording;
  }

  /** Reads a picked or dropped file and shows it. */
  async load(file) {
    if (file.size > MAX_BYTES) {
      this.fail(`${file.name} is ${file.size.toLocaleString('en')} bytes; a recorded run is at most ${MAX_BYTES.toLocaleString('en')} bytes`);
      return;
    }
    let text;
    try {
      text = await file.text();
    } catch (e) {
      this.fail(`could not read ${file.name}: ${e?.message ?? String(e)}`);
      return;
    }
    this.show(text, file.name);
  }

  /** Shows a recorded run given as text; a bad file leaves an error and nothing drawn. */
  show(text, name) {
    let run;
    try {
      run = JSON.parse(parseRecordedRun(text));
    } catch (e) {
      this.fail(`${name} cannot be shown: ${e?.message ?? String(e)}`);
      return;
    }
    this.error.hidden = true;
    this.error.textContent = '';
    this.run = run;
    this.name = name;
    this.root.dataset.loaded = 'true';
    this.slider.max = String(run.events.length);
    this.transport.hidden = false;
    this.renderBanner();
    this.seek(Infinity);
  }

  fail(text) {
    this.run = null;
    delete this.root.dataset.loaded;
    this.error.textContent = text;
    this.error.hidden = false;
    this.banner.hidden = true;
    this.transport.hidden = true;
    this.current.textContent = '';
    this.cards.replaceChildren();
    this.diagramRoot.hidden = true;
  }

  renderBanner() {
    const r = this.run;
    const v = r.violation;
    const show = el('button', { type: 'button', 'data-testid': 'recording-show-violation' }, 'Show event');
    show.addEventListener('click', () => this.seek(v.event + 1));
    const found = r.found_by ?? { by: 'check' };
    // An exhaustive counterexample has no seed or fault list: its steps are the schedule.
    const origin = found.by === 'exhaustive'
      ? [el('p', { class: 'v-note', 'data-testid': 'recording-found-by' },
        `${this.name}: found by the exhaustive checker, a shortest path of ${found.steps} steps after ${found.unique_states} states; broken at ${v.t} ms (event ${v.event}). The steps are the schedule: its crashes, power losses, losses and duplicates are events in the diagram.`)]
      : [el('p', { class: 'v-note', 'data-testid': 'recording-found-by' }, `${this.name}: seed ${r.seed}, at ${v.t} ms (event ${v.event}); shrunk fault schedule (${r.shrunk.length} of ${r.faults.length} faults):`),
        r.shrunk.length
          ? el('ul', { 'data-testid': 'recording-faults' }, ...r.shrunk.map(f => el('li', { class: 'mono' }, JSON.stringify(f))))
          : el('p', { class: 'v-note', 'data-testid': 'recording-faults' }, 'No faults: the network alone breaks it.')];
    this.banner.replaceChildren(
      el('div', { class: 'v-title' }, `${v.invariant} violated`, show),
      el('p', { class: 'mono' }, v.detail),
      ...origin,
    );
    this.banner.hidden = false;
  }

  /** Shows the run after its first `k` events (clamped). */
  seek(k) {
    const r = this.run;
    if (!r) return;
    const n = r.events.length;
    this.at = Math.max(0, Math.min(n, Number.isFinite(k) ? k : n));
    this.slider.value = String(this.at);
    const last = this.at > 0 ? r.events[this.at - 1] : null;
    const clock = last ? last.t : 0;
    this.position.textContent = `${this.at} / ${n} events, ${clock} ms`;
    this.current.textContent = last ? `${last.t} ms: ${last.label}` : 'before the first event';
    this.root.dataset.at = String(this.at);
    const states = statesAt(r, this.at);
    this.renderCards(states);
    this.diagramRoot.hidden = false;
    this.diagram.update({
      trace: r.events,
      state: { nodes: r.nodes.map((name, id) => ({ id, name, up: states[id]?.up ?? true })), in_flight: [], partition: null },
      clock, axis: 'compressed', pxPerMs: 1, highlight: last ? last.i : -1, playing: false, paxos: false, hidden: null,
    });
    this.diagram.follow(clock);
  }

  renderCards(states) {
    this.cards.replaceChildren(...this.run.nodes.map((name, id) => {
      const s = states[id];
      const up = s?.up ?? true;
      const log = s ? s.log.map((l, k) => el('li', { class: k >= s.log.length - s.unsynced ? 'unsynced' : '' }, l)) : [];
      return el('article', { class: `card${up ? '' : ' down'}`, 'data-testid': `recording-node-${id}`, 'data-up': String(up) },
        el('header', { class: 'card-head' }, el('span', { class: 'name' }, name),
          el('span', { class: 'role' }, s ? `changed at event ${Math.max(0, s.events - 1)}` : 'no state recorded yet'),
          el('span', { class: `badge ${up ? 'up' : 'down'}` }, up ? 'up' : 'down')),
        el('pre', { class: 'recording-state mono', 'data-testid': `recording-state-${id}` }, s?.state ?? (up ? '' : '(down: only the durable log remains)')),
        el('div', { class: 'section-label' }, `durable log (${s?.log_len ?? 0}${s?.unsynced ? `, ${s.unsynced} not synced` : ''})`),
        el('ol', { class: 'log' }, ...(log.length ? log : [el('li', { class: 'none' }, 'empty')])));
    }));
  }
}

/** Each node's latest recorded state among the first `k` events (states are in order). */
function statesAt(run, k) {
  const out = [];
  for (const s of run.states) {
    if (s.events > k) break;
    out[s.node] = s;
  }
  return out;
}
