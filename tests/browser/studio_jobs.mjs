// The studio's publishing panel in headless Chromium, by keyboard: reads the jobs table (state, progress, last
// error), presses the retry button of the failed job, sets trim points in the form. Prints a JSON summary.
// usage: node studio_jobs.mjs BASE_URL SLUG STUDIO_TOKEN
import { launch } from "./chromium.mjs";

const [base, slug, token] = process.argv.slice(2);
const { ctx, close } = await launch("jobs");
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
  await close();
}
console.log(JSON.stringify(out));
