// Node cards: one per node, built once and then updated in place, so clicks survive re-renders.

import { el, escapeHtml } from './dom.js';

/**
 * Keeps `container` showing one card per node of `state`.
 * `actions` has `crash(id, loseUnsynced)`, `restart(id)` and `selectionChanged()`.
 */
export class Cards {
  constructor(container, actions) {
    this.container = container;
    this.actions = actions;
    this.cards = new Map();
    this.key = '';
  }

  /** Ids of nodes whose "select" checkbox is ticked. */
  selected() {
    return [...this.cards.entries()].filter(([, c]) => c.select.checked).map(([id]) => id);
  }

  clearSelection() {
    for (const c of this.cards.values()) c.select.checked = false;
  }

  update(state) {
    const key = state.nodes.map(n => `${n.id}:${n.name}:${n.role}`).join(',');
    if (key !== this.key) this.rebuild(state.nodes, key);
    const groupOf = partitionGroups(state.partition);
    for (const node of state.nodes) this.updateCard(this.cards.get(node.id), node, state.now, groupOf.get(node.id));
  }

  rebuild(nodes, key) {
    this.key = key;
    this.cards.clear();
    this.container.replaceChildren();
    for (const node of nodes) {
      const c = {};
      c.root = el('article', { class: 'card', 'data-testid': `node-${node.id}` });
      const head = el('header', { class: 'card-head' });
      c.select = el('input', { type: 'checkbox', 'data-testid': `select-${node.id}`, 'aria-label': `Select ${node.name} for a partition` });
      c.select.addEventListener('change', () => this.actions.selectionChanged());
      head.append(
        el('label', { class: 'select', title: 'Select for a partition' }, c.select),
        el('span', { class: 'name' }, node.name),
        el('span', { class: 'role' }, node.role),
        (c.group = el('span', { class: 'group-tag', hidden: '' })),
        (c.badge = el('span', { class: 'badge' })),
      );
      c.doubt = el('div', { class: 'doubt-line', hidden: '' });
      c.txs = el('ul', { class: 'txs' });
      c.log = el('ol', { class: 'log' });
      c.crash = el('button', { type: 'button', class: 'danger', 'data-testid': `crash-${node.id}`, 'aria-label': `Crash ${node.name}`, title: 'Crash: volatile state is lost, the durable log is kept' }, 'Crash');
      c.power = el('button', { type: 'button', class: 'ghost', 'data-testid': `power-loss-${node.id}`, 'aria-label': `Power loss at ${node.name}`, title: 'Power loss: crash and also lose log writes that were not forced to disk' }, 'Power loss');
      c.restart = el('button', { type: 'button', class: 'primary', 'data-testid': `restart-${node.id}`, 'aria-label': `Restart ${node.name}`, title: 'Restart: recover from the durable log' }, 'Restart');
      c.crash.addEventListener('click', () => this.actions.crash(node.id, false));
      c.power.addEventListener('click', () => this.actions.crash(node.id, true));
      c.restart.addEventListener('click', () => this.actions.restart(node.id));
      c.inDoubtMs = el('div', { class: 'doubt-ms' });
      c.root.append(
        head,
        c.doubt,
        el('div', { class: 'section-label' }, 'transactions'),
        c.txs,
        el('div', { class: 'section-label' }, 'durable log'),
        c.log,
        c.inDoubtMs,
        el('footer', { class: 'card-foot' }, c.crash, c.power, c.restart),
      );
      c.last = {};
      this.cards.set(node.id, c);
      this.container.append(c.root);
    }
  }

  updateCard(c, node, now, group) {
    const inDoubt = node.in_doubt_now ?? 0;
    set(c, 'up', node.up, () => {
      c.root.dataset.up = String(node.up);
      c.root.classList.toggle('down', !node.up);
      c.badge.textContent = node.up ? 'up' : 'down';
      c.badge.className = `badge ${node.up ? 'up' : 'down'}`;
      c.crash.hidden = !node.up;
      c.power.hidden = !node.up;
      c.restart.hidden = node.up;
    });
    set(c, 'inDoubt', inDoubt, () => {
      c.root.dataset.inDoubt = String(inDoubt);
      c.root.classList.toggle('in-doubt', inDoubt > 0);
      c.doubt.hidden = inDoubt === 0;
      c.doubt.textContent = `in doubt: ${inDoubt} transaction${inDoubt === 1 ? '' : 's'} blocked`;
    });
    set(c, 'group', group ?? '', () => {
      c.group.hidden = group === undefined;
      c.group.textContent = group === undefined ? '' : `side ${group}`;
      c.group.title = 'Partition side: nodes on different sides cannot talk';
    });
    const ms = Math.round(node.in_doubt_ms ?? 0);
    set(c, 'ms', ms, () => {
      c.inDoubtMs.textContent = ms ? `in doubt ${ms} ms in total` : '';
    });
    const txsHtml = node.txs.length ? node.txs.map(tx => txItem(tx, now)).join('') : '<li class="none">none</li>';
    set(c, 'txs', txsHtml, () => { c.txs.innerHTML = txsHtml; });
    const firstUnsynced = node.log.length - (node.unsynced ?? 0);
    const logHtml = node.log.length
      ? node.log.map((l, k) => (k >= firstUnsynced
        ? `<li class="unsynced" title="A lazy write not yet synced to disk: a power loss would lose it">${escapeHtml(l)}</li>`
        : `<li>${escapeHtml(l)}</li>`)).join('')
      : '<li class="none">empty</li>';
    set(c, 'log', logHtml, () => {
      c.log.innerHTML = logHtml;
      c.log.scrollTop = c.log.scrollHeight;
    });
  }
}

function set(c, field, value, apply) {
  if (c.last[field] === value) return;
  c.last[field] = value;
  apply();
}

function txItem(tx, now) {
  const name = `<span class="tx-id">t${escapeHtml(tx.tx)}</span>`;
  switch (tx.state) {
    case 'voting':
      return `<li class="tx voting">${name}<span class="pill">voting ${tx.commit_votes}/${tx.participants}</span></li>`;
    case 'in_doubt':
      return `<li class="tx in_doubt">${name}<span class="pill">IN DOUBT</span><span class="since">since ${tx.since} ms (${Math.max(0, Math.round(now - tx.since))} ms)</span></li>`;
    case 'decided':
      return `<li class="tx decided ${escapeHtml(tx.outcome)}">${name}<span class="pill">${tx.outcome === 'commit' ? 'committed' : tx.outcome === 'abort' ? 'aborted' : escapeHtml(tx.outcome)}</span></li>`;
    default:
      return `<li class="tx other">${name}<span class="pill">${escapeHtml(tx.state)}</span></li>`;
  }
}

function partitionGroups(partition) {
  const groupOf = new Map();
  (partition ?? []).forEach((group, k) => group.forEach(id => groupOf.set(id, String.fromCharCode(65 + k))));
  return groupOf;
}
