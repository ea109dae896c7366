import { ChildProcess } from "node:child_process";
import { expect, test } from "@playwright/test";
import { bin, freePort, startProcess } from "./servers";

// Participant pages report their figures; GET /api/room gathers them per
// transport. A server of its own, so no other test's pages are in the room.

let server: ChildProcess;
let base = "";

test.beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = (await startProcess(bin, ["--addr", `127.0.0.1:${port}`, "--rate", "10", "--token", "e2e-token"],
    "pushlab is serving on")).proc;
});

test.afterAll(async () => {
  server?.kill("SIGTERM");
});

test("pages on four transports are four participants, each on its own transport", async ({ browser, request }) => {
  test.setTimeout(90_000);
  const transports = ["poll", "long-poll", "sse", "ws"];
  const contexts = await Promise.all(transports.map(() => browser.newContext()));
  const pages = await Promise.all(contexts.map((c) => c.newPage()));
  await Promise.all(pages.map(async (page, i) => {
    await page.goto(`${base}/?transport=${transports[i]}&interval=1`);
    await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
  }));
  // Two reports each (every 5 s): participants, then rates from the difference.
  await expect.poll(async () => {
    const room = await (await request.get(`${base}/api/room`)).json();
    return transports.map((t) => room.transports[t].participants).join(",") + ` of ${room.participants}`;
  }, { timeout: 20_000 }).toBe("1,1,1,1 of 4");
  await expect.poll(async () => {
    const room = await (await request.get(`${base}/api/room`)).json();
    return room.transports.poll.requests_per_s > 0 && room.transports.sse.bytes_per_s > 0;
  }, { timeout: 20_000 }).toBe(true);
  const room = await (await request.get(`${base}/api/room`)).json();
  for (const t of transports) {
    expect(room.transports[t].gaps, t).toBe(0);
    expect(room.transports[t].dups, t).toBe(0);
    expect(room.transports[t].p50_median_ms, t).not.toBeNull();
  }
  // Short polling asks every second: about one request a second (loose: two busy cores).
  expect(room.transports.poll.requests_per_s).toBeLessThan(3);
  expect(room.join_urls).toEqual([]);
  await expect(pages[2].getByTestId("room-status")).toHaveText("this page reports every 5 s");
  await Promise.all(contexts.map((c) => c.close()));
});
