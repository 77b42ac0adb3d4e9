// Task caching on the execution page: what the cache did for each node, the
// link from a hit to the execution that produced it, and evicting from the
// page so that the next run misses.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { baseUrl, launchBrowser, openHydrated, waitForUpdraft } from "./support.mjs";
import { domain, project, registerExamples, waitForExecutionPhase, workflowName } from "./flytekit.mjs";

const projectPath = `/console/projects/${project}/domains/${domain}`;
let browser;

before(async () => {
  await waitForUpdraft();
  browser = await launchBrowser();
  await registerExamples();
});

after(async () => {
  await browser?.close();
});

/** Launches `workflow` from its form with `inputs`; answers the execution page's path once it succeeded. */
async function runFromForm(page, workflow, inputs) {
  await page.goto(`${baseUrl}${projectPath}/workflows/${workflow}/launch`);
  await page.waitForSelector("body[data-hydrated=true]");
  for (const [name, value] of Object.entries(inputs)) {
    await page.locator(`#launch-input-${name}`).fill(String(value));
  }
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  return executionPath;
}

function nodeRow(page, nodeId) {
  return page
    .getByRole("table", { name: "Nodes" })
    .getByRole("row")
    .filter({ has: page.locator(`[data-node-link="${nodeId}"]`) });
}

/** The cache status the row of `nodeId` shows, once it shows `expected`. */
async function waitForCacheStatus(page, nodeId, expected) {
  const badge = nodeRow(page, nodeId).locator(`[data-cache-status="${expected}"]`);
  try {
    await badge.waitFor({ timeout: 30_000 });
  } catch (error) {
    const seen = await nodeRow(page, nodeId).locator("[data-cache-status]").getAttribute("data-cache-status").catch(() => "none");
    throw new Error(`node ${nodeId} did not show cache status ${expected}; it shows ${seen}`, { cause: error });
  }
  assert.match(await badge.getAttribute("title"), /\S/, "the badge says what the status means");
}

test("a cached task hits on its second run, links to the first, and misses again once evicted from the page", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  // An input no earlier run of the suite used, so the first run misses.
  const inputs = { n: Date.now() % 1_000_000_000 };

  const firstPath = await runFromForm(page, "myapp.cached.cached_wf", inputs);
  await waitForCacheStatus(page, "n0", "POPULATED");

  const secondPath = await runFromForm(page, "myapp.cached.cached_wf", inputs);
  await waitForCacheStatus(page, "n0", "HIT");
  await page.getByRole("table", { name: "Outputs" }).getByText(String(inputs.n * 2), { exact: true }).waitFor();

  // The drawer names the run that produced the result, and links to it.
  await nodeRow(page, "n0").getByRole("link", { name: "n0", exact: true }).click();
  let drawer = page.getByRole("dialog", { name: "Node n0" });
  const source = drawer.getByRole("link", { name: "View source execution" });
  await source.waitFor();
  assert.equal(await source.getAttribute("href"), firstPath);
  await source.click();
  await page.waitForURL((url) => url.pathname === firstPath);
  await page.waitForSelector("body[data-hydrated=true]");
  await waitForCacheStatus(page, "n0", "POPULATED");

  // Evicted from the hit's drawer, after a confirmation.
  await page.goto(`${baseUrl}${secondPath}?node=n0`);
  await page.waitForSelector("body[data-hydrated=true]");
  drawer = page.getByRole("dialog", { name: "Node n0" });
  await drawer.getByRole("button", { name: "Evict cached result…" }).click();
  const confirm = drawer.getByRole("group", { name: "Confirm: Evict cached result" });
  await confirm.getByRole("button", { name: "Yes, evict" }).click();
  await drawer.getByRole("status").filter({ hasText: "1 cached result evicted" }).waitFor();

  // The third run misses: its task runs again and fills the cache anew.
  const thirdPath = await runFromForm(page, "myapp.cached.cached_wf", inputs);
  await waitForCacheStatus(page, "n0", "POPULATED");
  await nodeRow(page, "n0").getByRole("link", { name: "n0", exact: true }).click();
  drawer = page.getByRole("dialog", { name: "Node n0" });
  await drawer.getByLabel("Log of attempt 1").getByText(`doubling ${inputs.n}`).waitFor({ timeout: 30_000 });
  await page.keyboard.press("Escape");
  await page.waitForURL((url) => !url.searchParams.has("node"));

  // Everything the third run cached is evicted from its page.
  await page.getByRole("button", { name: "Evict all cached results of this execution…" }).click();
  await page
    .getByRole("group", { name: "Confirm: Evict all cached results of this execution" })
    .getByRole("button", { name: "Yes, evict" })
    .click();
  await page.getByRole("status").filter({ hasText: "1 cached result evicted" }).waitFor();
  assert.notEqual(thirdPath, secondPath);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a task that is not cacheable says why in its drawer", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await runFromForm(page, workflowName, { name: "cache", a: 1, b: 2 });

  await page.getByRole("columnheader", { name: "Cache" }).waitFor();
  await nodeRow(page, "n0").getByRole("link", { name: "n0", exact: true }).click();
  const drawer = page.getByRole("dialog", { name: "Node n0" });
  await drawer.getByText("Not cacheable: cache=False.").waitFor({ timeout: 30_000 });
  assert.equal(await drawer.getByRole("button", { name: "Evict cached result…" }).count(), 0);

  // Evicting an execution that cached nothing says so.
  await page.goto(`${baseUrl}${executionPath}`);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("button", { name: "Evict all cached results of this execution…" }).click();
  await page.getByRole("button", { name: "Yes, evict" }).click();
  await page.getByRole("status").filter({ hasText: "Nothing to evict" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
