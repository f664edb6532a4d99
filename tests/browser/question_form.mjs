// The public question form in headless Chromium, keyboard only: Tab through the page, type, tick the boxes with
// Space, send with Enter; first without consent (the error must be tied to its field), then complete.
// Prints the focus order and what the pages said as JSON.  usage: node question_form.mjs PAGE_URL
import { launch } from "./chromium.mjs";

const [url] = process.argv.slice(2);
const { ctx, close } = await launch("form");
const out = { focus: [] };
try {
  const page = await ctx.newPage();
  await page.goto(url);
  const active = () => page.evaluate(() => {
    const e = document.activeElement;
    return e ? (e.id || e.name || e.tagName.toLowerCase()) + (e.type === "submit" ? ":submit" : "") : "";
  });
  // Tab to an element (at most 25 steps), recording every stop.
  const tabTo = async (want) => {
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press("Tab");
      const a = await active();
      out.focus.push(a);
      if (a === want) return;
    }
    throw new Error(`never reached ${want}; order: ${out.focus.join(" > ")}`);
  };
  await tabTo("text");
  await page.keyboard.type("Wann wird die Brücke am Markt saniert?");
  await tabTo("name");
  await page.keyboard.type("Erika");
  await tabTo("email");
  await page.keyboard.type("erika@example.org");
  await tabTo("show_name");
  await page.keyboard.press("Space");
  await tabTo("button:submit");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  out.first_status = await page.evaluate(() => document.title);
  out.consent_error = await page.evaluate(() => {
    const c = document.getElementById("consent");
    const d = c && c.getAttribute("aria-describedby");
    return { invalid: c && c.getAttribute("aria-invalid"), text: d ? document.getElementById(d).textContent : null };
  });
  out.kept_text = await page.evaluate(() => document.getElementById("text").value);
  out.focus.push("--- after the error ---");
  await tabTo("consent");
  await page.keyboard.press("Space");
  await tabTo("button:submit");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  out.done = await page.evaluate(() => document.querySelector("main").innerText);
  out.personal_link = await page.evaluate(() => {
    const a = document.querySelector('main a[href^="/q/"]');
    return a ? a.getAttribute("href") : null;
  });
} catch (e) {
  out.error = String(e);
} finally {
  await close();
}
console.log(JSON.stringify(out));
