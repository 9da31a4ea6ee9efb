import { chromium } from 'playwright-core';
const base = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
page.on('pageerror', e => console.log('pageerror', e.message));
for (const sc of ['disk-lost-fsync', 'disk-corrupt-prepared', 'disk-torn-write', 'paxos-corrupt-promise']) {
  await page.goto(base + '#scenario=' + sc);
  await page.waitForSelector('[data-testid="node-0"]');
  await page.click('[data-testid="run-to-end"]');
  await page.waitForSelector('body[data-finished="true"]');
  console.log('==', sc, await page.isVisible('[data-testid="violation-banner"]') ? await page.innerText('[data-testid="violation-banner"]') : 'no banner');
  const cards = await page.$$eval('[data-testid^="node-"]', cs => cs.map(c => c.innerText.replace(/\n+/g, ' | ').slice(0, 300)));
  console.log(cards.join('\n'));
  const sc2 = page.locator('#diagram .diagram-scroll');
  const marks = new Set();
  const { width } = await sc2.evaluate(s => ({ width: s.scrollWidth }));
  for (let left = 0; left < width; left += 500) {
    await sc2.evaluate((s, x) => { s.scrollLeft = x; s.dispatchEvent(new Event('scroll')); }, left);
    await page.waitForTimeout(20);
    for (const m of await page.$$eval('[data-testid="disk-mark"]', g => g.map(x => x.getAttribute('aria-label')))) marks.add(m);
  }
  console.log('marks:', [...marks].join(' || '));
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `/tmp/web-${sc}.png`, fullPage: false });
}
await browser.close();
