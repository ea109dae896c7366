import { ChildProcess } from "node:child_process";
import { expect, Page, test } from "@playwright/test";
import { bin, freePort, startProcess } from "./servers";

// `--tls` with its self-signed certificate (Chromium runs with
// --ignore-certificate-errors here) and `--http-addr` beside it: the same lab
// over HTTP/2 and over HTTP/1.1, without a restart.

let server: ChildProcess;
let https = "";
let http = "";

test.use({ ignoreHTTPSErrors: true, launchOptions: {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--ignore-certificate-errors"],
} });

test.beforeAll(async () => {
  const [tls, plain] = [await freePort(), await freePort()];
  https = `https://127.0.0.1:${tls}`;
  http = `http://127.0.0.1:${plain}`;
  server = (await startProcess(bin, ["--tls", "--addr", `127.0.0.1:${tls}`, "--http-addr", `127.0.0.1:${plain}`,
    "--rate", "10", "--token", "e2e-token"], "plain HTTP/1.1")).proc;
});

test.afterAll(async () => {
  server?.kill("SIGTERM");
});

async function open(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

test("over TLS the page runs on HTTP/2: polls, streams and the seven-streams demo", async ({ page }) => {
  await open(page, `${https}/?transport=sse`);
  await expect(page.getByTestId("status")).toHaveText("open");
  await expect(page.getByTestId("protocol")).toHaveText("h2");
  await page.locator("button[data-transport='poll']").click();
  await expect(page.getByTestId("log-protocol").filter({ hasText: "h2" }).first()).toBeVisible();
  await page.getByTestId("seven-start").click();
  const result = page.getByTestId("seven-result");
  await expect(result).toHaveAttribute("data-opened", "7", { timeout: 8_000 });
  await expect(result).not.toHaveAttribute("data-time-ms", "");
  expect(Number(await result.getAttribute("data-time-ms"))).toBeLessThan(2000);
  await result.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "screenshots/h2-seven.png" });
  await expect(page.getByTestId("gaps")).toHaveText("0");
});

test("the WebSocket over TLS runs on HTTP/2 (RFC 8441) and resumes", async ({ page }) => {
  await open(page, `${https}/?transport=ws`);
  await expect(page.getByTestId("status")).toHaveText("open");
  // Chromium asks for WebSocket over HTTP/2 when the server offers extended CONNECT; the pong says so.
  await expect(page.getByTestId("protocol")).toHaveText("h2");
  const pong = page.getByTestId("request-log").locator("tr[data-kind='WS pong'] [data-testid='log-protocol']");
  await expect(pong.filter({ hasText: "h2" }).first()).toBeVisible();
  await page.getByTestId("cut").click();
  await expect(page.getByTestId("status")).toHaveText("open");
  await expect.poll(async () => Number(await page.getByTestId("event-count").textContent()), { timeout: 10_000 })
    .toBeGreaterThan(5);
  await expect(page.getByTestId("gaps")).toHaveText("0");
});

test("over plain HTTP/1.1 the seventh stream and the time request stall", async ({ page }) => {
  // Short polling: the page itself holds no connection, so six of the seven streams open.
  await open(page, `${http}/?transport=poll`);
  await expect(page.getByTestId("log-protocol").filter({ hasText: "http/1.1" }).first()).toBeVisible({ timeout: 10_000 });
  await page.getByTestId("seven-start").click();
  const result = page.getByTestId("seven-result");
  await expect(result).toHaveAttribute("data-opened", "6", { timeout: 8_000 });
  await expect(result).toContainText("1 waiting");
  await expect(result).toContainText("a request for the time is waiting");
  await page.screenshot({ path: "screenshots/h1-seven.png" });
  // Once the demo closes its streams, the queued requests go through.
  await expect(result).not.toHaveAttribute("data-time-ms", "", { timeout: 20_000 });
  expect(Number(await result.getAttribute("data-time-ms"))).toBeGreaterThan(4000);
});

test("with the Resource Timing buffer full, each poll still shows its protocol", async ({ page }) => {
  // A page's other scripts can fill the browser's 250-entry buffer; size 0 keeps it full from the
  // start. The dashboard reads its fetches through a PerformanceObserver, which still sees them all.
  await page.addInitScript(() => performance.setResourceTimingBufferSize(0));
  await open(page, `${http}/?transport=poll`);
  const poll = page.getByTestId("request-log").locator("tr[data-kind='poll']");
  await expect(poll.locator("[data-testid='log-protocol']").filter({ hasText: "http/1.1" }).first())
    .toBeVisible({ timeout: 10_000 });
  await expect.poll(async () => page.evaluate(() => performance.getEntriesByType("resource").length)).toBe(0);
});
