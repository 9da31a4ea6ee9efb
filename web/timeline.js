// The client history as a timeline: one lane per client, one bar per operation from invocation to
// response (open-ended while pending). Operations a linearizability violation names are drawn red.

import { escapeHtml } from './dom.js';

const LANE_H = 40;
const TOP = 26;
const BOTTOM = 10;
const PAD = 16;
const BAR_H = 20;
const MIN_W = 5;
const CHAR_W = 6.4;

export class Timeline {
  /** `actions` has `selectEvent(i)`; `tooltip` is the page's shared tooltip element. */
  constructor(root, tooltip, actions) {
    this.root = root;
    this.tooltip = tooltip;
    this.actions = actions;
    this.labels = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.labels.setAttribute('class', 'lane-labels');
    this.scroller = document.createElement('div');
    this.scroller.className = 'timeline-scroll';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('aria-label', 'Client history; scroll sideways for time');
    root.replaceChildren(this.labels, this.scroller);
    this.key = '';
    this.pxPerMs = 8;
    // The view's width, kept by an observer so that no update has to read the layout for it.
    this.viewWidth = 0;
    new ResizeObserver(entries => {
      this.viewWidth = Math.round(entries[0].contentRect.width);
      if (this.model) this.update(this.model);
    }).observe(this.scroller);
    this.scroller.addEventListener('mousemove', e => this.hover(e));
    this.scroller.addEventListener('mouseleave', () => { this.tooltip.hidden = true; });
    this.scroller.addEventListener('click', e => {
      const bar = e.target.closest('[data-ev]');
      if (bar) this.actions.selectEvent(Number(bar.dataset.ev));
    });
    this.scroller.addEventListener('scroll', () => {
      const left = this.scroller.scrollLeft;
      if (this.model && this.drawn && (left < this.drawn.from || left + this.scroller.clientWidth > this.drawn.to)) this.render(this.model);
    });
  }

  setScale(pxPerMs) {
    this.pxPerMs = pxPerMs;
    this.key = '';
    if (this.model) this.update(this.model);
  }

  /** model: {history: ClientHistory, clock, bad: [{client, op, invoke, ...}] , isBad(op), playing} */
  update(model) {
    this.model = model;
    const { history, clock } = model;
    const pending = history.ops.some(o => o.response === null);
    const key = [history.ops.length, history.ops.filter(o => o.response !== null).length, model.badKey, this.pxPerMs,
      pending ? Math.floor(clock) : '', this.viewWidth].join('|');
    if (key !== this.key) {
      this.key = key;
      this.render(model);
    }
    this.setClock(clock);
    if (model.playing) this.follow(clock);
  }

  scale(model) {
    const { history } = model;
    const first = history.ops.length ? history.ops[0].invoke : 0;
    const start = Math.max(0, first - 20);
    const end = Math.max(model.clock, ...history.ops.map(o => o.response ?? 0), start + 1);
    let px = this.pxPerMs;
    const view = Math.max(200, (this.viewWidth || 1000) - 2 * PAD);
    if (px === 0) px = view / Math.max(1, end - start + 10);
    // A very long history would make an unwieldy SVG; cap its width.
    px = Math.min(px, 200_000 / Math.max(1, end - start));
    return { start, end, px, x: t => PAD + (t - start) * px };
  }

  render(model) {
    const { history, clock } = model;
    const clients = [...history.clients].sort((a, b) => a - b);
    const laneOf = new Map(clients.map((c, k) => [c, k]));
    const sc = this.scale(model);
    this.sc = sc;
    const height = TOP + Math.max(1, clients.length) * LANE_H + BOTTOM;
    const view = this.viewWidth || 1000;
    const width = Math.max(view - 2, Math.ceil(sc.x(sc.end) + PAD + 60));
    const left = Math.min(this.scroller.scrollLeft, Math.max(0, width - view));
    const from = left - view;
    const to = left + 2 * view;
    this.drawn = { from, to };
    const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" class="timeline-svg" role="img" aria-label="Client operations over time">`];
    out.push(this.ticks(sc, width, from, to));
    clients.forEach((c, k) => {
      const y = TOP + k * LANE_H + LANE_H / 2;
      out.push(`<line class="lane" x1="0" x2="${width}" y1="${y}" y2="${y}"/>`);
    });
    for (const o of history.ops) {
      const x1 = sc.x(o.invoke);
      const open = o.response === null;
      const x2 = Math.max(open ? sc.x(Math.max(clock, o.invoke)) + 14 : sc.x(o.response), x1 + MIN_W);
      const bad = model.isBad(o);
      if (x2 < from || x1 > to) continue;
      const y = TOP + laneOf.get(o.client) * LANE_H + (LANE_H - BAR_H) / 2;
      const kind = o.op.startsWith('get') ? 'get' : 'put';
      const cls = ['op', kind, open ? 'pending' : '', bad ? 'bad' : ''].filter(Boolean).join(' ');
      const label = `${o.op}${o.result ? ` ${o.result === 'ok' ? '✓' : o.result}` : open ? ' …' : ''}`;
      const tip = `c${o.client} #${o.seq}: ${o.op} · invoked ${o.invoke} ms at R${o.node}`
        + (open ? ' · no response yet' : ` · ${o.result} at ${o.response} ms (${o.response - o.invoke} ms)`)
        + (o.attempts > 1 ? ` · ${o.attempts} attempts` : '')
        + (bad ? ' · part of the linearizability violation: no order of these operations explains the results' : '');
      out.push(`<g class="${cls}" data-testid="op-bar" data-client="${o.client}" data-seq="${o.seq}"${bad ? ' data-bad="true"' : ''} data-tip="${escapeHtml(tip)}" data-ev="${o.replyEvent ?? o.event}">`
        + `<rect x="${x1}" y="${y}" width="${x2 - x1}" height="${BAR_H}" rx="4"/>`);
      const room = x2 - x1 - 8;
      if (room >= CHAR_W * 3) {
        const text = label.length * CHAR_W <= room ? label : o.op.length * CHAR_W <= room ? o.op : `${o.op.slice(0, Math.max(1, Math.floor(room / CHAR_W) - 1))}…`;
        out.push(`<text x="${x1 + 5}" y="${y + BAR_H / 2 + 4}">${escapeHtml(text)}</text>`);
      }
      out.push('</g>');
    }
    out.push(`<line class="now-line" x1="0" x2="0" y1="${TOP - 8}" y2="${height - 4}"/>`);
    out.push('</svg>');
    this.scroller.innerHTML = out.join('');
    this.nowLine = this.scroller.querySelector('.now-line');
    const labels = [`<rect class="labels-bg" x="0" y="0" width="64" height="${height}"/>`];
    clients.forEach((c, k) => {
      labels.push(`<text class="lane-name" x="12" y="${TOP + k * LANE_H + LANE_H / 2 + 5}">c${c}</text>`);
    });
    if (!clients.length) labels.push(`<text class="lane-empty" x="12" y="${TOP + LANE_H / 2 + 5}">—</text>`);
    this.labels.setAttribute('width', '64');
    this.labels.setAttribute('height', String(height));
    this.labels.innerHTML = labels.join('');
  }

  ticks(sc, width, from, to) {
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    const step = steps.find(s => s * sc.px >= 70) ?? 10000;
    const out = ['<g class="ticks">'];
    for (let t = Math.ceil(sc.start / step) * step; sc.x(t) < Math.min(width, to); t += step) {
      const x = sc.x(t);
      if (x < from) continue;
      out.push(`<line x1="${x}" x2="${x}" y1="14" y2="20"/><text x="${x}" y="11">${t}</text>`);
    }
    out.push(`<text class="unit" x="${width - 6}" y="11">ms</text></g>`);
    return out.join('');
  }

  setClock(clock) {
    if (!this.nowLine || !this.sc) return;
    const x = this.sc.x(Math.max(clock, this.sc.start));
    this.nowLine.setAttribute('x1', String(x));
    this.nowLine.setAttribute('x2', String(x));
  }

  follow(clock) {
    if (!this.sc) return;
    const x = this.sc.x(clock);
    const view = this.scroller.clientWidth;
    if (x > this.scroller.scrollLeft + view - 60 || x < this.scroller.scrollLeft) this.scroller.scrollLeft = Math.max(0, x - view * 0.6);
  }

  /** The largest scale, in px/ms, at which time span [t1, t2] fits the view. */
  widthFor(t1, t2) {
    const view = (this.scroller.clientWidth || 1000) - 120;
    return view / Math.max(1, t2 - t1);
  }

  /** Scrolls so that time span [t1, t2] is in view, centred. */
  scrollToSpan(t1, t2) {
    if (!this.sc) return;
    const x1 = this.sc.x(t1);
    const x2 = this.sc.x(t2);
    const view = this.scroller.clientWidth;
    // Centre the span if it fits, else start the view just before it.
    this.scroller.scrollLeft = Math.max(0, x2 - x1 < view - 80 ? (x1 + x2) / 2 - view / 2 : x1 - 40);
    if (this.model) this.render(this.model);
    this.setClock(this.model ? this.model.clock : 0);
  }

  /** Scrolls time `t` into the middle of the view, unless it is in view already. */
  reveal(t) {
    if (!this.sc) return;
    const x = this.sc.x(t);
    const left = this.scroller.scrollLeft;
    if (x < left + 20 || x > left + this.scroller.clientWidth - 20) this.scrollToSpan(t, t);
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
