// Shared helpers: where updraft is, and a Chromium that needs no downloads.
import { chromium } from "playwright-core";

export const baseUrl = (process.env.UPDRAFT_URL ?? "http://127.0.0.1:8088").replace(/\/$/, "");

/** Waits until updraft answers /healthz (cargo leptos end-to-end starts it in parallel). */
export async function waitForUpdraft(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseUrl}/healthz`);
      if (response.ok) return;
      lastError = new Error(`healthz answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`updraft did not become healthy at ${baseUrl}: ${lastError}`);
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Opens `path` and waits for the WASM to hydrate the page. */
export async function openHydrated(context, path) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(`${baseUrl}${path}`);
  await page.waitForSelector("body[data-hydrated=true]", { timeout: 30_000 });
  return { page, errors };
}
