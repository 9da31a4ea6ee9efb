// What the page says per protocol: the scenario picker's groups and the banner's note for the
// commit family beyond 2PC (Three-Phase Commit and Paxos Commit).

import { el } from './dom.js';

/** The picker's groups, in order; a protocol not listed gets a group of its own at the end. */
const GROUPS = [
  { label: 'Atomic commit: 2PC, 3PC, Paxos Commit', protocols: ['two-phase-commit', 'three-phase-commit', 'paxos-commit'] },
  { label: 'Multi-Paxos', protocols: ['multi-paxos'] },
  { label: 'VRRP', protocols: ['vrrp'] },
];

/** `<optgroup>`s for the gallery `[{name, description, protocol}]`, each in gallery order by protocol. */
export function scenarioGroups(gallery) {
  const groups = GROUPS.map(g => ({ ...g, entries: [] }));
  for (const g of gallery) {
    let group = groups.find(x => x.protocols.includes(g.protocol));
    if (!group) {
      group = { label: g.protocol ?? 'other', protocols: [g.protocol], entries: [] };
      groups.push(group);
    }
    group.entries.push(g);
  }
  return groups.filter(g => g.entries.length).map(g => {
    const order = p => g.protocols.indexOf(p);
    const entries = [...g.entries].sort((a, b) => order(a.protocol) - order(b.protocol));
    return el('optgroup', { label: g.label }, ...entries.map(e => el('option', { value: e.name, title: e.description }, e.name)));
  });
}

/** The banner's note on what a correct protocol promises, and what it costs. */
export const PROTOCOL_PROMISE = {
  'three-phase-commit': 'Three-Phase Commit adds a <i>pre-commit</i> round, so no node is ever in doubt next to a committed one: after a coordinator crash the participants elect a backup (a higher <b>term</b>) and finish on their own, <b>non-blocking under crashes</b>. It assumes a synchronous network: under a partition or a late message each side\'s backup decides alone, and the two sides can decide differently.',
  'paxos-commit': 'Paxos Commit (Gray and Lamport) runs one Paxos instance per participant on <b>2F+1 acceptors</b>; a decision stands once a majority accepted each vote, so a crashed coordinator cannot block the rest and no partition or late message splits the outcome: <b>non-blocking and safe</b>. The price is the acceptors and one more message delay than 2PC.',
};
