// The browser half of console.py: opens an execution's page in Chromium and
// prints its first contentful paint and the longest main-thread task while
// scrolling its node table and its graph.
import { launchBrowser } from "../tests/support.mjs";

const [pageUrl] = process.argv.slice(2);

async function longestTaskWhile(page, act) {
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
    }).observe({ type: "longtask" });
  });
  await act();
  await page.waitForTimeout(500);
  return page.evaluate(() => Math.max(0, ...window.__longTasks));
}

// Scrolls `selector` (the page itself when absent) to its end in steps.
async function scrollThrough(page, selector) {
  for (let step = 0; step < 400; step++) {
    const done = await page.evaluate((selector) => {
      const box = selector ? document.querySelector(selector) : document.scrollingElement;
      if (!box) return true;
      const before = [box.scrollTop, box.scrollLeft];
      box.scrollBy(800, 1200);
      return before[0] === box.scrollTop && before[1] === box.scrollLeft;
    }, selector);
    if (done) break;
    await page.waitForTimeout(16);
  }
}

// Chromium reports only tasks of 50 ms or more.
const describe = (longest) => (longest > 0 ? `${longest.toFixed(0)} ms` : "none of 50 ms or more");

const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(pageUrl, { waitUntil: "commit", timeout: 300_000 });
  await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0, null, { timeout: 300_000 });
  const paint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0].startTime);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 300_000 });
  const hydrated = Date.now() - started;
  const rows = await page.locator("tbody tr").count();
  const table = await longestTaskWhile(page, () => scrollThrough(page, null));
  console.log(`execution page: first contentful paint ${paint.toFixed(0)} ms, hydrated after ${hydrated} ms, ${rows} node rows`);
  console.log(`longest main-thread task scrolling the node table: ${describe(table)}`);

  const graphPage = await context.newPage();
  await graphPage.goto(`${pageUrl}?view=graph`, { timeout: 300_000 });
  await graphPage.waitForSelector("body[data-hydrated=true]", { timeout: 300_000 });
  const graph = await longestTaskWhile(graphPage, async () => {
    await scrollThrough(graphPage, "[data-graph-scroll]");
    await scrollThrough(graphPage, null);
  });
  const drawn = await graphPage.locator("[data-graph-scroll] [data-node]").count();
  console.log(`longest main-thread task scrolling the graph (${drawn} nodes drawn): ${describe(graph)}`);
} finally {
  await browser.close();
}
