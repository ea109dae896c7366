import { expect, test } from "@playwright/test";
import { choose, control, number, openDashboard } from "./helpers";

test.afterEach(async ({ request }) => {
  await control(request, { action: "set_rate", per_s: 20 });
});

// Issue 10 item 3: each figure counts one thing, the same way on every transport.
test("counters mean the same after switches, cuts and drops, and no held row goes stale", async ({ page, request }) => {
  await openDashboard(page, "?transport=long-poll");
  await control(request, { action: "set_rate", per_s: 0.2 });
  // Once the rate change is in, the next poll is held for seconds: drop it then.
  await expect(page.getByTestId("announcement-text")).toContainText("0.2 events/s");
  const newest = page.getByTestId("request-log").locator("tbody tr").first();
  await expect(newest).toHaveAttribute("data-kind", "long-poll held");
  // The page shows it held when it sends it; drop once the server holds it too.
  await expect
    .poll(async () => (await (await request.get("/api/stats")).json()).transports["long-poll"].open)
    .toBeGreaterThan(0);
  // A long poll dropped by the instructor comes back: a reconnect, as on any transport.
  await control(request, { action: "drop", transport: "long-poll" });
  await expect.poll(() => number(page, "fig-reconnects")).toBe(1);
  // Switching away gives up the held poll: its row says so, it does not stay "held".
  await expect(newest).toHaveAttribute("data-kind", "long-poll held");
  await choose(page, "sse");
  await expect(page.getByTestId("request-log").locator("tr[data-kind='long-poll cancelled']").first()).toBeVisible();
  await expect(page.getByTestId("request-log").locator("tr[data-kind='long-poll held']")).toHaveCount(0);
  // SSE: one request and one connection per open; a cut reopens: one more of each, one reconnect.
  await expect(page.getByTestId("status")).toHaveText("open");
  expect(await number(page, "fig-requests")).toBe(1);
  expect(await number(page, "fig-connections")).toBe(1);
  await page.getByTestId("cut").click();
  await expect.poll(() => number(page, "fig-reconnects")).toBe(1);
  expect(await number(page, "fig-requests")).toBe(2);
  expect(await number(page, "fig-connections")).toBe(2);
  await expect(page.getByTestId("fig-epr")).toHaveText("— (stream)");
  // The browser's own SSE reconnect (after a drop) is a request too.
  await control(request, { action: "drop", transport: "sse" });
  await expect.poll(() => number(page, "fig-reconnects")).toBe(2);
  expect(await number(page, "fig-requests")).toBe(3);
  expect(await number(page, "fig-connections")).toBe(3);
  expect(await number(page, "gaps")).toBe(0);
  expect(await number(page, "duplicates")).toBe(0);
});

// docs/PROTOCOL.md §4 / issue 10 item 5: tabs of one origin count each other and warn
// before the browser's six connections per origin stall the next one.
test("the fifth tab holding a connection warns before the browser's limit stalls one", async ({ browser }) => {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < 4; i++) {
    const page = await context.newPage();
    await openDashboard(page, i % 2 ? "?transport=sse" : "?transport=long-poll");
    pages.push(page);
  }
  await expect(pages[3].getByTestId("tabs-warning")).toHaveCount(0);
  // A WebSocket is outside the browser's HTTP pool: it does not count.
  const socket = await context.newPage();
  await openDashboard(socket, "?transport=ws");
  await expect(socket.getByTestId("tabs-warning")).toHaveCount(0);
  const fifth = await context.newPage();
  await openDashboard(fifth, "?transport=sse");
  await expect(fifth.getByTestId("tabs-warning")).toContainText("5 of the 6 tabs");
  await expect(pages[0].getByTestId("tabs-warning")).toBeVisible();
  await fifth.screenshot({ path: "screenshots/tabs-warning.png" });
  // A tab that switches to short polling gives its connection back.
  await choose(fifth, "poll");
  await expect(fifth.getByTestId("tabs-warning")).toHaveCount(0);
  await expect(pages[0].getByTestId("tabs-warning")).toHaveCount(0);
  await context.close();
});
