// The same contract through @hey-api/openapi-ts (SDK + its bundled fetch client): login, create a
// project and a task, list a page of tasks, branch on an error, batch-create rows, upload a binary
// file and download part of it. No casts.
// Compiled by tsconfig.hey-api.json (strict, noUncheckedIndexedAccess; without
// exactOptionalPropertyTypes, which the generated client code itself does not compile under).
import { client } from "../generated/hey-api/client.gen";
import {
  attachmentsCreate,
  attachmentsDownload,
  authRegister,
  authToken,
  projectsCreate,
  tasksBatchCreate,
  tasksCreate,
  tasksList,
  type TaskRead,
} from "../generated/hey-api";
import { baseUrl, check, equal, fail, main, present, runId, step } from "../flow/check";

const PASSWORD = "correct horse battery staple";

void main("hey-api flow", async () => {
  const id = runId();
  let token: string | undefined;
  client.setConfig({ baseUrl: baseUrl(), auth: () => token });
  const email = `carol.${id.toLowerCase()}@example.com`;
  let projectId = "";

  await step("register and login (form body)", async () => {
    const registered = await authRegister({ body: { email, password: PASSWORD, display_name: `Carol ${id}` } });
    equal("register: status", 201, registered.response.status);
    equal("register: email", email, registered.data?.email);
    const login = await authToken({ body: { username: email, password: PASSWORD } });
    if (login.data === undefined) return fail("login", "a token pair", { status: login.response.status, error: login.error });
    equal("login: token_type", "bearer", login.data.token_type);
    token = login.data.access_token;
    const wrong = await authToken({ body: { username: email, password: "wrong password!" } });
    equal("wrong password: status", 401, wrong.response.status);
    equal("wrong password: error_code", "INVALID_CREDENTIALS", wrong.error?.error_code);
  });

  await step("create a project and a task", async () => {
    const created = await projectsCreate({ body: { key: `H${id.slice(-6)}`, name: `Hey ${id}` } });
    if (created.data === undefined) return fail("projects-create", 201, { status: created.response.status, error: created.error });
    equal("projects-create: status", 201, created.response.status);
    equal("projects-create: my_role", "owner", created.data.my_role);
    projectId = created.data.id;
    for (const title of ["first", "second", "third"]) {
      const task = await tasksCreate({ path: { project_id: projectId }, body: { title, status: "todo", priority: 2 } });
      if (task.data === undefined) return fail("tasks-create", 201, { status: task.response.status, error: task.error });
      equal("tasks-create: status", "todo", task.data.status);
    }
    const archivedKey = await projectsCreate({ body: { key: created.data.key, name: "again" } });
    const code = archivedKey.error?.error_code;
    switch (code) {
      case "PROJECT_KEY_TAKEN":
        break;
      case undefined:
        return fail("projects-create with a taken key", 409, archivedKey.response.status);
      default:
        return fail("projects-create with a taken key: error_code", "PROJECT_KEY_TAKEN", code);
    }
  });

  await step("list tasks a page at a time", async () => {
    const titles: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data?: { items: TaskRead[]; next_cursor: string | null }; response: Response } = await tasksList({
        path: { project_id: projectId },
        query: { limit: 2, sort: "number", status: ["todo"], ...(cursor === null ? {} : { cursor }) },
      });
      const data = present(`tasks-list page ${pages + 1}`, page.data);
      pages += 1;
      titles.push(...data.items.map((t) => t.title));
      cursor = data.next_cursor;
    } while (cursor !== null && pages < 10);
    equal("tasks-list: pages of 2", 2, pages);
    equal("tasks-list sort=number: titles", ["first", "second", "third"], titles);
    const none = await tasksList({ path: { project_id: projectId }, query: { status: ["done"] } });
    check(none.data !== undefined && none.data.items.length === 0, "status=done: empty", [], none.data?.items);
  });

  await step("batch create pasted rows, one failing alone (narrowed on outcome)", async () => {
    const rows = ["fourth", "assigned to nobody here", "fifth"];
    const batch = await tasksBatchCreate({
      path: { project_id: projectId },
      body: { tasks: rows.map((title, i) => (i === 1 ? { title, assignee_ids: ["0123456789abcdef01234567"] } : { title, status: "done" })) },
    });
    if (batch.data === undefined) return fail("tasks-batch-create", 200, { status: batch.response.status, error: batch.error });
    const created: string[] = [];
    const rowErrors: string[] = [];
    for (const r of batch.data.results) {
      if (r.outcome === "created") created.push(`${r.task.number} ${r.task.title}`);
      else rowErrors.push(`${r.index} ${r.status} ${r.problem.error_code}`);
    }
    equal("batch: created rows, numbered on from the three tasks", ["4 fourth", "5 fifth"], created);
    equal("batch: the failed row", ["1 422 ASSIGNEE_NOT_MEMBER"], rowErrors);
    const done = await tasksList({ path: { project_id: projectId }, query: { status: ["done"], sort: "number" } });
    equal("status=done: the batch's tasks", ["fourth", "fifth"], done.data?.items.map((t) => t.title));
  });

  await step("upload a PNG (a File in a multipart body) and download its first bytes (206)", async () => {
    const task = await tasksCreate({ path: { project_id: projectId }, body: { title: "with a screenshot" } });
    const taskId = present("tasks-create", task.data).id;
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...Array.from({ length: 600 }, (_, i) => i % 256)]);
    const file = new File([png], "screen shot.png", { type: "image/png" });
    const created = await attachmentsCreate({ path: { project_id: projectId, task_id: taskId }, body: { file } });
    if (created.data === undefined) return fail("attachments-create", 201, { status: created.response.status, error: created.error });
    equal("attachments-create: content type", "image/png", created.data.content_type);
    equal("attachments-create: size", png.length, created.data.size);
    const head = await attachmentsDownload({
      path: { project_id: projectId, task_id: taskId, attachment_id: created.data.id },
      headers: { Range: "bytes=0-7" },
    });
    equal("attachments-download: 206", 206, head.response.status);
    const blob = present("attachments-download: the part", head.data);
    equal("attachments-download: the PNG signature", [...png.slice(0, 8)], [...new Uint8Array(await blob.arrayBuffer())]);
  });
});
