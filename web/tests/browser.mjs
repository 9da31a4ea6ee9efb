// Browser test of the underhood page: drives the system Chromium through playwright-core.
// Usage: node browser.mjs BASE_URL [SCREENSHOT_DIR]   (the page must already be served at BASE_URL)
// It never downloads a browser: CHROMIUM names the executable, /usr/bin/chromium by default.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const base = process.argv[2];
const shots = process.argv[3] ?? 'target';
if (!base) {
  console.error('usage: node browser.mjs BASE_URL [SCREENSHOT_DIR]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
/** axe-core, from web/tests/node_modules (npm ci). */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const TOTAL_MS = 120_000;
const watchdog = setTimeout(() => {
  console.error(`browser: gave up after ${TOTAL_MS / 1000} s`);
  console.log(`browser: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, TOTAL_MS);

let passed = 0;
let failed = 0;

const pageErrors = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 15_000,
});

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await open(context, base);

  await check('page loads with the gallery', async () => {
    const names = await page.$$eval('[data-testid="scenario"] option', os => os.map(o => o.value));
    for (const name of ['happy-path', 'coordinator-crash-before-decision', 'announce-before-log']) {
      assert(names.includes(name), `scenario picker lacks ${name}; it has: ${names.join(', ')}`);
    }
    assert(await page.locator('[data-testid="node-0"]').isVisible(), 'no card for node 0');
    await noErrorBox(page);
  });

  await check('coordinator crash before decision leaves participants in doubt', async () => {
    await chooseAndRunToEnd(page, 'coordinator-crash-before-decision');
    const cards = await participantCards(page);
    const inDoubt = [];
    for (const card of cards) {
      const count = Number(await card.getAttribute('data-in-doubt'));
      const text = (await card.innerText()).toLowerCase();
      if (count > 0 && text.includes('in doubt')) inDoubt.push(await card.getAttribute('data-testid'));
    }
    assert(inDoubt.length > 0, 'no participant card has data-in-doubt > 0 with visible "in doubt" text');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-2pc-blocked.png'), fullPage: true });
  });

  await check('crash then restart a participant', async () => {
    const card = page.locator('[data-testid="node-1"]');
    await page.click('[data-testid="crash-1"]');
    await waitAttr(card, 'data-up', 'false');
    assert((await card.innerText()).toLowerCase().includes('down'), 'crashed card does not say "down"');
    await page.click('[data-testid="restart-1"]');
    await waitAttr(card, 'data-up', 'true');
    assert((await card.innerText()).toLowerCase().includes('up'), 'restarted card does not say "up"');
    await noErrorBox(page);
  });

  await check('the URL replays the run', async () => {
    const hash = await page.evaluate(() => location.hash);
    assert(hash.includes('scenario=coordinator-crash-before-decision'), `hash lacks the scenario: ${hash}`);
    assert(hash.includes('faults='), `hash lacks the injected faults: ${hash}`);
    const before = await fingerprint(page);
    const url = new URL(base);
    url.hash = hash;
    const again = await open(context, url.href);
    const after = await fingerprint(again);
    assert(after.hash === before.hash, `trace hash ${after.hash} after reload, ${before.hash} before`);
    assert(after.summary === before.summary, `summary differs after reload:\n${after.summary}\n--- before ---\n${before.summary}`);
    await again.close();
  });

  await check('clicking an in-flight message drops it', async () => {
    await page.selectOption('[data-testid="scenario"]', 'happy-path');
    await page.waitForSelector('body[data-scenario="happy-path"]');
    let arrow = null;
    for (let k = 0; k < 40 && !arrow; k++) {
      await page.click('[data-testid="step"]');
      arrow = await page.$('[data-testid^="inflight-"]');
    }
    assert(arrow, 'no in-flight arrow after 40 steps of happy-path');
    const id = (await arrow.getAttribute('data-testid')).slice('inflight-'.length);
    try {
      await arrow.click({ timeout: 2000 });
    } catch {
      await arrow.dispatchEvent('pointerdown');
    }
    await page.waitForSelector(`[data-testid="inflight-${id}"]`, { state: 'detached', timeout: 3000 });
    const drops = await page.$$eval('[data-testid="event-log"] li.drop', lis => lis.map(li => li.textContent));
    assert(drops.some(t => t.includes('injected')), `no injected drop in the event log: ${drops.join(' | ')}`);
    await noErrorBox(page);
  });

  await check('partition selected nodes, then heal', async () => {
    await page.check('[data-testid="select-0"]');
    await page.check('[data-testid="select-1"]');
    await page.click('[data-testid="partition"]');
    await page.waitForSelector('[data-testid="event-log"] li.partition', { timeout: 3000 });
    assert(await page.isEnabled('[data-testid="heal"]'), 'Heal is not enabled during a partition');
    await page.click('[data-testid="heal"]');
    await page.waitForSelector('[data-testid="event-log"] li.heal', { timeout: 3000 });
    assert(await page.isDisabled('[data-testid="heal"]'), 'Heal is still enabled after healing');
    await noErrorBox(page);
  });

  await check('play advances time and pause stops it', async () => {
    await page.selectOption('[data-testid="scenario"]', 'happy-path');
    await page.waitForSelector('body[data-scenario="happy-path"]');
    await page.click('[data-testid="play"]');
    await page.waitForTimeout(500);
    await page.click('[data-testid="play"]');
    const at = await page.inputValue('[data-testid="scrubber"]');
    assert(Number(at) > 0, `time is still ${at} after playing for half a second`);
    await page.waitForTimeout(300);
    const later = await page.inputValue('[data-testid="scrubber"]');
    assert(later === at, `time moved from ${at} to ${later} while paused`);
    await noErrorBox(page);
  });

  await check('an edited scenario runs and its link replays', async () => {
    const text = await page.inputValue('[data-testid="source"]');
    const scenario = JSON.parse(text);
    if (typeof scenario.duration_ms === 'number') scenario.duration_ms = Math.max(50, Math.floor(scenario.duration_ms / 2));
    await page.click('.source summary');
    await page.fill('[data-testid="source"]', JSON.stringify(scenario, null, 2));
    await page.click('[data-testid="run-source"]');
    await page.waitForSelector('body[data-scenario="edited"]');
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    await noErrorBox(page);
    const before = await fingerprint(page);
    const again = await open(context, page.url());
    const after = await fingerprint(again);
    assert(after.hash === before.hash, `trace hash ${after.hash} after reload, ${before.hash} before`);
    await again.close();
  });

  await check('a broken variant raises the violation banner', async () => {
    await chooseAndRunToEnd(page, 'announce-before-log');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'violation banner not visible');
    assert((await banner.innerText()).trim().length > 0, 'violation banner is empty');
    await page.click('[data-testid="show-violation"]');
    const highlighted = await page.$$eval('[data-testid="event-log"] li.hl', lis => lis.map(li => li.dataset.i));
    assert(highlighted.length === 1, `"Show event" highlighted ${highlighted.length} log entries`);
    await page.waitForTimeout(400);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-violation.png'), fullPage: true });
  });

  await check('Multi-Paxos: one leader, and a chosen log per replica', async () => {
    await chooseAndRunToEnd(page, 'paxos-normal');
    const leaders = await leaderIds(page);
    assert(leaders.length === 1, `${leaders.length} cards have data-role="leader": ${leaders.join(', ')}`);
    const replicas = await page.$$eval('[data-testid^="node-"]', cs => cs.map(c => c.dataset.testid.slice('node-'.length)));
    assert(replicas.length >= 3, `only ${replicas.length} replica cards`);
    for (const id of replicas) {
      const rows = await page.$$eval(`[data-testid="chosen-log"] td.applied[data-replica="${id}"]`, tds => tds.length);
      assert(rows >= 1, `the chosen log has no applied row for replica ${id}`);
    }
    const bars = await page.$$eval('[data-testid="timeline"] [data-testid="op-bar"]', gs => gs.length);
    assert(bars > 0, 'the client history shows no operation');
    const count = () => page.textContent('#log-count');
    assert((await count()).includes('heartbeats hidden'), `heartbeats are not hidden by default: "${await count()}"`);
    await page.uncheck('[data-testid="hide-heartbeats"]');
    assert(!(await count()).includes('hidden'), `unticking "hide heartbeats" still hides some: "${await count()}"`);
    assert(await page.$('[data-testid="event-log"] li[data-i]'), 'the event log is empty with heartbeats shown');
    await page.check('[data-testid="hide-heartbeats"]');
    assert(!(await page.locator('[data-testid="violation-banner"]').isVisible()), 'a correct run shows the violation banner');
    await noErrorBox(page);
  });

  await check('Multi-Paxos: crashing the leader elects another', async () => {
    await page.fill('[data-testid="scrubber"]', '600');
    await page.waitForFunction(() => document.querySelector('[data-testid="time"]').textContent.startsWith('600 '));
    const [old] = await leaderIds(page);
    assert(old !== undefined, 'no leader at 600 ms');
    await page.click(`[data-testid="crash-${old}"]`);
    await waitAttr(page.locator(`[data-testid="node-${old}"]`), 'data-up', 'false');
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    const leaders = await leaderIds(page);
    assert(leaders.length === 1 && leaders[0] !== old, `after crashing R${old} the leaders are [${leaders.join(', ')}]`);
    await page.click(`[data-testid="show-election-${leaders[0]}"]`);
    const picked = await page.$$eval('[data-testid="event-log"] li.hl', lis => lis.map(li => li.textContent));
    assert(picked.length === 1 && picked[0].includes('elected'), `the election link highlighted: ${picked.join(' | ')}`);
    await page.waitForTimeout(600);
    await noErrorBox(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-paxos.png'), fullPage: true });
  });

  await check('Multi-Paxos: stale reads are not linearizable, and the timeline shows which', async () => {
    await chooseAndRunToEnd(page, 'paxos-stale-reads');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'violation banner not visible');
    assert((await banner.innerText()).includes('linearizability'), `the banner does not mention linearizability: ${await banner.innerText()}`);
    const bad = await page.$$eval('[data-testid="timeline"] [data-testid="op-bar"][data-bad="true"]', gs => gs.length);
    assert(bad >= 2, `${bad} timeline bars are highlighted`);
    // The banner lists exactly the operations the violation carries as data, and the timeline
    // marks exactly those: the page reads the structured fields, not the sentence.
    const named = await page.evaluate(async () => {
      const m = await import(new URL('pkg/underhood_sim_wasm.js', document.baseURI).href);
      await m.default();
      const sim = m.Simulation.fromGallery('paxos-stale-reads', '', '[]');
      sim.runToEnd();
      const v = JSON.parse(sim.violations()).find(x => x.invariant === 'linearizability');
      sim.free();
      return v ? v.operations : [];
    });
    assert(named.length >= 2, `the simulator names ${named.length} operations: ${JSON.stringify(named)}`);
    const listed = await banner.locator('[data-testid="violation-op"]').evaluateAll(lis => lis.map(li => ({
      client: Number(li.dataset.client), seq: Number(li.dataset.seq), text: li.textContent,
    })));
    const ids = ops => ops.map(o => `c${o.client}#${o.seq}`).sort().join(' ');
    assert(ids(listed) === ids(named), `the banner lists ${ids(listed)}, the violation names ${ids(named)}`);
    for (const o of named) {
      const li = listed.find(l => l.client === o.client && l.seq === o.seq);
      const want = `c${o.client} #${o.seq} ${o.op}${o.result === null ? '' : ` ${o.result}`} [${o.invoke} ms, ${o.response === null ? 'pending' : `${o.response} ms`}]`;
      assert(li.text === want, `the banner shows "${li.text}" for ${JSON.stringify(o)}`);
    }
    await page.click('[data-testid="show-violation"][data-lin]');
    await page.waitForTimeout(500);
    assert(await page.locator('[data-testid="op-bar"][data-bad="true"]').first().isVisible(), 'a highlighted bar is not visible after "Show operations"');
    const red = await page.$$eval('[data-testid="timeline"] [data-testid="op-bar"][data-bad="true"]', gs => gs.map(g => ({
      client: Number(g.dataset.client), seq: Number(g.dataset.seq),
    })));
    assert(ids(red) === ids(named), `the timeline marks ${ids(red)}, the violation names ${ids(named)}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-paxos-stale-reads.png'), fullPage: true });
  });

  await check('Multi-Paxos: non-unique ballots break agreement', async () => {
    await chooseAndRunToEnd(page, 'paxos-non-unique-ballots');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'violation banner not visible');
    assert((await banner.innerText()).includes('agreement'), `the banner does not mention agreement: ${await banner.innerText()}`);
    await page.click('[data-testid="show-violation"][data-slot]');
    const row = page.locator('[data-testid="chosen-log"] tr.hl');
    await row.waitFor({ timeout: 3000 });
    assert(await row.evaluate(r => r.classList.contains('conflict')), 'the highlighted slot is not marked as a conflict');
    const highlighted = await page.$$eval('[data-testid="event-log"] li.hl', lis => lis.length);
    assert(highlighted === 1, `"Show" highlighted ${highlighted} log entries`);
    await noErrorBox(page);
  });

  await check('VRRP: the VIP is drawn on its holder, and a partition makes two', async () => {
    await chooseAndRunToEnd(page, 'vrrp-split-brain');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'violation banner not visible');
    const text = await banner.innerText();
    assert(text.includes('single-vip-holder') && text.includes('no quorum'), `the banner does not explain the split brain: ${text}`);
    const bands = await page.$$eval('[data-testid="vip-band"]', gs => gs.map(g => ({ node: g.dataset.node, split: g.classList.contains('split') })));
    assert(bands.some(b => b.node === '0' && b.split) && bands.some(b => b.node === '1' && b.split), `no overlapping VIP bands on R1 and R2: ${JSON.stringify(bands)}`);
    // After the heal R2 steps down: only R1 wears the VIP badge.
    assert(await page.locator('[data-testid="vip-0"]').isVisible(), 'R1 has no VIP badge at the end');
    assert(!(await page.locator('[data-testid="vip-1"]').isVisible()), 'R2 still shows the VIP at the end');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-vrrp-split-brain.png'), fullPage: true });
  });

  await check('VRRP lease: the same partition, never two holders', async () => {
    await chooseAndRunToEnd(page, 'vrrp-lease-partition');
    assert(!(await page.locator('[data-testid="violation-banner"]').isVisible()), 'the lease variant raised a violation');
    // R1's span, then R2's after R1's lease ran out, then R1's again after the heal.
    const bands = await allBands(page);
    assert(bands.length >= 2 && bands.every(b => !b.split), `expected VIP spans without a split: ${JSON.stringify(bands)}`);
    assert(bands[0].node === '0' && bands[1].node === '1', `the VIP moved as ${bands.map(b => b.node).join(',')}`);
    assert(await page.locator('[data-testid="vip-0"]').isVisible(), 'R1 does not hold the VIP after the heal');
    assert((await page.locator('[data-testid="node-2"] .role-badge').innerText()).includes('WITNESS'), 'W is not marked as a witness');
  });

  await check('3PC: a partition breaks atomicity, and the cards show Skeen\'s states', async () => {
    const names = await page.$$eval('[data-testid="scenario"] optgroup', gs => gs.map(g => ({ label: g.label, names: [...g.querySelectorAll('option')].map(o => o.value) })));
    const commit = names.find(g => g.names.includes('happy-path'));
    for (const name of ['3pc-happy-path', '3pc-partition', 'pc-happy-path', 'pc-coordinator-crash']) {
      assert(commit && commit.names.includes(name), `${name} is not grouped with 2PC: ${JSON.stringify(names)}`);
    }
    await chooseAndRunToEnd(page, '3pc-partition');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'violation banner not visible');
    const text = await banner.innerText();
    assert(text.includes('atomicity') && text.includes('non-blocking under crashes'), `the banner does not explain the 3PC violation: ${text}`);
    const letters = await page.$$eval('[data-testid^="node-"] li.tpc', lis => lis.map(li => li.dataset.letter));
    assert(letters.includes('c') && letters.includes('a'), `the cards do not show both c and a: ${letters.join(',')}`);
    assert((await page.locator('[data-testid="node-2"]').innerText()).includes('term 2'), 'P2 does not show its termination term');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-3pc-partition.png'), fullPage: true });
  });

  await check('Paxos Commit: acceptor cards show each instance\'s ballots', async () => {
    await chooseAndRunToEnd(page, 'pc-coordinator-crash');
    assert(!(await page.locator('[data-testid="violation-banner"]').isVisible()), 'a correct Paxos Commit run raised a violation');
    const acceptors = await page.$$eval('[data-testid^="node-"][data-role="acceptor"]', cs => cs.map(c => c.querySelector('.name').textContent));
    assert(acceptors.length >= 3, `only ${acceptors.length} acceptor cards: ${acceptors.join(', ')}`);
    const rows = await page.$$eval('[data-testid^="node-"][data-role="acceptor"] [data-testid="instance"]', trs => trs.map(tr => tr.innerText));
    assert(rows.length >= 3 && rows.every(r => /b\d+\.\d+/.test(r) && r.includes('prepared')), `acceptor instances lack ballots: ${rows.join(' | ')}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-paxos-commit.png'), fullPage: true });
  });

  await check('model checker: TLA+ TwoPhase and a scenario counterexample', async () => {
    await page.click('[data-testid="mc-panel"] > summary');
    await page.fill('[data-testid="mc-rms"]', '3');
    await page.uncheck('[data-testid="mc-symmetry"]');
    await page.click('[data-testid="mc-tla-check"]');
    const tla = page.locator('[data-testid="mc-tla-result"]');
    await page.waitForSelector('[data-testid="mc-tla-result"]:not([data-state="checking"])[data-state]', { timeout: 10_000 });
    const tlaText = await tla.innerText();
    assert(/unique states\s+288\b/.test(tlaText), `the TLA+ result lacks 288 unique states: ${tlaText}`);
    assert(tlaText.includes('verdict: ok'), `the TLA+ verdict is not ok: ${tlaText}`);
    assert(tlaText.includes('TLC: 288 ✓'), `the TLA+ result does not match TLC's count: ${tlaText}`);

    await page.selectOption('[data-testid="scenario"]', 'abort-on-timeout');
    await page.waitForSelector('body[data-scenario="abort-on-timeout"]');
    await page.fill('[data-testid="mc-depth"]', '10');
    await page.click('[data-testid="mc-scenario-check"]');
    const result = page.locator('[data-testid="mc-scenario-result"]');
    await page.waitForSelector('[data-testid="mc-scenario-result"]:not([data-state="checking"])[data-state]', { timeout: 30_000 });
    const text = await result.innerText();
    assert(text.includes('violated'), `the scenario check did not find a violation: ${text}`);
    const steps = await result.locator('[data-testid="mc-counterexample"] li').count();
    assert(steps >= 5, `the counterexample has ${steps} steps`);
    assert(await result.locator('li.mc-violation').count() === 1, 'the violation step is not highlighted');
    await noErrorBox(page);
    await page.locator('[data-testid="mc-panel"]').screenshot({ path: join(shots, 'browser-model-checker.png') });
  });

  await check('model checker: the counterexample replays in the space-time diagram', async () => {
    await page.click('[data-testid="mc-show-diagram"]');
    await page.waitForSelector('body[data-scenario="replay"]');
    await noErrorBox(page);
    assert(page.url().includes('replay='), `the link does not carry the replay: ${page.url()}`);
    assert(!(await page.locator('[data-testid="crash-1"]').isVisible()), 'a replay offers fault buttons');
    assert(!(await page.locator('[data-testid="skew-1"]').isVisible()) && !(await page.locator('[data-testid="disk-fault-1"]').isVisible()), 'a replay offers the clock and disk menus');
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'no violation banner after the replay');
    assert((await banner.innerText()).includes('atomicity'), `the banner does not name atomicity: ${await banner.innerText()}`);
    const time = (await page.textContent('#time-out')).trim();
    assert(/^(\d+) \/ \1 ms$/.test(time), `a finished replay should end at its last step, the slider says ${time}`);
    const arrows = await page.locator('#diagram g.msg').count();
    assert(arrows >= 4, `the diagram shows ${arrows} messages for the replay`);
    assert(await page.locator('#diagram .violation-mark').count() === 1, 'the diagram does not mark the violation');
    const log = await page.locator('[data-testid="event-log"]').innerText();
    assert(log.includes('decision timeout'), `the event log lacks the checker's timer step: ${log.slice(0, 400)}`);
    const before = await fingerprint(page);
    const again = await open(context, page.url());
    const after = await fingerprint(again);
    assert(after.hash === before.hash, `the replay link gives trace ${after.hash}, the page ${before.hash}`);
    await again.close();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-replay.png'), fullPage: true });
  });

  await check('model checker: a long check shows its progress and can be cancelled', async () => {
    // forgetful-acceptor needs about 12 million states for its counterexample: at depth 14
    // the worker is still checking long after the first levels are reported.
    await page.selectOption('[data-testid="scenario"]', 'paxos-forgetful-acceptor');
    await page.waitForSelector('body[data-scenario="paxos-forgetful-acceptor"]');
    await page.fill('[data-testid="mc-depth"]', '14');
    await page.click('[data-testid="mc-scenario-check"]');
    const result = page.locator('[data-testid="mc-scenario-result"]');
    // The worker reports each level; wait for a few of them (any level from 4 on: a level
    // can be reported and replaced between two polls).
    // The progress line is waited for too: on a busy machine the text can lag the data
    // attributes by a frame.
    await page.waitForFunction(() => {
      const r = document.querySelector('[data-testid="mc-scenario-result"]');
      const p = r && r.querySelector('[data-testid="mc-progress"]');
      return r && r.dataset.state === 'checking' && Number(r.dataset.depth) >= 4
        && p && /level \d+, [\d,]+ unique states/.test(p.textContent);
    }, null, { timeout: 30_000 });
    const progress = await result.locator('[data-testid="mc-progress"]').innerText();
    assert(/level \d+, [\d,]+ unique states/.test(progress), `no progress line: ${progress}`);
    // The page stays live while the worker checks: stepping the run still works.
    const t0 = Number(await page.evaluate(() => document.querySelector('[data-testid="time"]').textContent.split('/')[0]));
    await page.click('[data-testid="step"]');
    await page.waitForFunction(t => Number(document.querySelector('[data-testid="time"]').textContent.split('/')[0]) > t, t0, { timeout: 5000 });
    await page.click('[data-testid="mc-cancel"]');
    await page.waitForSelector('[data-testid="mc-scenario-result"][data-state="cancelled"]');
    assert((await result.innerText()).includes('Cancelled'), `no cancel note: ${await result.innerText()}`);
    // A new check runs after a cancel.
    await page.fill('[data-testid="mc-depth"]', '6');
    await page.click('[data-testid="mc-scenario-check"]');
    await page.waitForSelector('[data-testid="mc-scenario-result"][data-state="ok"]', { timeout: 30_000 });
    await noErrorBox(page);
  });

  await check('compare view: three diagrams on one axis, the table, and a link that reopens it', async () => {
    // Its own page, so the single-scenario checks above and below never share a page with it.
    const page = await open(context, base);
    await page.click('[data-testid="open-compare"]');
    await page.waitForSelector('body[data-compare]');
    await page.selectOption('[data-testid="compare-select"]', 'compare-partition');
    await page.waitForSelector('body[data-compare="compare-partition"]');
    await noErrorBox(page);
    for (const p of ['two-phase-commit', 'three-phase-commit', 'paxos-commit']) {
      const arrows = await page.locator(`[data-testid="compare-diagram-${p}"] g.msg`).count();
      assert(arrows > 0, `the ${p} diagram shows no message`);
    }
    const widths = await page.$$eval('[data-testid^="compare-diagram-"] svg.diagram-svg', ss => ss.map(s => s.getAttribute('width')));
    assert(widths.length === 3 && widths.every(w => w === widths[0]), `the three diagrams are not on one time axis: widths ${widths.join(', ')}`);
    const atomicity = await page.$$eval('[data-testid="compare-table"] tbody tr', trs => Object.fromEntries(trs.map(tr => [tr.dataset.protocol, tr.querySelector('[data-col="atomicity"]').textContent])));
    assert(atomicity['three-phase-commit'] === 'violated' && atomicity['paxos-commit'] === 'held' && atomicity['two-phase-commit'] === 'held',
      `compare-partition's table says ${JSON.stringify(atomicity)}`);
    const url = page.url();
    assert(url.includes('#compare=compare-partition&seed='), `the link does not name the comparison: ${url}`);
    const table = await page.innerText('[data-testid="compare-table"]');
    const again = await open(context, url);
    await again.waitForSelector('body[data-compare="compare-partition"]');
    assert((await again.innerText('[data-testid="compare-table"]')) === table, 'the link reopens a different comparison table');
    await again.close();
    await page.locator('[data-testid="compare-panel"]').screenshot({ path: join(shots, 'browser-compare.png') });
    await page.click('[data-testid="compare-close"]');
    await page.waitForFunction(() => !document.body.dataset.compare && location.hash.includes('scenario='));
    await page.close();
  });

  await check('open a history: a linearizable one from the file picker, a stale read dropped on the panel and highlighted with what breaks it', () => openHistory(context));

  await check('the invariant line follows the slider: holds at the start, violated since the banner\'s event at the end', () => invariantLine(context));
  await check('accessibility: axe-core finds no serious or critical violation on 2PC, Paxos, VRRP, the model checker, How to use and the compare view', () => accessibility(context));
  await check('keyboard: Tab reaches every control; Enter plays, arrows step and pick events, Enter drops an in-flight message, ? lists the keys', () => keyboardPath(context));
  await check('model checker: a VRRP scenario gets the checker\'s reason instead of Check', () => checkerRefusal(context));
  await check('first screen at 1366x768: the controls and the diagram, the "How to use" panel remembered', () => firstScreenDesktop(browser));
  await check('first screen at 390x844: controls stack, cards and diagram scroll in their panels, nothing overflows', () => firstScreenPhone(browser));

  await check('malformed #… links: a clear message, a working page, no exception', () => malformedLinks(browser));
  await check('clocks: vrrp-lease-clock-drift shows R1\'s drift on its card and a clock mark on its lane, and breaks single-vip-holder; Skew clock from the keyboard changes a card and the link replays it', () => clockFaults(context));
  await check('disks: disk-lost-fsync blames the disk, disk-corrupt-prepared refuses to recover, and a disk fault injected from a card replays from the link', () => diskFaults(context));

  await check('a recorded run (the primary-backup example\'s lazy-backup failure) dropped on the page: violation, diagram, states through time; bad files refused; the exhaustive counterexample shown by its length', () => recordedRun(context));

  await check('no page errors or console errors', async () => {
    assert(pageErrors.length === 0, pageErrors.join('\n'));
  });
} catch (e) {
  failed++;
  console.log(`FAIL - setup: ${e.message}`);
} finally {
  await browser.close();
  clearTimeout(watchdog);
}

console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// ---- helpers ----

async function check(name, f) {
  const started = Date.now();
  try {
    await f();
    passed++;
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: ${e.message}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function open(context, url) {
  const page = await context.newPage();
  page.setDefaultTimeout(5000);
  page.on('pageerror', e => pageErrors.push(`page error at ${url}: ${e.message}`));
  page.on('console', m => {
    if (m.type() === 'error') pageErrors.push(`console error at ${url}: ${m.text()}`);
  });
  await page.goto(url, { timeout: 10_000 });
  await page.waitForSelector('[data-testid="node-0"], [data-testid="error"]:not([hidden])', { timeout: 10_000 }).catch(() => {});
  if (!(await page.$('[data-testid="node-0"]'))) {
    const error = await page.locator('[data-testid="error"] .error-text').innerText().catch(() => '');
    throw new Error(`the page showed no node cards${error ? `; it says: ${error}` : ''}`);
  }
  return page;
}

async function chooseAndRunToEnd(page, scenario) {
  await page.selectOption('[data-testid="scenario"]', scenario);
  await page.waitForSelector(`body[data-scenario="${scenario}"]`);
  await page.click('[data-testid="run-to-end"]');
  await page.waitForSelector('body[data-finished="true"]');
  await noErrorBox(page);
}

/** Every VIP band of the diagram in time order: it draws only what is near the view, so scroll through it. */
async function allBands(page) {
  const seen = new Map();
  const scroller = page.locator('#diagram .diagram-scroll');
  const { width, view } = await scroller.evaluate(s => ({ width: s.scrollWidth, view: s.clientWidth }));
  for (let left = 0; left < width; left += Math.max(100, Math.floor(view / 2))) {
    await scroller.evaluate((s, x) => { s.scrollLeft = x; s.dispatchEvent(new Event('scroll')); }, left);
    await page.waitForTimeout(30);
    const bands = await page.$$eval('[data-testid="vip-band"]', gs => gs.map(g => ({
      node: g.dataset.node, split: g.classList.contains('split'), x: Number(g.querySelector('rect').getAttribute('x')),
    })));
    for (const b of bands) seen.set(`${b.node}@${b.x}`, b);
  }
  return [...seen.values()].sort((a, b) => a.x - b.x);
}

async function leaderIds(page) {
  return page.$$eval('[data-testid^="node-"][data-role="leader"]', cs => cs.map(c => c.dataset.testid.slice('node-'.length)));
}

async function participantCards(page) {
  const cards = await page.locator('[data-testid^="node-"]').all();
  const out = [];
  for (const card of cards) if ((await card.getAttribute('data-testid')) !== 'node-0') out.push(card);
  return out;
}

async function waitAttr(locator, name, value) {
  const deadline = Date.now() + 3000;
  let seen;
  while (Date.now() < deadline) {
    seen = await locator.getAttribute(name);
    if (seen === value) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`${name} is ${seen}, expected ${value}`);
}

async function fingerprint(page) {
  await page.waitForSelector('body[data-finished]');
  await page.waitForFunction(() => document.querySelector('[data-testid="trace-hash"]').textContent.trim() !== '');
  return {
    hash: (await page.textContent('[data-testid="trace-hash"]')).trim(),
    summary: (await page.textContent('[data-testid="summary"]')).trim(),
  };
}

/** Scrolls the diagram from its start until `selector` is drawn; returns the first match or null. */
async function findInDiagram(page, selector) {
  const scroller = page.locator('#diagram .diagram-scroll');
  const { width, view } = await scroller.evaluate(s => ({ width: s.scrollWidth, view: s.clientWidth }));
  for (let left = 0; left < width + view; left += Math.max(100, Math.floor(view / 2))) {
    await scroller.evaluate((s, x) => { s.scrollLeft = x; s.dispatchEvent(new Event('scroll')); }, left);
    await page.waitForTimeout(20);
    const found = await page.$(selector);
    if (found) return found;
  }
  return null;
}

/** Whether this build's gallery has scenario `name`. */
async function inGallery(page, name) {
  return page.$eval('[data-testid="scenario"]', (s, n) => [...s.options].some(o => o.value === n), name);
}

async function noErrorBox(page) {
  const box = page.locator('[data-testid="error"]');
  if (await box.isVisible()) throw new Error(`the page shows an error: ${await box.locator('.error-text').innerText()}`);
}

// ---- "Open a history" (issue 21 item 7) ----

async function openHistory(context) {
  const page = await open(context, base);
  try {
    await page.click('[data-testid="open-history"]');
    await page.waitForSelector('[data-testid="history-panel"]:not([hidden])');
    // A linearizable cas-register history in jepsen.util log lines, through the file picker:
    // process 1's read overlaps the write, a :fail CAS did nothing, an :info CAS may or may not.
    const log = [
      'INFO  jepsen.util - 0\t:invoke\t:write\t1',
      'INFO  jepsen.util - 1\t:invoke\t:read\tnil',
      'INFO  jepsen.util - 1\t:ok\t:read\tnil',
      'INFO  jepsen.util - 0\t:ok\t:write\t1',
      'INFO  jepsen.util - 1\t:invoke\t:cas\t[5 6]',
      'INFO  jepsen.util - 1\t:fail\t:cas\t[5 6]',
      'INFO  jepsen.util - 2\t:invoke\t:cas\t[1 2]',
      'INFO  jepsen.util - 2\t:info\t:cas\t[1 2]\t:timed-out',
      'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
      'INFO  jepsen.util - 0\t:ok\t:read\t2',
      '',
    ].join('\n');
    await page.setInputFiles('[data-testid="history-file"]', { name: 'cas.log', mimeType: 'text/plain', buffer: Buffer.from(log) });
    await page.waitForSelector('[data-testid="history-panel"][data-verdict="linearizable"]');
    await noErrorBox(page);
    const verdict = await page.innerText('[data-testid="history-verdict"]');
    assert(/^Linearizable/.test(verdict) && verdict.includes('5 operations of 3 processes'), `the verdict reads "${verdict}"`);
    const lanes = await page.$$eval('[data-testid="history-diagram"] .lane-label', ts => ts.map(t => t.textContent));
    assert(lanes.join(',') === 'process 0,process 1,process 2', `the lanes are ${lanes.join(', ')}`);
    const kinds = await page.$$eval('[data-testid="history-op"]', gs => gs.map(g => g.getAttribute('class')));
    assert(kinds.length === 5 && kinds.some(k => k.includes('fail')) && kinds.some(k => k.includes('info')), `the operations are drawn as ${kinds.join('; ')}`);
    assert(await page.locator('[data-testid="history-op"].culprit').count() === 0, 'a linearizable history has a highlighted operation');

    // A stale read in EDN, dropped on the panel as a file: the read of 1 after the write of 2
    // completed cannot be placed.
    const edn = `[{:process 0, :type :invoke, :f :write, :value 1}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 1, :type :invoke, :f :write, :value 2}
 {:process 1, :type :ok, :f :write, :value 2}
 {:process 2, :type :invoke, :f :read, :value nil}
 {:process 2, :type :ok, :f :read, :value 1}]`;
    await page.selectOption('[data-testid="history-model"]', 'register');
    const drop = await page.evaluateHandle(text => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'stale.edn', { type: 'text/plain' }));
      return dt;
    }, edn);
    await page.dispatchEvent('[data-testid="history-panel"]', 'dragover', { dataTransfer: drop });
    await page.dispatchEvent('[data-testid="history-panel"]', 'drop', { dataTransfer: drop });
    await page.waitForSelector('[data-testid="history-panel"][data-verdict="not-linearizable"]');
    await noErrorBox(page);
    assert((await page.inputValue('[data-testid="history-text"]')) === edn, 'the dropped file is not in the text box');
    const culprits = await page.$$eval('[data-testid="history-op"].culprit', gs => gs.map(g => Number(g.dataset.op)));
    assert(culprits.length === 1 && culprits[0] === 2, `the highlighted operations are ${JSON.stringify(culprits)}, not the stale read (2)`);
    const linearized = await page.$$eval('[data-testid="history-op"].linearized', gs => gs.map(g => Number(g.dataset.op)));
    assert(linearized.join(',') === '0,1', `the linearized prefix is ${linearized.join(',')}`);
    assert(await page.locator('[data-testid="history-prefix"]').count() === 1, 'the longest linearizable prefix is not drawn');
    // Together: the write of 2 and the stale read, with the write of 1 the read saw.
    const together = await page.$$eval('[data-testid="history-op"].minimal', gs => gs.map(g => Number(g.dataset.op)));
    assert(together.join(',') === '0,1,2', `the operations outlined as breaking it together are ${together.join(',')}`);
    assert((await page.innerText('[data-testid="history-minimal"]')).includes('3 operations'), 'the witness does not say how many operations break it together');
    const witness = await page.innerText('[data-testid="history-witness"]');
    assert(witness.includes('Cannot be placed: process 2: :read nil → :ok 1') && witness.includes('State just before: 2'), `the witness reads "${witness}"`);
    await page.click('[data-testid="history-op"][data-op="1"]');
    const selected = await page.innerText('[data-testid="history-selected"]');
    assert(selected === 'process 1: :write 2 → :ok 2 (line 4), invoked on line 3', `clicking the second write shows "${selected}"`);
    await page.locator('[data-testid="history-panel"]').screenshot({ path: join(shots, 'browser-history.png') });

    // The Example button: a CAS that timed out, then a read of 3 that nothing wrote; the
    // operation that cannot be placed is reachable from the keyboard.
    await page.click('[data-testid="history-example"]');
    await page.waitForSelector('[data-testid="history-panel"][data-verdict="not-linearizable"]');
    const example = await page.$$eval('[data-testid="history-op"].culprit', gs => gs.map(g => g.getAttribute('aria-label')));
    assert(example.length === 1 && example[0].startsWith('process 0: :read nil → :ok 3'), `the example highlights ${JSON.stringify(example)}`);
    const alone = await page.$$eval('[data-testid="history-op"].minimal', gs => gs.map(g => Number(g.dataset.op)));
    assert(alone.join(',') === '4', `a read of a value nothing wrote should break it alone, not ${alone.join(',')}`);
    await page.focus('[data-testid="history-op"].culprit');
    await page.keyboard.press('Enter');
    assert((await page.innerText('[data-testid="history-selected"]')).startsWith('process 0: :read nil → :ok 3'), 'Enter on the highlighted operation does not describe it');

    // Bad input names its line and column, and clears the old verdict.
    await page.fill('[data-testid="history-text"]', '[{:process 0, :type :invoke\n :f "x}');
    await page.click('[data-testid="history-check"]');
    await page.waitForSelector('[data-testid="error"]:not([hidden])');
    const error = await page.innerText('[data-testid="error"]');
    assert(/line 2, column \d+/.test(error), `the error reads "${error}"`);
    assert(!(await page.getAttribute('[data-testid="history-panel"]', 'data-verdict')), 'a verdict is left after bad input');
  } finally {
    await page.close();
  }
}

// ---- recorded runs (issue 23 item 8) ----

/** Drops the committed lazy-backup recording on the page (not on a panel), then moves through
 * it; files that are not recorded runs get a message and leave nothing drawn. */
async function recordedRun(context) {
  const page = await open(context, base);
  try {
    // `examples/primary-backup/tests/recording.rs` keeps this file what the example records.
    const text = readFileSync(new URL('./fixtures/lazy-backup.recorded.json', import.meta.url), 'utf8');
    const drop = await page.evaluateHandle(t => {
      const dt = new DataTransfer();
      dt.items.add(new File([t], 'lazy-backup.recorded.json', { type: 'application/json' }));
      return dt;
    }, text);
    await page.dispatchEvent('[data-testid="diagram"]', 'dragover', { dataTransfer: drop });
    await page.dispatchEvent('[data-testid="diagram"]', 'drop', { dataTransfer: drop });
    await page.waitForSelector('[data-testid="recording-panel"][data-loaded="true"]');
    await noErrorBox(page);
    const banner = await page.innerText('[data-testid="recording-violation"]');
    assert(banner.includes('backup-has-acked-writes violated') && banner.includes('the client saw write 2 acknowledged; the backup holds 0'), `the banner reads "${banner}"`);
    assert(banner.includes('seed 48') && banner.includes('2 of 7 faults'), `the banner lacks the seed or the faults: "${banner}"`);
    const faults = await page.$$eval('[data-testid="recording-faults"] li', ls => ls.map(l => l.textContent));
    assert(faults.length === 2 && faults[0].includes('"crash"') && faults[1].includes('"restart"'), `the shrunk faults are ${JSON.stringify(faults)}`);
    // The whole trace is drawn: three lanes, the messages, the power loss and the violation.
    const lanes = await page.$$eval('[data-testid="recording-diagram"] .lane-name', ts => ts.map(t => t.textContent));
    assert(lanes.join(',') === 'n0,n1,n2', `the lanes are ${lanes.join(', ')}`);
    const arrows = await page.locator('[data-testid="recording-diagram"] .msg').count();
    assert(arrows === 12, `${arrows} message arrows, expected the run's 12 deliveries`);
    assert(await page.locator('[data-testid="recording-diagram"] .crash').count() === 1, 'no crash drawn');
    assert(await page.locator('[data-testid="recording-diagram"] .violation-mark').count() === 1, 'no violation drawn');
    // It opens at the end: the client saw write 2 acknowledged, the backup holds nothing.
    assert(await page.getAttribute('[data-testid="recording-panel"]', 'data-at') === '34', 'the run does not open at its end');
    assert((await page.innerText('[data-testid="recording-state-0"]')).includes('acked: 2'), 'the client card does not show acked: 2');
    assert((await page.innerText('[data-testid="recording-state-2"]')).includes('value: 0'), 'the backup card does not show value: 0');
    // Just before the power loss the backup held write 2, lazily: not synced.
    await page.fill('[data-testid="recording-scrubber"]', '31');
    await page.waitForSelector('[data-testid="recording-panel"][data-at="31"]');
    const before = await page.innerText('[data-testid="recording-node-2"]');
    assert(before.includes('value: 2') && before.toLowerCase().includes('durable log (3, 3 not synced)'), `before the power loss the backup card reads "${before}"`);
    await page.click('[data-testid="recording-next"]');
    await waitAttr(page.locator('[data-testid="recording-node-2"]'), 'data-up', 'false');
    assert((await page.innerText('[data-testid="recording-event"]')).includes('crash n2'), 'the event line does not name the crash');
    await page.click('[data-testid="recording-show-violation"]');
    await page.waitForSelector('[data-testid="recording-panel"][data-at="34"]');
    await page.locator('[data-testid="recording-panel"]').screenshot({ path: join(shots, 'browser-recording.png') });
    const a11y = await axeProblems(page);
    assert(a11y.length === 0, `axe-core on the recorded run: ${a11y.join('; ')}`);
    // The slider is reachable and moves with the keyboard.
    await page.focus('[data-testid="recording-scrubber"]');
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector('[data-testid="recording-panel"][data-at="33"]');

    // Files that are not recorded runs: a message saying why, nothing drawn, no exception.
    const bad = [
      ['notes.txt', 'not json at all', 'not a recorded run'],
      ['newer.json', '{"format": "underhood-recorded-run", "version": 2}', 'version 2 is not supported'],
      ['replay.json', '{"scenario": {}, "seed": 1, "script": []}', 'its format is None'],
      ['wrong-node.json', text.replace('"from": 0,', '"from": 7,'), 'names node 7'],
      ['wrong-fault.json', text.replace('"node": 2,', '"node": 7,'), 'not one the simulator accepts'],
    ];
    for (const [name, content, expected] of bad) {
      await page.setInputFiles('[data-testid="recording-file"]', { name, mimeType: 'application/json', buffer: Buffer.from(content) });
      await page.waitForSelector('[data-testid="recording-error"]:not([hidden])');
      const error = await page.innerText('[data-testid="recording-error"]');
      assert(error.includes(name) && error.includes(expected), `${name}: the error reads "${error}"`);
      assert(!(await page.getAttribute('[data-testid="recording-panel"]', 'data-loaded')), `${name}: a run is still shown`);
    }
    // A good file after bad ones shows again.
    await page.setInputFiles('[data-testid="recording-file"]', { name: 'again.json', mimeType: 'application/json', buffer: Buffer.from(text) });
    await page.waitForSelector('[data-testid="recording-panel"][data-loaded="true"]');
    assert(await page.locator('[data-testid="recording-error"]').isHidden(), 'the error stays after a good file');

    // The exhaustive checker's shortest counterexample (the same example records it): its
    // length instead of a seed and faults, and its power loss drawn as an event.
    const exhaustive = readFileSync(new URL('./fixtures/lazy-backup-exhaustive.recorded.json', import.meta.url), 'utf8');
    await page.setInputFiles('[data-testid="recording-file"]', { name: 'exhaustive.json', mimeType: 'application/json', buffer: Buffer.from(exhaustive) });
    await page.waitForFunction(() => document.querySelector('[data-testid="recording-found-by"]')?.textContent.includes('exhaustive.json'));
    const found = await page.innerText('[data-testid="recording-found-by"]');
    assert(found.includes('found by the exhaustive checker') && found.includes('a shortest path of 7 steps'), `the exhaustive banner reads "${found}"`);
    assert(!found.includes('seed'), `the exhaustive banner names a seed: "${found}"`);
    assert(await page.locator('[data-testid="recording-faults"]').count() === 0, 'an exhaustive counterexample shows a fault list');
    assert(await page.locator('[data-testid="recording-diagram"] .crash').count() === 1, 'the power loss is not drawn');
    assert(await page.locator('[data-testid="recording-diagram"] .violation-mark').count() === 1, 'no violation drawn');
    assert((await page.innerText('[data-testid="recording-state-2"]')).includes('value: 0'), 'the backup card does not show value: 0');
  } finally {
    await page.close();
  }
}

// ---- malformed links (issue 17 item 7) ----

/** Each malformed link opens a working page (node cards drawn) that says what was wrong with
 * the link, and throws nothing. */
async function malformedLinks(browser) {
  const enc = encodeURIComponent;
  const cases = [
    ['#faults=not-json', "the link's faults are not valid JSON"],
    [`#faults=${enc('{}')}`, "the link's faults must be a JSON list"],
    [`#faults=${enc('[1,2]')}&scenario=happy-path`, 'could not replay the link'],
    ['#scenario=no-such-scenario', 'unknown scenario "no-such-scenario"'],
    [`#json=${enc('{"name": "x", broken')}`, 'could not replay the link'],
    [`#json=${enc('{"name":"x","protocol":"two-phase-commit","nodes":3,"duration_ms":0}')}`, 'duration_ms must be greater than 0'],
    ['#replay=garbage&from=happy-path', 'could not replay the link'],
    [`#scenario=happy-path&faults=${enc('[{"type":"crash","node":99,"at_ms":1}]')}`, 'node 99 does not exist'],
    [`#scenario=happy-path&faults=${enc('[{"type":"crash","node":1,"at_ms":999999}]')}`, 'after the run ends'],
    ['#scenario=happy-path&seed=minus-one', 'could not replay the link'],
    ['#%E0%A4%A&&&=&seed', null],
    ['#t=-5&scenario=happy-path', null],
  ];
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  try {
    for (const [hash, says] of cases) {
      const errors = [];
      const page = await context.newPage();
      page.setDefaultTimeout(5000);
      page.on('pageerror', e => errors.push(e.message));
      page.on('console', m => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(base + hash, { timeout: 10_000 });
      await page.waitForSelector('[data-testid="node-0"]', { timeout: 10_000 });
      const box = page.locator('[data-testid="error"]');
      if (says === null) {
        await noErrorBox(page);
      } else {
        await box.waitFor({ state: 'visible', timeout: 3000 }).catch(() => {
          throw new Error(`${hash}: no message (expected one with "${says}")`);
        });
        const text = await box.locator('.error-text').innerText();
        assert(text.includes(says), `${hash}: the page says "${text}", not "${says}"`);
      }
      assert(errors.length === 0, `${hash}: ${errors.join('; ')}`);
      await page.close();
    }
  } finally {
    await context.close();
  }
}

// ---- the first screen (issue 24) ----

/** Where an element starts, in page pixels. */
async function topOf(page, selector) {
  return page.$eval(selector, e => Math.round(e.getBoundingClientRect().top + window.scrollY));
}

async function firstScreenDesktop(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await open(context, base);
    const play = await topOf(page, '[data-testid="play"]');
    const diagram = await topOf(page, '[data-testid="diagram"]');
    assert(play < 300, `Play starts at ${play} px on a first visit at 1366x768`);
    assert(diagram < 768, `the diagram starts at ${diagram} px on a first visit at 1366x768`);
    for (const id of ['scenario', 'play', 'step', 'run-to-end', 'node-0']) {
      const box = await page.locator(`[data-testid="${id}"]`).boundingBox();
      assert(box && box.y >= 0 && box.y + Math.min(box.height, 40) <= 768, `${id} is not on the first screen: ${JSON.stringify(box)}`);
    }
    const howto = page.locator('[data-testid="howto"]');
    assert(!(await howto.evaluate(d => d.open)), 'the "How to use" panel is open on a first visit');
    await howto.locator('summary').click();
    const walkthroughs = await howto.locator('[data-protocols]').count();
    assert(walkthroughs >= 5, `the "How to use" panel has ${walkthroughs} sections`);
    const again = await open(context, base);
    assert(await again.locator('[data-testid="howto"]').evaluate(d => d.open), 'the "How to use" panel did not stay open after a reload');
    await again.locator('[data-testid="howto"] summary').click();
    await again.waitForFunction(() => localStorage.getItem('underhood.intro') === 'closed');
    await again.close();
    const third = await open(context, base);
    assert(!(await third.locator('[data-testid="howto"]').evaluate(d => d.open)), 'the "How to use" panel did not stay closed once closed');
    await third.close();
    await page.screenshot({ path: join(shots, 'browser-first-screen-1366.png') });
  } finally {
    await context.close();
  }
}

async function firstScreenPhone(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  try {
    const page = await open(context, base);
    const play = await topOf(page, '[data-testid="play"]');
    assert(play + 30 < 844, `Play starts at ${play} px at 390x844`);
    await page.screenshot({ path: join(shots, 'browser-first-screen-390.png') });
    for (const scenario of ['happy-path', 'paxos-normal', 'vrrp-split-brain', 'pc-coordinator-crash', 'vrrp-lease-clock-drift']) {
      await chooseAndRunToEnd(page, scenario);
      // A card's fault menu open, as a reader would leave it: it wraps inside the card.
      await page.click('[data-testid="skew-0"]');
      await page.waitForSelector('[data-testid="node-0"] .clock-menu[open]');
      const widths = await page.evaluate(() => {
        const box = s => { const e = document.querySelector(s); return { scroll: e.scrollWidth, client: e.clientWidth, overflow: getComputedStyle(e).overflowX }; };
        return { page: box('html'), cards: box('#cards'), diagram: box('#diagram .diagram-scroll') };
      });
      assert(widths.page.scroll <= widths.page.client, `${scenario}: the page is ${widths.page.scroll} px wide in a ${widths.page.client} px window`);
      assert(widths.cards.overflow === 'auto' && widths.cards.scroll > widths.cards.client, `${scenario}: the node cards do not scroll sideways: ${JSON.stringify(widths.cards)}`);
      assert(widths.diagram.overflow === 'auto' && widths.diagram.scroll > widths.diagram.client, `${scenario}: the diagram does not scroll in its panel: ${JSON.stringify(widths.diagram)}`);
    }
    const transport = await page.$$eval('.transport > button', bs => bs.map(b => b.getBoundingClientRect().top));
    assert(new Set(transport.map(Math.round)).size === 1, `the transport buttons do not share a row: ${transport.join(', ')}`);
  } finally {
    await context.close();
  }
}

async function invariantLine(context) {
  const page = await open(context, base);
  try {
    await page.selectOption('[data-testid="scenario"]', 'announce-before-log');
    await page.waitForSelector('body[data-scenario="announce-before-log"]');
    const states = () => page.$$eval('[data-testid="invariant"]', lis => Object.fromEntries(lis.map(li => [li.dataset.name, li.dataset.state])));
    const start = await states();
    assert(JSON.stringify(Object.keys(start)) === JSON.stringify(['atomicity', 'commit-validity', 'stable-decision']), `the invariant line lists ${JSON.stringify(start)}`);
    assert(Object.values(start).every(s => s === 'holds'), `at t = 0 the invariant line says ${JSON.stringify(start)}`);
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    const end = await states();
    assert(end.atomicity === 'violated', `at the end atomicity is ${end.atomicity}`);
    const link = page.locator('[data-testid="invariant"][data-name="atomicity"] [data-testid="invariant-event"]');
    const ev = await link.getAttribute('data-ev');
    const first = await page.locator('[data-testid="show-violation"]').first().getAttribute('data-ev');
    assert(ev === first, `the invariant line links event ${ev}, the banner's first violation is event ${first}`);
    const at = Number(await page.locator('[data-testid="show-violation"]').first().getAttribute('data-time'));
    // Scrubbing back before the violation: it holds again; to its moment: violated again.
    await page.fill('[data-testid="scrubber"]', String(Math.max(0, at - 1)));
    await page.waitForFunction(() => document.querySelector('[data-testid="invariant"][data-name="atomicity"]').dataset.state === 'holds');
    await page.fill('[data-testid="scrubber"]', String(at));
    await page.waitForFunction(() => document.querySelector('[data-testid="invariant"][data-name="atomicity"]').dataset.state === 'violated');
    await page.locator('[data-testid="invariant"][data-name="atomicity"] [data-testid="invariant-event"]').click();
    const picked = await page.$$eval('[data-testid="event-log"] li.hl', lis => lis.map(li => li.dataset.i));
    assert(picked.length === 1 && picked[0] === ev, `the invariant's link highlighted ${picked.join(', ')}, not event ${ev}`);
    await noErrorBox(page);
  } finally {
    await page.close();
  }
}

// ---- accessibility (issue 24) ----


/** Serious and critical axe-core violations on the page as it is, one line each. */
async function axeProblems(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`));
  return found;
}

async function accessibility(context) {
  const problems = [];
  const views = [
    ['2PC', 'announce-before-log', null],
    ['Paxos', 'paxos-stale-reads', null],
    ['VRRP', 'vrrp-split-brain', null],
    ['model checker', 'abort-on-timeout', async page => {
      await page.click('[data-testid="mc-panel"] > summary');
      await page.click('[data-testid="mc-tla-check"]');
      await page.waitForSelector('[data-testid="mc-tla-result"]:not([data-state="checking"])[data-state]', { timeout: 10_000 });
    }],
    ['How to use', 'happy-path', async page => page.click('[data-testid="howto"] > summary')],
  ];
  const page = await open(context, base);
  try {
    for (const [view, scenario, prepare] of views) {
      await chooseAndRunToEnd(page, scenario);
      if (prepare) await prepare(page);
      for (const p of await axeProblems(page)) problems.push(`${view}: ${p}`);
    }
    // Leave the panels as a first visit finds them.
    await page.evaluate(() => localStorage.removeItem('underhood.intro'));
    await page.click('[data-testid="open-compare"]');
    await page.waitForSelector('body[data-compare]');
    for (const p of await axeProblems(page)) problems.push(`compare view: ${p}`);
  } finally {
    await page.close();
  }
  assert(problems.length === 0, `axe-core:\n  ${problems.join('\n  ')}`);
}

async function keyboardPath(context) {
  const page = await open(context, base);
  try {
    await page.selectOption('[data-testid="scenario"]', 'happy-path');
    await page.waitForSelector('body[data-scenario="happy-path"]');
    // Tab through the page from the top, noting each stop.
    await page.evaluate(() => document.activeElement?.blur());
    await page.evaluate(() => {
      window.tabStops = [];
      document.addEventListener('focusin', ({ target: e }) => {
        window.tabStops.push(e.dataset?.testid ?? (e.tagName === 'SUMMARY' ? `${e.parentElement.dataset.testid} summary` : e.id || e.tagName));
      });
    });
    for (let k = 0; k < 120; k++) await page.keyboard.press('Tab');
    const stops = new Set(await page.evaluate(() => window.tabStops));
    for (const want of ['howto summary', 'scenario', 'seed', 'random-seed', 'open-compare', 'copy-link', 'rewind', 'play', 'step', 'run-to-end', 'speed', 'scrubber',
      'select-0', 'crash-0', 'axis', 'event-log', 'mc-panel summary']) {
      assert(stops.has(want), `Tab never reaches ${want}; it stops at ${[...stops].join(', ')}`);
    }
    // Enter on Play plays, and again pauses.
    await page.focus('[data-testid="play"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="play"][aria-pressed="true"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="play"][aria-pressed="false"]');
    // Shortcuts act when no control has the focus.
    await page.keyboard.press('Home');
    await page.evaluate(() => document.activeElement?.blur());
    let inflight = null;
    for (let k = 0; k < 40 && !inflight; k++) {
      await page.keyboard.press('ArrowRight');
      inflight = await page.$('[data-testid^="inflight-"]');
    }
    assert(inflight, 'the → key never put a message in flight');
    const id = (await inflight.getAttribute('data-testid')).slice('inflight-'.length);
    await page.focus(`[data-testid="inflight-${id}"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-testid="inflight-${id}"]`, { state: 'detached', timeout: 3000 });
    const drops = await page.$$eval('[data-testid="event-log"] li.drop', lis => lis.map(li => li.textContent));
    assert(drops.some(t => t.includes('injected')), `Enter on an in-flight arrow did not drop it: ${drops.join(' | ')}`);
    // The event log: ↓ picks an event, ↓ again the next one shown.
    await page.focus('[data-testid="event-log"]');
    await page.keyboard.press('ArrowDown');
    const first = await page.$eval('[data-testid="event-log"] li.hl', li => Number(li.dataset.i));
    await page.keyboard.press('ArrowDown');
    const second = await page.$eval('[data-testid="event-log"] li.hl', li => Number(li.dataset.i));
    assert(second > first, `↓ in the event log went from event ${first} to ${second}`);
    // ? lists the shortcuts; Esc closes the list.
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('Shift+?');
    const list = page.locator('[data-testid="shortcuts"]');
    await list.waitFor({ state: 'visible', timeout: 2000 });
    const text = await list.innerText();
    for (const key of ['Space', 'End', 'Home', '?']) assert(text.includes(key), `the shortcut list lacks ${key}: ${text}`);
    assert(await axeProblems(page).then(p => p.length === 0), `axe-core with the shortcut list open: ${(await axeProblems(page)).join('; ')}`);
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden', timeout: 2000 });
    await noErrorBox(page);
  } finally {
    await page.close();
  }
}

async function checkerRefusal(context) {
  const page = await open(context, base);
  try {
    await page.click('[data-testid="mc-panel"] > summary');
    const check = page.locator('[data-testid="mc-scenario-check"]');
    const note = page.locator('[data-testid="mc-scenario-refusal"]');
    await page.selectOption('[data-testid="scenario"]', 'vrrp-split-brain');
    await page.waitForSelector('body[data-scenario="vrrp-split-brain"]');
    await note.waitFor({ state: 'visible', timeout: 2000 });
    assert(!(await check.isVisible()), 'Check is offered for a VRRP scenario');
    const text = await note.innerText();
    // The reason is the simulator's own refusal, the sentence checkScenario would throw.
    const thrown = await page.evaluate(async () => {
      const m = await import(new URL('pkg/underhood_sim_wasm.js', document.baseURI).href);
      await m.default();
      try {
        m.checkScenario('vrrp-split-brain', 3);
        return null;
      } catch (e) {
        return e.message;
      }
    });
    assert(thrown && text.includes(thrown), `the panel says "${text}", the checker refuses with "${thrown}"`);
    await page.selectOption('[data-testid="scenario"]', 'abort-on-timeout');
    await page.waitForSelector('body[data-scenario="abort-on-timeout"]');
    await check.waitFor({ state: 'visible', timeout: 2000 });
    assert(!(await note.isVisible()), 'the refusal stays on a scenario the checker explores');
    await noErrorBox(page);
  } finally {
    await page.close();
  }
}

// ---- clocks and disks (issue 20 item 6) ----

async function clockFaults(context) {
  const page = await open(context, base);
  try {
    // The gallery's drift: from 7 s R1's clock runs 30 % slow.
    await page.selectOption('[data-testid="scenario"]', 'vrrp-lease-clock-drift');
    await page.waitForSelector('body[data-scenario="vrrp-lease-clock-drift"]');
    const card = page.locator('[data-testid="node-0"]');
    assert((await card.getAttribute('data-clock')) === 'exact', `R1's clock is ${await card.getAttribute('data-clock')} at t = 0`);
    assert(!(await page.locator('[data-testid="clock-0"]').isVisible()), 'an exact clock has a clock line on its card');
    await page.fill('[data-testid="scrubber"]', '9000');
    await page.waitForFunction(() => document.querySelector('[data-testid="node-0"]').dataset.clock === 'skewed');
    const line = page.locator('[data-testid="clock-0"]');
    assert((await line.getAttribute('data-drift')) === '-300000', `R1's clock line says drift ${await line.getAttribute('data-drift')}`);
    // 2 s of virtual time at 70 %: 600 ms behind.
    assert((await line.getAttribute('data-offset')) === '-600', `R1's clock is ${await line.getAttribute('data-offset')} ms off at 9 s`);
    const text = await line.innerText();
    assert(text.includes('30 % slow') && text.includes('−600 ms') && text.includes('reads 8400 ms'), `R1's clock line reads "${text}"`);
    for (const other of [1, 2]) {
      assert((await page.locator(`[data-testid="node-${other}"]`).getAttribute('data-clock')) === 'exact', `node ${other}'s clock is not exact`);
    }
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    const verdict = await page.getAttribute('[data-testid="invariant"][data-name="single-vip-holder"]', 'data-state');
    assert(verdict === 'violated', `single-vip-holder is ${verdict} at the end`);
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'no violation banner');
    const said = await banner.innerText();
    assert(said.includes('clock') && !said.includes('deliberately broken'), `the banner blames the lease rather than the clock: ${said}`);
    const mark = await findInDiagram(page, '[data-testid="clock-mark"]');
    assert(mark, 'the diagram has no clock mark');
    assert((await mark.getAttribute('data-node')) === '0', `the clock mark is on node ${await mark.getAttribute('data-node')}`);
    const label = await mark.getAttribute('aria-label');
    assert(label === "R1's clock: runs 30 % slow from here", `the clock mark is labelled "${label}"`);
    assert(await page.locator('[data-testid="clock-skew"][data-node="0"]').count() === 1, 'no skew line along R1\'s lane');
    // Scrolling into view can redraw the diagram: click whichever clock mark is drawn now.
    await page.locator('[data-testid="clock-mark"]').first().dispatchEvent('click');
    const picked = await page.$$eval('[data-testid="event-log"] li.hl', lis => lis.map(li => `${li.className}: ${li.textContent}`));
    assert(picked.length === 1 && picked[0].includes(' clock') && picked[0].includes('-300000 ppm'), `the clock mark picked ${picked.join(' | ')}`);
    // Events at R1 after the drift carry its own reading beside virtual time.
    const locals = await page.$$eval('[data-testid="event-log"] li[data-i]', lis => lis.filter(li => li.querySelector('.who').textContent === 'R1')
      .map(li => ({ t: Number(li.querySelector('.t').textContent), local: li.querySelector('.local')?.textContent ?? null })));
    assert(locals.some(r => r.t > 7000 && r.local && Number(r.local.match(/\d+/)[0]) < r.t), `R1's log rows after 7 s show no slow local time: ${JSON.stringify(locals.slice(0, 5))}`);
    assert(locals.every(r => r.t > 7000 || r.local === null), 'a row before the drift shows a local time');
    for (const p of await axeProblems(page)) throw new Error(`axe-core on the clock scenario: ${p}`);

    // Skew clock by hand, from the keyboard: P2 jumps back 500 ms, then runs 10 % fast.
    await page.selectOption('[data-testid="scenario"]', 'happy-path');
    await page.waitForSelector('body[data-scenario="happy-path"]');
    for (let k = 0; k < 5; k++) await page.click('[data-testid="step"]');
    const p2 = page.locator('[data-testid="node-2"]');
    assert((await p2.getAttribute('data-clock')) === 'exact', 'P2\'s clock is skewed before any fault');
    await page.focus('[data-testid="skew-2"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="node-2"] .clock-menu[open]');
    await page.keyboard.press('Tab');
    assert(await page.evaluate(() => document.activeElement.dataset.testid) === 'skew-2-back', 'Tab from Skew clock does not reach −500 ms');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="node-2"]').dataset.clock === 'skewed');
    const jumped = page.locator('[data-testid="clock-2"]');
    assert((await jumped.getAttribute('data-offset')) === '-500' && (await jumped.innerText()).includes('−500 ms'), `after −500 ms P2's clock line reads "${await jumped.innerText()}"`);
    await page.click('[data-testid="skew-2-fast"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="clock-2"]').dataset.drift === '100000');
    assert((await jumped.innerText()).includes('10 % fast'), `after 10 % fast P2's clock line reads "${await jumped.innerText()}"`);
    await page.focus('[data-testid="skew-2-true"]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="node-2"] .clock-menu:not([open])');
    assert(await page.evaluate(() => document.activeElement.dataset.testid) === 'skew-2', 'Escape does not return the focus to Skew clock');
    const log = await page.$$eval('[data-testid="event-log"] li.clock', lis => lis.map(li => li.textContent));
    assert(log.length === 2 && log[0].includes('-500 ms') && log[1].includes('+100000 ppm'), `the event log lists the clock faults as ${log.join(' | ')}`);
    const hash = await page.evaluate(() => location.hash);
    const tape = JSON.parse(new URLSearchParams(hash.slice(1)).get('faults') ?? '[]');
    assert(tape.length === 2 && tape.every(f => f.type === 'clock' && f.node === 2), `the link's faults are ${JSON.stringify(tape)}`);
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    await noErrorBox(page);
    const before = await fingerprint(page);
    const offset = await jumped.getAttribute('data-offset');
    const again = await open(context, page.url());
    const after = await fingerprint(again);
    assert(after.hash === before.hash, `the link gives trace ${after.hash}, the page ${before.hash}`);
    const replayed = await again.getAttribute('[data-testid="clock-2"]', 'data-offset');
    assert(replayed === offset, `the replayed run's P2 clock is ${replayed} ms off, the page's ${offset} ms`);
    assert(await again.locator('[data-testid="clock-mark"][data-node="2"]').count() + (await findInDiagram(again, '[data-testid="clock-mark"][data-node="2"]') ? 1 : 0) > 0, 'the replayed run has no clock mark on P2');
    await again.close();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-clock.png'), fullPage: true });
  } finally {
    await page.close();
  }
}

async function diskFaults(context) {
  const page = await open(context, base);
  try {
    for (const name of ['disk-lost-fsync', 'disk-corrupt-prepared']) assert(await inGallery(page, name), `the gallery has no ${name}`);

    // The disk lies about a participant's prepared record: atomicity breaks, and the banner
    // says the disk broke it.
    await chooseAndRunToEnd(page, 'disk-lost-fsync');
    const verdict = await page.getAttribute('[data-testid="invariant"][data-name="atomicity"]', 'data-state');
    assert(verdict === 'violated', `atomicity is ${verdict} at the end of disk-lost-fsync`);
    const banner = page.locator('[data-testid="violation-banner"]');
    assert(await banner.isVisible(), 'no violation banner');
    const blamed = await page.evaluate(async () => {
      const m = await import(new URL('pkg/underhood_sim_wasm.js', document.baseURI).href);
      await m.default();
      const sim = m.Simulation.fromGallery('disk-lost-fsync', '', '[]');
      sim.runToEnd();
      const vs = JSON.parse(sim.violations());
      sim.free();
      return vs.map(v => v.broken_by?.environment ?? v.environment ?? null);
    });
    if (blamed.some(Boolean)) {
      const note = page.locator('[data-testid="violation-environment"]');
      assert(await note.count() >= 1 && (await note.first().innerText()).includes('disk'), `the violations blame ${JSON.stringify(blamed)}, the banner says "${await banner.innerText()}"`);
    }
    assert((await banner.innerText()).toLowerCase().includes('disk'), `the banner does not say the disk broke the promise: ${await banner.innerText()}`);
    const lied = await findInDiagram(page, '[data-testid="disk-mark"][data-what="fsync_lost"]');
    assert(lied, 'the diagram has no mark where the disk lied');
    const liedLabel = await lied.getAttribute('aria-label');
    assert(liedLabel.startsWith('P') && liedLabel.includes(' disk: ') && liedLabel.includes('acknowledged'), `the mark is labelled "${liedLabel}"`);
    const labels = await page.$$eval('[data-testid^="node-"][data-disk] .section-label', ls => ls.map(l => l.textContent).filter(t => t.startsWith('durable log')));
    assert(labels.length >= 2 && labels.every(l => /^durable log · \d+ records?(, \d+ unsynced)?$/.test(l)), `the cards' disk labels are ${JSON.stringify(labels)}`);
    // The lying disk's card: P1's prepared record is gone, though its fsync said it was safe.
    const p1 = await page.$eval('[data-testid="node-1"] .log', l => l.textContent);
    assert(!p1.includes('prepared'), `P1's log still holds its prepared record after the power loss: ${p1}`);

    // A corrupted prepared record: the participant refuses to recover, the others stay safe.
    await chooseAndRunToEnd(page, 'disk-corrupt-prepared');
    assert(!(await banner.isVisible()), `disk-corrupt-prepared raised a violation: ${await banner.innerText().catch(() => '')}`);
    const refused = await page.$$eval('[data-testid^="node-"][data-refused="true"]', cs => cs.map(c => ({
      id: c.dataset.testid, up: c.dataset.up, text: c.querySelector('.refused-line').textContent,
    })));
    assert(refused.length === 1 && refused[0].up === 'false' && refused[0].text.startsWith('Refused to recover: '), `the refusing cards are ${JSON.stringify(refused)}`);
    assert(await findInDiagram(page, '[data-testid="disk-mark"][data-what="recovery_refused"]'), 'the diagram does not mark the refused recovery');
    for (const p of await axeProblems(page)) throw new Error(`axe-core on disk-corrupt-prepared: ${p}`);

    // By hand: corrupt P1's records once it has one, from the Disk fault menu.
    await page.selectOption('[data-testid="scenario"]', 'happy-path');
    await page.waitForSelector('body[data-scenario="happy-path"]');
    for (let k = 0; k < 60; k++) {
      if (await page.$eval('[data-testid="node-1"] .log', l => l.querySelector('li:not(.none)') !== null)) break;
      await page.click('[data-testid="step"]');
    }
    await page.click('[data-testid="disk-fault-1"]');
    await page.click('[data-testid="disk-1-corrupt"]');
    await noErrorBox(page);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="disk-1"]')?.dataset.damaged ?? 0) > 0);
    assert((await page.innerText('[data-testid="disk-1"]')).includes('damaged record'), `P1's disk line reads "${await page.innerText('[data-testid="disk-1"]')}"`);
    assert(await page.locator('[data-testid="event-log"] li.disk').count() >= 1, 'the event log does not list the disk fault');
    const tape = JSON.parse(new URLSearchParams((await page.evaluate(() => location.hash)).slice(1)).get('faults') ?? '[]');
    assert(tape.length === 1 && tape[0].type === 'disk' && tape[0].fault === 'corrupt' && tape[0].node === 1, `the link's faults are ${JSON.stringify(tape)}`);
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    const before = await fingerprint(page);
    const again = await open(context, page.url());
    const after = await fingerprint(again);
    assert(after.hash === before.hash, `the link gives trace ${after.hash}, the page ${before.hash}`);
    await again.close();
    // A failed fsync stops the node, and its card says why until it restarts.
    await page.click('[data-testid="rewind"]');
    await page.click('[data-testid="clear-faults"]');
    await page.click('[data-testid="disk-fault-2"]');
    await page.click('[data-testid="disk-2-fsync_error"]');
    await page.click('[data-testid="run-to-end"]');
    await page.waitForSelector('body[data-finished="true"]');
    await noErrorBox(page);
    assert((await page.getAttribute('[data-testid="node-2"]', 'data-up')) === 'false', 'P2 is up after its fsync failed');
    const why = await page.innerText('[data-testid="stopped-2"]');
    assert(why.includes('failed (EIO)') && why.includes('never retried'), `P2's card says "${why}"`);
    assert(await findInDiagram(page, '[data-testid="disk-mark"][data-what="fsync_failed"]'), 'the diagram does not mark the failed fsync');
    await page.click('[data-testid="restart-2"]');
    await page.waitForSelector('[data-testid="stopped-2"][hidden]', { state: 'attached' });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'browser-disk.png'), fullPage: true });
  } finally {
    await page.close();
  }
}
