import { ChildProcess, spawn } from "node:child_process";
import { expect, Page, test } from "@playwright/test";
import { choose } from "./helpers";
import { freePort } from "./servers";

// Two instances on one Redis behind nginx (scripts/cluster.sh, release build),
// round robin with no sticky sessions: polling lands on both, a WebSocket
// outlives its instance.

type Cluster = { proc: ChildProcess; url: string; pids: Map<string, number> };

async function startCluster(): Promise<Cluster> {
  const port = await freePort();
  const proc = spawn("bash", ["../scripts/cluster.sh", "--no-build", "--port", String(port), "--", "--rate", "10"], {
    cwd: process.cwd(),
    env: { ...process.env, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pids = new Map<string, number>();
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster.sh did not start:\n${out}`)), 60_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/instance (\w+) on \S+ \(pid (\d+)/g)) pids.set(m[1], Number(m[2]));
      const open = out.match(/open: (http:\S+)/);
      if (open) {
        clearTimeout(timer);
        resolve(open[1]);
      }
    };
    proc.stdout!.on("data", read);
    proc.stderr!.on("data", read);
    proc.on("exit", (code) => reject(new Error(`cluster.sh exited ${code}:\n${out}`)));
  });
  return { proc, url, pids };
}

async function stopCluster(c: Cluster) {
  const done = new Promise((resolve) => c.proc.on("exit", resolve));
  c.proc.kill("SIGINT");
  await done;
}

async function open(page: Page, url: string) {
  await page.goto(url);
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** The instances named in the request log's instance column. */
async function instancesInLog(page: Page): Promise<Set<string>> {
  const cells = await page.getByTestId("log-instance").allTextContents();
  return new Set(cells.map((c) => c.trim()).filter((c) => c !== ""));
}

let cluster: Cluster;
test.beforeAll(async () => {
  cluster = await startCluster();
});
test.afterAll(async () => {
  if (cluster) await stopCluster(cluster);
});

test("a long-polling page is answered by both instances, gaps 0", async ({ page }) => {
  await open(page, cluster.url);
  await choose(page, "long-poll");
  await expect.poll(async () => [...(await instancesInLog(page))].sort(), { timeout: 30_000 }).toEqual(["a", "b"]);
  await expect(page.getByTestId("gaps")).toHaveText("0");
  await expect(page.getByTestId("duplicates")).toHaveText("0");
  // The server view lists both, the leader marked.
  await expect(page.getByTestId("instances").locator("tbody tr")).toHaveCount(2);
  await expect(page.getByTestId("instances")).toContainText("★ leader");
  await expect(page.getByTestId("teach-cluster")).toContainText("the cursor is global");
  await page.screenshot({ path: "test-results/cluster-long-poll.png", fullPage: true });
});

test("a WebSocket page survives its instance being killed", async ({ page }) => {
  await open(page, cluster.url);
  await choose(page, "ws");
  const mine = page.getByTestId("instances").locator("tr.mine td:first-child");
  await expect(mine).toHaveCount(1, { timeout: 20_000 });
  const first = ((await mine.textContent()) ?? "").trim().split(" ")[0];
  const pid = cluster.pids.get(first);
  expect(pid, `the pid of instance ${first}`).toBeDefined();
  const before = Number(await page.getByTestId("event-count").textContent());
  process.kill(pid!, "SIGKILL");
  // Reconnected through the balancer to the other instance, and events flow again.
  const other = first === "a" ? "b" : "a";
  await expect(mine).toHaveText(new RegExp(`^${other}`), { timeout: 30_000 });
  await expect
    .poll(async () => Number(await page.getByTestId("event-count").textContent()), { timeout: 30_000 })
    .toBeGreaterThan(before + 5);
  await expect(page.getByTestId("gaps")).toHaveText("0");
  await expect(page.getByTestId("duplicates")).toHaveText("0");
  await page.screenshot({ path: "test-results/cluster-ws-survived.png", fullPage: true });
});
