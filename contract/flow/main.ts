// The frontend flow: openapi-fetch on the openapi-typescript types, against a live server
// (TASKLANE_URL). It asserts what a user of the UI would observe. No casts: where the contract
// types something wrongly this does not compile, and that is a contract defect to report.
import type { paths } from "../generated/openapi-typescript/schema";
import { type Api, type Schemas, type Session, apiClient, expectEmpty, expectError, expectStatus, header } from "./api";
import { attachmentsFlow } from "./attachments";
import { boardsFlow } from "./boards";
import { baseUrl, check, equal, fail, main, present, runId, sameSet, sleep, step } from "./check";
import { isActivityRead } from "./guards";
import { HeaderAudit } from "./headers";
import { type SseItem, SseReader } from "./sse";

type Task = Schemas["TaskRead"];
type TaskStatus = Schemas["TaskStatus"];
type Priority = Schemas["Priority"];
type TaskQuery = NonNullable<paths["/api/v1/projects/{project_id}/tasks"]["get"]["parameters"]["query"]>;

const STATUSES: readonly TaskStatus[] = ["backlog", "todo", "in_progress", "in_review", "done", "canceled"];
const PRIORITIES: readonly Priority[] = [0, 1, 2, 3, 4];
const PASSWORD = "correct horse battery staple";
const TASK_COUNT = 250;

interface User {
  id: string;
  email: string;
  name: string;
  session: { current: Session | undefined };
  api: Api;
}

const base = baseUrl();
const id = runId();
let audit: HeaderAudit | undefined;
let anonymous: Api = apiClient(base);

async function register(label: string): Promise<User> {
  const email = `${label}.${id.toLowerCase()}@example.com`;
  const name = `${label[0]?.toUpperCase() ?? ""}${label.slice(1)} ${id}`;
  const created = await expectStatus(
    `register ${label}`,
    201,
    anonymous.POST("/api/v1/auth/register", { body: { email, password: PASSWORD, display_name: name } }),
  );
  equal(`register ${label}: Location`, `/api/v1/users/${created.data.id}`, header("register", created.response, "Location"));
  equal(`register ${label}: email`, email, created.data.email);
  equal(`register ${label}: role`, "user", created.data.role);
  const session: { current: Session | undefined } = { current: undefined };
  return { id: created.data.id, email, name, session, api: apiClient(base, session, audit?.middleware) };
}

async function login(user: User): Promise<void> {
  const { data } = await expectStatus(
    `login ${user.email}`,
    200,
    anonymous.POST("/api/v1/auth/token", {
      body: { username: user.email, password: PASSWORD },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
  equal("login: token_type", "bearer", data.token_type);
  check(data.expires_in > 0, "login: expires_in", "> 0", data.expires_in);
  user.session.current = { access: data.access_token, refresh: data.refresh_token };
}

/** Every task of a list, following next_cursor; fails on a repeated id. */
async function listAll(user: User, projectId: string, query: TaskQuery, what: string): Promise<{ tasks: Task[]; pages: number }> {
  const tasks: Task[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { data: Schemas["Page_TaskRead_"] } = await expectStatus(
      `${what}: page ${pages + 1}`,
      200,
      user.api.GET("/api/v1/projects/{project_id}/tasks", {
        params: { path: { project_id: projectId }, query: { ...query, ...(cursor === null ? {} : { cursor }) } },
      }),
    );
    pages += 1;
    for (const task of page.data.items) {
      check(!seen.has(task.id), `${what}: task ${task.key} appears once`, "once", `again on page ${pages}`);
      seen.add(task.id);
      tasks.push(task);
    }
    check(pages < 1000, `${what}: the cursor chain ends`, "< 1000 pages", pages);
    cursor = page.data.next_cursor;
  } while (cursor !== null);
  return { tasks, pages };
}

async function pool<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    for (;;) {
      const index = next++;
      const item = items[index];
      if (item === undefined) return;
      results[index] = await work(item, index);
    }
  }
  await Promise.all(Array.from({ length: width }, () => worker()));
  return results;
}

function ids(tasks: readonly Task[]): string[] {
  return tasks.map((t) => t.id);
}

void main("openapi-fetch flow", async () => {
  console.log(`  server ${base}, run ${id}`);
  audit = await HeaderAudit.load(base);
  anonymous = apiClient(base, undefined, audit.middleware);
  let alice: User | undefined;
  let bob: User | undefined;
  let project: Schemas["ProjectRead"] | undefined;
  let tasks: Task[] = [];

  await step("health: the server is live", async () => {
    const { data } = await expectStatus("health-live", 200, anonymous.GET("/health/live"));
    equal("health-live: status", "ok", data.status);
  });

  await step("register, login, refresh (and a reused refresh token ends the session)", async () => {
    const a = await register("alice");
    alice = a;
    await login(a);
    const me = await expectStatus("users-me", 200, a.api.GET("/api/v1/users/me"));
    equal("users-me: id", a.id, me.data.id);
    const first = present("session", a.session.current);
    const rotated = await expectStatus("auth-refresh", 200, anonymous.POST("/api/v1/auth/refresh", { body: { refresh_token: first.refresh } }));
    check(rotated.data.refresh_token !== first.refresh, "auth-refresh: a new refresh token", "different", rotated.data.refresh_token);
    a.session.current = { access: rotated.data.access_token, refresh: rotated.data.refresh_token };
    await expectStatus("users-me with the refreshed token", 200, a.api.GET("/api/v1/users/me"));
    const reused = await expectError("auth-refresh with a spent token", 401, anonymous.POST("/api/v1/auth/refresh", { body: { refresh_token: first.refresh } }));
    equal("auth-refresh reuse: error_code", "REFRESH_TOKEN_REUSED", reused.error.error_code);
    const ended = await expectError("users-me after the session ended", 401, a.api.GET("/api/v1/users/me"));
    equal("users-me after reuse: error_code", "INVALID_TOKEN", ended.error.error_code);
    await login(a);
    const wrong = await expectError(
      "login with a wrong password",
      401,
      anonymous.POST("/api/v1/auth/token", {
        body: { username: a.email, password: "not the password" },
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    equal("wrong password: error_code", "INVALID_CREDENTIALS", wrong.error.error_code);
  });

  await step("create a project, add a second user as member", async () => {
    const a = present("alice", alice);
    const b = await register("bob");
    bob = b;
    await login(b);
    const key = `P${id.slice(-6)}`;
    const created = await expectStatus(
      "projects-create",
      201,
      a.api.POST("/api/v1/projects", { body: { key, name: `Flow ${id}`, description: "the contract flow" } }),
    );
    project = created.data;
    equal("projects-create: key", key, created.data.key);
    equal("projects-create: my_role", "owner", created.data.my_role);
    equal("projects-create: Location", `/api/v1/projects/${created.data.id}`, header("projects-create", created.response, "Location"));
    header("projects-create", created.response, "ETag");
    const duplicate = await expectError("projects-create with a taken key", 409, a.api.POST("/api/v1/projects", { body: { key, name: "again" } }));
    equal("taken key: error_code", "PROJECT_KEY_TAKEN", duplicate.error.error_code);

    const hidden = await expectError(
      "bob reads the project before joining",
      404,
      b.api.GET("/api/v1/projects/{project_id}", { params: { path: { project_id: created.data.id } } }),
    );
    equal("non-member: error_code", "PROJECT_NOT_FOUND", hidden.error.error_code);
    const added = await expectStatus(
      "members-add",
      201,
      a.api.POST("/api/v1/projects/{project_id}/members", {
        params: { path: { project_id: created.data.id } },
        body: { email: b.email, role: "member" },
      }),
    );
    equal("members-add: user", b.id, added.data.user_id);
    equal("members-add: role", "member", added.data.role);
    const again = await expectError(
      "members-add twice",
      409,
      a.api.POST("/api/v1/projects/{project_id}/members", { params: { path: { project_id: created.data.id } }, body: { user_id: b.id, role: "member" } }),
    );
    equal("members-add twice: error_code", "ALREADY_MEMBER", again.error.error_code);
    const members = await expectStatus("members-list", 200, b.api.GET("/api/v1/projects/{project_id}/members", { params: { path: { project_id: created.data.id } } }));
    sameSet("members-list", [a.id, b.id], members.data.items.map((m) => m.user_id));
    const seenByBob = await expectStatus("bob reads the project", 200, b.api.GET("/api/v1/projects/{project_id}", { params: { path: { project_id: created.data.id } } }));
    equal("project seen by bob: my_role", "member", seenByBob.data.my_role);
    equal("project seen by bob: member_count", 2, seenByBob.data.member_count);
  });

  await step(`create ${TASK_COUNT} tasks`, async () => {
    const a = present("alice", alice);
    const b = present("bob", bob);
    const p = present("project", project);
    const plan = Array.from({ length: TASK_COUNT }, (_, i) => i);
    tasks = await pool(plan, 8, async (i) => {
      const labels = [...(i % 3 === 0 ? ["frontend"] : []), ...(i % 5 === 0 ? ["bug"] : [])];
      const assignees = i % 4 === 0 ? [b.id] : i % 4 === 1 ? [a.id] : [];
      const body: Schemas["TaskCreate"] = {
        title: `Task ${i} of ${id}${i % 10 === 7 ? " wombat" : ""}`,
        status: STATUSES[i % STATUSES.length] ?? "backlog",
        priority: PRIORITIES[i % PRIORITIES.length] ?? 0,
        labels,
        assignee_ids: assignees,
      };
      const created = await expectStatus(
        `tasks-create #${i}`,
        201,
        a.api.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id } }, body }),
      );
      equal(`tasks-create #${i}: title`, body.title, created.data.title);
      equal(`tasks-create #${i}: assignees`, assignees, created.data.assignees.map((x) => x.id));
      return created.data;
    });
    const numbers = tasks.map((t) => t.number).sort((x, y) => x - y);
    equal("task numbers: 1..N, unique and without gaps", Array.from({ length: TASK_COUNT }, (_, i) => i + 1), numbers);
    for (const t of tasks) equal(`task ${t.id}: key`, `${p.key}-${t.number}`, t.key);
  });

  await step("page through every task with cursors (an insert in between moves nothing)", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    let inserted: Task | undefined;
    do {
      const page: { data: Schemas["Page_TaskRead_"] } = await expectStatus(
        `tasks-list page ${pages + 1}`,
        200,
        a.api.GET("/api/v1/projects/{project_id}/tasks", {
          params: { path: { project_id: p.id }, query: { limit: 40, ...(cursor === null ? {} : { cursor }) } },
        }),
      );
      pages += 1;
      check(page.data.items.length <= 40, "tasks-list: at most limit items", "<= 40", page.data.items.length);
      check(page.data.total === undefined, "tasks-list: total only with include_total", undefined, page.data.total);
      for (const t of page.data.items) {
        check(!seen.has(t.id), `tasks-list: ${t.key} once`, "once", `again on page ${pages}`);
        seen.add(t.id);
      }
      if (pages === 1) {
        const extra = await expectStatus(
          "tasks-create between pages",
          201,
          a.api.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id } }, body: { title: `Inserted while paging ${id}` } }),
        );
        inserted = extra.data;
      }
      cursor = page.data.next_cursor;
    } while (cursor !== null);
    equal("tasks-list: pages of 40", Math.ceil(TASK_COUNT / 40), pages);
    const newest = present("the inserted task", inserted);
    check(!seen.has(newest.id), "newest-first paging: a task inserted after page 1 is not on a later page", "absent", newest.key);
    sameSet("tasks-list (sort -created_at, limit 40)", ids(tasks), seen);
    tasks.push(newest);

    const ascending = await listAll(a, p.id, { sort: "number", limit: 100 }, "tasks-list sort=number");
    equal("sort=number: order", tasks.map((t) => t.number).sort((x, y) => x - y), ascending.tasks.map((t) => t.number));
    equal("sort=number limit=100: pages", Math.ceil(tasks.length / 100), ascending.pages);
    const withTotal = await expectStatus(
      "tasks-list include_total",
      200,
      a.api.GET("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id }, query: { include_total: true, limit: 1 } } }),
    );
    equal("include_total: total", tasks.length, withTotal.data.total);
  });

  await step("filters: status, priority, assignee (id, me, none), label, q", async () => {
    const a = present("alice", alice);
    const b = present("bob", bob);
    const p = present("project", project);
    const expectIds = async (who: User, query: TaskQuery, expected: readonly Task[], what: string): Promise<void> => {
      const got = await listAll(who, p.id, { ...query, limit: 100 }, what);
      sameSet(what, ids(expected), ids(got.tasks));
    };
    const open: TaskStatus[] = ["todo", "in_progress"];
    await expectIds(a, { status: open }, tasks.filter((t) => open.includes(t.status)), "status=todo,in_progress");
    await expectIds(a, { priority: [1] }, tasks.filter((t) => t.priority === 1), "priority=1");
    await expectIds(a, { assignee: b.id }, tasks.filter((t) => t.assignees.some((x) => x.id === b.id)), "assignee=<bob>");
    await expectIds(b, { assignee: "me" }, tasks.filter((t) => t.assignees.some((x) => x.id === b.id)), "assignee=me (bob)");
    await expectIds(a, { assignee: "none" }, tasks.filter((t) => t.assignees.length === 0), "assignee=none");
    await expectIds(a, { label: ["frontend", "bug"] }, tasks.filter((t) => t.labels.includes("frontend") && t.labels.includes("bug")), "label=frontend&label=bug (all)");
    await expectIds(a, { q: "wombat" }, tasks.filter((t) => t.title.includes("wombat")), "q=wombat");
    await expectIds(
      a,
      { status: ["done"], assignee: a.id },
      tasks.filter((t) => t.status === "done" && t.assignees.some((x) => x.id === a.id)),
      "status=done&assignee=<alice>",
    );
    const bad = await expectError(
      "tasks-list limit=0",
      422,
      a.api.GET("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id }, query: { limit: 0 } } }),
    );
    equal("limit=0: error_code", "VALIDATION_FAILED", bad.error.error_code);
    check(bad.error.field_errors !== undefined && "query.limit" in bad.error.field_errors, "limit=0: field_errors names query.limit", "query.limit", bad.error.field_errors);
  });

  await step("304 with If-None-Match (task and list)", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const t = present("a task", tasks[0]);
    const path = { project_id: p.id, task_id: t.id };
    const first = await expectStatus("tasks-get", 200, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path } }));
    const etag = header("tasks-get", first.response, "ETag");
    const cached = header("tasks-get", first.response, "X-Cache");
    check(cached === "HIT" || cached === "MISS", "tasks-get: X-Cache", "HIT or MISS", cached);
    const again = await a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path, header: { "If-None-Match": etag } } });
    equal("tasks-get If-None-Match: status", 304, again.response.status);
    equal("tasks-get 304: ETag", etag, again.response.headers.get("ETag"));
    equal("tasks-get 304: empty body", "", await again.response.clone().text().catch(() => ""));
    const list = await expectStatus("tasks-list", 200, a.api.GET("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id }, query: { limit: 5 } } }));
    const listTag = header("tasks-list", list.response, "ETag");
    const listAgain = await a.api.GET("/api/v1/projects/{project_id}/tasks", {
      params: { path: { project_id: p.id }, query: { limit: 5 }, header: { "If-None-Match": listTag } },
    });
    equal("tasks-list If-None-Match: status", 304, listAgain.response.status);
  });

  await step("conditional update: 200 with the ETag, then 412 with the old one, branched on error_code", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const t = present("a task", tasks[1]);
    const path = { project_id: p.id, task_id: t.id };
    const read = await expectStatus("tasks-get", 200, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path } }));
    const etag1 = header("tasks-get", read.response, "ETag");
    const updated = await expectStatus(
      "tasks-update If-Match current",
      200,
      a.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path, header: { "If-Match": etag1 } }, body: { title: "Renamed once" } }),
    );
    const etag2 = header("tasks-update", updated.response, "ETag");
    check(etag2 !== etag1, "tasks-update: a new ETag", `not ${etag1}`, etag2);
    equal("tasks-update: title", "Renamed once", updated.data.title);

    const stale = await a.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", {
      params: { path, header: { "If-Match": etag1 } },
      body: { title: "Lost update" },
    });
    equal("tasks-update with a stale If-Match: status", 412, stale.response.status);
    const problem = stale.error;
    if (problem === undefined) return fail("tasks-update stale: a problem body", "PRECONDITION_FAILED", stale.data);
    let retryWith: string | undefined;
    switch (problem.error_code) {
      case "PRECONDITION_FAILED":
        // The UI would show "changed by someone else" and offer to retry on the current version.
        equal("412: status member", 412, problem.status);
        equal("412: current_etag", etag2, problem.current_etag);
        retryWith = problem.current_etag;
        break;
      case "INVALID_TOKEN":
      case "NOT_AUTHENTICATED":
      case "INSUFFICIENT_ROLE":
      case "PROJECT_NOT_FOUND":
      case "TASK_NOT_FOUND":
      case "PROJECT_ARCHIVED":
      case "PAYLOAD_TOO_LARGE":
      case "UNSUPPORTED_MEDIA_TYPE":
      case "ASSIGNEE_NOT_MEMBER":
      case "INVALID_PARENT":
      case "MALFORMED_JSON":
      case "VALIDATION_FAILED":
      case "RATE_LIMITED":
      case "INTERNAL_ERROR":
      case "SERVICE_UNAVAILABLE":
      case "SHUTTING_DOWN":
        return fail("tasks-update stale: error_code", "PRECONDITION_FAILED", problem);
      default: {
        const unhandled: never = problem;
        return fail("tasks-update stale: an error_code the contract lists", "a listed code", unhandled);
      }
    }
    const retried = await expectStatus(
      "tasks-update If-Match current_etag",
      200,
      a.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", {
        params: { path, header: { "If-Match": present("current_etag", retryWith) } },
        body: { title: "Renamed twice" },
      }),
    );
    equal("retried update: title", "Renamed twice", retried.data.title);
    tasks[1] = retried.data;
  });

  await step("idempotent create: the same Idempotency-Key twice gives the same task", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const key = `flow-${id}-1`;
    const body = { title: `Idempotent ${id}`, labels: ["once"] };
    const send = () =>
      a.api.POST("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id }, header: { "Idempotency-Key": key } }, body });
    const first = await expectStatus("tasks-create with a key", 201, send());
    equal("first answer: Idempotent-Replayed", null, first.response.headers.get("Idempotent-Replayed"));
    const second = await expectStatus("tasks-create with the same key", 201, send());
    equal("replay: the same task", first.data.id, second.data.id);
    equal("replay: the same body", first.data, second.data);
    equal("replay: Idempotent-Replayed", "true", second.response.headers.get("Idempotent-Replayed"));
    equal("replay: the same ETag", first.response.headers.get("ETag"), second.response.headers.get("ETag"));
    const other = await expectError(
      "tasks-create with the same key and another body",
      422,
      a.api.POST("/api/v1/projects/{project_id}/tasks", {
        params: { path: { project_id: p.id }, header: { "Idempotency-Key": key } },
        body: { title: "Something else" },
      }),
    );
    equal("key reused: error_code", "IDEMPOTENCY_KEY_REUSED", other.error.error_code);
    const all = await listAll(a, p.id, { q: "Idempotent", limit: 100 }, "tasks-list q=Idempotent");
    equal("one task for two requests", [first.data.id], ids(all.tasks));
    tasks.push(first.data);
  });

  await step("comments: bob comments, edits; alice reads", async () => {
    const a = present("alice", alice);
    const b = present("bob", bob);
    const p = present("project", project);
    const t = present("a task", tasks[2]);
    const path = { project_id: p.id, task_id: t.id };
    const created = await expectStatus(
      "comments-create",
      201,
      b.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/comments", { params: { path }, body: { body: "Looks good to me" } }),
    );
    equal("comment: author", b.id, created.data.author.id);
    equal("comment: edited_at", null, created.data.edited_at);
    const edited = await expectStatus(
      "comments-update",
      200,
      b.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}/comments/{comment_id}", {
        params: { path: { ...path, comment_id: created.data.id } },
        body: { body: "Looks good to me (edited)" },
      }),
    );
    check(edited.data.edited_at !== null, "edited comment: edited_at", "a time", edited.data.edited_at);
    const notMine = await expectError(
      "alice edits bob's comment",
      403,
      a.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}/comments/{comment_id}", {
        params: { path: { ...path, comment_id: created.data.id } },
        body: { body: "hijacked" },
      }),
    );
    equal("not the author: error_code", "NOT_COMMENT_AUTHOR", notMine.error.error_code);
    const list = await expectStatus("comments-list", 200, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}/comments", { params: { path } }));
    equal("comments-list", ["Looks good to me (edited)"], list.data.items.map((c) => c.body));
  });

  await step("activity: project and task", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const renamed = present("the renamed task", tasks[1]);
    const activity = await expectStatus(
      "activity-list verb=task.updated",
      200,
      a.api.GET("/api/v1/projects/{project_id}/activity", { params: { path: { project_id: p.id }, query: { verb: ["task.updated"], limit: 100 } } }),
    );
    const mine = activity.data.items.filter((x) => x.task_id === renamed.id);
    equal("task.updated entries of the renamed task", 2, mine.length);
    for (const entry of activity.data.items) equal("activity-list verb filter", "task.updated", entry.verb);
    const newest = present("newest task.updated", mine[0]);
    equal("newest rename: changes.title", ["Renamed once", "Renamed twice"], newest.changes.title);
    equal("newest rename: actor", a.id, newest.actor.id);
    const commented = present("the commented task", tasks[2]);
    const forTask = await expectStatus(
      "activity-list-for-task",
      200,
      a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}/activity", { params: { path: { project_id: p.id, task_id: commented.id } } }),
    );
    const verbs = forTask.data.items.map((x) => x.verb);
    check(verbs.includes("task.created"), "task activity: task.created", "present", verbs);
    check(verbs.some((v) => v.startsWith("comment.")), "task activity: a comment verb", "present", verbs);
  });

  await step("stats match the tasks", async () => {
    const a = present("alice", alice);
    const b = present("bob", bob);
    const p = present("project", project);
    const { data, response } = await expectStatus("stats-get", 200, a.api.GET("/api/v1/projects/{project_id}/stats", { params: { path: { project_id: p.id } } }));
    equal("stats: total", tasks.length, data.total);
    for (const status of STATUSES) {
      const expected = tasks.filter((t) => t.status === status).length;
      const row = data.by_status.find((r) => r.status === status);
      equal(`stats: by_status ${status}`, expected, row?.count ?? 0);
    }
    equal("stats: unassigned", tasks.filter((t) => t.assignees.length === 0).length, data.unassigned);
    const bobs = data.by_assignee.find((r) => r.user_id === b.id);
    equal("stats: by_assignee bob", tasks.filter((t) => t.assignees.some((x) => x.id === b.id)).length, bobs?.count ?? 0);
    const etag = header("stats-get", response, "ETag");
    const again = await a.api.GET("/api/v1/projects/{project_id}/stats", { params: { path: { project_id: p.id }, header: { "If-None-Match": etag } } });
    equal("stats If-None-Match: status", 304, again.response.status);
  });

  await step("delete and restore a task", async () => {
    const a = present("alice", alice);
    const b = present("bob", bob);
    const p = present("project", project);
    const t = present("a task", tasks[3]);
    const path = { project_id: p.id, task_id: t.id };
    const read = await expectStatus("tasks-get", 200, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path } }));
    await expectEmpty(
      "tasks-delete If-Match",
      204,
      a.api.DELETE("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path, header: { "If-Match": header("tasks-get", read.response, "ETag") } } }),
    );
    const gone = await expectError("tasks-get deleted", 404, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path } }));
    equal("deleted: error_code", "TASK_NOT_FOUND", gone.error.error_code);
    const visible = await listAll(a, p.id, { limit: 100 }, "tasks-list after delete");
    check(!ids(visible.tasks).includes(t.id), "tasks-list hides the deleted task", "absent", t.key);
    const withDeleted = await listAll(a, p.id, { include_deleted: true, limit: 100 }, "tasks-list include_deleted");
    const deleted = withDeleted.tasks.find((x) => x.id === t.id);
    check(deleted !== undefined && deleted.deleted_at !== null, "include_deleted: the task with deleted_at", "deleted_at set", deleted);
    await expectError(
      "tasks-list include_deleted as a member",
      403,
      b.api.GET("/api/v1/projects/{project_id}/tasks", { params: { path: { project_id: p.id }, query: { include_deleted: true } } }),
    );
    const restored = await expectStatus("tasks-restore", 200, a.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/restore", { params: { path } }));
    equal("restored: deleted_at", null, restored.data.deleted_at);
    await expectStatus("tasks-get restored", 200, a.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path } }));
  });

  await step("bulk update: 10 tasks and an unknown id", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const chosen = tasks.slice(10, 20);
    const unknown = "0123456789abcdef01234567";
    const { data } = await expectStatus(
      "tasks-bulk-update",
      200,
      a.api.POST("/api/v1/projects/{project_id}/tasks/bulk-update", {
        params: { path: { project_id: p.id } },
        body: { ids: [...ids(chosen), unknown], set: { status: "done", add_labels: ["bulk"] } },
      }),
    );
    const outcome = new Map(data.results.map((r) => [r.id, r.result]));
    for (const t of chosen) equal(`bulk result for ${t.key}`, "updated", outcome.get(t.id));
    equal("bulk result for an unknown id", "not_found", outcome.get(unknown));
    const labelled = await listAll(a, p.id, { label: ["bulk"], status: ["done"], limit: 100 }, "tasks-list label=bulk&status=done");
    sameSet("bulk-updated tasks", ids(chosen), ids(labelled.tasks));
    for (const t of chosen) {
      const fresh = labelled.tasks.find((x) => x.id === t.id);
      check(fresh !== undefined && fresh.completed_at !== null, `bulk done ${t.key}: completed_at`, "set", fresh?.completed_at);
    }
  });

  await step("event stream: one event after a change, then Last-Event-ID resumes with the missed one", async () => {
    const a = present("alice", alice);
    const p = present("project", project);
    const t = present("a task", tasks[4]);
    const opened = await a.api.GET("/api/v1/projects/{project_id}/events", { params: { path: { project_id: p.id } }, parseAs: "stream" });
    equal("activity-stream: status", 200, opened.response.status);
    const contentType = opened.response.headers.get("Content-Type") ?? "";
    check(contentType.startsWith("text/event-stream"), "activity-stream: Content-Type", "text/event-stream", contentType);
    const body = present("activity-stream body", opened.data);
    const stream = new SseReader(body);
    const first = await stream.next();
    check(first !== undefined && first.kind === "comment", "activity-stream: opens with a comment", ": connected", first);
    await expectStatus(
      "tasks-update while streaming",
      200,
      a.api.PATCH("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path: { project_id: p.id, task_id: t.id } }, body: { priority: 1 } }),
    );
    const items: SseItem[] = [];
    const event = await stream.until((m) => m.event === "task.updated", 10_000, items);
    await stream.cancel();
    if (event === undefined) return fail("activity-stream: a task.updated event within 10 s", "task.updated", items);
    const record: unknown = JSON.parse(event.data);
    if (!isActivityRead(record)) return fail("activity-stream: data is an ActivityRead", "ActivityRead", record);
    equal("event: target", t.id, record.target.id);
    equal("event: id field is the activity id", record.id, event.lastEventId);
    equal("event: changes.priority", [t.priority, 1], record.changes.priority);

    // Missed while disconnected: a comment, then resume from the last id seen.
    await expectStatus(
      "comments-create while disconnected",
      201,
      a.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/comments", { params: { path: { project_id: p.id, task_id: t.id } }, body: { body: "while away" } }),
    );
    const resumed = await a.api.GET("/api/v1/projects/{project_id}/events", {
      params: { path: { project_id: p.id }, header: { "Last-Event-ID": event.lastEventId } },
      parseAs: "stream",
    });
    const again = new SseReader(present("resumed stream body", resumed.data));
    const missed: string[] = [];
    const got = await again.until(
      (m) => {
        missed.push(`${m.event}:${m.lastEventId}`);
        return m.event.startsWith("comment.");
      },
      10_000,
    );
    await sleep(300);
    await again.cancel();
    check(got !== undefined, "resumed stream: the missed comment event", "comment.created", missed);
    equal("resumed stream: only what came after Last-Event-ID, once", 1, missed.length);
  });

  // Boards (labels, batch create, relations, ordering, search by key) on the same project, after the
  // steps that count its tasks; before the header audit, which then covers their answers too.
  await boardsFlow({ alice: present("alice", alice), bob: present("bob", bob), project: present("project", project), runId: id });

  // Attachments on one of the project's tasks, uploaded by Alice (the owner).
  const uploader = present("alice", alice);
  await attachmentsFlow({ uploader: uploader.api, uploaderId: uploader.id, project: present("project", project), task: present("a task", tasks[0]) });

  await step("every response header the flow saw is documented for its operation and status", async () => {
    const seen = present("the header audit", audit);
    const byHeader = new Map<string, string[]>();
    for (const [key, count] of seen.undocumented) {
      const [where = key, name = "?"] = key.split(": ");
      byHeader.set(name, [...(byHeader.get(name) ?? []), `${where} (x${count})`]);
    }
    for (const [name, where] of [...byHeader].sort()) {
      const shown = where.sort().slice(0, 4).join("; ");
      console.log(`      undocumented header ${name}: on ${where.length} operation/status pair(s): ${shown}${where.length > 4 ? "; ..." : ""}`);
    }
    check(byHeader.size === 0, "response headers documented in the contract", "none undocumented", [...byHeader.keys()]);
  });
});
