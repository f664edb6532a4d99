// Opens a recording page in Debian's headless Chromium, waits until the player has loaded the HLS master
// playlist (hls.js, or native HLS), clicks each chapter link and reports where the player went.
// usage: node recording_player.mjs PAGE_URL
import { launch } from "./chromium.mjs";

const [url] = process.argv.slice(2);
const { ctx, close } = await launch("chromium", ["--disable-quic", "--disable-component-update", "--autoplay-policy=no-user-gesture-required"]);
const out = { seeks: [], console: [] };
try {
  const page = await ctx.newPage();
  page.on("console", (m) => out.console.push(m.text()));
  const resp = await page.goto(url);
  out.status = resp.status();
  out.engine = await page.evaluate(() => (window.citizenhourHls ? "hls.js" : "native"));
  await page.waitForFunction(() => document.getElementById("player").readyState >= 1, null, { timeout: 20000 });
  out.duration = await page.evaluate(() => document.getElementById("player").duration);
  out.levels = await page.evaluate(() => (window.citizenhourHls ? window.citizenhourHls.levels.length : 0));
  const links = await page.$$(".chapters a[data-start-ms]");
  for (const link of links) {
    const start = Number(await link.getAttribute("data-start-ms")) / 1000;
    await link.click();
    await page.waitForFunction((s) => Math.abs(document.getElementById("player").currentTime - s) < 1.5, start, { timeout: 10000 });
    const t = await page.evaluate(() => document.getElementById("player").currentTime);
    out.seeks.push({ start, currentTime: t });
  }
  out.address = page.url();
  // Frames actually decode after the last seek.
  await page.waitForFunction(() => {
    const v = document.getElementById("player");
    return v.getVideoPlaybackQuality && v.getVideoPlaybackQuality().totalVideoFrames > 10;
  }, null, { timeout: 15000 }).catch(() => {});
  out.frames = await page.evaluate(() => document.getElementById("player").getVideoPlaybackQuality().totalVideoFrames);
} catch (e) {
  out.error = String(e);
}
await close();
console.log(JSON.stringify(out));
