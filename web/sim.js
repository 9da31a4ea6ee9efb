// Loads the WASM simulator and wraps one `Simulation` so the page sees numbers and parsed JSON.
// The contract is docs/sim-wasm-api.md; this file is the only place that calls the module.

/** Imports `./pkg/underhood_sim_wasm.js`, runs its `init`, and returns the `Simulation` class. */
export async function loadSimulation() {
  let mod;
  try {
    mod = await import('./pkg/underhood_sim_wasm.js');
  } catch (e) {
    throw new Error(`could not load ./pkg/underhood_sim_wasm.js (build it with \`cargo xtask wasm\`): ${e.message}`);
  }
  // The page's head started compiling the module while it downloaded; if that failed (an old
  // browser, a server that does not send application/wasm), the glue fetches it itself.
  const compiled = await (window.underhoodWasm ?? null);
  await mod.default(compiled ? { module_or_path: compiled } : undefined);
  loaded = mod;
  return mod.Simulation;
}

/** The loaded module, once `loadSimulation` has run. */
let loaded = null;

function checker(name) {
  const f = loaded?.[name];
  if (typeof f !== 'function') throw new Error(`this build of the simulator has no ${name} (rebuild it with \`cargo xtask wasm\`)`);
  return f;
}

/** Model-checks Gray & Lamport's TLA+ TwoPhase spec with `rms` resource managers; parsed JSON out. */
export function checkTwoPhaseTla(rms, symmetry) {
  return JSON.parse(checker('checkTwoPhaseTla')(rms, Boolean(symmetry)));
}

/** Explores every interleaving of a gallery scenario up to `maxDepth` steps; parsed JSON out. Throws on an unknown name. */
export function checkScenario(name, maxDepth) {
  return JSON.parse(checker('checkScenario')(name, maxDepth));
}

/** Whether the checker explores gallery scenario `name`: null, or `{refusal, protocol, message}`; null from a build without the binding (Check then reports the refusal). */
export function checkSupport(name) {
  const f = loaded?.checkSupport;
  return typeof f === 'function' ? JSON.parse(f(name)) : null;
}

/** The gallery's side-by-side comparisons: `[{name, description, participants, f}]`. */
export function comparisons() {
  return JSON.parse(checker('comparisons')());
}

/** Runs comparison `name` on every commit protocol; `seed` is decimal or "" for its own. Throws on an unknown name. */
export function compareScenario(name, seed) {
  return JSON.parse(checker('compareScenario')(name, seed));
}

/**
 * Checks a Jepsen history (text) for linearizability; `maxSteps` bounds each partition's
 * search. Parsed JSON out (see `checkHistory` in docs/sim-wasm-api.md); throws on bad input.
 */
export function checkHistory(text, model, initial, format, partition, maxSteps) {
  return JSON.parse(checker('checkHistory')(text, model, initial, format, Boolean(partition), maxSteps));
}

/** Reads and checks a recorded run file (text); the run as parsed JSON. Throws, saying what is wrong, on anything else. */
export function parseRecordedRun(text) {
  return checker('parseRecordedRun')(text);
}

/** One run: a scenario, a seed and a list of injected faults. */
export class Run {
  /**
   * @param {any} Simulation the class from `loadSimulation`
   * @param {{name: string} | {json: string} | {replay: string} | {comparison: string, protocol: string}} source a gallery
   *   scenario, a scenario's JSON text, a model-checker counterexample to replay (`{scenario, seed, script}`),
   *   or one protocol's run of a side-by-side comparison (it takes no faults)
   * @param {string} seed decimal u64, or "" for the scenario's own seed
   * @param {object[]} faults recorded injections, as `injected()` returns them
   */
  constructor(Simulation, source, seed, faults) {
    const injected = JSON.stringify(faults);
    if (source.comparison !== undefined) {
      if (typeof Simulation.fromComparison !== 'function') throw new Error('this build of the simulator has no comparisons (rebuild it with `cargo xtask wasm`)');
      this.inner = Simulation.fromComparison(source.comparison, source.protocol, seed);
    } else if (source.replay !== undefined) {
      if (typeof Simulation.fromReplay !== 'function') throw new Error('this build of the simulator cannot replay counterexamples (rebuild it with `cargo xtask wasm`)');
      this.inner = Simulation.fromReplay(source.replay);
    } else {
      this.inner = source.json !== undefined
        ? new Simulation(source.json, seed, injected)
        : Simulation.fromGallery(source.name, seed, injected);
    }
  }

  free() {
    const inner = this.inner;
    this.inner = null;
    if (inner && typeof inner.free === 'function') inner.free();
  }

  seed() { return String(this.inner.seed()); }
  now() { return Number(this.inner.now()); }
  steps() { return Number(this.inner.steps()); }
  finished() { return Boolean(this.inner.finished()); }
  durationMs() { return Number(this.inner.durationMs()); }
  eventCount() { return Number(this.inner.eventCount()); }
  step(n) { return Number(withTime(t => this.inner.step(t), n)); }
  /** Runs every event with time <= tMs; `tMs` is rounded down to whole milliseconds. */
  runUntil(tMs) { return Number(withTime(t => this.inner.runUntil(t), Math.floor(tMs))); }
  runToEnd() { return Number(this.inner.runToEnd()); }
  state() { return JSON.parse(this.inner.state()); }
  eventsSince(cursor) { return JSON.parse(withTime(c => this.inner.eventsSince(c), cursor)); }
  /** Applies a fault now and returns the recorded injection. */
  inject(fault) { return JSON.parse(this.inner.inject(JSON.stringify(fault))); }
  injected() { return JSON.parse(this.inner.injected()); }
  traceHash() { return String(this.inner.traceHash()); }
  violations() { return JSON.parse(this.inner.violations()); }
  /** Each invariant and where it stands now: `[{name, promise, violated_since, violations}]`; null from a build without it. */
  invariants() { return typeof this.inner.invariants === 'function' ? JSON.parse(this.inner.invariants()) : null; }
  summary() { return String(this.inner.summary()); }
}

/** Calls `f(x)`, retrying with a BigInt if the binding was generated for a u64 argument. */
function withTime(f, x) {
  try {
    return f(x);
  } catch (e) {
    if (e instanceof TypeError && /BigInt/i.test(e.message)) return f(BigInt(x));
    throw e;
  }
}
