// Assertions that print what was expected and what was seen, and a step runner.
// No casts anywhere in flow/: a value the contract types wrongly shows up as a compile error
// (or as a failed check here), never as an `as`.

export class CheckFailed extends Error {
  override name = "CheckFailed";
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}...` : text;
  } catch {
    return String(value);
  }
}

export function fail(what: string, expected: unknown, seen: unknown): never {
  throw new CheckFailed(`${what}\n    expected: ${show(expected)}\n    seen:     ${show(seen)}`);
}

export function check(condition: boolean, what: string, expected: unknown, seen: unknown): asserts condition {
  if (!condition) fail(what, expected, seen);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function equal<T>(what: string, expected: T, seen: T): void {
  if (canonical(expected) !== canonical(seen)) fail(what, expected, seen);
}

/** A value the contract marks as always present: its absence is a contract violation, not a cast. */
export function present<T>(what: string, value: T | undefined | null): T {
  if (value === undefined || value === null) fail(`${what} is missing`, "a value", value);
  return value;
}

export function sameSet(what: string, expected: Iterable<string>, seen: Iterable<string>): void {
  const want = new Set(expected);
  const got = new Set(seen);
  const missing = [...want].filter((x) => !got.has(x));
  const extra = [...got].filter((x) => !want.has(x));
  if (missing.length > 0 || extra.length > 0) {
    fail(`${what}: ${missing.length} missing, ${extra.length} unexpected`, `${want.size} items`, {
      seen: got.size,
      missing: missing.slice(0, 5),
      unexpected: extra.slice(0, 5),
    });
  }
}

let steps = 0;

export async function step(name: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await body();
  } catch (error: unknown) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CheckFailed(`step "${name}" failed:\n  ${message}`);
  }
  steps += 1;
  console.log(`  ok  ${name} (${Math.round(performance.now() - started)} ms)`);
}

export async function main(title: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now();
  console.log(`== ${title}`);
  try {
    await body();
    console.log(`== ${title}: ${steps} steps passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error: unknown) {
    console.error(`FAIL ${title}`);
    console.error(error instanceof CheckFailed ? error.message : error);
    process.exitCode = 1;
  }
}

export function baseUrl(): string {
  const url = process.env["TASKLANE_URL"];
  if (url === undefined || url === "") {
    console.error("TASKLANE_URL is not set (e.g. http://127.0.0.1:8000)");
    process.exit(2);
  }
  return url.replace(/\/+$/, "");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A short unique suffix for emails and project keys, so a flow can run twice on one server. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase();
}
