// Measures the first screen: where Play and the diagram start at 1366x768 and 390x844 on a
// first visit, and the time from navigation to an interactive page (the first node card drawn).
// Usage: node measure.mjs BASE_URL [RUNS]   (the page must already be served at BASE_URL)

import { chromium } from 'playwright-core';

const base = process.argv[2];
const runs = Number(process.argv[3] ?? 7);
if (!base) {
  console.error('usage: node measure.mjs BASE_URL [RUNS]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const [width, height] of [[1366, 768], [390, 844]]) {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="node-0"]');
    const at = await page.evaluate(() => {
      const top = sel => Math.round(document.querySelector(sel).getBoundingClientRect().top + window.scrollY);
      return {
        play: top('[data-testid="play"]'),
        diagram: top('[data-testid="diagram"]'),
        overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    console.log(`${width}x${height}: Play top ${at.play} px, diagram top ${at.diagram} px, horizontal overflow ${at.overflow} px`);
    await context.close();
  }
  const times = [];
  for (let k = 0; k < runs; k++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await context.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('[data-testid="node-0"]')) {
          window.__interactive = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForFunction(() => window.__interactive !== undefined);
    times.push(await page.evaluate(() => window.__interactive));
    await context.close();
  }
  times.sort((a, b) => a - b);
  console.log(`navigation to interactive (first node card), ${runs} fresh loads: median ${Math.round(times[Math.floor(runs / 2)])} ms, min ${Math.round(times[0])}, max ${Math.round(times[runs - 1])}`);
} finally {
  await browser.close();
}
