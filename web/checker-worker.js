// Runs the model checker off the page's thread: the page stays live, shows progress as the
// search finishes each level, and can cancel a check by terminating this worker.
// Messages in:  {id, kind: 'tla', rms, symmetry} | {id, kind: 'scenario', name, depth}
// Messages out: {id, progress: {depth, unique_states, states}} | {id, result} | {id, error}

let ready = null;

function load() {
  ready ??= import('./pkg/underhood_sim_wasm.js').then(async mod => {
    await mod.default();
    return mod;
  });
  return ready;
}

self.onmessage = async ({ data }) => {
  const { id } = data;
  try {
    const mod = await load();
    const progress = text => self.postMessage({ id, progress: JSON.parse(text) });
    let text;
    if (data.kind === 'tla') {
      if (typeof mod.checkTwoPhaseTlaProgress !== 'function') throw new Error('this build of the simulator has no checkTwoPhaseTlaProgress (rebuild it with `cargo xtask wasm`)');
      text = mod.checkTwoPhaseTlaProgress(data.rms, Boolean(data.symmetry), progress);
    } else if (data.kind === 'scenario') {
      if (typeof mod.checkScenarioProgress !== 'function') throw new Error('this build of the simulator has no checkScenarioProgress (rebuild it with `cargo xtask wasm`)');
      text = mod.checkScenarioProgress(data.name, data.depth, progress);
    } else {
      throw new Error(`unknown check ${JSON.stringify(data.kind)}`);
    }
    self.postMessage({ id, result: JSON.parse(text) });
  } catch (e) {
    self.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
};
