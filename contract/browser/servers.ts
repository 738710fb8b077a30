// API processes the browser check starts and stops itself (the reconnect part), on real servers.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { sleep } from "../flow/check";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ApiProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** The exit code, or the signal's name when a signal ended it (uvicorn re-raises SIGTERM after draining). */
  exited: Promise<string>;
}

const running = new Set<ApiProcess>();

process.on("exit", () => {
  for (const api of running) api.child.kill("SIGKILL");
});

export async function startApi(name: string, port: number, env: NodeJS.ProcessEnv, logPath: string): Promise<ApiProcess> {
  const bin = env["TASKLANE_BIN"];
  if (bin === undefined || bin === "") throw new Error("TASKLANE_BIN is not set (the path of the tasklane command)");
  const log = createWriteStream(logPath, { flags: "a" });
  const child = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", String(port)], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(code === null ? String(signal) : String(code))));
  const api: ApiProcess = { name, port, url: `http://127.0.0.1:${port}`, child, exited };
  running.add(api);
  void exited.then(() => running.delete(api));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} while starting; see ${logPath}`);
    try {
      const answer = await fetch(`${api.url}/health/live`);
      if (answer.status === 200) return api;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer /health/live within 30 s; see ${logPath}`);
    await sleep(150);
  }
}

/** SIGTERM, as an orchestrator would, and wait for the process to drain and exit. */
export async function stopApi(api: ApiProcess, timeoutMs = 20_000): Promise<string> {
  if (api.child.exitCode !== null || api.child.signalCode !== null) return api.exited;
  api.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const result = await Promise.race([api.exited, timeout]);
  clearTimeout(timer);
  if (result === "timeout") {
    api.child.kill("SIGKILL");
    throw new Error(`${api.name} did not exit within ${timeoutMs} ms of SIGTERM`);
  }
  return result;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((api) => stopApi(api).catch(() => null)));
}
