import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { baseUrl, launchBrowser, openHydrated, waitForUpdraft } from "./support.mjs";
import {
  domain, flytekitWorkflowUrl, project, registerExamples, runHelloWorkflow, waitForExecutionPhase, workflowName,
} from "./flytekit.mjs";

const projectPath = `/console/projects/${project}/domains/${domain}`;
let browser;
let version;

before(async () => {
  await waitForUpdraft();
  browser = await launchBrowser();
  version = await registerExamples();
});

after(async () => {
  await browser?.close();
});

test("project → workflows list → search → workflow detail", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, projectPath);

  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Workflows" }).click();
  await page.waitForURL(`${baseUrl}${projectPath}/workflows`);
  await page.getByRole("searchbox", { name: "Search workflows by name" }).fill("greetings");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(`${baseUrl}${projectPath}/workflows?q=greetings`);
  await page.getByRole("link", { name: workflowName }).click();

  await page.waitForURL(`${baseUrl}${projectPath}/workflows/${workflowName}`);
  await page.getByRole("heading", { level: 2, name: workflowName }).waitFor();
  const inputs = page.getByRole("table", { name: "Inputs" });
  const nameRow = inputs.getByRole("row").filter({ hasText: /^name/ });
  assert.match(await nameRow.innerText(), /name\s+str/);
  // Rows are found by their first cell: text matching would read "a" and
  // "int" as one word "aint".
  const aRow = inputs.getByRole("row").filter({ has: page.getByRole("cell", { name: "a", exact: true }) });
  assert.match(await aRow.innerText(), /int/);
  const versions = page.getByRole("table", { name: "Versions, newest first" });
  // Each version links to its own view; the newest is the one shown.
  assert.equal(await versions.getByRole("link", { name: version, exact: true }).count(), 1);
  assert.equal(await versions.getByText("shown above").count(), 1);
  assert.equal(await versions.locator("tbody tr").first().getByText("shown above").count(), 1);

  assert.deepEqual(errors, []);
  await context.close();
});

test("the executions phase filter is in the URL and survives a reload", async () => {
  const execution = await runHelloWorkflow({ name: "filter" });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${baseUrl}${projectPath}/executions/${execution}`);
  await waitForExecutionPhase(page, `${projectPath}/executions/${execution}`, "SUCCEEDED");

  await page.goto(`${baseUrl}${projectPath}/executions`);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("combobox", { name: "Phase" }).selectOption("SUCCEEDED");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/\?phase=SUCCEEDED/);

  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  assert.equal(await page.getByRole("combobox", { name: "Phase" }).inputValue(), "SUCCEEDED");
  const table = page.getByRole("table", { name: "Executions" });
  await table.getByRole("link", { name: execution }).waitFor();
  const phases = await table.locator("[data-phase]").evaluateAll((badges) => badges.map((b) => b.dataset.phase));
  assert.ok(phases.length > 0);
  assert.deepEqual([...new Set(phases)], ["SUCCEEDED"]);

  await page.getByRole("combobox", { name: "Phase" }).selectOption("FAILED");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/\?phase=FAILED/);
  // The succeeded execution leaves the list once the filtered page has loaded.
  await page.getByRole("link", { name: execution }).waitFor({ state: "detached" });
  assert.equal(await page.getByRole("combobox", { name: "Phase" }).inputValue(), "FAILED");
  await context.close();
});

test("the execution page shows inputs, outputs, nodes and a disabled terminate", async () => {
  const execution = await runHelloWorkflow({ name: "ada", a: 2, b: 5 });
  const path = `${projectPath}/executions/${execution}`;
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, path);

  const inputs = page.getByRole("table", { name: "Inputs" });
  assert.match(await inputs.getByRole("row", { name: /^name/ }).innerText(), /name\s+ada/);
  assert.match(await inputs.getByRole("row", { name: /^a\b/ }).innerText(), /a\s+2/);

  await waitForExecutionPhase(page, path, "SUCCEEDED");
  await page.waitForSelector("body[data-hydrated=true]");
  const outputs = page.getByRole("table", { name: "Outputs" });
  assert.match(await outputs.innerText(), /hello ada 49/);
  const nodes = page.getByRole("table", { name: "Nodes" });
  assert.ok((await nodes.getByRole("row").count()) >= 4, "a header row and three task nodes");
  const terminate = page.getByRole("button", { name: "Terminate" });
  assert.equal(await terminate.isDisabled(), true);
  assert.match(await page.locator("#terminate-note").innerText(), /only queued or running/);

  assert.deepEqual(errors, []);
  await context.close();
});

test("the project dashboard charts today's executions by phase", async () => {
  const context = await browser.newContext();
  const name = await runHelloWorkflow({ name: "chart" });
  const page = await context.newPage();
  await page.goto(`${baseUrl}${projectPath}/executions/${name}`);
  await waitForExecutionPhase(page, `${projectPath}/executions/${name}`, "SUCCEEDED");

  const { page: dashboard, errors } = await openHydrated(context, projectPath);
  const numbers = dashboard.getByRole("table", { name: "Executions per day (UTC), by phase" });
  const today = new Date().toISOString().slice(5, 10);
  const row = numbers.getByRole("row", { name: new RegExp(`^${today}`) });
  const columns = await numbers.getByRole("columnheader").allInnerTexts();
  const cells = await row.getByRole("cell").allInnerTexts();
  const succeeded = Number(cells[columns.indexOf("Succeeded") - 1]);
  assert.ok(succeeded >= 1, `today's row ${cells} under ${columns}`);
  assert.match(await dashboard.locator("figcaption").innerText(), /\d+ executions? created in the last 7 days/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a workflow lists its launch plans with their schedules, and a launch plan shows its own", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/workflows/myapp.launch_plans.square_plus_wf`);
  const launchPlans = page.getByRole("table", { name: "Launch plans of this workflow" });
  const nightly = launchPlans.getByRole("row").filter({ hasText: "myapp.launch_plans.square_plus_nightly" });
  assert.match(await nightly.innerText(), /Inactive\s+cron 0 2 \* \* \*/);
  const plain = launchPlans.getByRole("row").filter({ hasText: "myapp.launch_plans.square_plus_lp" });
  assert.match(await plain.innerText(), /none/);

  await nightly.getByRole("link").click();
  await page.waitForURL(`${baseUrl}${projectPath}/launchPlans/myapp.launch_plans.square_plus_nightly`);
  await page.getByText("Schedule: cron 0 2 * * *").waitFor();
  await page.getByText("Runs workflow myapp.launch_plans.square_plus_wf").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("times show in the browser's zone or in UTC, by a switch that is remembered", async () => {
  const name = await runHelloWorkflow({ name: "zone" });
  const context = await browser.newContext({ timezoneId: "Asia/Tokyo" });
  const { page, errors } = await openHydrated(context, `${projectPath}/executions/${name}`);
  const created = page.locator("time").first();
  const createdText = () => page.evaluate(() => document.querySelector("time")?.textContent ?? "");
  await page.waitForFunction(() => /UTC\+09:00/.test(document.querySelector("time")?.textContent ?? ""));
  assert.match(await createdText(), /\((just now|\d+ minutes? ago)\)/);

  const toggle = page.getByRole("button", { name: "UTC times" });
  assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  await toggle.click();
  await page.waitForFunction(() => /\d{2}:\d{2}:\d{2} UTC(?!\+)/.test(document.querySelector("time")?.textContent ?? ""));
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");

  // Remembered across a reload, and for every time on the page.
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  assert.equal(await toggle.getAttribute("aria-pressed"), "true");
  await created.waitFor();
  for (const text of await page.locator("time").allInnerTexts()) {
    assert.doesNotMatch(text, /UTC\+/);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("a task's page shows its type, interface and versions, and launches it", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/tasks`);
  await page.getByRole("searchbox", { name: "Search tasks by name" }).fill("arithmetic.add");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "myapp.arithmetic.add", exact: true }).click();
  await page.waitForURL(`${baseUrl}${projectPath}/tasks/myapp.arithmetic.add`);

  await page.getByRole("heading", { level: 2, name: "myapp.arithmetic.add" }).waitFor();
  await page.getByText("Task type: python-task").waitFor();
  const inputs = page.getByRole("table", { name: "Inputs" });
  assert.match(await inputs.getByRole("row").filter({ hasText: /^a/ }).innerText(), /a\s+int/);
  assert.match(await page.getByRole("table", { name: "Outputs" }).innerText(), /o0\s+int/);
  await page.getByRole("table", { name: "Versions, newest first" }).getByText(version, { exact: true }).waitFor();

  await page.getByRole("link", { name: "Launch task" }).click();
  await page.waitForURL(`${baseUrl}${projectPath}/tasks/myapp.arithmetic.add/launch`);
  await page.locator("#launch-input-a").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a launch plan's page shows its fixed inputs and launches with them", async () => {
  const context = await browser.newContext();
  const lpPath = `${projectPath}/launchPlans/myapp.launch_plans.square_plus_nightly`;
  const { page, errors } = await openHydrated(context, lpPath);
  const fixed = page.getByRole("table", { name: "Fixed inputs" });
  assert.match(await fixed.innerText(), /plus\s+1/);
  assert.match(await page.getByRole("table", { name: "Inputs" }).getByRole("row").filter({ hasText: /^n/ }).innerText(), /n\s+int\s+3/);

  await page.getByRole("link", { name: "Launch launch plan" }).click();
  await page.waitForURL(`${baseUrl}${lpPath}/launch`);
  // Its default is prefilled; the fixed input is shown, not editable.
  assert.equal(await page.locator("#launch-input-n").inputValue(), "3");
  assert.equal(await page.locator("#launch-input-plus").count(), 0);
  await page.getByRole("table", { name: "Fixed inputs" }).getByText("plus").waitFor();
  await page.locator("#launch-input-n").fill("4");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("17", { exact: true }).waitFor();

  // The launch plan's recent executions list it.
  await page.goto(`${baseUrl}${lpPath}`);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("link", { name: executionPath.split("/").pop(), exact: true }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a launch plan is activated and deactivated from its page", async () => {
  const context = await browser.newContext();
  const lpPath = `${projectPath}/launchPlans/myapp.launch_plans.square_plus_nightly`;
  const { page, errors } = await openHydrated(context, lpPath);
  // Registered inactive, as flytekit registers a scheduled launch plan.
  await page.getByText("Inactive: no schedule runs it.").waitFor();

  await page.getByRole("button", { name: "Activate" }).click();
  await page.getByText("Active: its schedule and triggers run.").waitFor();
  // The admin holds it: a reload shows the same.
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByText("Active: its schedule and triggers run.").waitFor();

  await page.getByRole("button", { name: "Deactivate" }).click();
  await page.getByText("Inactive: no schedule runs it.").waitFor();
  await page.getByRole("button", { name: "Activate" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the executions list sorts in the chosen order, kept in the URL", async () => {
  await runHelloWorkflow({ name: "sort-a" });
  await runHelloWorkflow({ name: "sort-b" });
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const createdTimes = () =>
    page.getByRole("table", { name: "Executions" }).locator("tbody tr")
      .evaluateAll((rows) => rows.map((row) => Date.parse(row.querySelectorAll("time[datetime]")[0]?.getAttribute("datetime"))));
  const isSorted = (times, ascending) => times.every((time, at) => at === 0 || (ascending ? times[at - 1] <= time : times[at - 1] >= time));

  const newestFirst = await createdTimes();
  assert.ok(newestFirst.length >= 2, "at least two executions are listed");
  assert.ok(isSorted(newestFirst, false), `newest first by default: ${newestFirst}`);

  await page.getByRole("combobox", { name: "Sort" }).selectOption("created_at.asc");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/sort=created_at\.asc/);
  await page.waitForFunction(
    (newest) => {
      const first = document.querySelector("table tbody tr time[datetime]")?.getAttribute("datetime");
      return first && Date.parse(first) < newest;
    },
    newestFirst[0],
  );
  assert.ok(isSorted(await createdTimes(), true), "oldest first");
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  assert.equal(await page.getByRole("combobox", { name: "Sort" }).inputValue(), "created_at.asc");
  assert.ok(isSorted(await createdTimes(), true), "still oldest first after a reload");
  assert.deepEqual(errors, []);
  await context.close();
});

/**
 * Answers the first live stream of `context` with one change that ends (as a
 * dropped connection does, the browser retrying after `retryMs`), and every
 * later one with `later(route)`. Answers how many streams were asked for.
 */
async function dropLiveStreams(context, retryMs, later) {
  const streams = { count: 0 };
  await context.route((url) => url.pathname.startsWith("/api/live/executions/"), async (route) => {
    streams.count += 1;
    if (streams.count === 1) {
      await route.fulfill({
        status: 200,
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
        body: `retry: ${retryMs}\nevent: change\ndata: changed\n\n`,
      });
    } else {
      await later(route);
    }
  });
  return streams;
}

test("the live indicator says when updates stop: reconnecting, then stale", async () => {
  const context = await browser.newContext();
  // The browser's retry finds the BFF answering with an error, and gives up.
  const streams = await dropLiveStreams(context, 3000, (route) => route.fulfill({ status: 503, body: "unavailable" }));
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const indicator = page.locator("[data-live]").first();
  await page.waitForSelector('[data-live="reconnecting"]');
  assert.equal(await indicator.innerText(), "Reconnecting…");
  await page.waitForSelector('[data-live="stale"]', { timeout: 15_000 });
  assert.equal(await indicator.innerText(), "Not updating: reload the page");
  assert.equal(streams.count, 2);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the live indicator turns stale when the console stays unreachable, and live again when it answers", async () => {
  const context = await browser.newContext();
  // Every retry is refused: the browser retries for ever, so the page itself
  // must say when it has waited too long.
  let refusing = true;
  const streams = await dropLiveStreams(context, 1000, (route) => (refusing ? route.abort("connectionrefused") : route.continue()));
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  await page.waitForSelector('[data-live="reconnecting"]');
  await page.waitForSelector('[data-live="stale"]', { timeout: 40_000 });
  assert.ok(streams.count >= 3, `the browser kept retrying: ${streams.count} connections`);
  refusing = false;
  await page.waitForSelector('[data-live="live"]', { timeout: 15_000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test("flytekit's link to an older workflow version opens that version, and the domain switch lists the project's domains", async () => {
  const newer = await registerExamples();
  const url = new URL(await flytekitWorkflowUrl(workflowName, version));
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, url.pathname);
  await page.waitForURL((at) => at.pathname === `${projectPath}/workflows/${workflowName}` && at.searchParams.get("version") === version);
  await page.getByText(`Version ${version} (not the newest: show the newest)`).waitFor();
  await page.getByText(`Of version ${version}.`).first().waitFor();
  const versions = page.getByRole("table", { name: "Versions, newest first" });
  await versions.locator('a[aria-current="true"]').getByText(version, { exact: true }).waitFor();
  // Launching from an older version's page launches that version.
  await page.getByRole("link", { name: "Launch workflow" }).click();
  await page.waitForURL((at) => at.pathname.endsWith("/launch") && at.searchParams.get("version") === version);
  await page.getByText(`Launch plan version ${version}`).waitFor();
  await page.goBack();
  await page.waitForURL((at) => at.searchParams.get("version") === version && !at.pathname.endsWith("/launch"));
  await versions.getByRole("link", { name: newer, exact: true }).click();
  await page.waitForURL((at) => at.searchParams.get("version") === newer);
  await page.getByText(`Version ${newer}`, { exact: true }).waitFor();

  // A version that does not exist is named in the error, not shown as another.
  await page.goto(`${baseUrl}${projectPath}/workflows/${workflowName}?version=no-such-version`);
  await page.getByText(`version no-such-version of workflow ${workflowName}`, { exact: false }).waitFor();

  const domains = await page.getByRole("navigation", { name: "Domain" }).getByRole("link").allInnerTexts();
  assert.deepEqual(domains, ["development", "staging", "production"]);
  // FlyteConsole's older section links still work.
  await page.goto(`${baseUrl}/console/projects/${project}/executions?domain=staging`);
  await page.waitForURL(`${baseUrl}/console/projects/${project}/domains/staging/executions`);
  assert.deepEqual(errors, []);
  await context.close();
});
