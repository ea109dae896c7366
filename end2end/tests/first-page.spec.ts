import { expect, test } from "@playwright/test";
import { number, openDashboard } from "./helpers";

test("the page hydrates and counts live events over SSE", async ({ page }) => {
  const errors = await openDashboard(page);
  await expect.poll(() => number(page, "event-count")).toBeGreaterThan(20);
  const first = await number(page, "event-count");
  await expect.poll(() => number(page, "event-count")).toBeGreaterThan(first + 10);
  await expect(page.getByTestId("gaps")).toHaveText("0");
  await expect(page.getByTestId("duplicates")).toHaveText("0");
  await expect(page.getByTestId("recent-events").locator("li")).toHaveCount(8);
  await page.screenshot({ path: "screenshots/first-page.png" });
  expect(errors).toEqual([]);
});
