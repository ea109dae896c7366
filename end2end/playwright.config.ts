import { defineConfig } from "@playwright/test";

// The real server (release build, as users run it) on its own port; Playwright
// waits for /api/time before the first test. Debian's Chromium: Playwright's
// own browser download cannot work here.
const port = Number(process.env.PUSHLAB_E2E_PORT ?? 3210);
const baseURL = process.env.PUSHLAB_URL ?? `http://127.0.0.1:${port}`;
const bin = process.env.PUSHLAB_BIN ?? "../target/release/pushlab";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL,
    viewport: { width: 1280, height: 720 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  webServer: process.env.PUSHLAB_URL
    ? undefined
    : {
        command: `${bin} --addr 127.0.0.1:${port} --rate 20 --token e2e-token`,
        url: `${baseURL}/api/time`,
        reuseExistingServer: false,
        timeout: 60_000,
        env: { LEPTOS_SITE_ROOT: "../target/site", LEPTOS_ENV: "PROD", RUST_LOG: "warn" },
      },
});
