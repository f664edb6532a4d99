// The moderation console in headless Chromium, keyboard only: sign in, approve one question, open the reject
// panel of another, give a reason and reject it. Also counts form controls without a label on each page.
// Prints what happened as JSON.  usage: node moderation.mjs BASE_URL SLUG EMAIL PASSWORD REJECT_ID
import { launch } from "./chromium.mjs";

const [base, slug, email, password, rejectId] = process.argv.slice(2);
const { ctx, close } = await launch("mod");
const out = { focus: [] };
try {
  const page = await ctx.newPage();
  // What has focus: an id, or a button/summary described by its form's action and its text.
  const active = () => page.evaluate(() => {
    const e = document.activeElement;
    if (!e) return "";
    if (e.id) return e.id;
    const action = e.form ? new URL(e.form.action).pathname : "";
    const item = e.closest("li")?.id ?? "";
    return `${e.tagName.toLowerCase()}:${item}:${action}:${e.textContent.trim().split(/\s+/)[0]}`;
  });
  const tabTo = async (test, what) => {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press("Tab");
      const a = await active();
      out.focus.push(a);
      if (test(a)) return a;
    }
    throw new Error(`never reached ${what}; order: ${out.focus.join(" > ")}`);
  };
  const unlabeled = () => page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter((c) =>
      !(c.labels && c.labels.length) && !c.getAttribute("aria-label") && !c.getAttribute("aria-labelledby")
    ).map((c) => c.name || c.id));
  const flash = () => page.evaluate(() => document.querySelector("[role=status]")?.textContent.trim() ?? null);

  await page.goto(`${base}/staff/login`);
  out.login_unlabeled = await unlabeled();
  await tabTo((a) => a === "email", "email");
  await page.keyboard.type(email);
  await tabTo((a) => a === "password", "password");
  await page.keyboard.type(password);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  out.after_login = new URL(page.url()).pathname;

  await page.goto(`${base}/staff/s/${slug}`);
  out.queue_unlabeled = await unlabeled();
  out.lang = await page.evaluate(() => document.documentElement.lang);
  out.focus.push("--- queue ---");
  await tabTo((a) => a.startsWith("button:") && a.endsWith("/approve:Freigeben"), "the first approve button");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  out.approve_flash = await flash();

  // The reject panel of question REJECT_ID: a <details> opened with Enter, then the reason. Focus starts where
  // the approval left it (the approved question), so this also walks on through the queue.
  out.focus.push("--- reject ---");
  await tabTo((a) => a.startsWith(`summary:q${rejectId}:`) && a.endsWith(":Ablehnen"), "the reject panel");
  await page.keyboard.press("Enter");
  const reason = await tabTo((a) => a.startsWith("reason-"), "the reason field");
  out.rejected_id = reason.slice("reason-".length);
  await page.keyboard.type("Doppelt gestellt");
  await tabTo((a) => a.startsWith("button:") && a.endsWith("/reject:Ablehnen"), "the reject button");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  out.reject_flash = await flash();
} catch (e) {
  out.error = String(e);
} finally {
  await close();
}
console.log(JSON.stringify(out));
