// Transaction rows for the commit family beyond 2PC: Three-Phase Commit (Skeen's local states
// with the termination term and the backup coordinator) and Paxos Commit (TM, RMs and the
// acceptors' per-instance ballots). cards.js calls `commitTxItem` for every row it shows.

import { escapeHtml } from './dom.js';

/** Skeen's letters, spelled out for the tooltip. */
const LETTER = {
  q: 'q: initial, has not voted',
  w: 'w: waiting, voted yes, the outcome is unknown',
  p: 'p: pre-committed, everybody voted yes; commit is the only way out',
  c: 'c: committed',
  a: 'a: aborted',
};

/**
 * The `<li>` for one transaction of a 3PC or Paxos Commit node, or null for a 2PC row.
 * `names` maps node ids to names (acceptor instances are named by their RM).
 */
export function commitTxItem(tx, now, names) {
  if (typeof tx.letter === 'string') return threePhaseItem(tx, now);
  if (tx.role === 'tm' || tx.role === 'rm' || tx.role === 'acceptor') return paxosCommitItem(tx, now, names);
  return null;
}

function txName(tx) {
  return `<span class="tx-id">t${escapeHtml(tx.tx)}</span>`;
}

function doubtSince(since, now) {
  return since === null || since === undefined ? ''
    : `<span class="since">in doubt since ${escapeHtml(since)} ms (${Math.max(0, Math.round(now - since))} ms)</span>`;
}

function threePhaseItem(tx, now) {
  const letter = tx.letter;
  const cls = { c: 'decided commit', a: 'decided abort', w: 'in_doubt', p: 'precommitted' }[letter] ?? 'other';
  const backup = tx.backup ? '<span class="pill backup" data-testid="backup-marker" title="Backup coordinator: it took over this transaction and runs the termination protocol">BACKUP</span>' : '';
  return `<li class="tx tpc ${cls}" data-letter="${escapeHtml(letter)}">${txName(tx)}`
    + `<span class="pill letter" title="${escapeHtml(LETTER[letter] ?? tx.state)}">${escapeHtml(letter)}</span>`
    + `<span class="state">${escapeHtml(String(tx.state).replace(/_/g, '-'))}</span>`
    + `<span class="term" title="Termination term: it grows each time a backup coordinator takes over">term ${escapeHtml(tx.term)}</span>`
    + `${backup}${doubtSince(tx.in_doubt_since, now)}</li>`;
}

/** A ballot as the page shows it: `b3`, `b2.1` for round 2 led by node 1, or `b(…)` for another shape. */
export function ballot(b) {
  if (b === null || b === undefined) return '<span class="none">none</span>';
  if (typeof b === 'object' && 'round' in b && 'leader' in b) {
    return `<span class="ballot" title="round ${escapeHtml(b.round)}, led by node ${escapeHtml(b.leader)}">b${escapeHtml(b.round)}.${escapeHtml(b.leader)}</span>`;
  }
  if (typeof b === 'object') {
    const parts = Array.isArray(b) ? b : Object.values(b);
    return `<span class="ballot">b(${parts.map(p => escapeHtml(p)).join(',')})</span>`;
  }
  return `<span class="ballot">b${escapeHtml(b)}</span>`;
}

function value(v) {
  return v === null || v === undefined ? '<span class="none">?</span>' : `<span class="value ${escapeHtml(v)}">${escapeHtml(v)}</span>`;
}

function paxosCommitItem(tx, now, names) {
  const name = id => escapeHtml(names.get(id) ?? `n${id}`);
  if (tx.role === 'tm') {
    const chosen = (tx.chosen ?? []).map(([rm, v]) => `<span class="inst">${name(rm)}: ${value(v)}</span>`).join(' ');
    const outcome = tx.outcome ? `<span class="pill">${tx.outcome === 'commit' ? 'committed' : tx.outcome === 'abort' ? 'aborted' : escapeHtml(tx.outcome)}</span>` : '<span class="pill">deciding</span>';
    return `<li class="tx pc-tm ${tx.outcome ? `decided ${escapeHtml(tx.outcome)}` : 'voting'}">${txName(tx)}${outcome}<span class="chosen" title="The value each RM's instance chose, as far as the TM learned">${chosen}</span></li>`;
  }
  if (tx.role === 'rm') {
    const cls = tx.state === 'prepared' ? 'in_doubt' : tx.state === 'committed' ? 'decided commit' : tx.state === 'aborted' ? 'decided abort' : 'other';
    const leading = tx.leading === null || tx.leading === undefined ? ''
      : `<span class="pill leading" title="It took over as leader of the instances in this round">leads round ${escapeHtml(tx.leading)}</span>`;
    return `<li class="tx pc-rm ${cls}">${txName(tx)}<span class="pill">${escapeHtml(tx.state === 'prepared' ? 'prepared, IN DOUBT' : tx.state)}</span>${leading}${doubtSince(tx.in_doubt_since, now)}</li>`;
  }
  const rows = (tx.instances ?? []).map(i => `<tr data-testid="instance" data-rm="${escapeHtml(i.rm)}"><td>${name(i.rm)}</td><td>${ballot(i.promised)}</td>`
    + `<td>${i.accepted ? `${ballot(i.accepted[0])} ${value(i.accepted[1])}` : '<span class="none">none</span>'}</td></tr>`).join('');
  return `<li class="tx pc-acceptor">${txName(tx)}<table class="instances" title="One Paxos instance per RM: the highest ballot this acceptor promised and the value it accepted">`
    + `<thead><tr><th>instance</th><th>promised</th><th>accepted</th></tr></thead><tbody>${rows || '<tr><td colspan="3" class="none">no instance yet</td></tr>'}</tbody></table></li>`;
}
