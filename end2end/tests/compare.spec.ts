import { readFileSync } from "node:fs";
import { expect, Locator, Page, test } from "@playwright/test";
import { choose, control, openDashboard } from "./helpers";

test.afterEach(async ({ request }) => {
  await control(request, { action: "set_rate", per_s: 20 });
});

/** A number in a table cell ("1,000", "19,964 GB", "7.7 MB/s *"). */
async function cell(row: Locator, col: string): Promise<number> {
  const text = (await row.locator(`td[data-col="${col}"]`).textContent()) ?? "";
  return Number(text.replace(/[^0-9.]/g, ""));
}

/** What an export link downloads. */
async function exported(page: Page, testId: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
  return readFileSync((await download.path())!, "utf8");
}

// Issue 10 item 6: a row never mixes two rates, the exports say what each row
// was measured under, and the projection is the measured costs scaled to N users.
test("a rate change splits the comparison, exports carry the conditions, the projection scales", async ({
  page,
  request,
  baseURL,
}) => {
  await control(request, { action: "set_rate", per_s: 20 });
  await openDashboard(page, "?transport=sse");
  const rows = page.getByTestId("comparison").locator("tbody tr[data-row=sse]");
  // The row learns the rate from the server's stats: nothing is split for that.
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-rate", "20");
  await expect.poll(() => cell(rows.first(), "events")).toBeGreaterThan(5);

  await control(request, { action: "set_rate", per_s: 40 });
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveAttribute("data-current", "false");
  await expect(rows.nth(0).locator("td.lead")).toContainText("20/s");
  await expect(rows.nth(1)).toHaveAttribute("data-rate", "40");
  await expect(rows.nth(1)).toHaveAttribute("data-current", "true");
  await expect(rows.nth(1).locator("td.lead")).toContainText("40/s");
  await expect.poll(() => cell(rows.nth(1), "events")).toBeGreaterThan(10);
  const closed = await cell(rows.nth(0), "events");
  await expect.poll(() => cell(rows.nth(1), "events")).toBeGreaterThan(30);
  expect(await cell(rows.nth(0), "events"), "a closed row stays as it was").toBe(closed);

  // Short polling's interval is a condition of its row alone.
  await choose(page, "poll");
  const polls = page.getByTestId("comparison").locator("tbody tr[data-row=poll]");
  await expect(polls.first().locator("td.lead")).toContainText("40/s · every 2 s");
  await expect.poll(() => cell(polls.first(), "requests")).toBeGreaterThan(1);
  await page.getByTestId("interval").selectOption("1");
  await expect(polls).toHaveCount(2);
  await expect(polls.nth(1).locator("td.lead")).toContainText("40/s · every 1 s");
  await expect(rows).toHaveCount(2);

  const json = JSON.parse(await exported(page, "export-json"));
  expect(json.browser).toMatch(/Chrome \d+/);
  expect(json.server).toBe(new URL(baseURL!).origin);
  expect(json.epoch).toBeTruthy();
  const sse = json.rows.filter((r: { transport: string }) => r.transport === "sse");
  expect(sse.map((r: { rate_per_s: number }) => r.rate_per_s)).toEqual([20, 40]);
  expect(sse.map((r: { current: boolean }) => r.current)).toEqual([false, true]);
  expect(sse[0].duration_s).toBeGreaterThan(0);
  expect(sse[0].interval_s).toBeNull();
  const poll = json.rows.filter((r: { transport: string }) => r.transport === "poll");
  expect(poll.map((r: { interval_s: number }) => r.interval_s)).toEqual([2, 1]);

  const csv = (await exported(page, "export-csv")).trim().split("\n");
  const header = csv[0].split(",");
  const at = (line: string, col: string) => line.split(",")[header.indexOf(col)];
  for (const col of ["rate_per_s", "interval_s", "delay_ms", "duration_s", "browser", "server", "epoch"]) {
    expect(header).toContain(col);
  }
  const sseLines = csv.slice(1).filter((l) => l.startsWith("sse,"));
  expect(sseLines.map((l) => at(l, "rate_per_s"))).toEqual(["20", "40"]);
  expect(at(sseLines[0], "server")).toBe(json.server);
  expect(at(sseLines[0], "browser")).toBe(json.browser);

  // The projection follows the current rate, and its figures scale with the users.
  const projection = page.getByTestId("projection").locator("tbody tr[data-row=sse][data-rate='40']");
  await expect(page.getByTestId("proj-rate")).toHaveValue("40");
  await page.getByTestId("proj-users").fill("1000");
  await expect(projection.locator('td[data-col="connections"]')).toHaveText("1,000");
  const egress = await cell(projection, "egress / month");
  expect(egress).toBeGreaterThan(0);
  await page.getByTestId("proj-users").fill("10000");
  await expect(projection.locator('td[data-col="connections"]')).toHaveText("10,000");
  // Ten times the users, ten times the egress (the row's per-event cost moves a little meanwhile).
  const ratio = (await cell(projection, "egress / month")) / egress;
  expect(ratio).toBeGreaterThan(7);
  expect(ratio).toBeLessThan(13);
  await page.getByTestId("proj-rate").fill("4");
  await expect.poll(async () => (await cell(projection, "egress / month")) / egress).toBeLessThan(2);
});
