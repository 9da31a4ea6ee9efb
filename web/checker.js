// The "Model checker" panel: exhaustive checks run by the WASM module on the page's thread.
// Each check is synchronous, so it runs in a setTimeout after "checking…" has been painted.

import { checkTwoPhaseTla, checkScenario } from './sim.js';
import { el } from './dom.js';

/** TLC's published distinct-state counts for TwoPhase without symmetry, by number of RMs. */
const TLC_COUNTS = { 2: 56, 3: 288, 4: 1568, 5: 8832, 6: 50816 };

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
    this.q('#mc-tla-check').addEventListener('click', () => this.checkTla());
    this.q('#mc-scenario-check').addEventListener('click', () => this.checkScenario());
    this.q('#mc-rms').addEventListener('input', () => this.hints());
    this.q('#mc-depth').addEventListener('input', () => this.hints());
    root.addEventListener('toggle', () => this.hints());
  }

  /** Updates the scenario's name and the warnings about slow checks. */
  hints() {
    const rms = Number(this.q('#mc-rms').value);
    setText(this.q('#mc-tla-warn'), rms >= 7 ? '7 RMs can take a few seconds; the page freezes meanwhile.' : '');
    const name = this.scenario();
    setText(this.q('#mc-scenario-name'), name ?? '(an edited scenario: pick one from the gallery)');
    const depth = Number(this.q('#mc-depth').value);
    const warn = [];
    if (name && name.startsWith('paxos')) warn.push('Multi-Paxos scenarios are slow to check: start with a small depth.');
    if (depth > 10) warn.push('Depths above 10 can take minutes; the page freezes until the check ends.');
    setText(this.q('#mc-scenario-warn'), warn.join(' '));
  }

  checkTla() {
    const rms = Math.trunc(Number(this.q('#mc-rms').value));
    const symmetry = this.q('#mc-symmetry').checked;
    const out = this.q('#mc-tla-result');
    if (!(rms >= 2 && rms <= 7)) return fail(out, 'RMs must be a whole number from 2 to 7.');
    this.run(this.q('#mc-tla-check'), out, () => checkTwoPhaseTla(rms, symmetry), (r, ms) => {
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
    this.run(this.q('#mc-scenario-check'), out, () => checkScenario(name, depth), (r, ms) => {
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

  /** Shows "checking…", then runs `work` once the browser has painted, and shows what it returns. */
  run(button, out, work, show) {
    button.disabled = true;
    out.dataset.state = 'checking';
    out.replaceChildren(el('p', { class: 'muted' }, 'checking…'));
    // Two frames, then a task: the "checking…" text is on screen before the WASM call blocks.
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
      try {
        const t0 = performance.now();
        const result = work();
        const ms = performance.now() - t0;
        show(result, ms);
        out.dataset.state = result.verdict;
      } catch (e) {
        fail(out, `the check failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        button.disabled = false;
      }
    }, 0)));
  }
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
