// Measures how many queue events per second the WASM simulator processes, for `cargo xtask bench-wasm`.
// Usage: node xtask/bench-wasm.mjs <wasm-bindgen nodejs module>
// It runs the gallery scenario `bench` once to warm up, then 5 times, and reports the median.
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";

const SCENARIO = "bench";
const SEED = "1";
const RUNS = 5;

const [modulePath] = process.argv.slice(2);
if (!modulePath) {
  console.error("usage: node xtask/bench-wasm.mjs <module.js>");
  process.exit(2);
}

const require = createRequire(import.meta.url);
const { Simulation, checkTwoPhaseTla } = require(path.resolve(modulePath));

const gallery = JSON.parse(Simulation.gallery());
if (!gallery.some((scenario) => scenario.name === SCENARIO)) {
  const names = gallery.map((scenario) => scenario.name).join(", ");
  console.error(`error: the gallery has no scenario named "${SCENARIO}" (it has: ${names})`);
  process.exit(1);
}
// The scenario JSON goes through the constructor, so the benchmark also covers parsing it.
const scenarioJson = Simulation.scenarioJson(SCENARIO);

function once() {
  const sim = new Simulation(scenarioJson, SEED, "[]");
  try {
    const start = performance.now();
    const events = Number(sim.runToEnd());
    const ms = performance.now() - start;
    return { events, ms, hash: sim.traceHash() };
  } finally {
    sim.free();
  }
}

const warmup = once();
const runs = [];
for (let i = 0; i < RUNS; i++) {
  const run = once();
  if (run.events !== warmup.events || run.hash !== warmup.hash) {
    console.error(`error: run ${i + 1} differs from the warm-up run (not deterministic)`);
    process.exit(1);
  }
  runs.push(run);
  console.log(`run ${i + 1}: ${run.events} events in ${run.ms.toFixed(1)} ms`);
}
runs.sort((a, b) => a.ms - b.ms);
const median = runs[Math.floor(RUNS / 2)];
const perSecond = Math.round(median.events / (median.ms / 1000));
console.log(
  `bench-wasm: scenario "${SCENARIO}" seed ${SEED}: ${median.events} events, ` +
    `median ${median.ms.toFixed(1)} ms of ${RUNS} runs, ${perSecond.toLocaleString("en-US")} events/s`,
);

// The model checker in WASM: TLA+ TwoPhase on one thread (the browser's only one), to compare
// with the native `underhood sim check --model two-phase-tla --rms N --json` of the same run.
for (const rms of [7, 8]) {
  const start = performance.now();
  const report = JSON.parse(checkTwoPhaseTla(rms, false));
  const seconds = (performance.now() - start) / 1000;
  const perSecond = Math.round(report.unique_states / seconds);
  console.log(
    `checker-wasm: two-phase-tla rms ${rms}: ${report.unique_states} unique states in ` +
      `${seconds.toFixed(3)} s, ${perSecond} unique states/s`,
  );
}
