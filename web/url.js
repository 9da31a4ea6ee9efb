// The run in the URL: `#scenario=NAME&seed=N&faults=<JSON>&t=MS` replays a run exactly.

/** Parses `location.hash`; missing parts come back as null. Throws on malformed faults. */
export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const scenario = params.get('scenario');
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
  return { scenario, seed, faults, t };
}

/** Formats a run as a hash; `faults` is the list `injected()` returned. */
export function formatHash({ scenario, seed, faults, t }) {
  let hash = `#scenario=${encodeURIComponent(scenario)}&seed=${encodeURIComponent(seed)}`;
  if (faults.length) hash += `&faults=${encodeURIComponent(JSON.stringify(faults))}`;
  if (t !== null && t > 0) hash += `&t=${Math.floor(t)}`;
  return hash;
}
