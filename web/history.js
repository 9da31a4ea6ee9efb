// "Open a history": paste, pick or drop a Jepsen history (EDN, jepsen.util log lines or JSON
// lines); WASM checks it for linearizability (underhood-lincheck, bounded by a step budget, no
// clock) and this view draws one lane per process with each operation as a bar from its
// invocation to its completion, the longest linearizable prefix, and the operation that cannot
// be placed, with the operations that break linearizability together outlined. The contract is `checkHistory` in docs/sim-wasm-api.md.

import { checkHistory } from './sim.js';
import { el, escapeHtml } from './dom.js';

/** Steps each partition's search may take before the answer is "unknown". */
export const STEP_BUDGET = 2_000_000;
/** Files larger than this are refused before they are read. */
const MAX_BYTES = 16 * 1024 * 1024;

/**
 * The Example button's history, in jepsen.util log lines: process 2's CAS from 1 to 2 times
 * out (:info), yet process 0 later reads 3, which nothing wrote.
 */
const EXAMPLE = [
  'INFO  jepsen.util - 0\t:invoke\t:write\t1',
  'INFO  jepsen.util - 0\t:ok\t:write\t1',
  'INFO  jepsen.util - 1\t:invoke\t:read\tnil',
  'INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2]',
  'INFO  jepsen.util - 1\t:ok\t:read\t1',
  'INFO  jepsen.util - 2\t:info\t:cas\t[1 2]\t:timed-out',
  'INFO  jepsen.util - 1\t:invoke\t:cas\t[2 3]',
  'INFO  jepsen.util - 1\t:fail\t:cas\t[2 3]',
  'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
  'INFO  jepsen.util - 0\t:ok\t:read\t3',
  'INFO  jepsen.util - 3\t:invoke\t:write\t4',
  'INFO  jepsen.util - 3\t:ok\t:write\t4',
  '',
].join('\n');

const LANE_H = 46;
const TOP = 30;
const BOTTOM = 22;
const LABEL_W = 96;
const BAR_H = 20;

/** The history panel. `root` is an element it fills; `hooks` has `error(text)` and `clearError()`. */
export class HistoryView {
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.report = null;
  }

  init() {
    this.model = el('select', { 'data-testid': 'history-model', 'aria-label': 'Model' },
      el('option', { value: 'cas-register' }, 'cas-register (read, write, cas)'),
      el('option', { value: 'register' }, 'register (read, write)'),
      el('option', { value: 'kv' }, 'kv (get, put, append by key)'));
    this.initial = el('input', { 'data-testid': 'history-initial', spellcheck: 'false', autocomplete: 'off', size: '6', placeholder: 'nil', 'aria-label': 'Initial value' });
    this.format = el('select', { 'data-testid': 'history-format', 'aria-label': 'Format' },
      el('option', { value: 'auto' }, 'guess'), el('option', { value: 'edn' }, 'EDN'),
      el('option', { value: 'jepsen-log' }, 'jepsen.util log'), el('option', { value: 'jsonl' }, 'JSON lines'));
    this.partition = el('input', { type: 'checkbox', 'data-testid': 'history-partition', checked: '' });
    this.file = el('input', { type: 'file', 'data-testid': 'history-file', accept: '.edn,.log,.txt,.jsonl,.json' });
    const check = el('button', { type: 'button', class: 'primary', 'data-testid': 'history-check' }, 'Check');
    const example = el('button', { type: 'button', 'data-testid': 'history-example', title: 'Fill in a small compare-and-set history that is not linearizable' }, 'Example');
    const close = el('button', { type: 'button', class: 'ghost', 'data-testid': 'history-close' }, 'Close');
    this.text = el('textarea', {
      'data-testid': 'history-text', rows: '7', spellcheck: 'false', 'aria-label': 'History text',
      placeholder: 'Paste a history here, or drop a file on this panel:\n{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\nor INFO  jepsen.util - 0\t:invoke\t:read\tnil',
    });
    this.verdict = el('p', { class: 'history-verdict', 'data-testid': 'history-verdict', 'aria-live': 'polite' });
    this.witness = el('div', { class: 'history-witness', 'data-testid': 'history-witness' });
    this.diagram = el('div', { class: 'history-diagram', 'data-testid': 'history-diagram' });
    this.root.replaceChildren(
      el('div', { class: 'panel-head' }, el('h2', {}, 'Open a history'),
        el('label', { class: 'field' }, 'Model ', this.model),
        el('label', { class: 'field' }, 'Initial ', this.initial),
        el('label', { class: 'field' }, 'Format ', this.format),
        el('label', { class: 'field', title: 'Check each key alone (P-compositionality); untick to check the whole history at once' }, this.partition, ' by key'),
        el('label', { class: 'field file' }, 'File ', this.file),
        check, example, close),
      el('p', { class: 'desc' }, 'A Jepsen history — EDN, ', el('code', {}, 'jepsen.util'), ' log lines or JSON lines — checked for linearizability in your browser: ',
        el('b', {}, ':ok'), ' happened between invocation and completion, ', el('b', {}, ':fail'), ' did not happen, ',
        el('b', {}, ':info'), ' may have happened at any time after its invocation, or never. ',
        `The search stops after ${STEP_BUDGET.toLocaleString('en')} steps per key and then says "unknown"; `,
        el('code', {}, 'underhood lin check'), ' has no such limit.'),
      this.text, this.verdict, this.witness, this.diagram,
    );
    check.addEventListener('click', () => this.check());
    example.addEventListener('click', () => {
      this.text.value = EXAMPLE;
      this.model.value = 'cas-register';
      this.initial.value = '';
      this.format.value = 'auto';
      this.check();
    });
    close.addEventListener('click', () => this.close());
    this.file.addEventListener('change', () => {
      const f = this.file.files?.[0];
      if (f) this.load(f);
    });
    this.root.addEventListener('dragover', e => {
      if ([...(e.dataTransfer?.types ?? [])].includes('Files')) {
        e.preventDefault();
        this.root.classList.add('dropping');
      }
    });
    this.root.addEventListener('dragleave', e => {
      if (!this.root.contains(e.relatedTarget)) this.root.classList.remove('dropping');
    });
    this.root.addEventListener('drop', e => {
      this.root.classList.remove('dropping');
      const f = e.dataTransfer?.files?.[0];
      if (!f) return;
      e.preventDefault();
      this.load(f);
    });
    this.diagram.addEventListener('click', e => {
      const bar = e.target.closest('[data-op]');
      if (bar) this.describe(Number(bar.dataset.op));
    });
    this.diagram.addEventListener('keydown', e => {
      const bar = e.target.closest('[data-op]');
      if (bar && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.describe(Number(bar.dataset.op));
      }
    });
  }

  open() {
    this.root.hidden = false;
    document.body.dataset.history = 'open';
    this.root.scrollIntoView({ block: 'start', behavior: 'smooth' });
    this.text.focus({ preventScroll: true });
  }

  close() {
    this.root.hidden = true;
    delete document.body.dataset.history;
  }

  /** Reads a picked or dropped file into the text box and checks it. */
  async load(file) {
    if (file.size > MAX_BYTES) {
      this.hooks.error(`${file.name} is ${file.size.toLocaleString('en')} bytes; the page reads histories up to ${MAX_BYTES.toLocaleString('en')} bytes (use underhood lin check for larger ones)`);
      return;
    }
    try {
      this.text.value = await file.text();
    } catch (e) {
      this.hooks.error(`could not read ${file.name}: ${e.message ?? String(e)}`);
      return;
    }
    this.name = file.name;
    this.check();
  }

  check() {
    const text = this.text.value;
    delete this.root.dataset.verdict;
    if (!text.trim()) {
      this.hooks.error('paste a history, or pick or drop a file, first');
      return;
    }
    let report;
    try {
      report = checkHistory(text, this.model.value, this.initial.value, this.format.value, this.partition.checked, STEP_BUDGET);
    } catch (e) {
      this.report = null;
      this.verdict.textContent = '';
      this.witness.replaceChildren();
      this.diagram.replaceChildren();
      this.hooks.error(`the history cannot be checked: ${e.message ?? String(e)}`);
      return;
    }
    this.hooks.clearError();
    this.report = report;
    this.root.dataset.verdict = report.verdict;
    this.render();
  }

  render() {
    const r = this.report;
    const n = r.operations.length;
    const what = `${n} operation${n === 1 ? '' : 's'} of ${r.lanes.length} process${r.lanes.length === 1 ? '' : 'es'}, ${r.model}, ${r.partitions} partition${r.partitions === 1 ? '' : 's'}`;
    const verdict = {
      linearizable: ['good', 'Linearizable'],
      'not-linearizable': ['bad', 'NOT linearizable'],
      unknown: ['unknown', `Unknown: the search took ${STEP_BUDGET.toLocaleString('en')} steps without an answer`],
    }[r.verdict];
    this.verdict.className = `history-verdict ${verdict[0]}`;
    this.verdict.replaceChildren(el('b', {}, verdict[1]), ` — ${what}`);
    this.witness.replaceChildren(...(r.witness ? witnessLines(r.witness, r.minimal) : []));
    this.diagram.innerHTML = drawHistory(r, this.diagram.clientWidth || 1100);
  }

  /** Shows what one operation did, under the verdict. */
  describe(index) {
    const op = this.report?.operations[index];
    if (!op) return;
    this.witness.querySelector('.history-selected')?.remove();
    this.witness.append(el('p', { class: 'history-selected mono', 'data-testid': 'history-selected' }, describeOp(op)));
  }
}

function witnessLines(w, minimal) {
  const placed = el('p', {}, el('b', {}, 'Cannot be placed: '), el('span', { class: 'mono culprit-text' }, describeOp(w.op)));
  if (w.key !== null && w.key !== undefined) placed.append(` (key ${show(w.key)})`);
  const n = w.linearized.length;
  const prefix = el('p', {}, el('b', {}, 'Longest linearizable prefix: '),
    `the first ${w.prefix_events} events, with ${n} operation${n === 1 ? '' : 's'} linearized (numbered in the diagram)`);
  if (w.previous_ok) prefix.append('; the last: ', el('span', { class: 'mono' }, describeOp(w.previous_ok)));
  const states = el('p', {}, el('b', {}, `State${w.states.length === 1 ? '' : 's'} just before: `), el('span', { class: 'mono' }, w.states.map(show).join(' or ')));
  const lines = [placed, prefix, states];
  if (minimal?.length) {
    lines.push(el('p', { 'data-testid': 'history-minimal' }, el('b', {}, 'Together they break it: '),
      `${minimal.length} operation${minimal.length === 1 ? '' : 's'} (outlined in red) with no linearization, though any ${minimal.length === 1 ? 'fewer' : minimal.length - 1} of them have one`));
  }
  return lines;
}

/** `p3 :cas [1 2] → :ok (line 12)` */
function describeOp(op) {
  const c = op.completion;
  const key = op.key !== null && op.key !== undefined ? ` ${show(op.key)}` : '';
  const end = c.type === 'ok' ? `:ok ${show(c.value)} (line ${c.at.line})`
    : c.type === 'fail' ? `:fail (line ${c.at.line})`
      : c.at ? `:info (line ${c.at.line})` : 'never completed';
  return `process ${op.process}: ${show(op.f)}${key} ${show(op.value)} → ${end}, invoked on line ${op.invoke.line}`;
}

/** A value as the JSON of lincheck's `Value` gives it (keywords keep their colon). */
function show(v) {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'string') return v.startsWith(':') ? v : JSON.stringify(v);
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k} ${show(x)}`).join(', ')}}`;
  return String(v);
}

/**
 * The SVG: a lane per process, time as the index of events (invocations and completions), an
 * operation as a bar from its invocation to its completion (to the end for :info), coloured by
 * its outcome; the longest linearizable prefix shaded, the operations of its linearization
 * numbered in order, and the operation that cannot be placed in red.
 */
function drawHistory(r, available) {
  const events = Math.max(1, r.events);
  // Fill the panel's width; a long history scrolls sideways instead of shrinking past 8 px.
  const step = Math.max(8, Math.min(120, (available - LABEL_W - 40) / events));
  const x = e => LABEL_W + 10 + e * step;
  const end = x(events) + 10;
  const width = end + 10;
  const height = TOP + r.lanes.length * LANE_H + BOTTOM;
  const laneOf = new Map(r.lanes.map((l, k) => [l.process, k]));
  const y = p => TOP + laneOf.get(p) * LANE_H + LANE_H / 2;
  const w = r.witness;
  const order = new Map((w?.linearized ?? []).map((op, k) => [op, k + 1]));
  const minimal = new Set(r.minimal ?? []);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" class="history-svg" role="img" aria-label="Operations per process">`];
  if (w) {
    const px = x(w.prefix_events) - step / 2;
    out.push(`<rect class="prefix" data-testid="history-prefix" x="${LABEL_W}" y="${TOP - 8}" width="${Math.max(0, px - LABEL_W)}" height="${r.lanes.length * LANE_H + 8}"/>`
      + `<line class="prefix-end" x1="${px}" x2="${px}" y1="${TOP - 14}" y2="${height - BOTTOM + 6}"/>`
      + `<text class="prefix-label" x="${px - 4}" y="${TOP - 16}" text-anchor="end">longest linearizable prefix</text>`);
  }
  for (const lane of r.lanes) {
    const ly = y(lane.process);
    out.push(`<line class="lane" x1="${LABEL_W}" x2="${end}" y1="${ly}" y2="${ly}"/>`
      + `<text class="lane-label" x="${LABEL_W - 8}" y="${ly + 4}" text-anchor="end">process ${escapeHtml(lane.process)}</text>`);
  }
  for (const op of r.operations) {
    const c = op.completion;
    const x1 = x(op.invoke.event);
    const x2 = c.at ? x(c.at.event) : end;
    const ly = y(op.process);
    const classes = ['op', c.type === 'info' ? (c.at ? 'info' : 'pending') : c.type];
    if (order.has(op.index)) classes.push('linearized');
    if (w && op.index === w.op.index) classes.push('culprit');
    if (minimal.has(op.index)) classes.push('minimal');
    const label = `${show(op.f)}${op.key !== null && op.key !== undefined ? ' ' + show(op.key) : ''} ${shortValue(op)}`;
    const rank = order.get(op.index);
    out.push(`<g class="${classes.join(' ')}" data-op="${op.index}" data-testid="history-op" tabindex="0" role="button" aria-label="${escapeHtml(describeOp(op))}"><title>${escapeHtml(describeOp(op))}</title>`
      + `<rect x="${x1}" y="${ly - BAR_H / 2}" width="${Math.max(4, x2 - x1)}" height="${BAR_H}" rx="4"/>`
      + `<text x="${x1 + 4}" y="${ly + 4}">${escapeHtml(label)}</text>`
      + (rank ? `<text class="rank" x="${x1 + 2}" y="${ly - BAR_H / 2 - 3}">${rank}</text>` : '')
      + '</g>');
  }
  out.push(`<text class="axis" x="${LABEL_W}" y="${height - 6}">events in file order →</text></svg>`);
  return out.join('');
}

function shortValue(op) {
  const c = op.completion;
  const v = show(op.value);
  const shown = c.type === 'ok' && show(c.value) !== v ? `${v === 'nil' ? '' : v + ' '}→ ${show(c.value)}` : v;
  return c.type === 'ok' ? shown : `${shown} ${c.type === 'fail' ? '✗' : '?'}`;
}
