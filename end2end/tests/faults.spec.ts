import { expect, test } from "@playwright/test";
import { control, latencyMs, number, openDashboard } from "./helpers";

// The traps, switched on as an instructor would, seen as a participant would.
// Each test leaves the lab as it found it.

test.afterEach(async ({ request }) => {
  await control(request, { action: "reset_lab" });
});

test("ws-dies: the heartbeat presumes the socket dead, reconnects and resumes with gaps 0", async ({ page, request }) => {
  // The shortest heartbeat (5 s): dead after two without a pong.
  await control(request, { action: "set_ping", s: 5 });
  await openDashboard(page, "?transport=ws");
  await expect(page.getByTestId("status")).toHaveText("open");
  await control(request, { action: "fault", fault: "ws-dies", after_ms: 1000 });
  const banner = page.getByTestId("fault-banner");
  await expect(banner).toHaveAttribute("data-faults", "ws-dies");
  await expect(page.getByTestId("teach-trap").first()).toHaveAttribute("data-fault", "ws-dies");
  await page.screenshot({ path: "screenshots/fault-ws-dies.png", fullPage: true });
  const dead = page.getByTestId("request-log").locator("tr", { hasText: "connection presumed dead" });
  await expect(dead.first()).toBeVisible({ timeout: 30_000 });
  // The fault off, the next socket lives: the ledger shows the recovery, with nothing lost.
  await control(request, { action: "fault", fault: "none" });
  await expect(banner).toHaveCount(0);
  const done = page.getByTestId("recovery-ledger").locator("tr[data-done=true]");
  await expect(done.first()).toBeVisible({ timeout: 30_000 });
  await expect(done.first()).toContainText("reconnect");
  await expect(page.getByTestId("gaps")).toHaveText("0");
  await expect(page.getByTestId("duplicates")).toHaveText("0");
  await page.getByTestId("recovery-ledger").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/fault-ledger.png" });
});

test("buffering: SSE latency climbs to seconds while the fault is on", async ({ page, request }) => {
  await openDashboard(page, "?transport=sse");
  await expect(page.getByTestId("status")).toHaveText("open");
  await control(request, { action: "fault", fault: "buffering", bytes: 1048576, max_ms: 2500 });
  await expect(page.getByTestId("fault-banner")).toHaveAttribute("data-faults", "buffering");
  await expect(page.getByTestId("teach-trap").first()).toContainText("X-Accel-Buffering");
  // Events held up to 2.5 s: the median of the last minute rises past a second.
  await expect.poll(() => latencyMs(page, "lat-p95"), { timeout: 30_000 }).toBeGreaterThan(1000);
  await page.screenshot({ path: "screenshots/fault-buffering.png" });
  await expect(page.getByTestId("gaps")).toHaveText("0");
});

test("the instructor switches a trap on and off from the panel", async ({ page }) => {
  await openDashboard(page, "?transport=poll");
  await page.getByTestId("token").fill("e2e-token");
  await page.getByTestId("unlock").click();
  await page.getByTestId("fault-latency").click();
  await expect(page.getByTestId("fault-latency")).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("fault-banner")).toHaveAttribute("data-faults", "latency");
  await expect(page.getByTestId("fault-banner")).toContainText("+200 ms");
  await page.getByTestId("fault-latency").click();
  await expect(page.getByTestId("fault-latency")).toHaveAttribute("aria-pressed", "false");
  await expect(page.getByTestId("fault-banner")).toHaveCount(0);
});

test("idle-cut: a paused SSE stream is cut until the keep-alive is shorter than the cut", async ({ page, request }) => {
  await openDashboard(page, "?transport=sse");
  await expect(page.getByTestId("status")).toHaveText("open");
  await control(request, { action: "pause" });
  await control(request, { action: "fault", fault: "idle-cut", after_s: 2 });
  await expect(page.getByTestId("fault-banner")).toHaveAttribute("data-faults", "idle-cut");
  // Keep-alive 15 s, cut after 2 s of silence: the stream is cut and reconnects, again and again.
  await expect.poll(() => number(page, "fig-reconnects"), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  await control(request, { action: "set_keepalive", s: 1 });
  // Give a cut already under way time to land, then the count stands still.
  await page.waitForTimeout(3_000);
  const settled = await number(page, "fig-reconnects");
  await page.waitForTimeout(5_000);
  expect(await number(page, "fig-reconnects")).toBe(settled);
  await expect(page.getByTestId("gaps")).toHaveText("0");
});

test("hold-first: each long poll's answer waits, and the log shows it", async ({ page, request }) => {
  await control(request, { action: "fault", fault: "hold-first", ms: 1500 });
  await openDashboard(page, "?transport=long-poll");
  await expect(page.getByTestId("fault-banner")).toHaveAttribute("data-faults", "hold-first");
  const row = page.getByTestId("request-log").locator("tr[data-kind='long-poll returned']").first();
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect.poll(async () => {
    const took = (await row.locator("td").nth(7).textContent()) ?? "";
    return took.endsWith(" s") ? Number(took.replace(/[^0-9.]/g, "")) * 1000 : Number(took.replace(/[^0-9.]/g, ""));
  }, { timeout: 15_000 }).toBeGreaterThanOrEqual(1400);
});
