// Every response header the server sends should be documented for that operation and status
// (DESIGN.md: "every header the server sends documented"). The flow's responses are audited
// against the contract the server serves at /openapi.json (the committed file).
import type { Middleware } from "openapi-fetch";

/** Set by the HTTP layer itself, not by the API. */
const TRANSPORT = new Set(["date", "server", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive"]);

function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null || !(key in value)) return undefined;
  return Object.entries(value).find(([k]) => k === key)?.[1];
}

export class HeaderAudit {
  /** "METHOD path status: header" -> how many responses carried it. */
  readonly undocumented = new Map<string, number>();
  readonly middleware: Middleware;

  private constructor(private readonly spec: unknown) {
    this.middleware = {
      onResponse: ({ request, response, schemaPath }) => {
        this.record(request.method, schemaPath, response);
        return undefined;
      },
    };
  }

  static async load(baseUrl: string): Promise<HeaderAudit> {
    const answer = await fetch(`${baseUrl}/openapi.json`);
    const spec: unknown = await answer.json();
    return new HeaderAudit(spec);
  }

  private documented(method: string, path: string, status: number): Set<string> | undefined {
    const responses = field(field(field(field(this.spec, "paths"), path), method.toLowerCase()), "responses");
    const response = field(responses, String(status)) ?? field(responses, `${String(status)[0] ?? ""}XX`) ?? field(responses, "default");
    if (response === undefined) return undefined;
    const headers = field(response, "headers");
    return new Set(typeof headers === "object" && headers !== null ? Object.keys(headers).map((h) => h.toLowerCase()) : []);
  }

  record(method: string, path: string, response: Response): void {
    const documented = this.documented(method, path, response.status);
    if (documented === undefined) {
      this.count(`${method} ${path} ${response.status}: (status not documented)`);
      return;
    }
    response.headers.forEach((_value, name) => {
      const lower = name.toLowerCase();
      if (!TRANSPORT.has(lower) && !documented.has(lower)) this.count(`${method} ${path} ${response.status}: ${lower}`);
    });
  }

  private count(key: string): void {
    this.undocumented.set(key, (this.undocumented.get(key) ?? 0) + 1);
  }
}
