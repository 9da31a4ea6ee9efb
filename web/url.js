// The run in the URL: `#scenario=NAME&seed=N&faults=<JSON>&t=MS` replays a run exactly.
// An edited scenario travels whole instead of by name: `#json=<scenario JSON>&from=NAME&seed=…`.
// A model-checker counterexample travels as its script: `#replay=<{scenario, seed, script}>&from=NAME&t=MS`.

/** Parses `location.hash`; missing parts come back as null. Throws on malformed faults. */
export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const scenario = params.get('scenario');
  const json = params.get('json');
  const replay = params.get('replay');
  const from = params.get('from');
  const seed = params.get('seed');
  const faultsText = params.get('faults');
  const tText = params.get('t');
  let faults = null;
  if (faultsText) {
    try {
      faults = JSON.parse(faultsText);
    } catch (e) {
      throw new Error(`the link's faults are not valid JSON: ${e.message}`);
    }
    if (!Array.isArray(faults)) throw new Error("the link's faults must be a JSON list");
  }
  const t = tText !== null && /^\d+$/.test(tText) ? Number(tText) : null;
  return { scenario, json, replay, from, seed, faults, t };
}

/** Formats a run as a hash; `source` is `{name}`, `{json}` or `{replay}`, `faults` the list `injected()` returned. */
export function formatHash({ source, seed, faults, t }) {
  if (source.replay !== undefined) {
    let hash = `#replay=${encodeURIComponent(source.replay)}${source.base ? `&from=${encodeURIComponent(source.base)}` : ''}`;
    if (t !== null && t > 0) hash += `&t=${Math.floor(t)}`;
    return hash;
  }
  const what = source.json === undefined
    ? `scenario=${encodeURIComponent(source.name)}`
    : `json=${encodeURIComponent(source.json)}${source.base ? `&from=${encodeURIComponent(source.base)}` : ''}`;
  let hash = `#${what}&seed=${encodeURIComponent(seed)}`;
  if (faults.length) hash += `&faults=${encodeURIComponent(JSON.stringify(faults))}`;
  if (t !== null && t > 0) hash += `&t=${Math.floor(t)}`;
  return hash;
}
