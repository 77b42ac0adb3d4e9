// Creates real data for the browser tests with flytekit's own command line,
// against the updraft the tests run on.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const end2endDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const workflowsDir = resolve(end2endDir, "flytekit/workflows");
const python = process.env.UPDRAFT_PYTHON ?? resolve(end2endDir, "../.venv/bin/python");
// Run as a module: launched through the venv's `bin/pyflyte` script,
// `pyflyte run --remote` packs that script (outside the project) into the
// code archive as `../…`, which the task's `tar -x` then refuses.
const pyflyteModule = ["-m", "flytekit.clis.sdk_in_container.pyflyte"];

export const project = "flytesnacks";
export const domain = "development";
export const workflowName = "myapp.greetings.hello_wf";

/** The flytekit configuration of the updraft under test; required, never guessed. */
export function flytekitConfig() {
  const config = process.env.UPDRAFT_FLYTEKIT_CONFIG;
  if (!config) {
    throw new Error(
      "UPDRAFT_FLYTEKIT_CONFIG is not set: point it at the flytekit.yaml the running updraft wrote " +
        "(scripts/test sets it; the console's empty states show the path)",
    );
  }
  if (!existsSync(config)) throw new Error(`UPDRAFT_FLYTEKIT_CONFIG=${config} does not exist`);
  return config;
}

async function pyflyte(args) {
  try {
    const { stdout, stderr } = await run(python, [...pyflyteModule, "--config", flytekitConfig(), ...args], {
      cwd: workflowsDir,
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    throw new Error(`pyflyte ${args.join(" ")} failed:\n${error.stdout ?? ""}${error.stderr ?? ""}${error.message}`);
  }
}

/** Registers the example package under a fresh version and returns the version. */
export async function registerExamples() {
  const version = `e2e-${Date.now().toString(36)}`;
  await pyflyte(["register", "--project", project, "--domain", domain, "--version", version, "myapp"]);
  return version;
}

/** Runs hello_wf remotely with `inputs` and returns the execution's name. */
export async function runHelloWorkflow(inputs = {}) {
  const inputArgs = Object.entries(inputs).flatMap(([key, value]) => [`--${key}`, String(value)]);
  const output = await pyflyte([
    "run", "--remote", "--project", project, "--domain", domain,
    "myapp/greetings.py", "hello_wf", ...inputArgs,
  ]);
  const match = output.match(/\/executions\/([a-z0-9-]+)/);
  if (!match) throw new Error(`no execution link in pyflyte's output:\n${output}`);
  return match[1];
}

/**
 * Waits, without reloading, until the execution page's phase badge reads
 * `phase`: the page must update itself by push.
 */
export async function waitForExecutionPhase(page, path, phase, timeoutMs = 150_000) {
  await page.waitForSelector("body[data-hydrated=true]");
  try {
    await page.waitForFunction(
      (expected) => document.querySelector("h2 [data-phase]")?.dataset.phase === expected,
      phase,
      { timeout: timeoutMs, polling: 250 },
    );
  } catch (error) {
    const seen = await page.locator("h2 [data-phase]").getAttribute("data-phase").catch(() => "none");
    throw new Error(`execution at ${path} did not reach ${phase} without a reload; last seen: ${seen}`, { cause: error });
  }
}

/** The console link flytekit itself makes for one version of a workflow. */
export async function flytekitWorkflowUrl(name, version) {
  const script = [
    "import sys",
    "from flytekit.configuration import Config",
    "from flytekit.models.core.identifier import Identifier, ResourceType",
    "from flytekit.remote import FlyteRemote",
    "remote = FlyteRemote(Config.auto(config_file=sys.argv[1]))",
    "print(remote.generate_console_url(Identifier(ResourceType.WORKFLOW, sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])))",
  ].join("\n");
  const { stdout } = await run(python, ["-c", script, flytekitConfig(), project, domain, name, version], {
    cwd: workflowsDir,
    timeout: 60_000,
  });
  return stdout.trim();
}
