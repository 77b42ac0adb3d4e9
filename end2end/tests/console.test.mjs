import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { baseUrl, launchBrowser, openHydrated, waitForUpdraft } from "./support.mjs";

let browser;

before(async () => {
  await waitForUpdraft();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test("the console renders on the server before any script runs", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/console`);
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Projects");
  assert.equal(await page.title(), "Projects · updraft");
  await context.close();
});

test("the page hydrates and the theme switch works and persists", async () => {
  const context = await browser.newContext({ colorScheme: "light" });
  const { page, errors } = await openHydrated(context, "/console");

  const toggle = page.getByRole("button", { name: "Dark theme" });
  await toggle.click();
  await page.getByRole("button", { name: "Light theme" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
  assert.equal(await page.getByRole("button", { name: "Light theme" }).getAttribute("aria-pressed"), "true");

  // Reloaded, the choice is applied before paint and the button agrees once hydrated.
  await page.reload();
  await page.waitForSelector("body[data-hydrated=true]");
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
  await page.getByRole("button", { name: "Light theme" }).waitFor();
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(background, "rgb(248, 250, 252)", "dark styles apply from Tailwind");

  assert.deepEqual(errors, []);
  await context.close();
});

test("keyboard shortcuts move between a project's pages and list themselves on ?", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, "/console/projects/flytesnacks/domains/staging");

  await page.keyboard.press("g");
  await page.keyboard.press("w");
  await page.waitForURL(`${baseUrl}/console/projects/flytesnacks/domains/staging/workflows`);
  // The list page's code loads on first visit; the box exists once it has.
  await page.getByRole("searchbox").waitFor();
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("type")), "search");
  // Typed into the search box, the same keys are text, not shortcuts.
  await page.keyboard.type("ge");
  assert.equal(new URL(page.url()).pathname, "/console/projects/flytesnacks/domains/staging/workflows");
  await page.keyboard.press("Escape");
  await page.locator("body").click({ position: { x: 5, y: 300 } });

  await page.keyboard.press("Shift+Slash");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await help.getByText("Launch plans").waitFor();
  await page.keyboard.press("Escape");
  await help.waitFor({ state: "hidden" });
  await page.keyboard.press("g");
  await page.keyboard.press("e");
  await page.waitForURL(`${baseUrl}/console/projects/flytesnacks/domains/staging/executions`);

  assert.deepEqual(errors, []);
  await context.close();
});

test("the project picker opens and leads into the default project", async () => {
  const context = await browser.newContext();
  const { page, errors } = await openHydrated(context, "/console");

  const picker = page.getByRole("button", { name: "Choose a project" });
  assert.equal(await picker.getAttribute("aria-expanded"), "false");
  await picker.click();
  assert.equal(await picker.getAttribute("aria-expanded"), "true");
  await page.getByRole("list", { name: "Projects" }).first().getByRole("link", { name: "flytesnacks" }).click();

  await page.waitForURL(`${baseUrl}/console/projects/flytesnacks/domains/development`);
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "flytesnacks");
  await page.getByRole("link", { name: "staging" }).click();
  await page.waitForURL(`${baseUrl}/console/projects/flytesnacks/domains/staging`);

  assert.deepEqual(errors, []);
  await context.close();
});

test("an unknown address shows a not-found page with status 404", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto(`${baseUrl}/console/nowhere`);
  assert.equal(response.status(), 404);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await context.close();
});
