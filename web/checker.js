// The "Model checker" panel: exhaustive checks run by the WASM module in a worker
// (checker-worker.js), so the page stays live, shows progress level by level and can cancel a
// check. Where a worker cannot start, the check runs on the page's thread instead.

import { checkTwoPhaseTla, checkScenario, checkSupport } from './sim.js';
import { el } from './dom.js';

/** TLC's published distinct-state counts for TwoPhase without symmetry, by number of RMs. */
const TLC_COUNTS = { 2: 56, 3: 288, 4: 1568, 5: 8832, 6: 50816, 7: 296448, 8: 1745408 };

/** One worker at a time per column: `start` posts a check, `cancel` ends it by terminating the worker. */
class CheckWorker {
  constructor() {
    this.worker = null;
    this.pending = null;
    this.nextId = 1;
  }

  /** Runs `request` in the worker; `onProgress` gets `{depth, unique_states, states}`. Resolves to the report. */
  start(request, onProgress) {
    if (!this.worker) {
      this.worker = new Worker(new URL('./checker-worker.js', import.meta.url), { type: 'module' });
      this.worker.onmessage = ({ data }) => {
        const p = this.pending;
        if (!p || data.id !== p.id) return;
        if (data.progress) p.onProgress(data.progress);
        else if (data.error !== undefined) this.settle(() => p.reject(new Error(data.error)));
        else this.settle(() => p.resolve(data.result));
      };
      this.worker.onerror = e => {
        e.preventDefault();
        const p = this.pending;
        this.drop();
        if (p) p.reject(new Error(`the checker's worker failed: ${e.message || 'it could not load'}`));
      };
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending = { id, resolve, reject, onProgress };
      this.worker.postMessage({ id, ...request });
    });
  }

  settle(f) {
    this.pending = null;
    f();
  }

  /** Stops the running check at once; its promise rejects with `cancelled`. */
  cancel() {
    const p = this.pending;
    this.drop();
    if (p) p.reject(Object.assign(new Error('cancelled'), { cancelled: true }));
  }

  drop() {
    this.pending = null;
    if (this.worker) this.worker.terminate();
    this.worker = null;
  }
}

/** Whether module workers can start here (not from file://, not in very old browsers). */
const WORKERS = typeof Worker === 'function' && location.protocol !== 'file:';

export class Checker {
  /**
   * @param {HTMLElement} root the panel
   * @param {() => string | null} scenario the gallery scenario to check, or null for none
   * @param {{showReplay: (replayJson: string, scenario: string) => void}} actions what the
   *   "Show in the diagram" button does with a counterexample
   */
  constructor(root, scenario, actions) {
    this.root = root;
    this.scenario = scenario;
    this.actions = actions;
    this.q = sel => root.querySelector(sel);
    this.workers = { tla: new CheckWorker(), scenario: new CheckWorker() };
    /** The checker's refusal of each gallery scenario asked about (null: it checks it). */
    this.refusals = new Map();
    this.q('#mc-tla-check').addEventListener('click', () => this.checkTla());
    this.q('#mc-scenario-check').addEventListener('click', () => this.checkScenario());
    this.q('#mc-rms').addEventListener('input', () => this.hints());
    this.q('#mc-depth').addEventListener('input', () => this.hints());
    root.addEventListener('toggle', () => this.hints());
  }

  /** Updates the scenario's name and the warnings about slow checks. */
  hints() {
    const rms = Number(this.q('#mc-rms').value);
    setText(this.q('#mc-tla-warn'), rms >= 8 ? '8 RMs: 1.7 million states, a few seconds.' : '');
    const name = this.scenario();
    setText(this.q('#mc-scenario-name'), name ?? '(an edited scenario: pick one from the gallery)');
    const refusal = name ? this.refusal(name) : null;
    this.q('#mc-scenario-controls').hidden = Boolean(refusal);
    const note = this.q('#mc-scenario-refusal');
    note.hidden = !refusal;
    const key = refusal ? `${name}:${refusal.message}` : '';
    if (refusal && note.dataset.key !== key) {
      note.dataset.key = key;
      note.replaceChildren(
        el('b', {}, `The model checker does not check ${name}: `),
        `${refusal.message}.`,
        refusal.refusal === 'timing' ? ' Here, press Play, or run other seeds with Random seed: each run is one timing, and the invariant line says whether it held.' : '',
      );
      this.q('#mc-scenario-result').replaceChildren();
    }
    const depth = Number(this.q('#mc-depth').value);
    const warn = [];
    if (name && name.startsWith('paxos')) warn.push('Multi-Paxos scenarios are slow to check: start with a small depth.');
    if (depth > 10) warn.push('Depths above 10 can take minutes (Cancel stops a check).');
    setText(this.q('#mc-scenario-warn'), warn.join(' '));
  }

  /** The checker's refusal of gallery scenario `name`, asked once. */
  refusal(name) {
    if (!this.refusals.has(name)) {
      let r = null;
      try {
        r = checkSupport(name);
      } catch {
        // An unknown name: Check reports it.
      }
      this.refusals.set(name, r);
    }
    return this.refusals.get(name);
  }

  checkTla() {
    const rms = Math.trunc(Number(this.q('#mc-rms').value));
    const symmetry = this.q('#mc-symmetry').checked;
    const out = this.q('#mc-tla-result');
    if (!(rms >= 2 && rms <= 8)) return fail(out, 'RMs must be a whole number from 2 to 8.');
    const request = { kind: 'tla', rms, symmetry };
    this.run('tla', this.q('#mc-tla-check'), out, request, () => checkTwoPhaseTla(rms, symmetry), (r, ms) => {
      const expected = TLC_COUNTS[rms];
      const tlc = symmetry || expected === undefined ? null
        : r.unique_states === expected ? `TLC: ${expected} ✓` : `TLC: ${expected} ✗`;
      out.replaceChildren(
        verdict(r.verdict),
        stats([
          ['unique states', fmt(r.unique_states), tlc],
          ['states generated', fmt(r.states)],
          ['max depth', fmt(r.max_depth)],
          ['bytes/state', Number(r.bytes_per_state).toFixed(1)],
          ['elapsed', `${ms.toFixed(0)} ms`],
        ]),
      );
      if (r.truncated) out.append(el('p', { class: 'mc-note' }, 'The search was cut short: these counts are a lower bound.'));
      if (r.counterexample) out.append(el('pre', { class: 'mc-raw' }, JSON.stringify(r.counterexample, null, 2)));
    });
  }

  checkScenario() {
    const name = this.scenario();
    const depth = Math.trunc(Number(this.q('#mc-depth').value));
    const out = this.q('#mc-scenario-result');
    if (!name) return fail(out, 'An edited scenario cannot be checked: pick a gallery scenario.');
    if (!(depth >= 1 && depth <= 40)) return fail(out, 'Max depth must be a whole number from 1 to 40.');
    const request = { kind: 'scenario', name, depth };
    this.run('scenario', this.q('#mc-scenario-check'), out, request, () => checkScenario(name, depth), (r, ms) => {
      out.replaceChildren(
        verdict(r.verdict, r.property),
        stats([
          ['scenario', name],
          ['unique states', fmt(r.unique_states)],
          ['states generated', fmt(r.states)],
          ['max depth', fmt(r.max_depth)],
          ['truncated', r.truncated ? 'yes' : 'no'],
          ['elapsed', `${ms.toFixed(0)} ms`],
        ]),
      );
      if (r.verdict === 'ok' && r.truncated) {
        out.append(el('p', { class: 'mc-note' }, `No violation within ${depth} steps; deeper runs were not explored.`));
      }
      const steps = Array.isArray(r.counterexample) ? r.counterexample : [];
      if (steps.length) {
        out.append(el('p', { class: 'mc-note' }, `A shortest counterexample, ${steps.length} steps:`));
        out.append(el('ol', { class: 'mc-trace', 'data-testid': 'mc-counterexample' }, ...steps.map(step => {
          const bad = step.kind === 'violation';
          return el('li', bad ? { class: 'mc-violation' } : {}, String(step.label ?? step.kind));
        })));
      }
      if (r.replay) {
        const replay = JSON.stringify(r.replay);
        const show = el('button', { type: 'button', class: 'primary', 'data-testid': 'mc-show-diagram' }, 'Show in the diagram');
        show.addEventListener('click', () => this.actions.showReplay(replay, name));
        out.append(el('p', { class: 'mc-note' }, show, ' replays these steps through the simulator, message by message, in the space-time diagram.'));
      }
    });
  }

  /**
   * Runs `request` in a worker, showing progress and a Cancel button, then shows what it returns.
   * Without workers, runs `work` on the page's thread once "checking…" has been painted.
   */
  run(column, button, out, request, work, show) {
    button.disabled = true;
    out.dataset.state = 'checking';
    // A new check starts at no level: a depth left from the last one would be reported early.
    delete out.dataset.depth;
    const line = el('span', { 'data-testid': 'mc-progress' }, 'starting…');
    const cancel = el('button', { type: 'button', class: 'ghost', 'data-testid': 'mc-cancel' }, 'Cancel');
    out.replaceChildren(el('p', { class: 'muted mc-progress' }, 'checking: ', line, ' ', WORKERS ? cancel : ''));
    const t0 = performance.now();
    let last = null;
    const paint = () => {
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      line.textContent = last
        ? `level ${last.depth}, ${fmt(last.unique_states)} unique states, ${fmt(last.states)} generated, ${s} s`
        : `starting… ${s} s`;
    };
    const done = () => {
      clearInterval(ticker);
      button.disabled = false;
    };
    const ticker = setInterval(paint, 250);
    if (!WORKERS) {
      requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
        try {
          const result = work();
          show(result, performance.now() - t0);
          out.dataset.state = result.verdict;
        } catch (e) {
          fail(out, `the check failed: ${message(e)}`);
        } finally {
          done();
        }
      }, 0)));
      return;
    }
    const worker = this.workers[column];
    cancel.addEventListener('click', () => worker.cancel());
    worker.start(request, p => {
      last = p;
      out.dataset.depth = String(p.depth);
      paint();
    }).then(result => {
      show(result, performance.now() - t0);
      out.dataset.state = result.verdict;
    }, e => {
      if (e.cancelled) {
        out.dataset.state = 'cancelled';
        const s = ((performance.now() - t0) / 1000).toFixed(1);
        const where = last ? ` at level ${last.depth} with ${fmt(last.unique_states)} unique states` : '';
        out.replaceChildren(el('p', { class: 'mc-note', 'data-testid': 'mc-cancelled' }, `Cancelled after ${s} s${where}: no verdict.`));
      } else {
        fail(out, `the check failed: ${message(e)}`);
      }
    }).finally(done);
  }
}

function message(e) {
  return e instanceof Error ? e.message : String(e);
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function fail(out, text) {
  out.dataset.state = 'error';
  out.replaceChildren(el('p', { class: 'mc-error' }, text));
}

function verdict(v, property) {
  const ok = v === 'ok';
  const text = ok ? `verdict: ok${property ? ` (${property} holds)` : ''}` : `verdict: ${v}${property ? ` (${property})` : ''}`;
  return el('p', { class: `mc-verdict ${ok ? 'ok' : 'bad'}`, 'data-verdict': String(v) }, text);
}

function stats(rows) {
  return el('dl', { class: 'mc-stats' }, ...rows.flatMap(([k, v, extra]) => [
    el('dt', {}, k),
    el('dd', {}, v, ...(extra ? [' ', el('span', { class: extra.endsWith('✓') ? 'mc-match' : 'mc-mismatch' }, extra)] : [])),
  ]));
}

function fmt(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '—');
}
