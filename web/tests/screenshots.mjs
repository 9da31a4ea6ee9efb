// Writes the README's screenshots of the first screen: docs/screenshot-1366.png (1366x768) and
// docs/screenshot-390.png (390x844), a first visit to a run of coordinator-crash-before-decision.
// Usage: node screenshots.mjs BASE_URL OUT_DIR   (the page already served at BASE_URL)

import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, out] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node screenshots.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const [width, height, mobile] of [[1366, 768, false], [390, 844, true]]) {
    const context = await browser.newContext({ viewport: { width, height }, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(new URL('#scenario=coordinator-crash-before-decision&t=140', base).href);
    await page.waitForSelector('[data-testid="node-0"]');
    await page.waitForTimeout(300);
    const file = join(out, `screenshot-${width}.png`);
    await page.screenshot({ path: file });
    console.log(`wrote ${file}`);
    await context.close();
  }
} finally {
  await browser.close();
}
