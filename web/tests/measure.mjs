// Measures the first screen: where Play and the diagram start at 1366x768 and 390x844 on a
// first visit, and the time from navigation to an interactive page (the first node card drawn).
// Usage: node measure.mjs URL [URL ...]   (each page already served; RUNS=N fresh loads each, default 9)
// With two URLs (before and after a change) the loads alternate, so both see the same machine load.

import { chromium } from 'playwright-core';

const urls = process.argv.slice(2);
const runs = Number(process.env.RUNS ?? 9);
if (!urls.length) {
  console.error('usage: node measure.mjs URL [URL ...]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const url of urls) {
    for (const [width, height] of [[1366, 768], [390, 844]]) {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForSelector('[data-testid="node-0"]');
      const at = await page.evaluate(() => {
        const top = sel => Math.round(document.querySelector(sel).getBoundingClientRect().top + window.scrollY);
        return {
          play: top('[data-testid="play"]'),
          diagram: top('[data-testid="diagram"]'),
          overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        };
      });
      console.log(`${url} ${width}x${height}: Play top ${at.play} px, diagram top ${at.diagram} px, horizontal overflow ${at.overflow} px`);
      await context.close();
    }
  }
  const times = new Map(urls.map(u => [u, []]));
  for (let k = 0; k < runs; k++) {
    for (const url of urls) times.get(url).push(await interactive(url));
  }
  for (const [url, ts] of times) {
    ts.sort((a, b) => a - b);
    console.log(`${url} navigation to interactive (first node card), ${runs} fresh loads: median ${Math.round(ts[Math.floor(runs / 2)])} ms, min ${Math.round(ts[0])}, max ${Math.round(ts[runs - 1])}`);
  }
} finally {
  await browser.close();
}

/** Milliseconds from navigation start to the first node card, in a fresh context. */
async function interactive(url) {
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
  await page.goto(url);
  await page.waitForFunction(() => window.__interactive !== undefined);
  const t = await page.evaluate(() => window.__interactive);
  await context.close();
  return t;
}
