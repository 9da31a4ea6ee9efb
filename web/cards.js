// Node cards: one per node, built once and then updated in place, so clicks survive re-renders.

import { el, escapeHtml } from './dom.js';
import { commitTxItem } from './commit-cards.js';
import { clockExact, clockHtml, clockTitle, diskHtml, diskLabel, faultMenus } from './faults.js';

/**
 * Keeps `container` showing one card per node of `state`.
 * `actions` has `crash(id, loseUnsynced)`, `restart(id)`, `inject(fault, what)` (a clock or disk
 * fault from the menus beside Crash), `selectionChanged()` and `showElection(id)`.
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

  /** `fsyncStops`: nodes a failed fsync stopped, `id → {record, t}`, from the trace. */
  update(state, fsyncStops = new Map()) {
    this.fsyncStops = fsyncStops;
    const key = state.nodes.map(n => `${n.id}:${n.name}:${n.role}`).join(',');
    if (key !== this.key) this.rebuild(state.nodes, key);
    const groupOf = partitionGroups(state.partition);
    const names = new Map(state.nodes.map(n => [n.id, n.name]));
    this.scrollLater = [];
    // When each node last won an election (Multi-Paxos only).
    const elected = new Map();
    for (const l of state.protocol?.leaders ?? []) elected.set(l.node, l);
    this.elected = elected;
    this.vipHolders = state.nodes.filter(n => n.up && n.vrrp && n.vrrp.vip).length;
    for (const node of state.nodes) this.updateCard(this.cards.get(node.id), node, state.now, groupOf.get(node.id), names);
    for (const log of this.scrollLater) log.scrollTop = log.scrollHeight;
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
        (c.roleTag = el('span', { class: 'role' }, node.role)),
        (c.group = el('span', { class: 'group-tag', hidden: '' })),
        (c.badge = el('span', { class: 'badge' })),
      );
      c.crash = el('button', { type: 'button', class: 'danger', 'data-testid': `crash-${node.id}`, 'aria-label': `Crash ${node.name}`, title: 'Crash: volatile state is lost, the durable log is kept' }, 'Crash');
      c.power = el('button', { type: 'button', class: 'ghost', 'data-testid': `power-loss-${node.id}`, 'aria-label': `Power loss at ${node.name}`, title: 'Power loss: crash and also lose log writes that were not forced to disk' }, 'Power loss');
      c.restart = el('button', { type: 'button', class: 'primary', 'data-testid': `restart-${node.id}`, 'aria-label': `Restart ${node.name}`, title: 'Restart: recover from the durable log' }, 'Restart');
      c.crash.addEventListener('click', () => this.actions.crash(node.id, false));
      c.power.addEventListener('click', () => this.actions.crash(node.id, true));
      c.restart.addEventListener('click', () => this.actions.restart(node.id));
      c.log = el('ol', { class: 'log', tabindex: '0', 'aria-label': `${node.name}'s durable log` });
      // The local clock and the disk: lines that appear only when something is off.
      c.refused = el('div', { class: 'refused-line', role: 'status', 'data-testid': `refused-${node.id}`, hidden: '' });
      c.clock = el('div', { class: 'env-line clock-line', 'data-testid': `clock-${node.id}`, hidden: '' });
      c.disk = el('div', { class: 'env-line disk-line', 'data-testid': `disk-${node.id}`, hidden: '' });
      c.stopped = el('div', { class: 'refused-line stopped-line', role: 'status', 'data-testid': `stopped-${node.id}`, hidden: '' });
      c.env = el('div', { class: 'env' }, c.refused, c.stopped, c.clock, c.disk);
      const menus = faultMenus(node.id, node.name, (fault, what) => this.actions.inject(fault, what));
      c.clockMenu = menus.clock;
      c.diskMenu = menus.disk;
      c.menus = el('div', { class: 'fault-menus' }, c.clockMenu, c.diskMenu);
      c.paxos = node.role === 'replica';
      c.vrrp = node.role === 'router' || node.role === 'witness';
      if (c.vrrp) {
        c.root.classList.add('vrrp');
        c.roleTag.textContent = '';
        head.insertBefore((c.roleBadge = el('span', { class: 'role-badge' })), c.roleTag);
        head.insertBefore((c.vip = el('span', { class: 'vip-badge', hidden: '', 'data-testid': `vip-${node.id}` }, 'VIP')), c.roleTag);
        c.body = el('div', { class: 'vrrp-body' });
        c.power.hidden = true;
        c.root.append(head, c.env, c.body, el('footer', { class: 'card-foot' }, c.crash, c.restart, c.menus));
      } else if (c.paxos) {
        c.root.classList.add('paxos');
        c.roleTag.textContent = '';
        head.insertBefore((c.roleBadge = el('span', { class: 'role-badge', hidden: '' })), c.roleTag);
        c.body = el('div', { class: 'paxos-body' });
        c.body.addEventListener('click', e => {
          if (e.target.closest('[data-elected]')) this.actions.showElection(node.id);
        });
        c.logLabel = el('div', { class: 'section-label' }, 'durable log');
        c.root.append(head, c.env, c.body, c.logLabel, c.log, el('footer', { class: 'card-foot' }, c.crash, c.power, c.restart, c.menus));
      } else {
        c.doubt = el('div', { class: 'doubt-line', hidden: '' });
        c.txs = el('ul', { class: 'txs' });
        c.inDoubtMs = el('div', { class: 'doubt-ms' });
        c.logLabel = el('div', { class: 'section-label' }, 'durable log');
        c.root.append(
          head,
          c.env,
          c.doubt,
          el('div', { class: 'section-label' }, 'transactions'),
          c.txs,
          c.logLabel,
          c.log,
          c.inDoubtMs,
          el('footer', { class: 'card-foot' }, c.crash, c.power, c.restart, c.menus),
        );
      }
      c.last = {};
      this.cards.set(node.id, c);
      this.container.append(c.root);
    }
  }

  updateCard(c, node, now, group, names) {
    set(c, 'up', node.up, () => {
      c.root.dataset.up = String(node.up);
      c.root.classList.toggle('down', !node.up);
      c.badge.textContent = node.up ? 'up' : 'down';
      c.badge.className = `badge ${node.up ? 'up' : 'down'}`;
      c.crash.hidden = !node.up;
      c.power.hidden = !node.up;
      c.restart.hidden = node.up;
    });
    set(c, 'group', group ?? '', () => {
      c.group.hidden = group === undefined;
      c.group.textContent = group === undefined ? '' : `side ${group}`;
      c.group.title = 'Partition side: nodes on different sides cannot talk';
    });
    this.updateEnv(c, node, now);
    if (c.vrrp) {
      this.updateVrrp(c, node, now, names);
      return;
    }
    if (c.paxos) this.updatePaxos(c, node, names);
    else this.updateTwoPhase(c, node, now, names);
    const firstUnsynced = node.log.length - (node.unsynced ?? 0);
    // A replica's log grows with every slot; the card shows its tail, which needs no scrolling.
    const shown = c.paxos ? Math.max(0, node.log.length - 4) : 0;
    const logHtml = node.log.length
      ? (shown ? `<li class="more">… ${shown} earlier record${shown === 1 ? '' : 's'}</li>` : '') + node.log.slice(shown).map((l, k) => (k + shown >= firstUnsynced
        ? `<li class="unsynced" title="A lazy write not yet synced to disk: a power loss would lose it">${escapeHtml(l)}</li>`
        : `<li>${escapeHtml(l)}</li>`)).join('')
      : '<li class="none">empty</li>';
    if (c.paxos) {
      const unsynced = node.unsynced ?? 0;
      const label = diskLabel(node.disk) ?? `durable log (${node.log.length})${unsynced ? ` · ${unsynced} unsynced` : ''}`;
      set(c, 'logLabel', label, () => { c.logLabel.textContent = label; });
    } else {
      const label = diskLabel(node.disk) ?? 'durable log';
      set(c, 'logLabel', label, () => { c.logLabel.textContent = label; });
    }
    set(c, 'log', logHtml, () => {
      c.log.innerHTML = logHtml;
      // Scrolling reads the layout, so it is done once for all cards, after every card is written.
      if (!c.paxos) this.scrollLater.push(c.log);
    });
  }

  /** The clock line, the disk line, a refused recovery, and the disk menu where there is a disk. */
  updateEnv(c, node, now) {
    const clock = node.clock;
    const skewed = !clockExact(clock);
    const clockLine = clockHtml(clock);
    set(c, 'clock', clockLine, () => {
      c.clock.hidden = !skewed;
      c.clock.innerHTML = clockLine;
      c.root.dataset.clock = skewed ? 'skewed' : 'exact';
      if (clock) {
        c.clock.dataset.offset = String(clock.offset_ms);
        c.clock.dataset.drift = String(clock.drift_ppm);
      }
    });
    // The reading moves with time; the tooltip follows it without rewriting the line.
    const title = skewed ? clockTitle(clock, now) : '';
    if (c.clock.title !== title) c.clock.title = title;
    const disk = node.disk;
    set(c, 'hasDisk', Boolean(disk), () => {
      // VRRP keeps nothing on disk (a restarted lease acceptor stays silent instead).
      c.diskMenu.hidden = !disk || c.vrrp;
      if (disk) c.root.dataset.disk = '';
      else delete c.root.dataset.disk;
    });
    const diskLine = diskHtml(disk);
    set(c, 'disk', diskLine, () => {
      c.disk.hidden = !diskLine;
      c.disk.innerHTML = diskLine;
      c.disk.classList.toggle('bad', Boolean(disk && disk.damaged > 0));
      if (disk) {
        c.disk.dataset.damaged = String(disk.damaged ?? 0);
        c.disk.dataset.armed = Object.entries(disk.armed ?? {}).filter(([, k]) => k > 0).map(([f]) => f).join(' ');
      }
    });
    const stop = !node.up && this.fsyncStops.get(node.id);
    const stopped = stop ? `Stopped at ${stop.t} ms: the fsync of record ${stop.record} failed (EIO). It is never retried (as after PostgreSQL's fsyncgate); Restart recovers from what was synced.` : '';
    set(c, 'stopped', stopped, () => {
      c.stopped.hidden = !stopped;
      c.stopped.textContent = stopped;
    });
    const refused = disk && disk.refused ? String(disk.refused) : '';
    set(c, 'refused', refused, () => {
      c.refused.hidden = !refused;
      c.refused.textContent = refused ? `Refused to recover: ${refused}` : '';
      c.root.classList.toggle('refused', Boolean(refused));
      if (refused) c.root.dataset.refused = 'true';
      else delete c.root.dataset.refused;
    });
  }

  updateVrrp(c, node, now, names) {
    const v = node.up ? node.vrrp : undefined;
    const state = v ? v.state : '';
    const split = Boolean(v && v.vip && this.vipHolders > 1);
    set(c, 'vrrp', JSON.stringify([state, v?.vip, split]), () => {
      c.root.dataset.state = state;
      c.roleBadge.hidden = !state;
      c.roleBadge.textContent = state.toUpperCase();
      c.roleBadge.className = `role-badge ${state}`;
      c.roleBadge.title = {
        master: 'Master: answers for the virtual IP and advertises every interval',
        backup: 'Backup: listens to the master and takes over when its advertisements stop for the master-down interval',
        witness: 'Witness: a lease acceptor that never routes',
        initialize: 'Shut down',
      }[state] ?? '';
      c.vip.hidden = !(v && v.vip);
      c.vip.className = `vip-badge${split ? ' split' : ''}`;
      c.vip.title = split ? 'Another router holds the virtual IP too: split brain' : 'Holds the virtual IP';
      c.root.classList.toggle('leader', Boolean(v && v.vip));
    });
    const name = id => names.get(id) ?? `n${id}`;
    const lines = [];
    if (!v) {
      lines.push('<div class="none">down: a restarted router starts as a backup; a restarted acceptor stays silent for one lease</div>');
    } else {
      if (!v.witness) lines.push(`<div>priority <b>${v.priority}</b>${v.owner ? ' (address owner)' : ''}</div>`);
      if (v.state === 'backup') {
        lines.push(`<div>master: ${v.master === null || v.master === undefined ? '<span class="muted">none heard</span>' : escapeHtml(name(v.master))}</div>`);
        if (v.master_down_at_ms !== null && v.master_down_at_ms !== undefined) {
          lines.push(`<div class="muted">takes over in ${Math.max(0, v.master_down_at_ms - now)} ms unless the master advertises</div>`);
        }
      }
      if (v.lease_until_ms !== null && v.lease_until_ms !== undefined) lines.push(`<div>lease until ${v.lease_until_ms} ms</div>`);
      if (v.granted) lines.push(`<div class="muted">granted a lease to ${escapeHtml(name(v.granted.holder))} until ${v.granted.until_ms} ms</div>`);
    }
    const html = lines.join('');
    set(c, 'body', html, () => { c.body.innerHTML = html; });
  }

  updateTwoPhase(c, node, now, names) {
    set(c, 'commitRole', node.role, () => { c.root.dataset.role = node.role; });
    const inDoubt = node.in_doubt_now ?? 0;
    set(c, 'inDoubt', inDoubt, () => {
      c.root.dataset.inDoubt = String(inDoubt);
      c.root.classList.toggle('in-doubt', inDoubt > 0);
      c.doubt.hidden = inDoubt === 0;
      c.doubt.textContent = `in doubt: ${inDoubt} transaction${inDoubt === 1 ? '' : 's'} blocked`;
    });
    const ms = Math.round(node.in_doubt_ms ?? 0);
    set(c, 'ms', ms, () => {
      c.inDoubtMs.textContent = ms ? `in doubt ${ms} ms in total` : '';
    });
    const txsHtml = node.txs.length ? node.txs.map(tx => commitTxItem(tx, now, names) ?? txItem(tx, now)).join('') : '<li class="none">none</li>';
    set(c, 'txs', txsHtml, () => { c.txs.innerHTML = txsHtml; });
  }

  updatePaxos(c, node, names) {
    const role = node.up ? node.paxos_role ?? '' : '';
    set(c, 'role', role, () => {
      if (role) c.root.dataset.role = role;
      else delete c.root.dataset.role;
      c.root.classList.toggle('leader', role === 'leader');
      c.root.classList.toggle('candidate', role === 'candidate');
      c.roleBadge.hidden = !role;
      c.roleBadge.textContent = role === 'leader' ? 'LEADER' : role;
      c.roleBadge.className = `role-badge ${role}`;
      c.roleBadge.title = {
        leader: 'Leader: its ballot won a majority of promises, so it proposes commands for new slots',
        candidate: 'Candidate: it sent prepare with its own ballot and is collecting promises',
        follower: 'Follower: it answers the leader it believes in and accepts its proposals',
      }[role] ?? '';
    });
    const html = node.up ? paxosBody(node, names, role === 'leader' ? this.elected.get(node.id) : undefined) : '<div class="none">down: promises, accepted values and the key-value store are gone from memory; the durable log below is what a restart recovers from</div>';
    set(c, 'body', html, () => { c.body.innerHTML = html; });
  }
}

function paxosBody(node, names, elected) {
  const ballot = b => (b === null || b === undefined ? '<span class="none">none</span>' : `<span class="ballot">b${escapeHtml(b)}</span>`);
  const leader = node.leader === null || node.leader === undefined ? '<span class="none">unknown</span>'
    : node.leader === node.id ? '<b>itself</b>' : `<b>${escapeHtml(names.get(node.leader) ?? `n${node.leader}`)}</b>`;
  const facts = [
    `<dt title="The highest ballot it promised: it rejects prepare and accept messages with a lower one">promised</dt><dd>${ballot(node.promised)}</dd>`,
    node.ballot ? `<dt title="Its own ballot, as candidate or leader">own ballot</dt><dd>${ballot(node.ballot)}</dd>` : '',
    `<dt title="The leader this replica currently believes in">leader</dt><dd>${leader}</dd>`,
    elected ? `<dt title="When this replica won its election">elected</dt><dd><button type="button" class="link" data-testid="show-election-${node.id}" data-elected="${node.id}" title="Show the election in the diagram and the log">at ${escapeHtml(elected.time)} ms</button></dd>` : '',
    `<dt title="Slots below this are applied to its key-value store">applied</dt><dd>${node.next_apply > 0 ? `up to <b>#${node.next_apply - 1}</b>` : '<span class="none">nothing yet</span>'}</dd>`,
    node.snapshot > 0 ? `<dt title="Slots below this are compacted into a snapshot">snapshot</dt><dd>below #${escapeHtml(node.snapshot)}</dd>` : '',
  ].join('');
  const accepted = (node.accepted ?? []).slice(0, 4);
  const acceptedHtml = accepted.length
    ? accepted.map(a => `<li class="${a.slot < node.next_apply ? 'applied' : 'pending'}" title="accepted under ballot b${escapeHtml(a.ballot)}${a.slot < node.next_apply ? ', since chosen and applied' : ', not known to be chosen yet'}"><span class="slot">#${escapeHtml(a.slot)}</span><span class="ballot">b${escapeHtml(a.ballot)}</span><span class="cmd">${escapeHtml(a.command)}</span></li>`).join('')
    : '<li class="none">none</li>';
  const kv = (node.kv ?? []).map(([k, v]) => `<span class="kv-pair"><span class="k">k${escapeHtml(k)}</span>=${escapeHtml(v)}</span>`).join('');
  return `<dl class="facts">${facts}</dl>`
    + `<div class="section-label">latest accepted</div><ul class="accepted">${acceptedHtml}</ul>`
    + `<div class="section-label">key-value store</div><div class="kv">${kv || '<span class="none">empty</span>'}</div>`;
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
