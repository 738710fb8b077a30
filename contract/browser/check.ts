// The browser check: Debian's Chromium driven by playwright-core (no browser download).
//  (a) /docs (Swagger UI) and /redoc render the operations with every other host blocked;
//  (b) a native EventSource, opened with a stream ticket, receives a live event; a fresh one with a
//      new ticket and `last_event_id` gets what it missed; your own notification stream
//      (/users/me/events, its own ticket) receives the notification of an assignment;
//  (c) on real servers (MONGODB_URL, REDIS_URL): the API process the EventSource is connected to
//      stops (SIGTERM) and starts again; the EventSource reconnects by itself, sending
//      Last-Event-ID, and the event made meanwhile (through a second API process) arrives once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, type Page, type Request, chromium } from "playwright-core";
import { type Api, type Schemas, type Session, apiClient, expectStatus } from "../flow/api";
import { baseUrl, check, equal, fail, main, present, runId, sleep, step } from "../flow/check";
import { ACTIVITY_VERBS, isActivityRead } from "../flow/guards";
import { type ApiProcess, freePort, startApi, stopAll, stopApi } from "./servers";

const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const PASSWORD = "correct horse battery staple";

interface SeenEvent {
  type: string;
  id: string;
  data: string;
}

interface StreamState {
  events: SeenEvent[];
  opens: number;
  errors: number;
  readyStates: number[];
}

declare global {
  interface Window {
    tasklaneStream?: StreamState;
    tasklaneSource?: EventSource;
  }
}

interface Actor {
  base: string;
  api: Api;
  session: { current: Session | undefined };
}

async function signUp(base: string, label: string): Promise<Actor> {
  const anonymous = apiClient(base);
  const email = `${label}.${runId().toLowerCase()}@example.com`;
  await expectStatus(`register ${label}`, 201, anonymous.POST("/api/v1/auth/register", { body: { email, password: PASSWORD, display_name: label } }));
  const { data } = await expectStatus(
    `login ${label}`,
    200,
    anonymous.POST("/api/v1/auth/token", { body: { username: email, password: PASSWORD }, headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
  );
  const session = { current: { access: data.access_token, refresh: data.refresh_token } };
  return { base, api: apiClient(base, session), session };
}

async function createProject(actor: Actor, label: string): Promise<Schemas["ProjectRead"]> {
  const key = `${label}${runId().slice(-6)}`;
  const { data } = await expectStatus("projects-create", 201, actor.api.POST("/api/v1/projects", { body: { key, name: `Browser ${key}` } }));
  return data;
}

async function createTask(actor: Actor, projectId: string, title: string): Promise<Schemas["TaskRead"]> {
  const { data } = await expectStatus(`tasks-create ${title}`, 201, actor.api.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: projectId } }, body: { title } }));
  return data;
}

/** The stream ticket (POST .../events/tickets, 200) and the EventSource URL it gives. */
async function streamUrl(actor: Actor, projectId: string): Promise<string> {
  const answer = await actor.api.POST("/api/v1/projects/{project_id}/events/tickets", { params: { path: { project_id: projectId } } });
  if (answer.response.status !== 200 || answer.data === undefined) {
    fail("stream ticket: POST /api/v1/projects/{project_id}/events/tickets", "200 {ticket, url, expires_at}", {
      status: answer.response.status,
      body: answer.data === undefined ? answer.error : `fields ${Object.keys(answer.data).join(", ")} (values not shown: a ticket is a credential)`,
    });
  }
  const ticket: Schemas["StreamTicket"] = answer.data;
  check(typeof ticket.ticket === "string" && ticket.ticket !== "", "ticket: ticket", "a string", ticket.ticket);
  check(typeof ticket.expires_at === "string" && Date.parse(ticket.expires_at) > Date.now(), "ticket: expires_at in the future", "a later time", ticket.expires_at);
  const expected = `${actor.base}/api/v1/projects/${projectId}/events?ticket=${encodeURIComponent(ticket.ticket)}`;
  check(ticket.url === expected, "ticket: url is the project's stream, absolute, with the ticket", expected, ticket.url);
  return ticket.url;
}

/** A member of a parsed JSON value (undefined when it is not an object or lacks it): no casts. */
function member(value: unknown, name: string): unknown {
  if (typeof value !== "object" || value === null || !(name in value)) return undefined;
  const found: unknown = Reflect.get(value, name);
  return found;
}

/** Open a native EventSource in the page and record what it sees. */
async function openEventSource(page: Page, url: string, types: readonly string[] = ACTIVITY_VERBS): Promise<void> {
  await page.evaluate(
    ({ url, verbs }) => {
      window.tasklaneSource?.close();
      const state: StreamState = { events: [], opens: 0, errors: 0, readyStates: [] };
      window.tasklaneStream = state;
      const source = new EventSource(url);
      window.tasklaneSource = source;
      source.onopen = () => {
        state.opens += 1;
      };
      source.onerror = () => {
        state.errors += 1;
        state.readyStates.push(source.readyState);
      };
      for (const verb of verbs) {
        source.addEventListener(verb, (event) => {
          if (event instanceof MessageEvent) {
            state.events.push({ type: event.type, id: event.lastEventId, data: typeof event.data === "string" ? event.data : "" });
          }
        });
      }
    },
    { url, verbs: types },
  );
}

async function streamState(page: Page): Promise<StreamState> {
  return present("the page's stream state", await page.evaluate(() => window.tasklaneStream));
}

async function waitFor(page: Page, what: string, predicate: (state: StreamState) => boolean, timeoutMs: number): Promise<StreamState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await streamState(page);
    if (predicate(state)) return state;
    if (Date.now() > deadline) return fail(`${what} within ${timeoutMs} ms`, what, state);
    await sleep(100);
  }
}

/** Chromium from Debian with a fresh profile (playwright-core downloads nothing). */
async function launch(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page on which every request to another host than `allowedHost` is aborted and recorded.
 * (Only the docs pages are routed: with interception on, Chromium does not report the headers a
 * request really carried, which the reconnect check reads.)
 */
async function offlinePage(context: BrowserContext, allowedHost: string, aborted: string[]): Promise<Page> {
  const page = await context.newPage();
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    let host = "";
    try {
      host = new URL(url).hostname;
    } catch {
      host = "";
    }
    if (url.startsWith("data:") || url.startsWith("blob:") || host === allowedHost) return route.continue();
    aborted.push(url);
    return route.abort("blockedbyclient");
  });
  return page;
}

function watchFailures(page: Page, origin: string, failures: string[]): void {
  page.on("requestfailed", (request: Request) => {
    if (request.url().startsWith(origin)) failures.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText ?? "failed"}`);
  });
  page.on("response", (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) failures.push(`${response.request().method()} ${response.url()}: HTTP ${response.status()}`);
  });
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
}

async function docsChecks(context: BrowserContext, base: string): Promise<void> {
  const aborted: string[] = [];
  const host = new URL(base).hostname;
  await step("(a) /docs: Swagger UI renders the operations, offline", async () => {
    const page = await offlinePage(context, host, aborted);
    const failures: string[] = [];
    watchFailures(page, base, failures);
    await page.goto(`${base}/docs`, { waitUntil: "load" });
    const operation = page.locator("#operations-tasks-tasks-list");
    await operation.waitFor({ state: "visible", timeout: 20_000 }).catch(() => undefined);
    check(await operation.isVisible(), "Swagger UI: the tasks-list operation block", "visible", await page.locator("#swagger-ui").innerText().catch(() => "(no #swagger-ui)"));
    const path = (await operation.locator(".opblock-summary-path").innerText()).replace(/\u200b/g, "");
    equal("Swagger UI: tasks-list path", "/api/v1/projects/{project_id}/tasks", path);
    const blocks = await page.locator(".opblock").count();
    check(blocks >= 40, "Swagger UI: operation blocks", ">= 40", blocks);
    const errors = await page.locator(".errors-wrapper").count();
    equal("Swagger UI: no errors panel", 0, errors);
    equal("/docs: no failed requests to the server", [], failures);
    equal("/docs: requests to other hosts", [], aborted);
    await page.close();
    console.log(`      ${blocks} operations rendered; other hosts asked for: ${aborted.length === 0 ? "none" : aborted.join(", ")}`);
  });

  await step("(a) /redoc: ReDoc renders the operations, offline", async () => {
    aborted.length = 0;
    const page = await offlinePage(context, host, aborted);
    const failures: string[] = [];
    watchFailures(page, base, failures);
    const answer = await page.goto(`${base}/redoc`, { waitUntil: "load" });
    equal("/redoc: status", 200, answer?.status());
    const operation = page.locator('[data-section-id$="operation/tasks-list"]').first();
    await operation.waitFor({ state: "attached", timeout: 30_000 }).catch(() => undefined);
    check((await operation.count()) === 1, "ReDoc: the tasks-list operation section", "rendered", await page.locator("body").innerText().then((t) => t.slice(0, 300)));
    const heading = await operation.locator("h2").first().innerText();
    check(heading.length > 0, "ReDoc: tasks-list has a heading", "a title", heading);
    const sections = await page.locator('[data-section-id*="operation/"]').count();
    check(sections >= 40, "ReDoc: operation sections", ">= 40", sections);
    equal("/redoc: no failed requests to the server", [], failures);
    equal("/redoc: requests to other hosts", [], aborted);
    await page.close();
    console.log(`      ${sections} operation sections; other hosts asked for: ${aborted.length === 0 ? "none" : aborted.join(", ")}`);
  });
}

async function liveEventCheck(context: BrowserContext, base: string): Promise<void> {
  const alice = await signUp(base, "eve");
  const project = await createProject(alice, "E");
  const task = await createTask(alice, project.id, "watched");
  const page = await context.newPage();
  const failures: string[] = [];
  watchFailures(page, base, failures);
  await page.goto(`${base}/health/live`);
  let firstId = "";

  await step("(b) EventSource with a stream ticket receives a live event", async () => {
    await openEventSource(page, await streamUrl(alice, project.id));
    await waitFor(page, "the EventSource opens", (s) => s.opens >= 1, 10_000);
    await expectStatus(
      "tasks-update",
      200,
      alice.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path: { project_id: project.id, task_id: task.id } }, body: { title: "seen by the browser" } }),
    );
    const state = await waitFor(page, "a task.updated event", (s) => s.events.some((e) => e.type === "task.updated"), 10_000);
    const event = present("task.updated", state.events.find((e) => e.type === "task.updated"));
    check(event.data.includes("seen by the browser"), "event data: the new title", "seen by the browser", event.data);
    check(/^[0-9a-f]{24}$/.test(event.id), "event id: the activity id", "24 hex", event.id);
    firstId = event.id;
    equal("(b) no failed requests to the server", [], failures);
  });

  await step("(b) a fresh EventSource with a new ticket and last_event_id gets the missed events once", async () => {
    await page.evaluate(() => window.tasklaneSource?.close());
    const second = await createTask(alice, project.id, "missed one");
    const third = await createTask(alice, project.id, "missed two");
    const url = await streamUrl(alice, project.id);
    await openEventSource(page, `${url}${url.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(firstId)}`);
    const state = await waitFor(page, "two task.created events", (s) => s.events.filter((e) => e.type === "task.created").length >= 2, 10_000);
    await sleep(500);
    const after = await streamState(page);
    const created = after.events.filter((e) => e.type === "task.created");
    const targets = created.map((e) => {
      const record: unknown = JSON.parse(e.data);
      return isActivityRead(record) ? record.target.id : `not an ActivityRead: ${e.data}`;
    });
    equal("replayed task.created events (once each, in order)", [second.id, third.id], targets);
    check(!after.events.some((e) => e.id === firstId), "replay starts after last_event_id", `not ${firstId}`, state.events.map((e) => e.id));
    await page.evaluate(() => window.tasklaneSource?.close());
  });

  await step("(b) your notification stream: an EventSource with a ticket hears of an assignment", async () => {
    const ticket = await expectStatus("notifications-stream-ticket", 200, alice.api.POST("/api/v1/users/me/events/tickets"));
    const expected = `${base}/api/v1/users/me/events?ticket=${encodeURIComponent(ticket.data.ticket)}`;
    check(ticket.data.url === expected, "ticket: url is your stream, absolute, with the ticket", expected, ticket.data.url);
    await openEventSource(page, ticket.data.url, ["notification", "unread_count"]);
    const opened = await waitFor(page, "the first unread_count event", (s) => s.events.some((e) => e.type === "unread_count"), 10_000);
    const before = present("unread_count", opened.events.find((e) => e.type === "unread_count"));
    const bob = await signUp(base, "bob");
    const bobMe = await expectStatus("users-me bob", 200, bob.api.GET("/api/v1/users/me"));
    const aliceMe = await expectStatus("users-me alice", 200, alice.api.GET("/api/v1/users/me"));
    await expectStatus(
      "members-add bob",
      201,
      alice.api.POST("/api/v1/projects/{project_id}/members", { params: { path: { project_id: project.id } }, body: { email: bobMe.data.email, role: "member" } }),
    );
    const assigned = await expectStatus(
      "tasks-create by bob, assigned to alice",
      201,
      bob.api.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: project.id } }, body: { title: "for alice", assignee_ids: [aliceMe.data.id] } }),
    );
    const state = await waitFor(page, "a notification event", (s) => s.events.some((e) => e.type === "notification"), 10_000);
    const event = present("notification", state.events.find((e) => e.type === "notification"));
    const told = member(JSON.parse(event.data), "notification");
    check(member(told, "kind") === "assigned" && member(told, "task_id") === assigned.data.id, "notification: assigned, the new task", `assigned ${assigned.data.id}`, event.data);
    check(event.id === member(told, "id"), "event id: the notification's id", member(told, "id"), event.id);
    check(!before.data.includes('"unread":1'), "the count before it", "not 1 yet", before.data);
    await page.evaluate(() => window.tasklaneSource?.close());
  });
  await page.close();
}

async function reconnectCheck(context: BrowserContext, logDir: string): Promise<void> {
  const mongo = process.env["MONGODB_URL"];
  const redis = process.env["REDIS_URL"];
  if (mongo === undefined || redis === undefined || mongo === "" || redis === "") {
    fail("(c) needs real servers", "MONGODB_URL and REDIS_URL set", { MONGODB_URL: mongo, REDIS_URL: redis });
  }
  const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URL: mongo, REDIS_URL: redis, DRAIN_TIMEOUT_SECONDS: "5" };
  const portA = await freePort();
  const portB = await freePort();
  let a: ApiProcess = await startApi("api-a", portA, env, join(logDir, "api-a.log"));
  const b = await startApi("api-b", portB, env, join(logDir, "api-b.log"));
  const user = await signUp(a.url, "rex");
  const viaB: Api = apiClient(b.url, user.session);
  const project = await createProject(user, "R");
  const task = await createTask(user, project.id, "before the restart");
  const page = await context.newPage();
  const streamRequests: { url: string; lastEventId: string | undefined }[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "eventsource" || request.url().includes("/events?")) {
      void request.allHeaders().then((headers) => streamRequests.push({ url: request.url(), lastEventId: headers["last-event-id"] }));
    }
  });
  await page.goto(`${a.url}/health/live`);
  let firstId = "";

  await step("(c) an event through api-a reaches the browser", async () => {
    await openEventSource(page, await streamUrl(user, project.id));
    await waitFor(page, "the EventSource opens", (s) => s.opens >= 1, 10_000);
    await expectStatus(
      "tasks-update via api-a",
      200,
      user.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path: { project_id: project.id, task_id: task.id } }, body: { priority: 2 } }),
    );
    const state = await waitFor(page, "task.updated", (s) => s.events.length >= 1, 10_000);
    firstId = present("first event", state.events[0]).id;
  });

  let missedId = "";
  await step("(c) api-a stops (SIGTERM); an event made through api-b meanwhile arrives once after the reconnect", async () => {
    const stopping = Date.now();
    const stopped = await stopApi(a);
    check(stopped === "0" || stopped === "SIGTERM", "api-a exits after SIGTERM", "exit 0 (or the re-raised SIGTERM)", stopped);
    console.log(`      api-a drained and exited (${stopped}) in ${Date.now() - stopping} ms`);
    const dropped = await waitFor(page, "the EventSource notices (error, still CONNECTING)", (s) => s.errors >= 1, 10_000);
    check(!dropped.readyStates.includes(2), "EventSource does not give up (readyState never CLOSED)", "0 (CONNECTING)", dropped.readyStates);
    const { data } = await expectStatus("comments-create via api-b", 201, viaB.POST("/api/v1/projects/{project_id}/tasks/{task_id}/comments", { params: { path: { project_id: project.id, task_id: task.id } }, body: { body: "while api-a was down" } }));
    a = await startApi("api-a (restarted)", portA, env, join(logDir, "api-a.log"));
    const state = await waitFor(page, "the comment.created event after the reconnect", (s) => s.events.some((e) => e.type === "comment.created"), 20_000);
    await sleep(1000);
    const final = await streamState(page);
    const comments = final.events.filter((e) => e.type === "comment.created");
    equal("comment.created events after the reconnect", 1, comments.length);
    missedId = present("the missed event", comments[0]).id;
    check(present("the missed event", comments[0]).data.includes(data.id), "the missed event is the comment", data.id, comments[0]);
    equal("every event once", [...new Set(final.events.map((e) => e.id))], final.events.map((e) => e.id));
    check(final.opens >= 2 && !final.readyStates.includes(2), "the EventSource reconnected by itself", "opens >= 2, never CLOSED", state);
    const reconnects = streamRequests.filter((r) => r.lastEventId !== undefined);
    check(reconnects.some((r) => r.lastEventId === firstId && !r.url.includes("last_event_id")), "the browser sent Last-Event-ID itself", firstId, streamRequests);
  });
  console.log(`      first event ${firstId}, missed event ${missedId}`);
  await page.close();
  await stopApi(a);
  await stopApi(b);
}

void main("browser check", async () => {
  const base = baseUrl();
  const profile = mkdtempSync(join(tmpdir(), "tasklane-chromium-"));
  const logDir = process.env["TASKLANE_LOG_DIR"] ?? profile;
  const context = await launch(profile);
  try {
    await docsChecks(context, base);
    await liveEventCheck(context, base);
    await reconnectCheck(context, logDir);
  } finally {
    await context.close().catch(() => undefined);
    await stopAll();
    rmSync(profile, { recursive: true, force: true });
  }
});
