import { expect, test } from "@playwright/test";
import { control, number, openDashboard } from "./helpers";

test.afterEach(async ({ request }) => {
  await control(request, { action: "set_rate", per_s: 20 });
});

// docs/PROTOCOL.md §2: the instructor's action reaches every transport as an announcement,
// and each page says it in words; a page that opens later shows it as earlier news.
test("an announcement reaches a page on every transport, and a late joiner", async ({ browser, request }) => {
  const pages = [];
  for (const query of ["?transport=poll&interval=1", "?transport=long-poll", "?transport=sse", "?transport=ws"]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDashboard(page, query);
    await expect(page.getByTestId("status")).not.toHaveText("connecting");
    pages.push(page);
  }
  await control(request, { action: "set_rate", per_s: 7 });
  const text = "The instructor set the rate to 7 events/s.";
  for (const page of pages) {
    const shown = page.getByTestId("announcement-text");
    await expect(shown).toHaveText(text);
    await expect(shown).toHaveAttribute("data-live", "true");
    expect(await number(page, "gaps")).toBe(0);
    expect(await number(page, "unparsed")).toBe(0);
  }
  await pages[2].screenshot({ path: "screenshots/announcement.png" });
  const late = await (await browser.newContext()).newPage();
  await openDashboard(late, "?transport=sse");
  await expect(late.getByTestId("announcement-text")).toHaveText(text);
  await expect(late.getByTestId("announcement-text")).toHaveAttribute("data-live", "false");
  for (const page of [...pages, late]) await page.context().close();
});

// Issue 10: at 1280×720 in projector mode, a control and its effect are on screen together.
test("projector mode keeps the instructor's controls beside the figures at 1280×720", async ({ page }) => {
  await openDashboard(page, "?transport=ws");
  await page.getByTestId("projector").click();
  await expect(page).toHaveURL(/projector=1/);
  await page.getByTestId("token").fill("e2e-token");
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("set-rate")).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 0));
  const inView = async (testId: string) => {
    const box = (await page.getByTestId(testId).boundingBox())!;
    return box.y >= 0 && box.y + box.height <= 720 && box.x + box.width <= 1280;
  };
  for (const id of ["set-rate", "fire-burst", "pause", "drop-ws", "lat-p50", "fig-events", "latency-chart", "gaps"]) {
    expect(await inView(id), `${id} on the first screen`).toBe(true);
  }
  await page.getByTestId("rate").fill("40");
  await page.getByTestId("set-rate").click();
  await expect(page.getByTestId("announcement-text")).toHaveText("The instructor set the rate to 40 events/s.");
  await page.screenshot({ path: "screenshots/projector-1280.png" });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.screenshot({ path: "screenshots/projector-1920.png" });
  // The comparison table fits its card: nothing scrolls sideways.
  const table = await page.getByTestId("comparison").evaluate((t) => [t.scrollWidth, t.parentElement!.clientWidth]);
  expect(table[0]).toBeLessThanOrEqual(table[1]);
});
