// The execution page's node drawer: attempts, data and the inline log of a
// node, and gates approved or given a value from the page, all watched
// without a reload.
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

/** Launches `workflow` from its form with `inputs` and answers the execution page's path. */
async function launchFromForm(page, workflow, inputs = {}) {
  await page.goto(`${baseUrl}${projectPath}/workflows/${workflow}/launch`);
  await page.waitForSelector("body[data-hydrated=true]");
  for (const [name, value] of Object.entries(inputs)) {
    await page.locator(`#launch-input-${name}`).fill(String(value));
  }
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  return new URL(page.url()).pathname;
}

function nodeLink(page, nodeId) {
  return page.getByRole("table", { name: "Nodes" }).getByRole("link", { name: nodeId, exact: true });
}

test("a node's drawer shows its attempts, data and log inline, and lives in the URL", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/workflows/${workflowName}`);
  const executionPath = await launchFromForm(page, workflowName, { name: "drawer", a: 5, b: 2 });

  // Opened while the execution may still run; the drawer follows it.
  await nodeLink(page, "n0").click({ timeout: 60_000 });
  await page.waitForURL((url) => url.searchParams.get("node") === "n0");
  const drawer = page.getByRole("dialog", { name: "Node n0" });
  await drawer.waitFor();
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");

  const log = drawer.getByLabel("Log of attempt 1");
  await log.getByText("adding 5 and 2").waitFor({ timeout: 30_000 });
  await drawer.locator('[data-log-state="complete"]').waitFor({ timeout: 30_000 });
  await drawer.getByRole("table", { name: "Attempts" }).getByRole("link", { name: "Attempt 1" }).waitFor();
  await drawer.getByRole("table", { name: "Node outputs" }).getByText("7", { exact: true }).waitFor();
  await drawer.getByRole("table", { name: "Node inputs" }).getByText("5", { exact: true }).waitFor();
  // What ran: the task template, folded until asked for.
  await drawer.getByText("Task template").click();
  await drawer.getByText("python-task", { exact: true }).waitFor();
  await drawer.getByText(/pyflyte-(fast-)?execute/).first().waitFor();

  // Shareable: a reload (or a link) opens the same node with its stored log.
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("dialog", { name: "Node n0" }).getByLabel("Log of attempt 1").getByText("adding 5 and 2").waitFor();

  // Another node's row switches the drawer; Esc closes it.
  await nodeLink(page, "n2").click();
  await page.getByRole("dialog", { name: "Node n2" }).getByText("hello drawer 49").first().waitFor();
  // The keyboard is in the drawer once it opens, and back on the row after.
  await page.waitForFunction(() => document.activeElement?.id === "node-drawer-title");
  await page.keyboard.press("Escape");
  await page.waitForURL((url) => !url.searchParams.has("node"));
  assert.equal(await page.getByRole("dialog").count(), 0);
  await page.waitForFunction(() => document.activeElement?.dataset?.nodeLink === "n2");

  // The finished run is found by its duration, and not by a longer one.
  const executionName = executionPath.split("/").pop();
  await page.goto(`${baseUrl}${projectPath}/executions?duration=lt1m&sort=duration.desc`);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("link", { name: executionName }).first().waitFor();
  await page.goto(`${baseUrl}${projectPath}/executions?duration=gt1h`);
  await page.getByText("No matching executions").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("an approval gate is approved from the page and the execution succeeds without a reload", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.approval_wf", { a: 1 });

  await nodeLink(page, "n1").click({ timeout: 60_000 });
  const drawer = page.getByRole("dialog", { name: "Node n1" });
  await drawer.getByRole("heading", { name: "Waiting for approval: approve-sum" }).waitFor({ timeout: 60_000 });
  await drawer.getByRole("button", { name: "Approve" }).click();
  await drawer.getByText("Sent; the gate continues in a moment.").waitFor();

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("3", { exact: true }).waitFor();
  await drawer.getByText("Gate approve-sum: succeeded.").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a gate inside a subworkflow shows under its running parent by push, and is approved from the page", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.nested_approval_wf", { a: 2 });
  const table = page.getByRole("table", { name: "Nodes" });
  await table.getByRole("link", { name: "Show children of n0" }).click({ timeout: 60_000 });
  await page.waitForURL((url) => url.searchParams.get("expand") === "n0");

  // The subworkflow node stays RUNNING while its gate starts waiting, so
  // only a push that sees inside running nodes brings the gate's row.
  const gateRow = table.getByRole("row").filter({ has: page.locator('[data-node-link="n0-0-n1"]') });
  await gateRow.locator('[data-phase="RUNNING"]').waitFor({ timeout: 60_000 });
  await table.getByRole("row").filter({ has: page.locator('[data-node-link="n0"]') }).locator('[data-phase="RUNNING"]').waitFor();
  await nodeLink(page, "n0-0-n1").click();
  const drawer = page.getByRole("dialog", { name: "Node n0-0-n1" });
  await drawer.getByRole("heading", { name: "Waiting for approval: approve-inner" }).waitFor({ timeout: 60_000 });
  await drawer.getByRole("button", { name: "Approve" }).click();
  await drawer.getByText("Sent; the gate continues in a moment.").waitFor();

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("4", { exact: true }).waitFor();
  await gateRow.locator('[data-phase="SUCCEEDED"]').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a gate a dynamic node made is approved from the page", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.dynamic_approval_wf", { a: 2 });
  const table = page.getByRole("table", { name: "Nodes" });
  await table.getByRole("link", { name: "Show children of n0" }).click({ timeout: 60_000 });
  await page.waitForURL((url) => url.searchParams.get("expand") === "n0");

  // The gate is in no registered workflow: only the dynamic node's own
  // workflow, made while it ran, says what it waits for.
  const gateRow = table.getByRole("row").filter({ has: page.locator('[data-node-link="n0-0-dn1"]') });
  await gateRow.locator('[data-phase="RUNNING"]').waitFor({ timeout: 60_000 });
  await nodeLink(page, "n0-0-dn1").click();
  let drawer = page.getByRole("dialog", { name: "Node n0-0-dn1" });
  await drawer.getByRole("heading", { name: "Waiting for approval: approve-made" }).waitFor({ timeout: 60_000 });
  // A link to the node alone, with no parent open, finds the gate too.
  await page.goto(`${baseUrl}${executionPath}?node=n0-0-dn1`);
  await page.waitForSelector("body[data-hydrated=true]");
  drawer = page.getByRole("dialog", { name: "Node n0-0-dn1" });
  await drawer.getByRole("heading", { name: "Waiting for approval: approve-made" }).waitFor();
  await drawer.getByRole("button", { name: "Approve" }).click();
  await drawer.getByText("Sent; the gate continues in a moment.").waitFor();

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("4", { exact: true }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("an approval gate is rejected from the page and the execution fails saying so", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.approval_wf", { a: 5 });

  await nodeLink(page, "n1").click({ timeout: 60_000 });
  const drawer = page.getByRole("dialog", { name: "Node n1" });
  await drawer.getByRole("heading", { name: "Waiting for approval: approve-sum" }).waitFor({ timeout: 60_000 });
  await drawer.getByRole("button", { name: "Reject" }).click();
  await drawer.getByText("Sent; the gate continues in a moment.").waitFor();

  await waitForExecutionPhase(page, executionPath, "FAILED");
  await page.getByText(/approval approve-sum was rejected/).first().waitFor();
  // The node after the gate never ran.
  const table = page.getByRole("table", { name: "Nodes" });
  await table.getByRole("row").filter({ hasText: /^\s*n1/ }).locator('[data-phase="FAILED"]').waitFor();
  assert.equal(await table.getByRole("link", { name: "n2", exact: true }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a running execution is terminated from its page with a cause, and shows it without a reload", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  // The approval gate keeps it running until somebody acts.
  const executionPath = await launchFromForm(page, "myapp.gates.approval_wf", { a: 2 });
  await waitForExecutionPhase(page, executionPath, "RUNNING");

  // The panel takes focus when opened, and Escape closes it and gives the
  // focus back, as a keyboard user expects.
  const toggle = page.getByRole("button", { name: "Terminate", exact: true });
  await toggle.click();
  await page.waitForFunction(() => document.activeElement?.name === "cause");
  await page.keyboard.press("Escape");
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === "Terminate");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.name === "cause");
  await page.keyboard.type("wrong inputs, relaunching");
  await page.getByRole("button", { name: "Terminate execution" }).click();

  await waitForExecutionPhase(page, executionPath, "ABORTED");
  await page.getByText(/^Terminated( by [^:]+)?: wrong inputs, relaunching$/).waitFor();
  const terminate = page.getByRole("button", { name: "Terminate", exact: true });
  assert.equal(await terminate.isDisabled(), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test("an input gate refuses a mistyped value next to its field and takes a typed one", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.input_wf", { a: 1 });

  await nodeLink(page, "n0").click({ timeout: 60_000 });
  const drawer = page.getByRole("dialog", { name: "Node n0" });
  const field = drawer.getByLabel("Value (int)");
  await field.waitFor({ timeout: 60_000 });
  await field.fill("five");
  await drawer.getByRole("button", { name: "Submit" }).click();
  await drawer.getByText('"five" is not a whole number').waitFor();
  assert.equal(await field.getAttribute("aria-invalid"), "true");

  await field.fill("5");
  await drawer.getByRole("button", { name: "Submit" }).click();
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("6", { exact: true }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the workflow's graph and a timeline show the nodes, coloured by phase, and open the drawer", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/workflows/${workflowName}`);
  // The definition's graph: start, the three nodes, end.
  const definitionGraph = page.getByRole("group", { name: "Workflow graph" });
  for (const node of ["start-node", "n0", "n1", "n2", "end-node"]) {
    await definitionGraph.locator(`[data-node="${node}"]`).waitFor();
  }
  const executionPath = await launchFromForm(page, workflowName, { name: "graph", a: 3, b: 4 });
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");

  await page.getByRole("navigation", { name: "Node views" }).getByRole("link", { name: "Graph" }).click();
  await page.waitForURL((url) => url.searchParams.get("view") === "graph");
  const graph = page.getByRole("group", { name: "Workflow graph" });
  const n1 = graph.getByRole("link", { name: /^n1/ });
  await n1.getByText("Succeeded").waitFor({ timeout: 30_000 });
  // A node in the graph opens its drawer, and the view stays in the URL.
  await n1.click();
  await page.waitForURL((url) => url.searchParams.get("node") === "n1" && url.searchParams.get("view") === "graph");
  await page.getByRole("dialog", { name: "Node n1" }).waitFor();

  // Survives a reload, like every view state.
  await page.goto(`${baseUrl}${executionPath}?view=timeline`);
  await page.waitForSelector("body[data-hydrated=true]");
  for (const node of ["n0", "n1", "n2"]) {
    await page.getByRole("img", { name: new RegExp(`^${node}: Succeeded`) }).waitFor();
  }
  assert.deepEqual(errors, []);
  await context.close();
});

/** The lazily loaded parts of the WASM (`split_<name>_…`) that `page` has fetched. */
function trackParts(page) {
  const parts = new Set();
  page.on("request", (request) => {
    const file = new URL(request.url()).pathname.split("/").pop();
    const part = /^split_(graph_part|timeline_part|node_drawer_part)_/.exec(file);
    if (part) parts.add(part[1]);
  });
  return parts;
}

test("the graph recolours a running execution's nodes as they change, without a reload", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const executionPath = await launchFromForm(page, "myapp.gates.approval_wf", { a: 7 });
  await page.goto(`${baseUrl}${executionPath}?view=graph`);
  await page.waitForSelector("body[data-hydrated=true]");
  const graph = page.getByRole("group", { name: "Workflow graph" });
  const gate = graph.getByRole("link", { name: /^n1/ });
  await gate.getByText("Running").waitFor({ timeout: 60_000 });

  // Approving moves the gate on and runs the last node; each change is read
  // as the nodes that changed, not all of them again.
  await gate.click();
  const drawer = page.getByRole("dialog", { name: "Node n1" });
  await drawer.getByRole("button", { name: "Approve" }).click();
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  for (const node of ["n0", "n1", "n2"]) {
    await graph.getByRole("link", { name: new RegExp(`^${node}`) }).getByText("Succeeded").waitFor({ timeout: 30_000 });
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the graph, timeline and node drawer load only when shown, and hydrate when the server drew them", async () => {
  const context = await browser.newContext();
  const launcher = await context.newPage();
  const executionPath = await launchFromForm(launcher, workflowName, { name: "parts", a: 1, b: 2 });
  await waitForExecutionPhase(launcher, executionPath, "SUCCEEDED");
  await launcher.close();

  // The table view needs none of them.
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  const parts = trackParts(page);
  await page.goto(`${baseUrl}${executionPath}`);
  await page.waitForSelector("body[data-hydrated=true]");
  await nodeLink(page, "n1").waitFor();
  assert.deepEqual([...parts], []);
  // Switching to the graph in the page fetches the graph's part, nothing else.
  await page.getByRole("navigation", { name: "Node views" }).getByRole("link", { name: "Graph" }).click();
  await page.getByRole("group", { name: "Workflow graph" }).getByRole("link", { name: /^n1/ }).waitFor();
  assert.deepEqual([...parts], ["graph_part"]);

  // A page the server drew with the graph and a drawer loads both parts
  // before hydrating, then works in place: a node click swaps the drawer
  // without loading the document again.
  const direct = await context.newPage();
  direct.on("pageerror", (error) => errors.push(error));
  const directParts = trackParts(direct);
  await direct.goto(`${baseUrl}${executionPath}?view=graph&node=n0`);
  await direct.waitForSelector("body[data-hydrated=true]");
  assert.deepEqual([...directParts].sort(), ["graph_part", "node_drawer_part"]);
  await direct.getByRole("dialog", { name: "Node n0" }).waitFor();
  await direct.evaluate(() => { window.__stillTheSameDocument = true; });
  // The open drawer covers that part of the graph; the keyboard still reaches it.
  await direct.getByRole("group", { name: "Workflow graph" }).getByRole("link", { name: /^n2/ }).press("Enter");
  await direct.getByRole("dialog", { name: "Node n2" }).waitFor();
  assert.equal(await direct.evaluate(() => window.__stillTheSameDocument), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a failed execution is recovered from its page, then archived and found under the archive filter", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  const failedPath = await launchFromForm(page, "myapp.failures.failing_wf", { n: 2 });
  await waitForExecutionPhase(page, failedPath, "FAILED");
  const failedName = failedPath.split("/").pop();

  await page.getByRole("button", { name: "Recover" }).click();
  await page.waitForURL((url) => url.pathname.includes("/executions/") && !url.pathname.endsWith(failedName));
  await page.getByText("Recovered", { exact: true }).waitFor();
  // The recovery links back to what it recovered.
  await page.getByRole("link", { name: failedName, exact: true }).waitFor();
  assert.match(await page.getByText("Recovered from").innerText(), /Recovered from/);

  await page.goto(`${baseUrl}${failedPath}`);
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("button", { name: "Archive" }).click();
  await page.getByRole("button", { name: "Unarchive" }).waitFor();

  // Archived: gone from the default list, found with the filters (kept in the URL).
  await page.goto(`${baseUrl}${projectPath}/executions`);
  await page.waitForSelector("body[data-hydrated=true]");
  const table = page.getByRole("table", { name: "Executions" });
  await table.getByRole("link").first().waitFor();
  assert.equal(await table.getByRole("link", { name: failedName }).count(), 0);
  await page.getByRole("combobox", { name: "Created" }).selectOption("1h");
  await page.getByRole("checkbox", { name: "Archived only" }).check();
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL((url) => url.searchParams.get("archived") === "only" && url.searchParams.get("created") === "1h");
  await table.getByRole("link", { name: failedName }).waitFor();
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  assert.equal(await page.getByRole("checkbox", { name: "Archived only" }).isChecked(), true);
  await table.getByRole("link", { name: failedName }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a map task's indexes show in its drawer and as rows of the node table, each with its own log", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  // -2 fails its index; half the indexes may fail, so the map succeeds.
  const executionPath = await launchFromForm(page, "myapp.maps.tolerant_cubes_wf");
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await nodeLink(page, "n0").click();
  const drawer = page.getByRole("dialog", { name: "Node n0" });
  await drawer.getByRole("heading", { name: "Map indexes (4)" }).waitFor();
  await drawer.getByText(/3 succeeded/).waitFor();
  await drawer.getByText(/1 failed/).waitFor();
  await drawer.getByLabel(/^index 1: failed/).waitFor();
  await drawer.getByLabel(/^index 3: succeeded/).waitFor();

  // In the node table the map node opens onto a row per index; an index's
  // row opens that index's own log.
  const table = page.getByRole("table", { name: "Nodes" });
  await table.getByRole("link", { name: "Show children of n0" }).click();
  await page.waitForURL((url) => url.searchParams.get("expand") === "n0");
  // The URL changes before the rows arrive.
  await table.locator('tr[data-map-index="3"]').waitFor();
  assert.equal(await table.locator("tr[data-map-index]").count(), 4);
  const failedRow = table.locator('tr[data-map-index="1"]');
  await failedRow.locator('[data-phase="FAILED"]').waitFor();
  await table.locator('tr[data-map-index="3"]').locator('[data-phase="SUCCEEDED"]').waitFor();
  await failedRow.getByRole("link", { name: "n0[1]" }).click();
  await page.waitForURL((url) => url.searchParams.get("index") === "1" && url.searchParams.get("node") === "n0");
  await drawer.getByRole("heading", { name: /Log\s*index 1, attempt 1/ }).waitFor();
  await drawer.getByLabel("Log of index 1, attempt 1").getByText(/negative -2/).first().waitFor();
  // The drawer's index chips lead to the same place, and the choice survives a reload.
  await drawer.getByLabel(/^index 3: succeeded/).click();
  await page.waitForURL((url) => url.searchParams.get("index") === "3");
  await drawer.getByRole("heading", { name: /Log\s*index 3, attempt 1/ }).waitFor();
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  await drawer.getByRole("heading", { name: /Log\s*index 3, attempt 1/ }).waitFor();
  await table.locator('tr[data-map-index="3"] a[aria-current="true"]').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a subworkflow's nodes open under it in the node table, and stay open in the URL", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  const executionPath = await launchFromForm(page, "myapp.subworkflows.outer_wf");
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  const table = page.getByRole("table", { name: "Nodes" });
  const before = await table.locator("tbody tr").count();
  await table.getByRole("link", { name: "Show children of n0" }).click();
  await page.waitForURL((url) => url.searchParams.get("expand") === "n0");
  await table.getByRole("link", { name: "Hide children of n0" }).waitFor();
  // square, square and add ran inside the subworkflow.
  const deadline = Date.now() + 30_000;
  while ((await table.locator("tbody tr").count()) < before + 3) {
    assert.ok(Date.now() < deadline, "the subworkflow's nodes did not appear");
    await page.waitForTimeout(200);
  }
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  await page.getByRole("table", { name: "Nodes" }).getByRole("link", { name: "Hide children of n0" }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a dynamic node's generated nodes and a branch's chosen case open under them in the node table", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  const table = page.getByRole("table", { name: "Nodes" });
  const rows = () => table.locator("tbody tr").count();
  const waitForRows = async (wanted) => {
    for (let tries = 0; tries < 150; tries += 1) {
      const count = await rows();
      if (wanted(count)) return count;
      await page.waitForTimeout(200);
    }
    throw new Error(`the node table kept ${await rows()} rows`);
  };

  const dynamicPath = await launchFromForm(page, "myapp.dynamics.dynamic_wf", { n: 4 });
  await waitForExecutionPhase(page, dynamicPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("14", { exact: true }).waitFor();
  const before = await rows();
  await table.getByRole("link", { name: "Show children of n0" }).click();
  await page.waitForURL((url) => url.searchParams.get("expand") === "n0");
  // Four squares and four additions were generated at run time.
  await waitForRows((count) => count >= before + 8);
  const generated = await table.locator("tbody tr").evaluateAll((trs) => trs.slice(1).map((tr) => tr.querySelector("[data-phase]")?.dataset.phase));
  assert.ok(generated.length >= 8, `generated rows: ${generated.length}`);
  assert.deepEqual([...new Set(generated)], ["SUCCEEDED"]);

  const branchPath = await launchFromForm(page, "myapp.branches.sign_wf", { n: 3 });
  await waitForExecutionPhase(page, branchPath, "SUCCEEDED");
  await page.getByText("positive 6").first().waitFor();
  const branchRows = await rows();
  await table.getByRole("link", { name: "Show children of n1" }).click();
  await page.waitForURL((url) => url.searchParams.get("expand") === "n1");
  // Each case has a row; only the one taken ran, the others were skipped.
  assert.equal(await waitForRows((count) => count >= branchRows + 3), branchRows + 3);
  const cases = await table.locator("tbody tr").evaluateAll((trs, from) =>
    trs.slice(from).map((tr) => tr.querySelector("[data-phase]")?.dataset.phase).sort(), branchRows);
  assert.deepEqual(cases, ["SKIPPED", "SKIPPED", "SUCCEEDED"]);
  assert.deepEqual(errors, []);
  await context.close();
});
