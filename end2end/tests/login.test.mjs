// Single sign-on in a real browser: its own OpenID provider (on `localhost`)
// and its own updraft with login on (on `127.0.0.1`), so the provider's
// redirect back is a genuine cross-site navigation and the session cookie's
// SameSite policy is tested as users meet it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { launchBrowser } from "./support.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const updraftBinary = process.env.UPDRAFT_BIN ?? path.join(root, "target/debug/updraft");
const children = [];
let workDir;
let browser;
let console_;
let issuer;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, child, what) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not answer ${url}`);
}

function start(command, args, env, logName) {
  const log = path.join(workDir, logName);
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks = [];
  child.stdout.on("data", (chunk) => chunks.push(chunk));
  child.stderr.on("data", (chunk) => chunks.push(chunk));
  child.exited = new Promise((resolve) => child.on("exit", resolve));
  child.on("exit", () => {
    // Kept for a failed run; the folder goes once every test passed.
    if (existsSync(workDir)) writeFileSync(log, Buffer.concat(chunks));
  });
  children.push(child);
  return child;
}

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "updraft-login-"));
  const [providerPort, consolePort] = [await freePort(), await freePort()];
  issuer = `http://localhost:${providerPort}`;
  console_ = `http://127.0.0.1:${consolePort}`;
  const provider = start("node", [path.join(root, "auth/test-provider/server.mjs")], {
    OIDC_PORT: String(providerPort),
    OIDC_ISSUER: issuer,
    BFF_ORIGIN: console_,
  }, "provider.log");
  await waitFor(`${issuer}/.well-known/openid-configuration`, provider, "the OpenID provider");

  const config = path.join(workDir, "updraft.toml");
  writeFileSync(config, [
    "[auth]",
    `issuer = "${issuer}"`,
    "[auth.roles]",
    'updraft-admins = "admin"',
    'updraft-viewers = "viewer"',
    "[auth.console]",
    'client_id = "updraft-console"',
    'client_secret = "console-secret"',
    'scopes = ["openid", "profile", "email", "groups", "api:read", "api:write"]',
    "",
  ].join("\n"));
  const updraft = start(updraftBinary, [
    "start", "--config", config, "--data-dir", path.join(workDir, "data"), "--addr", `127.0.0.1:${consolePort}`,
  ], {}, "updraft.log");
  await waitFor(`${console_}/healthz`, updraft, "updraft");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => child.exited));
  rmSync(workDir, { recursive: true, force: true });
});

async function signIn(page, user, password) {
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/interaction/`));
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.click("#login-submit");
  // The provider asks for consent once per person and client.
  await page.waitForURL((url) => !url.pathname.endsWith("/login"));
  if (page.url().startsWith(`${issuer}/interaction/`)) {
    await page.click("#consent-submit");
  }
}

test("a person signs in, sees a protected page, and signs out everywhere", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  const target = "/console/projects/flytesnacks/domains/development/executions";

  await page.goto(`${console_}${target}`);
  // A wrong password is refused at the provider.
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/interaction/`));
  await page.fill("#username", "alice");
  await page.fill("#password", "wrong");
  await page.click("#login-submit");
  await page.locator("#login-error").waitFor();

  await signIn(page, "alice", "alice-password");
  await page.waitForURL(`${console_}${target}`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
  assert.match(await page.locator("#signed-in-user").innerText(), /Alice Admin/);
  // The page's own data came through the signed-in session.
  await page.getByRole("heading", { name: "flytesnacks" }).first().waitFor();

  // "Launched by me" filters on the signed-in person; the admin accepts it.
  await page.getByLabel("Launched by me").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL((url) => url.searchParams.get("mine") === "1");
  await page.getByText("No matching executions").waitFor();
  assert.equal(await page.getByRole("alert").count(), 0);

  const cookies = await context.cookies(console_);
  const session = cookies.find((cookie) => cookie.name === "__Host-updraft");
  assert.ok(session, JSON.stringify(cookies));
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, "Lax");
  assert.equal(await page.evaluate(() => document.cookie.includes("__Host-updraft")), false);

  await page.click("#sign-out");
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/session/end`));
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await page.waitForURL((url) => url.href.startsWith(`${console_}/auth/logged-out`));
  await page.locator("#logged-out").waitFor();

  // Signed out at the provider too: the console asks for the password again.
  await page.goto(`${console_}${target}`);
  await page.waitForURL((url) => url.href.startsWith(`${issuer}/interaction/`));
  await page.locator("#login-form").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a viewer sees why the launch button is off", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${console_}/console/projects/flytesnacks/domains/development/workflows/anything`);
  await signIn(page, "bob", "bob-password");
  await page.waitForURL((url) => url.href.startsWith(console_));
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
  assert.match(await page.locator("#signed-in-user").innerText(), /Bob Viewer/);
  const launch = page.getByRole("button", { name: "Launch workflow" });
  await launch.waitFor();
  assert.equal(await launch.isDisabled(), true);
  await page.getByText("needs the contributor role in project flytesnacks; you have viewer").waitFor();
  await context.close();
});
