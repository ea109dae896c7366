import { APIRequestContext, expect, Page } from "@playwright/test";

/** Opens the dashboard and waits until it is hydrated (a click before that is lost). */
export async function openDashboard(page: Page, query = "") {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`/${query}`);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  return errors;
}

/** The number shown in a figure (units and separators dropped). */
export async function number(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).first().textContent()) ?? "";
  return Number(text.replace(/[^0-9.-]/g, ""));
}

/** A latency figure in ms ("1.69 ms", "2.50 s"). */
export async function latencyMs(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? "";
  const v = Number(text.replace(/[^0-9.]/g, ""));
  return text.trim().endsWith(" s") ? v * 1000 : v;
}

export async function control(request: APIRequestContext, body: object) {
  const res = await request.post("/api/control", { data: body, headers: { Authorization: "Bearer e2e-token" } });
  expect(res.status()).toBe(200);
  return res.json();
}

export async function choose(page: Page, transport: string) {
  await page.locator(`button[data-transport='${transport}']`).click();
  await expect(page.locator(`button[data-transport='${transport}']`)).toHaveAttribute("aria-checked", "true");
}
