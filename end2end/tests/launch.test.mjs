import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { baseUrl, launchBrowser, openHydrated, waitForUpdraft } from "./support.mjs";
import {
  domain, project, registerExamples, runHelloWorkflow, waitForExecutionPhase, workflowName,
} from "./flytekit.mjs";

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

test("a workflow launched from its form runs with the typed inputs", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/workflows/${workflowName}`);
  await page.getByRole("link", { name: "Launch workflow" }).click();
  await page.waitForURL(`${baseUrl}${projectPath}/workflows/${workflowName}/launch`);

  // Defaults of the launch plan are prefilled.
  const name = page.locator("#launch-input-name");
  const a = page.locator("#launch-input-a");
  const b = page.locator("#launch-input-b");
  assert.equal(await name.inputValue(), "world");
  assert.equal(await a.inputValue(), "3");

  // A bad value is refused next to its field, and nothing is launched.
  await a.fill("three");
  await b.focus();
  await page.getByText('"three" is not a whole number').waitFor();
  assert.equal(await a.getAttribute("aria-invalid"), "true");
  await page.getByRole("button", { name: "Launch" }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "launch-input-a");
  assert.match(page.url(), /\/launch$/);

  await a.fill("5");
  await b.fill("2");
  await name.fill("form");
  await page.getByText("Advanced options").click();
  await page.getByLabel("Labels").fill("team=ml");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByText("hello form 49").first().waitFor();
  await page.getByRole("list", { name: "Labels" }).getByText("team=ml", { exact: true }).waitFor();

  // Relaunch opens the same launch plan version's form with these inputs.
  await page.getByRole("link", { name: "Relaunch" }).click();
  await page.waitForURL(/\/launchPlans\/myapp\.greetings\.hello_wf\/launch\?relaunch=/);
  await page.locator("#launch-input-name").waitFor();
  assert.equal(await page.locator("#launch-input-name").inputValue(), "form");
  assert.equal(await page.locator("#launch-input-a").inputValue(), "5");
  // The original's options come along too.
  await page.getByText("Advanced options").click();
  assert.equal(await page.getByLabel("Labels").inputValue(), "team=ml");
  await page.locator("#launch-input-name").fill("again");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL((url) => /\/executions\/[a-z0-9-]+$/.test(url.pathname) && url.pathname !== executionPath);
  await waitForExecutionPhase(page, new URL(page.url()).pathname, "SUCCEEDED");
  await page.getByText("hello again 49").first().waitFor();
  await page.getByRole("list", { name: "Labels" }).getByText("team=ml", { exact: true }).waitFor();
  await page.getByRole("link", { name: executionPath.split("/").pop(), exact: true }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a task launched from its form runs on its own", async () => {
  const context = await browser.newContext();
  const { page } = await openHydrated(context, `${projectPath}/tasks/myapp.arithmetic.add/launch`);
  await page.locator("#launch-input-a").fill("20");
  await page.locator("#launch-input-b").fill("22");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByRole("table", { name: "Outputs" }).getByText("42", { exact: true }).waitFor();
  await context.close();
});

test("a required input left empty is refused before launching", async () => {
  const context = await browser.newContext();
  const { page } = await openHydrated(context, `${projectPath}/tasks/myapp.arithmetic.add/launch`);
  await page.locator("#launch-input-a").fill("1");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.locator("#launch-input-b-error").getByText("required").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "launch-input-b");
  assert.match(page.url(), /\/launch$/);
  await context.close();
});

test("the executions list shows a new execution by push, with the live indicator on", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, `${projectPath}/executions`);
  await page.locator('[data-live="live"]').waitFor();
  assert.equal(await page.locator('[data-live="live"]').innerText(), "Live");

  const execution = await runHelloWorkflow({ name: "pushed" });
  await page.getByRole("table", { name: "Executions" }).getByRole("link", { name: execution }).waitFor({ timeout: 30_000 });
  assert.deepEqual(errors, []);
  await context.close();
});
