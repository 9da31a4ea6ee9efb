// Runs the installed package underhood-sim in Node.js, as a consumer would.
// Usage (in a project that has it in node_modules):
//   node node.mjs                                        the `underhood-sim/web` entry, with initSync
//   node --experimental-wasm-modules node.mjs bundler    the default entry (wasm-bindgen's bundler output)
import { readFileSync } from 'node:fs';

const entry = process.argv[2] ?? 'web';
let sim;
if (entry === 'web') {
  sim = await import('underhood-sim/web');
  const wasm = new URL(import.meta.resolve('underhood-sim/web/underhood_sim_bg.wasm'));
  sim.initSync({ module: readFileSync(wasm) });
} else if (entry === 'bundler') {
  sim = await import('underhood-sim');
} else {
  console.error(`usage: node node.mjs [web|bundler], got ${entry}`);
  process.exit(2);
}
const { Simulation, checkScenario } = sim;

function assert(condition, message) {
  if (!condition) {
    console.error(`npm package (${entry}): ${message}`);
    process.exit(1);
  }
}

const names = JSON.parse(Simulation.gallery()).map((s) => s.name);
assert(names.includes('coordinator-crash-before-decision'), `the gallery lacks a 2PC scenario: ${names}`);

// A run, and the same run again from the scenario's JSON text: the same trace hash.
const run = Simulation.fromGallery('coordinator-crash-before-decision', '7', '[]');
assert(run.runToEnd() > 0, 'the run processed no events');
assert(run.finished(), 'the run did not finish');
assert(/^[0-9a-f]{16}$/.test(run.traceHash()), `trace hash ${run.traceHash()}`);
const again = new Simulation(Simulation.scenarioJson('coordinator-crash-before-decision'), '7', '[]');
again.runToEnd();
assert(again.traceHash() === run.traceHash(), 'the same scenario and seed gave another trace hash');
assert(again.summary() === run.summary(), 'the same scenario and seed gave another summary');
const events = JSON.parse(run.eventsSince(0));
assert(events.length === run.eventCount(), `eventsSince(0) has ${events.length} of ${run.eventCount()} events`);
run.free();
again.free();

// Errors are thrown as Error with the Rust message.
let thrown;
try {
  Simulation.fromGallery('no-such-scenario', '', '[]');
} catch (e) {
  thrown = e;
}
assert(thrown instanceof Error && /no-such-scenario/.test(thrown.message), `unknown scenario threw ${thrown}`);

// The model checker finds the textbook 2PC atomicity violation.
const report = JSON.parse(checkScenario('abort-on-timeout', 10));
assert(report.verdict === 'violated' && report.property === 'atomicity', `checkScenario: ${report.verdict} ${report.property}`);

console.log(`npm package (${entry}): ${names.length} gallery scenarios, runs, errors and the model checker work`);
