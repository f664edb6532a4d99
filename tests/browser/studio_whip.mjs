// Drives the studio page in a headless browser with a fake camera and microphone:
// camera on → go live (WHIP) → answer the questions one by one → end. Prints a JSON summary.
// usage: node studio_whip.mjs BASE_URL SLUG STUDIO_TOKEN SECONDS_PER_QUESTION [chromium|firefox]
// Chromium (Debian's) is driven by playwright-core over CDP; Firefox ESR (Debian's) by puppeteer-core over
// WebDriver BiDi (playwright only drives its own patched Firefox builds).
import { chromium } from "playwright-core";
import puppeteer from "puppeteer-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [base, slug, token, perQuestion = "3", browserName = "chromium"] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), `citizenhour-${browserName}-`));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let ctx, page, waitFor;
if (browserName === "firefox") {
  ctx = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX || (fs.existsSync("/usr/bin/firefox-esr") ? "/usr/bin/firefox-esr" : "/usr/bin/firefox"),
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: {
      "media.navigator.streams.fake": true,
      "media.navigator.permission.disabled": true,
      // The test server offers only a loopback ICE candidate; Firefox ignores those unless told, and hides its
      // own host addresses behind mDNS names libnice cannot resolve.
      "media.peerconnection.ice.loopback": true,
      "media.peerconnection.ice.obfuscate_host_addresses": false,
    },
  });
  waitFor = (fn, timeout) => page.waitForFunction(fn, { timeout });
} else {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream=fps=30",
    ],
  });
  waitFor = (fn, timeout) => page.waitForFunction(fn, null, { timeout });
}
const summary = { answered: [], log: [], browser: browserName };
try {
  page = await ctx.newPage();
  page.on("console", (m) => summary.log.push("console: " + m.text()));
  page.on("dialog", (d) => d.accept());
  const resp = await page.goto(`${base}/studio/${slug}?token=${token}`);
  summary.status = resp.status();
  summary.url = page.url();
  await page.click("#camera");
  await page.waitForSelector("#golive:not([disabled])", { timeout: 10000 });
  const t0 = Date.now();
  await page.click("#golive");
  await waitFor(() => document.getElementById("log").textContent.includes("camera on air"), 20000);
  summary.on_air_after_ms = Date.now() - t0;
  await page.waitForSelector("button[data-question]:not([disabled])", { timeout: 10000 });
  const ids = await page.$$eval("button[data-question]", (bs) => bs.map((b) => b.getAttribute("data-question")));
  for (const id of ids) {
    await sleep(Number(perQuestion) * 1000);
    await page.click(`button[data-question="${id}"]`);
    summary.answered.push(Number(id));
  }
  await sleep(Number(perQuestion) * 1000);
  const stats = await page.evaluate(async () => {
    const out = {};
    for (const s of document.querySelectorAll("video")) out.preview = s.videoWidth;
    return out;
  });
  summary.preview_width = stats.preview;
  await page.click("#end");
  await waitFor(() => document.getElementById("log").textContent.includes("ended after"), 30000);
  summary.ended = true;
} catch (e) {
  summary.error = String(e);
}
if (page) {
  summary.page_log = await page.$$eval("#log div", (ds) => ds.map((d) => d.textContent)).catch(() => []);
}
await ctx.close();
fs.rmSync(profile, { recursive: true, force: true });
console.log(JSON.stringify(summary));
