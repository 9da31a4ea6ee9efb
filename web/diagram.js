// The space-time diagram: one horizontal lane per node, time to the right, messages as arrows.
// It is redrawn as an SVG string when the trace changes; only the "now" line moves in between.

import { escapeHtml } from './dom.js';
import { diskEventLabel, diskLevel, rateText, signedMs } from './faults.js';

const LANE_H = 58;
const TOP = 34;
const BOTTOM = 18;
const PAD = 18;
const SAME_INSTANT = 8;

/** Message colours: well-known kinds first, any other first word gets a palette slot by hash. */
const KNOWN = { prepare: 0, 'vote commit': 1, 'vote abort': 2, commit: 3, abort: 4, query: 5, status: 5, ack: 6 };
/** Multi-Paxos kinds, by first word; "N entries" and "snapshot …" are catch-up answers. */
const KNOWN_PAXOS = { prepare: 0, promise: 7, nack: 2, accept: 5, accepted: 1, commit: 3, heartbeat: 12, catch: 9, entries: 8, snapshot: 8 };
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#047857', '#b91c1c', '#7c3aed', '#64748b', '#0891b2', '#c026d3', '#ea580c', '#4d7c0f', '#9333ea', '#b6bfca'];
const HASHED = 7;
const HASHED_N = 5;

/**
 * `actions` has `dropMessage(id)` and `selectEvent(i)`.
 * `tooltip` is an element the diagram positions and fills on hover.
 */
export class Diagram {
  constructor(root, tooltip, actions) {
    this.root = root;
    this.tooltip = tooltip;
    this.actions = actions;
    this.labels = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.labels.setAttribute('class', 'lane-labels');
    this.scroller = document.createElement('div');
    this.scroller.className = 'diagram-scroll';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('aria-label', 'Space-time diagram; scroll sideways for time');
    root.replaceChildren(this.labels, this.scroller);
    this.key = '';
    this.axis = null;
    this.nowLine = null;
    this.scroller.addEventListener('pointerdown', e => {
      const drop = e.target.closest('[data-drop]');
      if (drop) {
        e.preventDefault();
        this.actions.dropMessage(Number(drop.dataset.drop));
      }
    });
    this.scroller.addEventListener('click', e => {
      const ev = e.target.closest('[data-ev]');
      if (ev && !e.target.closest('[data-drop]')) this.actions.selectEvent(Number(ev.dataset.ev));
    });
    // An in-flight arrow is a button for the keyboard too: Tab to it, Enter or Space drops it.
    this.scroller.addEventListener('keydown', e => {
      const drop = e.target.closest('[data-drop]');
      if (drop && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.actions.dropMessage(Number(drop.dataset.drop));
      }
    });
    this.scroller.addEventListener('mousemove', e => this.hover(e));
    // Only the part of the diagram near the view is drawn; scrolling past it draws the next part.
    this.scroller.addEventListener('scroll', () => {
      const left = this.scroller.scrollLeft;
      if (this.model && this.drawn && (left < this.drawn.from || left + this.scroller.clientWidth > this.drawn.to)) this.render(this.model);
    });
    this.scroller.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
  }

  /**
   * model: {trace, state, clock, axis: 'compressed'|'linear', pxPerMs, highlight, playing, paxos,
   * hidden: null or a function of an event index that is true for events not to draw}
   */
  update(model) {
    this.model = model;
    const { trace, state } = model;
    const key = [trace.length, model.axis, model.pxPerMs, model.highlight, Boolean(model.hidden), state.nodes.map(n => n.up ? 1 : 0).join(''),
      state.in_flight.map(m => m.id).join(','), JSON.stringify(state.partition)].join('|');
    // Also redraw when "now" runs past the drawn width, as it does through a quiet stretch.
    if (key !== this.key || (this.axis && this.axis.xAt(model.clock) > this.width - 40)) {
      this.key = key;
      this.render(model);
    }
    this.setClock(model.clock);
    if (model.playing) this.follow(model.clock);
  }

  render({ trace, state, axis, pxPerMs, highlight, clock, hidden, paxos }) {
    const category = label => categoryOf(label, paxos);
    const isHidden = hidden ?? (() => false);
    const nodes = state.nodes;
    const laneOf = new Map(nodes.map((n, k) => [n.id, k]));
    const nameOf = new Map(nodes.map(n => [n.id, n.name]));
    const y = id => TOP + (laneOf.get(id) ?? 0) * LANE_H + LANE_H / 2;
    const ax = axis === 'linear' ? linearAxis(trace, pxPerMs) : compressedAxis(trace, isHidden);
    this.axis = ax;
    const height = TOP + nodes.length * LANE_H + BOTTOM;
    const lastT = Math.max(clock, ...state.in_flight.map(m => m.deliver_at), trace.length ? trace[trace.length - 1].t : 0);
    const view = this.scroller.clientWidth || 1200;
    const width = Math.max(view - 2, Math.ceil(ax.xAt(lastT) + 80));
    this.width = width;
    const left = Math.min(this.scroller.scrollLeft, Math.max(0, width - view));
    const from = left - view;
    const to = left + 2 * view;
    this.drawn = { from, to };
    const near = (x1, x2) => Math.max(x1, x2) >= from && Math.min(x1, x2) <= to;

    const out = [];
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" class="diagram-svg" role="group" aria-label="Space-time diagram">`);
    out.push(defs());
    out.push(ticks(trace, ax, width, axis, pxPerMs, from, to));

    // Partition bands, under everything else.
    let open = null;
    const bands = [];
    for (const e of trace) {
      if (e.kind === 'partition') {
        if (open) bands.push({ ...open, x2: ax.xOf(e.i) });
        const groups = Array.isArray(e.groups) ? e.groups.map(g => `{${g.map(id => nameOf.get(id) ?? id).join(', ')}}`).join(' | ') : e.label;
        open = { x1: ax.xOf(e.i), label: e.label, groups, i: e.i };
      } else if (e.kind === 'heal' && open) {
        bands.push({ ...open, x2: ax.xOf(e.i) });
        open = null;
      }
    }
    if (open) bands.push({ ...open, x2: Math.max(ax.xAt(clock), open.x1 + 4), open: true });
    for (const b of bands) {
      out.push(`<g class="band" data-tip="${escapeHtml(b.label)}" data-ev="${b.i}"><rect x="${b.x1}" y="${TOP - 6}" width="${b.x2 - b.x1}" height="${nodes.length * LANE_H + 6}" rx="4"/>`
        + `<text x="${b.x1 + 4}" y="${TOP + 4}">✂ ${escapeHtml(b.groups)}</text></g>`);
    }

    // Lanes: solid while up, dashed while down.
    const downFrom = new Map();
    const downSpans = [];
    for (const e of trace) {
      if (e.kind === 'crash') downFrom.set(e.node, ax.xOf(e.i));
      if (e.kind === 'restart' && downFrom.has(e.node)) {
        downSpans.push({ node: e.node, x1: downFrom.get(e.node), x2: ax.xOf(e.i) });
        downFrom.delete(e.node);
      }
    }
    for (const [node, x1] of downFrom) downSpans.push({ node, x1, x2: width });
    for (const n of nodes) {
      out.push(`<line class="lane" x1="0" x2="${width}" y1="${y(n.id)}" y2="${y(n.id)}"/>`);
    }
    // VRRP: a band along the lane of every router while it holds the virtual IP; two bands at
    // once are a split brain.
    for (const v of vipSpans(trace, ax, Math.max(ax.xAt(clock), 0))) {
      if (!near(v.x1, v.x2)) continue;
      const tip = escapeHtml(`${nameOf.get(v.node) ?? v.node} holds the virtual IP${v.split ? ' — and so does another router: split brain' : ''}`);
      out.push(`<g class="vip-band${v.split ? ' split' : ''}" data-testid="vip-band" data-node="${v.node}" data-tip="${tip}"><rect x="${v.x1}" y="${y(v.node) - 9}" width="${Math.max(v.x2 - v.x1, 2)}" height="18" rx="9"/>`
        + `<text x="${v.x1 + 12}" y="${y(v.node) - 12}">VIP</text></g>`);
    }
    // A node whose clock is off (after a clock fault, until one sets it right): a dotted line
    // just under its lane.
    for (const k of skewSpans(trace, ax, Math.max(ax.xAt(clock), 0))) {
      if (!near(k.x1, k.x2)) continue;
      const tip = escapeHtml(`${nameOf.get(k.node) ?? k.node}'s clock is off: ${signedMs(k.offset_ms)} at the fault, ${rateText(k.drift_ppm)}; its timers fire by it`);
      out.push(`<g class="clock-skew" data-testid="clock-skew" data-node="${k.node}" data-tip="${tip}"><line class="hit" x1="${k.x1}" x2="${k.x2}" y1="${y(k.node) + 8}" y2="${y(k.node) + 8}"/>`
        + `<line class="skew" x1="${k.x1}" x2="${k.x2}" y1="${y(k.node) + 8}" y2="${y(k.node) + 8}"/></g>`);
    }
    for (const s of downSpans) {
      out.push(`<line class="lane-down-bg" x1="${s.x1}" x2="${s.x2}" y1="${y(s.node)}" y2="${y(s.node)}"/>`
        + `<line class="lane-down" x1="${s.x1}" x2="${s.x2}" y1="${y(s.node)}" y2="${y(s.node)}"/>`);
    }

    // Messages: each send is drawn when its delivery or drop is in the trace, or from the in-flight list.
    const sendOf = new Map();
    for (const e of trace) if (e.kind === 'send') sendOf.set(e.id, e);
    const marks = [];
    for (const e of trace) {
      const x = ax.xOf(e.i);
      if (isHidden(e.i) && e.i !== highlight) continue;
      if (x < from && e.kind !== 'deliver' && e.kind !== 'drop') continue;
      if (x > to && e.kind !== 'deliver' && e.kind !== 'drop') continue;
      const hl = e.i === highlight ? ' hl' : '';
      const tip = escapeHtml(describe(e, nameOf));
      switch (e.kind) {
        case 'deliver': {
          const s = sendOf.get(e.id);
          const x1 = s ? ax.xOf(s.i) : x;
          if (!near(x1, x)) break;
          const c = category(e.label);
          out.push(`<g class="msg${hl}" data-tip="${tip}" data-ev="${e.i}">`
            + `<line class="hit" x1="${x1}" y1="${y(e.from)}" x2="${x}" y2="${y(e.to)}"/>`
            + `<line class="arrow" stroke="${PALETTE[c]}" marker-end="url(#arrow-${c})" x1="${x1}" y1="${y(e.from)}" x2="${x}" y2="${y(e.to)}"/></g>`);
          break;
        }
        case 'drop': {
          const s = sendOf.get(e.id);
          const x1 = s ? ax.xOf(s.i) : x;
          if (!near(x1, x)) break;
          const y1 = y(e.from);
          const y2 = dropY(y1, y(e.to));
          const c = category(e.label);
          out.push(`<g class="msg dropped${hl}" data-tip="${tip}" data-ev="${e.i}">`
            + `<line class="hit" x1="${x1}" y1="${y1}" x2="${x}" y2="${y2}"/>`
            + `<line class="arrow" stroke="${PALETTE[c]}" x1="${x1}" y1="${y1}" x2="${x}" y2="${y2}"/>`
            + `<text class="cross" x="${x}" y="${y2 + 5}">✗</text></g>`);
          break;
        }
        case 'persist':
          marks.push(`<rect class="persist ${e.durability === 'lazy' ? 'lazy' : 'forced'}${hl}" x="${x - 4}" y="${y(e.node) - 4}" width="8" height="8" data-tip="${tip}" data-ev="${e.i}"/>`);
          break;
        case 'output': {
          const cls = outputClass(e.label);
          const r = cls === 'elected' ? 7.5 : cls === 'applied' || cls === 'accepted' ? 3.5 : cls.startsWith('reply') ? 3 : 5.5;
          marks.push(`<circle class="output ${cls}${hl}" cx="${x}" cy="${y(e.node)}" r="${r}" data-tip="${tip}" data-ev="${e.i}"/>`);
          break;
        }
        case 'timer':
          marks.push(`<g class="timer${hl}" data-tip="${tip}" data-ev="${e.i}"><line x1="${x}" x2="${x}" y1="${y(e.node) - 13}" y2="${y(e.node) - 3}"/><circle cx="${x}" cy="${y(e.node) - 15}" r="3"/></g>`);
          break;
        case 'request':
          marks.push(`<path class="request${hl}" d="M${x} ${y(e.node) - 7}l6 7l-6 7l-6 -7z" data-tip="${tip}" data-ev="${e.i}"/>`);
          break;
        case 'crash': {
          const cy = y(e.node);
          marks.push(`<g class="crash${hl}" data-tip="${tip}" data-ev="${e.i}"><rect class="hitbox" x="${x - 9}" y="${cy - 9}" width="18" height="18"/><path d="M${x - 7} ${cy - 7}L${x + 7} ${cy + 7}M${x + 7} ${cy - 7}L${x - 7} ${cy + 7}"/></g>`);
          break;
        }
        case 'restart': {
          const cy = y(e.node);
          marks.push(`<path class="restart${hl}" d="M${x - 5} ${cy - 7}L${x + 7} ${cy}L${x - 5} ${cy + 7}z" data-tip="${tip}" data-ev="${e.i}"/>`);
          break;
        }
        case 'clock': {
          const cy = y(e.node);
          const label = escapeHtml(`${nameOf.get(e.node) ?? e.node}'s clock: ${clockChange(e, trace)}`);
          marks.push(`<g class="clock-mark${hl}" data-testid="clock-mark" data-node="${e.node}" data-tip="${tip}" data-ev="${e.i}" role="img" aria-label="${label}">`
            + `<circle cx="${x}" cy="${cy}" r="7.5"/><path d="M${x} ${cy - 4.5}V${cy}L${x + 3.5} ${cy + 2}"/>`
            + `<text x="${x}" y="${cy + 21}">${escapeHtml(clockChange(e, trace, true))}</text></g>`);
          break;
        }
        case 'disk': {
          const cy = y(e.node);
          const level = diskLevel(e);
          const label = escapeHtml(diskEventLabel(e));
          marks.push(`<g class="disk-mark ${level}${hl}" data-testid="disk-mark" data-node="${e.node}" data-what="${escapeHtml(e.what ?? '')}" data-tip="${tip}" data-ev="${e.i}" role="img" aria-label="${label}">`
            + `<path d="M${x - 6} ${cy - 5}v10a6 2.5 0 0 0 12 0v-10"/><ellipse cx="${x}" cy="${cy - 5}" rx="6" ry="2.5"/>`
            + `<text x="${x}" y="${cy + 21}">${escapeHtml(DISK_SHORT[e.what] ?? 'disk')}</text></g>`);
          break;
        }
        case 'violation':
          marks.push(`<g class="violation-mark${hl}" id="ev-${e.i}" data-tip="${tip}" data-ev="${e.i}"><line x1="${x}" x2="${x}" y1="${TOP - 10}" y2="${height - BOTTOM + 6}"/><text x="${x}" y="${TOP - 12}">⚠</text></g>`);
          break;
        case 'send': case 'partition': case 'heal':
          break;
        default:
          if (e.node !== undefined) marks.push(`<circle class="other${hl}" cx="${x}" cy="${y(e.node)}" r="3" data-tip="${tip}" data-ev="${e.i}"/>`);
      }
      if (hl && e.kind !== 'violation') marks.push(`<circle class="halo" cx="${x}" cy="${pointY(e, y)}" r="12"/>`);
    }

    // Messages still in the network, to their future delivery: click one to drop it.
    for (const m of state.in_flight) {
      const s = sendOf.get(m.id);
      if (s && isHidden(s.i)) continue;
      const x1 = s ? ax.xOf(s.i) : ax.xAt(m.sent_at);
      const x2 = Math.max(ax.xAt(m.deliver_at), x1 + 6);
      if (!near(x1, x2)) continue;
      const c = category(m.label);
      const tip = escapeHtml(`in flight: ${m.label} (${nameOf.get(m.from) ?? m.from} → ${nameOf.get(m.to) ?? m.to}, sent ${m.sent_at} ms, due ${m.deliver_at} ms). Click to drop it.`);
      const label = escapeHtml(`Drop the in-flight ${m.label} from ${nameOf.get(m.from) ?? m.from} to ${nameOf.get(m.to) ?? m.to}`);
      out.push(`<g class="msg inflight" data-tip="${tip}" data-drop="${m.id}" data-testid="inflight-${m.id}" tabindex="0" role="button" aria-label="${label}">`
        + `<line class="hit" x1="${x1}" y1="${y(m.from)}" x2="${x2}" y2="${y(m.to)}"/>`
        + `<line class="arrow" stroke="${PALETTE[c]}" marker-end="url(#arrow-${c})" x1="${x1}" y1="${y(m.from)}" x2="${x2}" y2="${y(m.to)}"/></g>`);
    }
    out.push(...marks);
    out.push(`<line class="now-line" x1="0" x2="0" y1="${TOP - 14}" y2="${height - 4}"/>`);
    out.push('</svg>');
    this.scroller.innerHTML = out.join('');
    this.nowLine = this.scroller.querySelector('.now-line');

    const labels = [`<rect class="labels-bg" x="0" y="0" width="64" height="${height}"/>`];
    for (const n of nodes) {
      labels.push(`<text class="lane-name${n.up ? '' : ' down'}" x="10" y="${y(n.id) + 5}">${escapeHtml(n.name)}</text>`);
    }
    this.labels.setAttribute('width', '64');
    this.labels.setAttribute('height', String(height));
    this.labels.innerHTML = labels.join('');
  }

  setClock(clock) {
    if (!this.nowLine || !this.axis) return;
    const x = this.axis.xAt(clock);
    this.nowLine.setAttribute('x1', String(x));
    this.nowLine.setAttribute('x2', String(x));
    this.nowX = x;
  }

  /** Keeps the "now" line in view while playing. */
  follow(clock) {
    if (!this.axis) return;
    const x = this.axis.xAt(clock);
    const view = this.scroller.clientWidth;
    if (x > this.scroller.scrollLeft + view - 60 || x < this.scroller.scrollLeft) this.scroller.scrollLeft = Math.max(0, x - view * 0.35);
  }

  /** Scrolls so that event `i` is in the middle of the view. */
  scrollToEvent(i) {
    if (!this.axis) return;
    const x = this.axis.xOf(i);
    if (x === undefined) return;
    this.scroller.scrollTo({ left: Math.max(0, x - this.scroller.clientWidth / 2), behavior: 'smooth' });
  }

  hover(e) {
    const target = e.target.closest('[data-tip]');
    if (!target) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = target.dataset.tip;
    this.tooltip.hidden = false;
    const pad = 14;
    const box = this.tooltip.getBoundingClientRect();
    let left = e.clientX + pad;
    if (left + box.width > window.innerWidth - 8) left = e.clientX - pad - box.width;
    this.tooltip.style.left = `${Math.max(4, left)}px`;
    this.tooltip.style.top = `${e.clientY + pad}px`;
  }
}

/**
 * Time to x by event order: each event gets a column, and gaps between instants grow with log(gap).
 * Hidden events take no column: they sit on the previous shown event's.
 */
function compressedAxis(trace, isHidden) {
  const gap = g => (g <= 0 ? 0 : 10 + 9 * Math.log2(1 + g));
  const xs = new Float64Array(trace.length);
  let x = PAD;
  let prev = null;
  for (let i = 0; i < trace.length; i++) {
    if (isHidden(i)) {
      xs[i] = x;
      continue;
    }
    const t = trace[i].t;
    x += prev === null ? gap(t) : t === prev ? SAME_INSTANT : gap(t - prev);
    prev = t;
    xs[i] = x;
  }
  const xAt = t => {
    // The last event at or before t.
    let lo = 0, hi = trace.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (trace[mid].t <= t) lo = mid + 1; else hi = mid;
    }
    const k = lo - 1;
    const base = k < 0 ? PAD : xs[k];
    const next = k + 1 < trace.length ? xs[k + 1] : Infinity;
    const since = k < 0 ? t : t - trace[k].t;
    return Math.min(base + (since > 0 ? gap(since) : k < 0 ? 0 : 3), next - 3);
  };
  return { xOf: i => xs[i], xAt };
}

function linearAxis(trace, pxPerMs) {
  return { xOf: i => PAD + trace[i].t * pxPerMs, xAt: t => PAD + t * pxPerMs };
}

function ticks(trace, ax, width, axis, pxPerMs, from, to) {
  const out = ['<g class="ticks">'];
  if (axis === 'linear') {
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    const step = steps.find(s => s * pxPerMs >= 64) ?? 10000;
    for (let t = Math.max(0, Math.floor((from - PAD) / pxPerMs / step) * step); PAD + t * pxPerMs < Math.min(width, to); t += step) {
      const x = PAD + t * pxPerMs;
      out.push(`<line x1="${x}" x2="${x}" y1="16" y2="22"/><text x="${x}" y="12">${t}</text>`);
    }
  } else {
    let lastX = -Infinity;
    let lastT = null;
    for (let i = 0; i < trace.length; i++) {
      const t = trace[i].t;
      if (t === lastT) continue;
      lastT = t;
      const x = ax.xOf(i);
      if (x - lastX < 46 || x < from) continue;
      if (x > to) break;
      lastX = x;
      out.push(`<line x1="${x}" x2="${x}" y1="16" y2="22"/><text x="${x}" y="12">${t}</text>`);
    }
  }
  out.push(`<text class="unit" x="${width - 6}" y="12">ms</text></g>`);
  return out.join('');
}

function defs() {
  const markers = PALETTE.map((color, c) => `<marker id="arrow-${c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${color}"/></marker>`);
  return `<defs>${markers.join('')}</defs>`;
}

/**
 * The palette slot for a message label: "vote commit t1" → vote commit, "prepare t1" → prepare;
 * for Multi-Paxos by its first word ("3 entries" counts as "entries").
 */
export function categoryOf(label, paxos) {
  const words = String(label).toLowerCase().split(/\s+/);
  if (paxos) {
    const first = /^\d+$/.test(words[0]) ? 'entries' : words[0];
    if (first in KNOWN_PAXOS) return KNOWN_PAXOS[first];
  } else {
    const two = words.slice(0, 2).join(' ');
    if (two in KNOWN) return KNOWN[two];
    if (words[0] in KNOWN) return KNOWN[words[0]];
  }
  let h = 0;
  for (const ch of words[0]) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return HASHED + (h % HASHED_N);
}

/** The few words under a disk event's marker. */
const DISK_SHORT = {
  armed: 'armed', corrupted: 'corrupt', torn: 'torn', fsync_failed: 'fsync ✗', fsync_lost: 'lied',
  lost_on_power_loss: 'lost', torn_tail_dropped: 'tail dropped', recovery_refused: 'refused',
};

/**
 * What clock event `e` changed, from the node's clock event before it: a jump (`−500 ms`) or a
 * rate (`30 % slow`); `short` for the few characters under the marker.
 */
function clockChange(e, trace, short = false) {
  let before = { offset_ms: 0, drift_ppm: 0 };
  for (let k = e.i - 1; k >= 0; k--) {
    const p = trace[k];
    if (p && p.kind === 'clock' && p.node === e.node) {
      before = p;
      break;
    }
  }
  if (e.drift_ppm !== before.drift_ppm) {
    const rate = rateText(e.drift_ppm);
    return short ? rate.replace(' % ', '% ') : `runs ${rate} from here`;
  }
  const jump = e.offset_ms - before.offset_ms;
  return short ? signedMs(e.offset_ms) : `jumps to ${signedMs(e.offset_ms)} from virtual time${jump && before.drift_ppm === 0 ? ` (by ${signedMs(jump)})` : ''}`;
}

/**
 * When each node's clock was off: from a clock event that leaves it off virtual time to one that
 * sets it right (open spans run to `xNow`).
 */
export function skewSpans(trace, ax, xNow) {
  const spans = [];
  const open = new Map();
  for (const e of trace) {
    if (e.kind !== 'clock') continue;
    const exact = e.offset_ms === 0 && e.drift_ppm === 0;
    const s = open.get(e.node);
    if (s) {
      s.x2 = ax.xOf(e.i);
      open.delete(e.node);
    }
    if (!exact) {
      const next = { node: e.node, x1: ax.xOf(e.i), x2: undefined, offset_ms: e.offset_ms, drift_ppm: e.drift_ppm };
      spans.push(next);
      open.set(e.node, next);
    }
  }
  for (const s of open.values()) s.x2 = Math.max(xNow, s.x1 + 2);
  return spans;
}

/**
 * VRRP: when each router held the virtual IP, from the trace: from its "became master" output to
 * its step-down, stop or crash (open spans run to `xNow`). A span overlapping another is a split.
 */
export function vipSpans(trace, ax, xNow) {
  const spans = [];
  const open = new Map();
  const close = (node, x) => {
    const s = open.get(node);
    if (!s) return;
    s.x2 = x;
    open.delete(node);
  };
  for (const e of trace) {
    const o = e.kind === 'output' ? e.output : undefined;
    if (o && typeof o === 'object' && 'became_master' in o) {
      if (open.has(e.node)) continue;
      const s = { node: e.node, x1: ax.xOf(e.i), x2: undefined, split: open.size > 0 };
      for (const other of open.values()) other.split = true;
      spans.push(s);
      open.set(e.node, s);
    } else if ((o && typeof o === 'object' && 'became_backup' in o) || o === 'stopped' || e.kind === 'crash') {
      close(e.node, ax.xOf(e.i));
    }
  }
  for (const s of open.values()) s.x2 = Math.max(xNow, s.x1 + 2);
  return spans;
}

function outputClass(label) {
  const l = String(label).toLowerCase();
  // VRRP outputs.
  if (l.startsWith('master:')) return 'vip-take';
  if (l.startsWith('backup:')) return 'vip-release';
  // Multi-Paxos outputs, by first word.
  if (l.startsWith('elected')) return 'elected';
  if (l.startsWith('applied')) return 'applied';
  if (l.startsWith('accepted')) return 'accepted';
  if (l.startsWith('reply')) return /not leader/.test(l) ? 'reply redirect' : 'reply';
  const voted = /\bvot/.test(l);
  if (/commit/.test(l)) return voted ? 'voted-commit' : 'commit';
  if (/abort/.test(l)) return voted ? 'voted-abort' : 'abort';
  return 'neutral';
}

/** A dropped message ends just short of its receiver's lane, so one can tell whom it was for. */
function dropY(from, to) {
  if (from === to) return from;
  return to - Math.sign(to - from) * 16;
}

function pointY(e, y) {
  if (e.kind === 'send') return y(e.from);
  if (e.kind === 'deliver') return y(e.to);
  if (e.kind === 'drop') return dropY(y(e.from), y(e.to));
  if (e.node !== undefined) return y(e.node);
  return TOP;
}

/** A one-line description of a trace event for tooltips. */
export function describe(e, nameOf) {
  const name = id => nameOf.get(id) ?? `n${id}`;
  const local = e.local_t !== undefined && e.local_t !== e.t ? ` (${e.node !== undefined ? `${name(e.node)}'s` : 'local'} clock ${e.local_t} ms)` : '';
  const at = `t=${e.t} ms${local} · #${e.i}`;
  switch (e.kind) {
    case 'send': return `${at} · ${name(e.from)} sends ${e.label} to ${name(e.to)}${e.duplicate ? ' (duplicate)' : ''}`;
    case 'deliver': return `${at} · ${e.label}: ${name(e.from)} → ${name(e.to)}`;
    case 'drop': return `${at} · dropped (${e.reason}): ${e.label}, ${name(e.from)} → ${name(e.to)}`;
    case 'persist': return `${at} · ${name(e.node)} writes "${e.label}" to its log (${e.durability})`;
    case 'clock': return `${at} · ${name(e.node)}'s clock is now ${signedMs(e.offset_ms)} from virtual time and runs ${rateText(e.drift_ppm)}`;
    // The label names the node already ("P1 disk: record 2 torn").
    case 'disk': return `${at} · ${diskEventLabel(e)}`;
    case 'crash': return `${at} · ${e.label}${e.lost ? ` (${e.lost} unsynced record${e.lost === 1 ? '' : 's'} lost)` : ''}`;
    default: return `${at} · ${e.node !== undefined ? `${name(e.node)}: ` : ''}${e.label}`;
  }
}
