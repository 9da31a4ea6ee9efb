// Compares two builds of the WASM simulator in one run, for `cargo xtask bench-wasm --baseline`.
// Usage: node xtask/bench-wasm-compare.mjs <baseline nodejs module> <current nodejs module>
// Each round runs the gallery scenario `bench` (seed 1) and TLA+ TwoPhase with 7 RMs on both
// builds, in alternating order, so machine noise hits both alike; after one warm-up round it
// reports the median of ROUNDS rounds for each and the ratio current/baseline (below 1 is faster).
import { createRequire } from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";

const SCENARIO = "bench";
const SEED = "1";
const RMS = 7;
const ROUNDS = 9;

const paths = process.argv.slice(2);
if (paths.length !== 2) {
  console.error("usage: node xtask/bench-wasm-compare.mjs <baseline module.js> <current module.js>");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const builds = paths.map((p, i) => ({
  name: i === 0 ? "baseline" : "current",
  path: p,
  module: require(path.resolve(p)),
  sim: [],
  tla: [],
  hash: null,
}));

function round(build, keep) {
  const { Simulation, checkTwoPhaseTla } = build.module;
  const sim = new Simulation(Simulation.scenarioJson(SCENARIO), SEED, "[]");
  try {
    const start = performance.now();
    sim.runToEnd();
    const ms = performance.now() - start;
    const hash = sim.traceHash();
    if (build.hash !== null && build.hash !== hash) {
      console.error(`error: ${build.name} changed its trace hash between runs (not deterministic)`);
      process.exit(1);
    }
    build.hash = hash;
    if (keep) build.sim.push(ms);
  } finally {
    sim.free();
  }
  const start = performance.now();
  checkTwoPhaseTla(RMS, false);
  if (keep) build.tla.push(performance.now() - start);
}

for (let r = 0; r <= ROUNDS; r++) {
  const order = r % 2 === 0 ? builds : [...builds].reverse();
  for (const build of order) round(build, r > 0);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const b of builds) {
  console.log(
    `${b.name} (${b.path}): scenario "${SCENARIO}" median ${median(b.sim).toFixed(1)} ms, ` +
      `two-phase-tla rms ${RMS} median ${median(b.tla).toFixed(1)} ms (${ROUNDS} rounds)`,
  );
}
const [base, cur] = builds;
if (base.hash !== cur.hash) {
  console.log(`note: the builds' trace hashes differ (${base.hash} vs ${cur.hash}): they simulate differently`);
}
console.log(
  `bench-wasm ratio current/baseline: simulator ${(median(cur.sim) / median(base.sim)).toFixed(3)}, ` +
    `model checker ${(median(cur.tla) / median(base.tla)).toFixed(3)}`,
);
