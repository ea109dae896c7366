import { expect, Page } from "@playwright/test";

/** Opens the dashboard and waits until it is hydrated (a click before that is lost). */
export async function openDashboard(page: Page, query = "") {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`/${query}`);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  return errors;
}

export async function number(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).first().textContent()) ?? "";
  return Number(text.replace(/[^0-9.-]/g, ""));
}
