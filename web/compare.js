// The compare view: one comparison (one workload and fault schedule in protocol-neutral roles)
// run on 2PC, 3PC and Paxos Commit, drawn as three space-time diagrams stacked on one time axis,
// with the table of `compareScenario` beneath. Its link is `#compare=NAME&seed=N`.

import { compareScenario, comparisons, Run } from './sim.js';
import { Diagram } from './diagram.js';
import { el, escapeHtml } from './dom.js';

/** The protocols of a comparison, top to bottom. */
const PROTOCOLS = [
  ['two-phase-commit', 'Two-Phase Commit'],
  ['three-phase-commit', 'Three-Phase Commit'],
  ['paxos-commit', 'Paxos Commit'],
];

/** The compare link's parts, or null when the hash names no comparison. */
export function parseCompareHash(hash) {
  const params = new URLSearchParams(String(hash).replace(/^#/, ''));
  const name = params.get('compare');
  if (name === null) return null;
  return { name, seed: params.get('seed') ?? '' };
}

export function formatCompareHash({ name, seed }) {
  return `#compare=${encodeURIComponent(name)}&seed=${encodeURIComponent(seed)}`;
}

/**
 * The compare panel. `root` is an element it fills; `tooltip` the diagrams' tooltip;
 * `hooks` has `changed()` (the link should be rewritten) and `error(text)`.
 */
export class CompareView {
  constructor(root, tooltip, Simulation, hooks) {
    this.root = root;
    this.tooltip = tooltip;
    this.Simulation = Simulation;
    this.hooks = hooks;
    this.current = null;
    this.list = [];
    this.runs = [];
  }

  /** Whether a comparison is shown (the page's link then names it). */
  get active() {
    return this.current !== null;
  }

  hash() {
    return this.current ? formatCompareHash(this.current) : '';
  }

  /** Builds the controls; returns false (and builds nothing) if this build of the simulator has no comparisons. */
  init() {
    try {
      this.list = comparisons();
    } catch {
      // A build without comparisons (or the JS fake): the page simply offers none.
      return false;
    }
    this.select = el('select', { 'data-testid': 'compare-select', 'aria-label': 'Comparison' },
      ...this.list.map(c => el('option', { value: c.name, title: c.description }, c.name)));
    this.seed = el('input', { 'data-testid': 'compare-seed', inputmode: 'numeric', spellcheck: 'false', autocomplete: 'off', size: '14', placeholder: "comparison's", 'aria-label': 'Seed' });
    const run = el('button', { type: 'button', class: 'primary', 'data-testid': 'compare-run' }, 'Compare');
    const close = el('button', { type: 'button', class: 'ghost', 'data-testid': 'compare-close', title: 'Back to the single scenario' }, 'Close');
    this.desc = el('p', { class: 'desc', 'data-testid': 'compare-description' });
    this.diagrams = el('div', { class: 'compare-diagrams', 'data-testid': 'compare-diagrams' });
    this.table = el('div', { class: 'compare-table-wrap' });
    this.root.replaceChildren(
      el('div', { class: 'panel-head' }, el('h2', {}, 'Compare protocols'),
        el('label', { class: 'field' }, 'Comparison ', this.select), el('label', { class: 'field' }, 'Seed ', this.seed), run, close),
      this.desc, this.diagrams, this.table,
    );
    run.addEventListener('click', () => this.open(this.select.value, this.seed.value.trim()));
    this.select.addEventListener('change', () => this.open(this.select.value, ''));
    this.seed.addEventListener('change', () => this.open(this.select.value, this.seed.value.trim()));
    close.addEventListener('click', () => this.close());
    return true;
  }

  /** Shows comparison `name` with `seed` ("" for its own); reports a bad name or seed through `hooks.error`. */
  open(name, seed) {
    if (!this.list.some(c => c.name === name)) {
      this.hooks.error(`there is no comparison "${name}"; the comparisons are ${this.list.map(c => c.name).join(', ')}`);
      return false;
    }
    if (!/^\d*$/.test(seed)) {
      this.hooks.error(`a seed is a decimal number, not "${seed}"`);
      return false;
    }
    let report;
    const runs = [];
    try {
      report = compareScenario(name, seed);
      for (const [protocol, title] of PROTOCOLS) {
        const run = new Run(this.Simulation, { comparison: name, protocol }, seed, []);
        run.runToEnd();
        runs.push({ protocol, title, run, trace: run.eventsSince(0), state: run.state() });
      }
    } catch (e) {
      for (const r of runs) r.run.free();
      this.hooks.error(`comparing failed: ${e.message ?? String(e)}`);
      return false;
    }
    for (const r of this.runs) r.run.free();
    this.runs = runs;
    const usedSeed = runs[0].run.seed();
    this.current = { name, seed: usedSeed };
    this.select.value = name;
    this.seed.value = usedSeed;
    this.root.hidden = false;
    document.body.dataset.compare = name;
    this.desc.textContent = this.list.find(c => c.name === name)?.description ?? '';
    this.render(report);
    this.hooks.changed();
    return true;
  }

  /** Hides the comparison; `quietly` skips `hooks.changed` (the caller rewrites the link itself). */
  close(quietly = false) {
    for (const r of this.runs) r.run.free();
    this.runs = [];
    this.current = null;
    this.root.hidden = true;
    delete document.body.dataset.compare;
    if (!quietly) this.hooks.changed();
  }

  render(report) {
    const byProtocol = new Map(report.runs.map(r => [r.protocol, r]));
    // One time axis: every diagram is drawn up to the latest end, at the same scale.
    const end = Math.max(1, ...this.runs.map(r => Math.max(r.run.now(), r.trace.length ? r.trace[r.trace.length - 1].t : 0)));
    const width = Math.max(600, (this.diagrams.clientWidth || 1200) - 140);
    const pxPerMs = width / end;
    const lanes = [];
    this.views = [];
    for (const r of this.runs) {
      const row = byProtocol.get(r.protocol);
      const verdict = row ? `atomicity ${row.atomicity}${row.blocked ? ' · blocked' : ''}` : '';
      const box = el('div', { class: 'diagram compare-diagram', 'data-testid': `compare-diagram-${r.protocol}` });
      const head = el('h3', { class: `compare-title${row?.atomicity === 'violated' ? ' bad' : ''}` }, `${r.title} `, el('span', { class: 'muted' }, verdict));
      lanes.push(el('section', { class: 'compare-lane' }, head, box));
      this.views.push({ r, box });
    }
    this.diagrams.replaceChildren(...lanes);
    const scrollers = [];
    for (const { r, box } of this.views) {
      const diagram = new Diagram(box, this.tooltip, { dropMessage: () => {}, selectEvent: () => {} });
      diagram.update({ trace: r.trace, state: r.state, clock: end, axis: 'linear', pxPerMs, highlight: null, playing: false, paxos: false, hidden: null });
      scrollers.push(diagram.scroller);
    }
    // Scrolling one diagram scrolls the others, so the time axis stays shared.
    for (const s of scrollers) {
      s.addEventListener('scroll', () => {
        for (const o of scrollers) if (o !== s && o.scrollLeft !== s.scrollLeft) o.scrollLeft = s.scrollLeft;
      });
    }
    this.table.innerHTML = reportTable(report);
  }
}

function reportTable(report) {
  const cell = v => (v === null || v === undefined ? '<span class="none">—</span>' : escapeHtml(v));
  const rows = report.runs.map(r => `<tr data-protocol="${escapeHtml(r.protocol)}" class="${r.atomicity === 'violated' ? 'bad' : ''}">`
    + `<th scope="row">${escapeHtml(r.protocol)}</th><td data-col="atomicity">${escapeHtml(r.atomicity)}</td>`
    + `<td>${r.decided_everywhere ? 'yes' : 'no'}</td><td>${r.blocked ? 'yes' : 'no'}</td><td>${cell(r.in_doubt_ms_max)}</td>`
    + `<td>${cell(r.messages)}</td><td>${cell(r.forced_writes)}</td><td>${cell(r.decision_latency_ms)}</td>`
    + `<td class="mono">${escapeHtml(r.trace_hash)}</td></tr>`).join('');
  return `<table class="compare-table" data-testid="compare-table"><caption>${escapeHtml(report.scenario)}, one workload and fault schedule on every protocol</caption>`
    + '<thead><tr><th>protocol</th><th>atomicity</th><th>decided everywhere</th><th>blocked</th><th>in doubt max (ms)</th>'
    + '<th>messages</th><th>forced writes</th><th>decision latency (ms)</th><th>trace hash</th></tr></thead>'
    + `<tbody>${rows}</tbody></table>`;
}
