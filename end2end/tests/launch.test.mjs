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
  await page.getByLabel("Annotations").fill("owner=data-team");
  await page.getByLabel("Max parallelism").fill("2");
  await page.getByLabel("Service account").fill("pipeline-runner");
  await page.getByLabel("Overwrite cached outputs").check();
  // A raw output prefix must say where: a URI or an absolute folder.
  await page.getByLabel("Raw output prefix").fill("outputs/here");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.getByText('raw output prefix "outputs/here" is neither a URI').waitFor();
  assert.match(page.url(), /\/launch$/);
  const rawPrefix = `file:///tmp/updraft-e2e-raw-${process.pid}`;
  await page.getByLabel("Raw output prefix").fill(rawPrefix);
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;

  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  await page.getByText("hello form 49").first().waitFor();
  await page.getByRole("list", { name: "Labels" }).getByText("team=ml", { exact: true }).waitFor();
  // The header says what the execution was launched with, read back from admin.
  await page.getByRole("list", { name: "Annotations" }).getByText("owner=data-team", { exact: true }).waitFor();
  const header = page.locator("dl").filter({ hasText: "Service account" });
  assert.match(await header.innerText(), /Service account\s+pipeline-runner/);
  assert.match(await header.innerText(), /Max parallelism\s+2/);
  assert.match(await header.innerText(), /Overwrites cached outputs/);
  assert.ok((await header.innerText()).includes(rawPrefix), await header.innerText());

  // Relaunch opens the same launch plan version's form with these inputs.
  await page.getByRole("link", { name: "Relaunch" }).click();
  await page.waitForURL(/\/launchPlans\/myapp\.greetings\.hello_wf\/launch\?relaunch=/);
  await page.locator("#launch-input-name").waitFor();
  assert.equal(await page.locator("#launch-input-name").inputValue(), "form");
  assert.equal(await page.locator("#launch-input-a").inputValue(), "5");
  // The original's options come along too.
  await page.getByText("Advanced options").click();
  assert.equal(await page.getByLabel("Labels").inputValue(), "team=ml");
  assert.equal(await page.getByLabel("Annotations").inputValue(), "owner=data-team");
  assert.equal(await page.getByLabel("Service account").inputValue(), "pipeline-runner");
  assert.equal(await page.getByLabel("Max parallelism").inputValue(), "2");
  assert.equal(await page.getByLabel("Overwrite cached outputs").isChecked(), true);
  assert.equal(await page.getByLabel("Raw output prefix").inputValue(), rawPrefix);
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

test("every kind of input is typed in the form, checked, and reaches the task as sent", async () => {
  const context = await browser.newContext();
  const typedPath = `${projectPath}/workflows/myapp.typed.typed_wf/launch`;
  const { page, errors } = await openHydrated(context, typedPath);
  const field = (name) => page.locator(`#launch-input-${name}`);
  const refusal = (name) => page.locator(`#launch-input-${name}-error`);

  await field("color").selectOption("green");
  await field("sizes").fill("[1, 2, 3]");
  await field("weights").fill('{"a": 0.5, "b": 2}');
  await field("start").fill("2026-11-22T14:30:00Z");
  await field("wait").fill("1h30m");

  // Each mistyped value is refused next to its own field, with the reason.
  // A union asks which of its types the value is, the first by default.
  assert.equal(await field("key-type").inputValue(), "0");
  await field("key-0").fill("k7");
  await field("report").fill("notes.txt");
  await field("sizes").focus();
  await refusal("key-0").getByText('"k7" is not a whole number').waitFor();
  await refusal("report").getByText("is not a URI").waitFor();
  // Text that reads as a number is sent as text when the type says so.
  await field("key-type").selectOption("str");
  await field("key-1").fill("5");
  await field("report").fill("s3://my-s3-bucket/reports/q3.csv");
  // An optional union starts at None (its default), and a date typed as
  // a datetime reaches the task as one, not as text.
  assert.equal(await field("stamp-type").inputValue(), "2");
  await field("stamp-type").selectOption("datetime");
  await field("stamp-0").fill("2026-01-02T03:04:05Z");
  await field("table").fill("s3://my-s3-bucket/tables/q3");

  // The dataclass is a group with an input per field, nested dataclasses
  // nested, the dataclass's own defaults prefilled and required ones marked.
  const settings = page.getByRole("group", { name: /settings/ });
  const limits = settings.getByRole("group", { name: /limits/ });
  assert.equal(await field("settings-limits-memory").inputValue(), "1Gi");
  assert.equal(await field("settings-workers").inputValue(), "2");
  assert.equal(await field("settings-note").inputValue(), "");
  await settings.getByText("required").first().waitFor();
  await field("settings-title").fill("nightly");
  await field("settings-retries").fill("two");
  await field("settings-ratio").fill("0.25");
  await field("settings-verbose").check();
  await field("settings-tags").fill('["a", "b"]');
  await page.getByRole("button", { name: "Launch" }).click();
  // The first refused input takes the focus: a member left empty, deep inside.
  await refusal("settings-retries").getByText('"two" is not a whole number').waitFor();
  await limits.locator("#launch-input-settings-limits-cpu-error").getByText("required").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "launch-input-settings-retries");
  assert.match(page.url(), /\/launch$/);

  await field("settings-retries").fill("2");
  await field("settings-limits-cpu").fill("4");
  await page.getByRole("button", { name: "Launch" }).click();
  await page.waitForURL(new RegExp(`${projectPath}/executions/[a-z0-9-]+$`));
  const executionPath = new URL(page.url()).pathname;
  await waitForExecutionPhase(page, executionPath, "SUCCEEDED");
  const echoed = await page.getByRole("table", { name: "Outputs" }).innerText();
  for (const part of [
    "color=green", "sizes=6", "weights=[('a', 0.5), ('b', 2.0)]", "key='5'",
    "stamp=datetime.datetime(2026, 1, 2, 3, 4, 5",
    "report=s3://my-s3-bucket/reports/q3.csv", "table=s3://my-s3-bucket/tables/q3", "start=2026-11-22T14:30:00", "wait=5400s",
    "comment=None", "settings=nightly/2/0.25/True/4/1Gi/2/a,b/None",
  ]) {
    assert.ok(echoed.includes(part), `the task got ${part}; it echoed: ${echoed}`);
  }

  // A relaunch fills each member of the dataclass from the original.
  await page.getByRole("link", { name: "Relaunch" }).click();
  await page.waitForURL(/\/launch\?relaunch=/);
  await field("settings-title").waitFor();
  assert.equal(await field("settings-title").inputValue(), "nightly");
  assert.equal(await field("settings-limits-cpu").inputValue(), "4");
  assert.equal(await field("settings-verbose").isChecked(), true);
  assert.equal(await field("color").inputValue(), "green");
  assert.equal(await field("wait").inputValue(), "5400000ms");
  // Each union keeps the type it was sent as.
  assert.equal(await field("key-type").inputValue(), "1");
  assert.equal(await field("key-1").inputValue(), "5");
  assert.equal(await field("stamp-type").inputValue(), "0");
  assert.match(await field("stamp-0").inputValue(), /^2026-01-02T03:04:05/);
  // A member the original had is still required when cleared.
  await field("settings-limits-cpu").fill("");
  await page.getByRole("button", { name: "Launch" }).click();
  await refusal("settings-limits-cpu").getByText("required").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "launch-input-settings-limits-cpu");
  assert.match(page.url(), /\/launch\?relaunch=/);
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
