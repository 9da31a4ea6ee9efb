// Clocks and disks: how a node's local clock and simulated disk read on its card, the "Skew clock"
// and "Disk fault" menus beside Crash, and the words the diagram and the log use for their events.

import { el, escapeHtml } from './dom.js';

/** The "Skew clock" menu: each entry is one injected clock fault (`docs/sim-wasm-api.md`). */
export const CLOCK_ACTIONS = [
  { key: 'back', text: '−500 ms', change: { offset_ms: -500 }, title: 'The clock jumps back 500 ms' },
  { key: 'ahead', text: '+500 ms', change: { offset_ms: 500 }, title: 'The clock jumps ahead 500 ms' },
  { key: 'slow', text: '10 % slow', change: { drift_ppm: -100000 }, title: 'From now on the clock runs 10 % slow (−100 000 ppm)' },
  { key: 'fast', text: '10 % fast', change: { drift_ppm: 100000 }, title: 'From now on the clock runs 10 % fast (+100 000 ppm)' },
  { key: 'true', text: 'true rate', change: { drift_ppm: 0 }, title: 'From now on the clock runs at the true rate again (its offset stays)' },
];

/** The "Disk fault" menu: each entry is one injected disk fault, striking once. */
export const DISK_ACTIONS = [
  { fault: 'torn_write', text: 'Tear next write', title: 'At the next crash, the record being written (or else the newest unsynced one) is left partly written' },
  { fault: 'corrupt', text: 'Corrupt a record', title: 'The newest undamaged record\'s bytes change now (a latent sector error); recovery finds it by its checksum' },
  { fault: 'fsync_error', text: 'Fail next fsync', title: 'The next fsync fails (EIO): the node stops, and the write is never retried' },
  { fault: 'lost_fsync', text: 'Lie on next fsync', title: 'The next fsync reports success but the record never reaches the disk: no protocol survives this' },
];

/** How bad each disk event is: `bad` broke something, `warn` may, `ok` was handled safely. */
const DISK_LEVEL = {
  armed: 'warn', corrupted: 'bad', torn: 'warn', fsync_failed: 'bad', fsync_lost: 'bad',
  lost_on_power_loss: 'bad', torn_tail_dropped: 'ok', recovery_refused: 'bad',
};

/**
 * A disk event's label, its list of corrupted records shortened (a corrupted Paxos log names
 * hundreds): `R2 disk: 209 records corrupted (#0 to #208)`.
 */
export function diskEventLabel(e) {
  const records = e.what === 'corrupted' && Array.isArray(e.records) ? e.records : null;
  if (!records || records.length <= 6) return String(e.label ?? '');
  const head = String(e.label ?? '').split(':')[0];
  return `${head}: ${records.length} records corrupted (#${records[0]} to #${records[records.length - 1]})`;
}

/** How bad disk event `e` is: `bad`, `warn` or `ok`. */
export function diskLevel(e) {
  return DISK_LEVEL[e.what] ?? 'warn';
}

/** Whether a node's clock reads virtual time exactly. */
export function clockExact(clock) {
  return !clock || (clock.offset_ms === 0 && clock.drift_ppm === 0);
}

/** `+500 ms`, `−1 234 ms`. */
export function signedMs(ms) {
  const n = Math.round(Number(ms));
  return `${n < 0 ? '−' : '+'}${Math.abs(n).toLocaleString('en-US').replace(/,/g, ' ')} ms`;
}

/** A rate in words: `30 % slow`, `2 000 ppm fast`, `true rate`. */
export function rateText(ppm) {
  const n = Number(ppm);
  if (!n) return 'true rate';
  const way = n < 0 ? 'slow' : 'fast';
  const a = Math.abs(n);
  if (a >= 10000) return `${+(a / 10000).toFixed(a % 10000 === 0 ? 0 : 1)} % ${way}`;
  return `${a.toLocaleString('en-US').replace(/,/g, ' ')} ppm ${way}`;
}

/** The card's clock line, or '' while the clock reads virtual time exactly (the usual case). */
export function clockHtml(clock) {
  if (clockExact(clock)) return '';
  const parts = [];
  if (clock.offset_ms !== 0) parts.push(`<b>${escapeHtml(signedMs(clock.offset_ms))}</b>`);
  if (clock.drift_ppm !== 0) parts.push(`runs <b>${escapeHtml(rateText(clock.drift_ppm))}</b>`);
  return `<span class="env-tag">clock</span> ${parts.join(' · ')} <span class="muted">reads ${escapeHtml(clock.local_ms)} ms</span>`;
}

/** The card's clock line's tooltip. */
export function clockTitle(clock, now) {
  if (clockExact(clock)) return '';
  const rate = clock.drift_ppm ? `runs ${rateText(clock.drift_ppm)} (${clock.drift_ppm > 0 ? '+' : ''}${clock.drift_ppm} ppm)` : 'runs at the true rate';
  return `Local clock: reads ${clock.local_ms} ms at virtual time ${Math.floor(now)} ms (${signedMs(clock.offset_ms)}) and ${rate}. The node's timers fire by this clock.`;
}

/** Names of armed faults as the menu says them. */
const ARMED_NAME = { torn_write: 'torn write', fsync_error: 'fsync error', lost_fsync: 'lost fsync', corrupt: 'corruption' };

/**
 * The card's disk line: damage and armed faults, or '' when the disk is healthy
 * (the log's label carries records and synced).
 */
export function diskHtml(disk) {
  if (!disk) return '';
  const parts = [];
  if (disk.damaged > 0) parts.push(`<span class="disk-bad">${disk.damaged} damaged record${disk.damaged === 1 ? '' : 's'}</span>`);
  const armed = Object.entries(disk.armed ?? {}).filter(([, k]) => k > 0);
  if (armed.length) parts.push(`armed: ${armed.map(([f, k]) => `${escapeHtml(ARMED_NAME[f] ?? f.replace(/_/g, ' '))}${k > 1 ? ` ×${k}` : ''}`).join(', ')}`);
  if (!parts.length) return '';
  return `<span class="env-tag">disk</span> ${parts.join(' · ')}`;
}

/**
 * `durable log · 3 records`, with `, 1 unsynced` while the last fsync left some out (a short label:
 * it must fit one line of a narrow card), or null without a disk.
 */
export function diskLabel(disk) {
  if (!disk) return null;
  const unsynced = Math.max(0, disk.records - disk.synced);
  return `durable log · ${disk.records} record${disk.records === 1 ? '' : 's'}${unsynced ? `, ${unsynced} unsynced` : ''}`;
}

/**
 * The two menus beside Crash, as `<details>` elements (native: Enter or Space opens them, Tab
 * reaches every entry). `inject(fault)` applies one; `name` is the node's name, `id` its number.
 */
export function faultMenus(id, name, inject) {
  const clock = el('details', { class: 'fault-menu clock-menu' });
  clock.append(
    el('summary', { 'data-testid': `skew-${id}`, title: `Skew ${name}'s clock: a jump, or another rate`, 'aria-label': `Skew clock of ${name}` }, 'Skew clock'),
  );
  const clockItems = el('div', { class: 'fault-items', role: 'group', 'aria-label': `Clock faults for ${name}` });
  for (const a of CLOCK_ACTIONS) {
    const b = el('button', { type: 'button', class: 'ghost', 'data-testid': `skew-${id}-${a.key}`, title: a.title, 'aria-label': `${a.text}: ${a.title.replace(/^The clock|^From now on the clock/, `${name}'s clock`)}` }, a.text);
    b.addEventListener('click', () => inject({ type: 'clock', node: id, ...a.change }, 'skew clock'));
    clockItems.append(b);
  }
  clock.append(clockItems);
  const disk = el('details', { class: 'fault-menu disk-menu', hidden: '' });
  disk.append(el('summary', { 'data-testid': `disk-fault-${id}`, title: `Make ${name}'s disk misbehave`, 'aria-label': `Disk fault at ${name}` }, 'Disk fault'));
  const diskItems = el('div', { class: 'fault-items', role: 'group', 'aria-label': `Disk faults for ${name}` });
  for (const a of DISK_ACTIONS) {
    const b = el('button', { type: 'button', class: 'ghost', 'data-testid': `disk-${id}-${a.fault}`, title: a.title, 'aria-label': `${a.text} at ${name}` }, a.text);
    b.addEventListener('click', () => inject({ type: 'disk', node: id, fault: a.fault, count: 1 }, 'disk fault'));
    diskItems.append(b);
  }
  disk.append(diskItems);
  // Escape closes an open menu and puts the focus back on its summary.
  for (const menu of [clock, disk]) {
    menu.addEventListener('keydown', e => {
      if (e.key !== 'Escape' || !menu.open) return;
      e.preventDefault();
      menu.open = false;
      menu.querySelector('summary').focus();
    });
  }
  return { clock, disk };
}
