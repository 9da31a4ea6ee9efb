import { chromium } from 'playwright-core';
const base = process.argv[2];
const hash = process.argv[3];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
page.on('pageerror', e => console.log('pageerror', e.message));
page.on('console', m => { if (m.type() === 'error') console.log('console', m.text()); });
await page.goto(base + hash);
await page.waitForSelector('[data-testid="node-0"]');
await page.click('[data-testid="run-to-end"]');
await page.waitForSelector('body[data-finished="true"]');
const kind = process.argv[4] ?? 'clock';
const i = await page.evaluate(k => { const li = [...document.querySelectorAll('#log li[data-i]')]; return null; }, kind);
// find via trace: click log row of the kind
await page.evaluate(k => { const log = document.getElementById('log'); log.scrollTop = 0; }, kind);
const sc = page.locator('#diagram .diagram-scroll');
const { width, view } = await sc.evaluate(s => ({ width: s.scrollWidth, view: s.clientWidth }));
for (let left = 0; left < width; left += 400) {
  await sc.evaluate((s, x) => { s.scrollLeft = x; s.dispatchEvent(new Event('scroll')); }, left);
  await page.waitForTimeout(30);
  const m = await page.$(`[data-testid="${kind}-mark"]`);
  if (m) { await m.click(); console.log('clicked', await m.getAttribute('aria-label')); break; }
}
await page.waitForTimeout(800);
await page.locator('#diagram').screenshot({ path: '/tmp/web-diag.png' });
await page.locator('[data-testid="event-log"]').screenshot({ path: '/tmp/web-log.png' });
await browser.close();
