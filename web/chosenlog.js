// The chosen log per replica, side by side: one column per replica, one row per slot, so a gap
// (a replica behind) or a divergence (two commands in one slot) shows at a glance.

import { escapeHtml } from './dom.js';
import { chosenDecisions, commandColor, splitCommand } from './paxos.js';

/** Renders into `root`; `highlight(slot)` marks one slot and scrolls it into view. */
export class ChosenLog {
  constructor(root) {
    this.root = root;
    this.html = '';
    this.slot = null;
    this.missing = null;
  }

  /** The conflicting slots of the last update. */
  conflicts() {
    return this.conflictSlots ?? [];
  }

  /** Does the panel currently show a row for `slot`? */
  has(slot) {
    return Boolean(this.root.querySelector(`tr[data-slot="${slot}"]`));
  }

  highlight(slot) {
    this.slot = slot;
    this.html = '';
    if (this.state) this.update(this.state);
    const row = this.root.querySelector(`tr[data-slot="${slot}"]`);
    if (row) this.root.scrollTop = Math.max(0, row.offsetTop - this.root.clientHeight / 2);
  }

  update(state) {
    this.state = state;
    const nodes = state.nodes;
    const global = new Map();
    // The global log keeps one decision per slot; an agreement violation names the other one.
    const decisions = [...(state.protocol.chosen ?? []), ...(state.violations ?? []).flatMap(chosenDecisions)];
    for (const c of decisions) {
      if (!global.has(c.slot)) global.set(c.slot, []);
      const list = global.get(c.slot);
      if (!list.some(d => d.command === c.command && d.ballot === c.ballot)) list.push(c);
    }
    const slots = new Set(global.keys());
    const cols = nodes.map(n => {
      const applied = new Map((n.chosen ?? []).map(c => [c.slot, c.command]));
      const accepted = new Map();
      for (const a of n.accepted ?? []) if (!accepted.has(a.slot)) accepted.set(a.slot, a);
      for (const s of applied.keys()) slots.add(s);
      for (const s of accepted.keys()) slots.add(s);
      return { node: n, applied, accepted };
    });
    if (this.slot !== null) slots.add(this.slot);
    // Newest first, so the latest slots are in view without scrolling.
    const sorted = [...slots].sort((a, b) => b - a);

    const conflicts = [];
    const rows = [];
    let prev = null;
    for (const slot of sorted) {
      if (prev !== null && slot < prev - 1) {
        const n = prev - slot - 1;
        rows.push(`<tr class="gap"><td colspan="${nodes.length + 2}">⋯ ${n} slot${n === 1 ? '' : 's'} (#${slot + 1}${n > 1 ? `–#${prev - 1}` : ''}) not shown</td></tr>`);
      }
      prev = slot;
      const commands = new Set();
      for (const g of global.get(slot) ?? []) commands.add(g.command);
      for (const col of cols) if (col.applied.has(slot)) commands.add(col.applied.get(slot));
      const conflict = commands.size > 1;
      if (conflict) conflicts.push(slot);
      const cells = [];
      const g = global.get(slot) ?? [];
      cells.push(g.length
        ? `<td class="global">${g.map(c => commandCell(c.command, `chosen under ballot b${c.ballot}`, `b${c.ballot}`)).join('')}</td>`
        : '<td class="global empty"></td>');
      for (const { node, applied, accepted } of cols) {
        cells.push(replicaCell(node, slot, applied, accepted));
      }
      const cls = [conflict ? 'conflict' : '', slot === this.slot ? 'hl' : ''].filter(Boolean).join(' ');
      rows.push(`<tr data-slot="${slot}"${cls ? ` class="${cls}"` : ''}><th scope="row">#${slot}${conflict ? '<span class="warn" title="Two different commands in one slot">⚠</span>' : ''}</th>${cells.join('')}</tr>`);
    }
    this.conflictSlots = conflicts;

    const head = `<thead><tr><th scope="col">slot</th><th scope="col" class="global" title="The globally chosen log as the checker saw it (newest 60)">chosen</th>${nodes.map(n =>
      `<th scope="col" class="${n.up ? '' : 'down'}" title="${escapeHtml(n.up ? `applied up to #${(n.next_apply ?? 0) - 1}${n.snapshot ? `, snapshot below #${n.snapshot}` : ''}` : 'down')}">${escapeHtml(n.name)}${n.up ? (n.paxos_role === 'leader' ? ' <span class="crown" title="leader">★</span>' : '') : ' <span class="down-tag">down</span>'}`
      + `${n.up ? `<span class="sub">${n.next_apply > 0 ? `applied ≤ #${n.next_apply - 1}` : 'nothing applied'}</span>` : ''}</th>`).join('')}</tr></thead>`;
    const body = rows.length ? rows.join('') : `<tr class="gap"><td colspan="${nodes.length + 2}">no slot chosen yet</td></tr>`;
    const html = `<table class="chosen-table">${head}<tbody>${body}</tbody></table>`;
    if (html === this.html) return;
    this.html = html;
    this.root.innerHTML = html;
  }
}

function replicaCell(node, slot, applied, accepted) {
  const rid = `data-replica="${node.id}"`;
  if (!node.up) return `<td class="down" ${rid}></td>`;
  if (applied.has(slot)) {
    return `<td class="applied" ${rid}>${commandCell(applied.get(slot), `${node.name} applied this at #${slot}`, '')}</td>`;
  }
  const a = accepted.get(slot);
  if (slot >= (node.next_apply ?? 0)) {
    if (a) return `<td class="accepted" ${rid}>${commandCell(a.command, `${node.name} accepted this under ballot b${a.ballot} but has not learned that it was chosen`, `b${a.ballot}?`)}</td>`;
    return `<td class="missing" ${rid} title="${escapeHtml(node.name)} has not applied #${slot} yet"></td>`;
  }
  if (slot < (node.snapshot ?? 0)) return `<td class="compacted" ${rid} title="${escapeHtml(node.name)} applied #${slot}; it is compacted into its snapshot">snapshot</td>`;
  return `<td class="older" ${rid} title="${escapeHtml(node.name)} applied #${slot}; the state lists only its last 16 applied entries">applied</td>`;
}

function commandCell(command, tip, tag) {
  const color = commandColor(command);
  const { client, op } = splitCommand(command);
  return `<span class="cmd" style="background:${color.bg};border-color:${color.line};color:${color.ink}" title="${escapeHtml(`${command} — ${tip}`)}">`
    + `<span class="who">${escapeHtml(client)}</span> ${escapeHtml(op)}${tag ? ` <span class="tag">${escapeHtml(tag)}</span>` : ''}</span>`;
}
