import { ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

// Servers of a test's own (the shared one of playwright.config.ts is used by
// every other test): a free port, the release binary, stopped by the caller.

export const bin = process.env.PUSHLAB_BIN ?? "../target/release/pushlab";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `command args` and resolves once its output contains `ready`. */
export async function startProcess(command: string, args: string[], ready: RegExp | string,
  env: Record<string, string> = {}): Promise<{ proc: ChildProcess; out: () => string }> {
  const proc = spawn(command, args, {
    env: { ...process.env, LEPTOS_SITE_ROOT: "../target/site", LEPTOS_ENV: "PROD", RUST_LOG: "info", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${out}`)), 60_000);
    const read = (c: Buffer) => {
      out += c.toString();
      if (typeof ready === "string" ? out.includes(ready) : ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on("data", read);
    proc.stderr!.on("data", read);
    proc.on("exit", (code) => reject(new Error(`${command} exited ${code}:\n${out}`)));
  });
  return { proc, out: () => out };
}
