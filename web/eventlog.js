// The event log: one row per trace event. A Multi-Paxos run has tens of thousands of events, so only
// the rows near the view are in the DOM; padding above and below stands in for the rest.

import { escapeHtml } from './dom.js';
import { describe } from './diagram.js';
import { diskEventLabel, diskLevel } from './faults.js';

const ROW_H = 22;
const SLACK = 30;

export class EventLog {
  /** `onSelect(i)` is called with the index of a clicked event. */
  constructor(root, onSelect) {
    this.root = root;
    this.rows = [];
    this.hidden = () => false;
    this.highlight = null;
    this.nameOf = new Map();
    this.drawn = null;
    this.stick = true;
    root.addEventListener('scroll', () => {
      this.stick = root.scrollTop + root.clientHeight >= root.scrollHeight - ROW_H;
      this.render();
    });
    root.addEventListener('click', e => {
      const li = e.target.closest('li[data-i]');
      if (li) onSelect(Number(li.dataset.i));
    });
    // With the log focused, the arrow keys select the previous or next event shown.
    root.addEventListener('keydown', e => {
      const delta = { ArrowUp: -1, ArrowDown: 1 }[e.key];
      if (delta === undefined || !this.rows.length || e.metaKey || e.ctrlKey || e.altKey) return;
      e.preventDefault();
      const k = this.highlight === null ? (delta > 0 ? 0 : this.rows.length - 1) : this.rowOf(this.highlight) + delta;
      onSelect(this.rows[Math.min(Math.max(k, 0), this.rows.length - 1)]);
    });
  }

  /** Starts again, empty. */
  reset() {
    this.rows = [];
    this.trace = null;
    this.highlight = null;
    this.stick = true;
    this.drawn = null;
    this.root.replaceChildren();
    this.root.scrollTop = 0;
  }

  /**
   * Shows `trace` minus the events `hidden(i)` is true for. Only events past the last call are new,
   * except that the last shown event is looked at again (whether a timeout was noise is known once
   * the next event is in).
   */
  update(trace, hidden, nameOf) {
    this.nameOf = nameOf;
    if (trace !== this.trace || hidden !== this.hidden) {
      this.trace = trace;
      this.hidden = hidden;
      this.rows = [];
      this.upto = 0;
    }
    if (this.upto === trace.length && !this.dirty) return;
    let from = this.upto;
    // Re-check the last event of the previous batch.
    if (from > 0) {
      from--;
      if (this.rows.length && this.rows[this.rows.length - 1] === from) this.rows.pop();
    }
    for (let i = from; i < trace.length; i++) if (!hidden(i)) this.rows.push(i);
    this.upto = trace.length;
    this.dirty = false;
    this.drawn = null;
    if (this.stick) {
      // Draw the tail first, so that the list is tall enough to scroll to it.
      this.render(Math.max(0, this.rows.length * ROW_H - (this.root.clientHeight || 320)));
      this.root.scrollTop = this.rows.length * ROW_H;
    }
    this.render();
  }

  /** Marks event `i` and scrolls it to the middle. */
  select(i) {
    this.highlight = i;
    const k = this.rowOf(i);
    this.drawn = null;
    const top = Math.max(0, k * ROW_H - (this.root.clientHeight || 320) / 2);
    this.stick = false;
    this.render(top);
    this.root.scrollTop = top;
    this.render();
  }

  /** The row showing event `i`, or the last row before it. */
  rowOf(i) {
    let lo = 0, hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid] <= i) lo = mid + 1; else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  /** Draws the rows near scroll position `top` (by default, the current one). */
  render(top = this.root.scrollTop) {
    if (!this.trace) return;
    const view = this.root.clientHeight || 320;
    const first = Math.max(0, Math.floor(top / ROW_H) - SLACK);
    const last = Math.min(this.rows.length, Math.ceil((top + view) / ROW_H) + SLACK);
    if (this.drawn && this.drawn.first <= first && this.drawn.last >= last && this.drawn.n === this.rows.length) return;
    // Draw a little more than needed, so small scrolls need no redraw.
    const a = Math.max(0, first - SLACK);
    const b = Math.min(this.rows.length, last + SLACK);
    this.drawn = { first: a, last: b, n: this.rows.length };
    const out = [];
    if (a > 0) out.push(`<li class="spacer" aria-hidden="true" style="height:${a * ROW_H}px"></li>`);
    for (let k = a; k < b; k++) out.push(this.row(this.trace[this.rows[k]]));
    if (b < this.rows.length) out.push(`<li class="spacer" aria-hidden="true" style="height:${(this.rows.length - b) * ROW_H}px"></li>`);
    const scrollTop = this.root.scrollTop;
    this.root.innerHTML = out.join('');
    this.root.scrollTop = scrollTop;
  }

  row(e) {
    const nameOf = this.nameOf;
    const who = e.node !== undefined ? nameOf.get(e.node) ?? `n${e.node}`
      : e.from !== undefined ? `${nameOf.get(e.from) ?? e.from}→${nameOf.get(e.to) ?? e.to}` : '';
    const reason = e.kind === 'drop' && e.reason ? `<span class="reason"> ${escapeHtml(String(e.reason).replace(/_/g, ' '))}</span>` : '';
    // After a clock fault, the node's own reading: its timers and leases are in this time.
    const local = e.local_t !== undefined && e.local_t !== e.t ? `<span class="local">local ${escapeHtml(e.local_t)} · </span>` : '';
    const level = e.kind === 'disk' ? ` ${diskLevel(e)}` : '';
    const cls = `ev ${escapeHtml(e.kind)}${level}${e.i === this.highlight ? ' hl' : ''}`;
    return `<li data-i="${e.i}" class="${cls}" title="${escapeHtml(describe(e, nameOf))}"><span class="t">${e.t}</span><span class="who">${escapeHtml(who)}</span>`
      + `<span class="kind">${escapeHtml(e.kind)}</span><span class="label">${local}${escapeHtml(e.kind === 'disk' ? diskEventLabel(e) : e.label ?? '')}${reason}</span></li>`;
  }
}
