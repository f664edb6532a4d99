// The studio's publishing panel in headless Chromium, by keyboard: reads the jobs table (state, progress, last
// error), presses the retry button of the failed job, sets trim points in the form. Prints a JSON summary.
// usage: node studio_jobs.mjs BASE_URL SLUG STUDIO_TOKEN
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [base, slug, token] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "citizenhour-jobs-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
const out = {};
try {
  const page = await ctx.newPage();
  await page.goto(`${base}/studio/${slug}?token=${token}`);
  await page.waitForSelector("#jobs tr", { timeout: 10000 });
  const rows = () => page.$$eval("#jobs tr", (trs) => trs.map((tr) => ({
    job: tr.querySelector("th").textContent,
    state: tr.children[1].textContent,
    progress: Number(tr.querySelector("progress").value),
    error: tr.children[3].textContent,
    retry: tr.querySelector("button").textContent,
  })));
  out.before = await rows();
  // Keyboard only: Tab to the retry button and press Enter.
  await page.focus("#jobs button");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#jobs tr td").textContent.startsWith("wartet"), null, { timeout: 10000 });
  out.after_retry = await rows();
  await page.focus("#trim-in");
  await page.keyboard.type("0:01");
  await page.keyboard.press("Tab");
  await page.keyboard.type("0:03");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("Schnitt gespeichert"), null, { timeout: 10000 });
  out.log = await page.$eval("#log", (e) => e.textContent);
  out.labels = await page.$$eval("#trim label", (ls) => ls.map((l) => l.getAttribute("for")));
} catch (e) {
  out.error = String(e);
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
