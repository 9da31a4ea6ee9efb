// Prints the WASM trace hash of each gallery scenario under each seed, for `cargo xtask test`,
// and the full trace (every event, as JSON) of each scenario under the full-trace seed.
// Usage: node xtask/determinism.mjs <wasm-bindgen nodejs module> <seed,seed,...> <full-trace seed> <scenario>...
// Output: one line per run, `name<TAB>seed<TAB>hash`, and per scenario `events<TAB>name<TAB>[...]`;
// any error exits with status 1.
import { createRequire } from "node:module";
import path from "node:path";

const [modulePath, seedList, fullTraceSeed, ...names] = process.argv.slice(2);
if (!modulePath || !seedList || !fullTraceSeed || names.length === 0) {
  console.error("usage: node xtask/determinism.mjs <module.js> <seed,seed,...> <full-trace seed> <scenario>...");
  process.exit(2);
}

const require = createRequire(import.meta.url);
const { Simulation } = require(path.resolve(modulePath));

for (const name of names) {
  for (const seed of seedList.split(",")) {
    let sim;
    try {
      sim = Simulation.fromGallery(name, String(seed), "[]");
      sim.runToEnd();
      console.log(`${name}\t${seed}\t${sim.traceHash()}`);
      if (seed === fullTraceSeed) {
        console.log(`events\t${name}\t${sim.eventsSince(0)}`);
      }
    } catch (err) {
      console.error(`${name} seed ${seed}: ${err?.message ?? err}`);
      process.exit(1);
    } finally {
      sim?.free();
    }
  }
}
