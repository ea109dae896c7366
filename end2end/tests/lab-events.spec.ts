import { expect, test } from "@playwright/test";
import { control, number, openDashboard } from "./helpers";

test.afterEach(async ({ request }) => {
  await control(request, { action: "set_rate", per_s: 20 });
});

// SPEC §1: the instructor's action reaches every transport as an announcement,
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
