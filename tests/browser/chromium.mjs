// Debian's headless Chromium for the browser tests (playwright-core; no browser download): a throw-away
// profile, the flags every test needs plus `extraArgs`, and `close()` that removes the profile again.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export async function launch(name, extraArgs = []) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `citizenhour-${name}-`));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync",
      ...extraArgs],
  });
  const close = async () => {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, close };
}
