// Browser check of examples/embed: the page a consumer copies next to node_modules, with no bundler.
// Usage: node embed.mjs URL_OF_INDEX_HTML   (served from a project that installed underhood-sim)
// It drives the system Chromium (CHROMIUM, /usr/bin/chromium by default) and never downloads one.
import { chromium } from 'playwright-core';

const url = process.argv[2];
if (!url) {
  console.error('usage: node embed.mjs URL_OF_INDEX_HTML');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 15_000,
});
let failure = null;
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // A failed fetch is reported below with its URL; the browser's own favicon request is no concern.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource')
    && problems.push(`console error: ${m.text()}`));
  page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico')
    && problems.push(`HTTP ${r.status()} for ${r.url()}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  const wasmTypes = [];
  page.on('response', (r) => r.url().endsWith('.wasm') && wasmTypes.push(r.headers()['content-type']));

  await page.goto(url, { timeout: 15_000 });
  const summary = page.locator('#summary');
  await page.waitForFunction(
    () => /trace hash [0-9a-f]{16}$/.test(document.getElementById('summary')?.textContent ?? ''),
    null,
    { timeout: 20_000 },
  ).catch(async () => {
    throw new Error(`the summary never appeared; the page shows: ${await summary.textContent()}; ${problems.join('; ')}`);
  });
  const text = await summary.textContent();
  if (!text.startsWith('scenario: coordinator-crash-before-decision')) {
    throw new Error(`the summary names another scenario: ${text}`);
  }
  if (wasmTypes.length !== 1 || wasmTypes[0] !== 'application/wasm') {
    throw new Error(`expected one .wasm fetch served as application/wasm, saw: ${JSON.stringify(wasmTypes)}`);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  console.log(`embed: ok (${text.split('\n')[0]}; ${text.split('\n').at(-1)})`);
} catch (e) {
  failure = e;
} finally {
  await browser.close();
}
if (failure) {
  console.error(`embed: FAILED: ${failure.message}`);
  process.exit(1);
}
