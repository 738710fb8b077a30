// Boards (issue 20) as a board UI uses them: the label catalogue, batch create, renaming a label,
// task relations, drag-and-drop order and search by key. main.ts calls boardsFlow with its users
// and project; each step asserts what a user of the board would see. No casts.
import type { paths } from "../generated/openapi-typescript/schema";
import { type Api, type Schemas, expectEmpty, expectError, expectStatus, header } from "./api";
import { check, equal, fail, present, sameSet, step } from "./check";

type Task = Schemas["TaskRead"];
type Label = Schemas["LabelRead"];
type TaskQuery = NonNullable<paths["/api/v1/projects/{project_id}/tasks"]["get"]["parameters"]["query"]>;

/** Who works on the board (main.ts's users fit). */
export interface BoardUser {
  id: string;
  api: Api;
}

export interface Board {
  alice: BoardUser;
  bob: BoardUser;
  project: Schemas["ProjectRead"];
  /** The run's unique suffix, for words that no other task of the project has. */
  runId: string;
}

/** A user id that is no member of the project: the batch item that names it fails alone. */
const NOT_A_MEMBER = "0123456789abcdef01234567";

/** Every task of a list, following next_cursor, in the server's order. */
async function listAll(user: BoardUser, projectId: string, query: TaskQuery, what: string): Promise<Task[]> {
  const tasks: Task[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { data: Schemas["Page_TaskRead_"] } = await expectStatus(
      `${what}: page ${pages + 1}`,
      200,
      user.api.GET("/api/v1/projects/{project_id}/tasks", {
        params: { path: { project_id: projectId }, query: { limit: 100, ...query, ...(cursor === null ? {} : { cursor }) } },
      }),
    );
    pages += 1;
    tasks.push(...page.data.items);
    check(pages < 100, `${what}: the cursor chain ends`, "< 100 pages", pages);
    cursor = page.data.next_cursor;
  } while (cursor !== null);
  return tasks;
}

/** A board column as the UI draws it: one status, top to bottom. */
async function column(user: BoardUser, projectId: string, status: Schemas["TaskStatus"], what: string): Promise<Task[]> {
  const cards = await listAll(user, projectId, { status: [status], sort: "rank" }, what);
  for (const card of cards) equal(`${what}: ${card.key} is in the column`, status, card.status);
  // The contract: ranks compare as plain strings; the list must come in that order.
  for (let i = 1; i < cards.length; i++) {
    const above = present(`${what}: card ${i - 1}`, cards[i - 1]);
    const below = present(`${what}: card ${i}`, cards[i]);
    check(above.rank <= below.rank, `${what}: ranks ascend as plain strings (${above.key} above ${below.key})`, `>= ${above.rank}`, below.rank);
  }
  return cards;
}

/** The autocomplete of the label picker: the catalogue's labels starting with `q`, in the server's order. */
async function suggest(user: BoardUser, projectId: string, q: string): Promise<Label[]> {
  const { data } = await expectStatus(
    `labels-list q=${q}`,
    200,
    user.api.GET("/api/v1/projects/{project_id}/labels", { params: { path: { project_id: projectId }, query: { q, limit: 100 } } }),
  );
  equal(`labels-list q=${q}: one page`, null, data.next_cursor);
  return data.items;
}

function keys(tasks: readonly Task[]): string[] {
  return tasks.map((t) => t.key);
}

export async function boardsFlow(board: Board): Promise<void> {
  const { alice, bob, project } = board;
  const projectId = project.id;
  const word = `quokka${board.runId.toLowerCase()}`;
  let needsDesign: { label: Label; etag: string } | undefined;
  let cards: Task[] = [];

  await step("boards: label catalogue (colour, autocomplete, a taken name is LABEL_EXISTS)", async () => {
    const made: Label[] = [];
    for (const { name, color } of [
      { name: "Needs design", color: "#FF8800" },
      { name: "Needs review", color: "#3e63dd" },
    ]) {
      const created = await expectStatus(
        `labels-create ${name}`,
        201,
        alice.api.POST("/api/v1/projects/{project_id}/labels", { params: { path: { project_id: projectId } }, body: { name, color } }),
      );
      equal(`label ${name}: name`, name, created.data.name);
      equal(`label ${name}: colour, answered lower-case`, color.toLowerCase(), created.data.color);
      equal(`label ${name}: task_label`, name.toLowerCase(), created.data.task_label);
      equal(`label ${name}: Location`, `/api/v1/projects/${projectId}/labels/${created.data.id}`, header("labels-create", created.response, "Location"));
      if (name === "Needs design") needsDesign = { label: created.data, etag: header("labels-create", created.response, "ETag") };
      made.push(created.data);
    }

    // The picker: typing "nee", then "NEEDS R" (any case), suggests by prefix, in name order.
    equal("autocomplete q=nee", ["Needs design", "Needs review"], (await suggest(bob, projectId, "nee")).map((l) => l.name));
    equal("autocomplete q=NEEDS R", ["Needs review"], (await suggest(bob, projectId, "NEEDS R")).map((l) => l.name));
    equal("autocomplete q=needsx", [], (await suggest(bob, projectId, "needsx")).map((l) => l.name));

    // Creating "needs DESIGN" again: the UI branches on the typed problem and offers the existing label.
    const again = await alice.api.POST("/api/v1/projects/{project_id}/labels", {
      params: { path: { project_id: projectId } },
      body: { name: "needs DESIGN", color: "#000000" },
    });
    equal("labels-create a taken name (any case): status", 409, again.response.status);
    const problem = again.error;
    if (problem === undefined) return fail("labels-create a taken name: a problem body", "LABEL_EXISTS", again.data);
    // error_code is typed with the operation's codes: a misspelt "LABEL_EXISTS" would not compile.
    if (problem.error_code !== "LABEL_EXISTS") return fail("labels-create a taken name: error_code", "LABEL_EXISTS", problem);
    equal("LABEL_EXISTS: status member", 409, problem.status);
    const existing = await suggest(bob, projectId, "needs design");
    equal("LABEL_EXISTS: the picker finds the existing label", [present("Needs design", needsDesign).label.id], existing.map((l) => l.id));
    const all = await expectStatus("labels-list", 200, bob.api.GET("/api/v1/projects/{project_id}/labels", { params: { path: { project_id: projectId }, query: { limit: 100 } } }));
    const names = all.data.items.map((l) => l.name.toLowerCase());
    equal("labels-list: in name order, ignoring case", [...names].sort(), names);
    for (const label of made) check(names.includes(label.task_label), `labels-list: ${label.name}`, "listed", names);
  });

  await step("boards: batch create four cards, one failing alone (narrowed on outcome)", async () => {
    const todoBefore = await column(alice, projectId, "todo", "todo column before the batch");
    const rows: Schemas["TaskCreate"][] = [
      { title: `Draw the board ${word}`, status: "todo", labels: ["needs design"] },
      { title: "Assigned to a stranger", status: "todo", assignee_ids: [NOT_A_MEMBER] },
      { title: `Wire the columns ${word}`, status: "todo", labels: ["needs design"], assignee_ids: [bob.id] },
      { title: `Sort out the backlog ${board.runId}`, status: "todo", labels: ["triage"] },
    ];
    const { data } = await expectStatus(
      "tasks-batch-create",
      200,
      alice.api.POST("/api/v1/projects/{project_id}/tasks/batch", { params: { path: { project_id: projectId } }, body: { tasks: rows } }),
    );
    equal("batch: one result per row, in request order", [0, 1, 2, 3], data.results.map((r) => r.index));
    const created: Task[] = [];
    const rowErrors: { index: number; code: string; status: number }[] = [];
    for (const result of data.results) {
      switch (result.outcome) {
        case "created":
          equal(`batch row ${result.index}: status`, 201, result.status);
          equal(`batch row ${result.index}: title`, rows[result.index]?.title, result.task.title);
          created.push(result.task);
          break;
        case "failed":
          equal(`batch row ${result.index}: problem.status`, result.status, result.problem.status);
          check(result.problem.detail.includes(NOT_A_MEMBER), `batch row ${result.index}: detail names the stranger`, NOT_A_MEMBER, result.problem.detail);
          rowErrors.push({ index: result.index, code: result.problem.error_code, status: result.status });
          break;
        default: {
          const unhandled: never = result;
          return fail("batch: an outcome the contract lists", "created or failed", unhandled);
        }
      }
    }
    equal("batch: the failed row", [{ index: 1, code: "ASSIGNEE_NOT_MEMBER", status: 422 }], rowErrors);
    equal("batch: the created rows", [rows[0]?.title, rows[2]?.title, rows[3]?.title], created.map((t) => t.title));
    const first = present("the first created card", created[0]);
    equal("batch: contiguous numbers in request order", [first.number, first.number + 1, first.number + 2], created.map((t) => t.number));
    equal("batch: keys", created.map((t) => `${project.key}-${t.number}`), keys(created));
    equal("batch: the assignee of row 2", [bob.id], created[1]?.assignees.map((a) => a.id));
    equal("batch: labels", [["needs design"], ["needs design"], ["triage"]], created.map((t) => t.labels));

    // New cards go last: the todo column is the old one with the three new cards at the bottom.
    const todoAfter = await column(alice, projectId, "todo", "todo column after the batch");
    equal("todo column: the new cards at the bottom, in request order", [...keys(todoBefore), ...keys(created)], keys(todoAfter));
    const stranger = await listAll(alice, projectId, { q: "stranger" }, "tasks-list q=stranger");
    equal("the failed row created nothing", [], keys(stranger));

    // Chips: every label on a card is in the catalogue, with a colour ("triage" joined it by itself).
    const catalogue = await expectStatus("labels-list", 200, bob.api.GET("/api/v1/projects/{project_id}/labels", { params: { path: { project_id: projectId }, query: { limit: 100 } } }));
    const colours = new Map(catalogue.data.items.map((l) => [l.task_label, l.color]));
    for (const card of created) {
      for (const label of card.labels) {
        const colour = colours.get(label);
        check(colour !== undefined && /^#[0-9a-f]{6}$/.test(colour), `chip ${card.key} ${label}: a catalogue colour`, "#rrggbb", colour);
      }
    }
    cards = created;
  });

  await step("boards: renaming a label renames it on the cards (label= and q follow, ETags change)", async () => {
    const { label, etag } = present("Needs design", needsDesign);
    const [drawn, wired] = cards;
    const card = present("a card labelled needs design", drawn);
    const cached = await expectStatus("tasks-get", 200, alice.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", { params: { path: { project_id: projectId, task_id: card.id } } }));
    const cardTag = header("tasks-get", cached.response, "ETag");

    const renamed = await expectStatus(
      "labels-update If-Match",
      200,
      alice.api.PATCH("/api/v1/projects/{project_id}/labels/{label_id}", {
        params: { path: { project_id: projectId, label_id: label.id }, header: { "If-Match": etag } },
        body: { name: "Needs UX" },
      }),
    );
    equal("renamed: name", "Needs UX", renamed.data.name);
    equal("renamed: task_label", "needs ux", renamed.data.task_label);
    equal("renamed: colour kept", label.color, renamed.data.color);
    check(header("labels-update", renamed.response, "ETag") !== etag, "labels-update: a new ETag", `not ${etag}`, renamed.response.headers.get("ETag"));

    const labelled = [card, present("the second labelled card", wired)];
    const byNew = await listAll(bob, projectId, { label: [renamed.data.task_label] }, "tasks-list label=needs ux");
    sameSet("label=needs ux: the cards that had needs design", labelled.map((t) => t.id), byNew.map((t) => t.id));
    for (const t of byNew) equal(`${t.key}: labels`, ["needs ux"], t.labels);
    equal("label=needs design: nothing left", [], keys(await listAll(bob, projectId, { label: [label.task_label] }, "tasks-list label=needs design")));
    sameSet("q=needs ux", labelled.map((t) => t.id), (await listAll(bob, projectId, { q: "needs ux" }, "tasks-list q=needs ux")).map((t) => t.id));

    // The card the UI cached has changed: its old ETag no longer gets a 304.
    const fresh = await alice.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}", {
      params: { path: { project_id: projectId, task_id: card.id }, header: { "If-None-Match": cardTag } },
    });
    equal("tasks-get with the pre-rename ETag: status", 200, fresh.response.status);
    equal("tasks-get after the rename: labels", ["needs ux"], fresh.data?.labels);

    equal("autocomplete q=needs after the rename", ["Needs review", "Needs UX"], (await suggest(bob, projectId, "needs")).map((l) => l.name));
    const activity = await expectStatus(
      "activity-list verb=label.updated",
      200,
      bob.api.GET("/api/v1/projects/{project_id}/activity", { params: { path: { project_id: projectId }, query: { verb: ["label.updated"] } } }),
    );
    equal("activity: one label.updated for the rename", [["Needs design", "Needs UX"]], activity.data.items.map((x) => x.changes.name));
  });

  await step("boards: relations (blocks, seen as blocked_by, a cycle refused, delete)", async () => {
    const a = present("card A", cards[0]);
    const b = present("card B", cards[1]);
    const c = present("card C", cards[2]);
    const relate = (from: Task, type: Schemas["RelationType"], to: Task) =>
      alice.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/relations", {
        params: { path: { project_id: projectId, task_id: from.id } },
        body: { type, task_id: to.id },
      });
    const relations = async (of: Task, who: BoardUser) =>
      (
        await expectStatus(
          `relations-list of ${of.key}`,
          200,
          who.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}/relations", { params: { path: { project_id: projectId, task_id: of.id } } }),
        )
      ).data.items.map((r) => ({ id: r.id, type: r.type, key: r.task.key }));

    const ab = await expectStatus(`relations-create ${a.key} blocks ${b.key}`, 201, relate(a, "blocks", b));
    equal("relation from A: type", "blocks", ab.data.type);
    equal("relation from A: the other task", { id: b.id, key: b.key, title: b.title, status: b.status, project_id: projectId }, ab.data.task);
    equal(`${b.key}'s relations (bob's view)`, [{ id: ab.data.id, type: "blocked_by", key: a.key }], await relations(b, bob));
    equal(`${a.key}'s relations`, [{ id: ab.data.id, type: "blocks", key: b.key }], await relations(a, bob));

    const bc = await expectStatus(`relations-create ${b.key} blocks ${c.key}`, 201, relate(b, "blocks", c));
    const cycle = await expectError(`relations-create ${c.key} blocks ${a.key} (a cycle)`, 409, relate(c, "blocks", a));
    equal("cycle: error_code", "RELATION_CYCLE", cycle.error.error_code);
    equal(`${c.key}'s relations after the refusal`, [{ id: bc.data.id, type: "blocked_by", key: b.key }], await relations(c, bob));

    // Removed from the blocked end: it leaves both tasks.
    await expectEmpty(
      `relations-delete from ${b.key}`,
      204,
      alice.api.DELETE("/api/v1/projects/{project_id}/tasks/{task_id}/relations/{relation_id}", {
        params: { path: { project_id: projectId, task_id: b.id, relation_id: ab.data.id } },
      }),
    );
    equal(`${a.key}'s relations after the delete`, [], await relations(a, bob));
    equal(`${b.key}'s relations after the delete`, [{ id: bc.data.id, type: "blocks", key: c.key }], await relations(b, bob));
    const verbs = await expectStatus(
      "activity-list-for-task relations",
      200,
      bob.api.GET("/api/v1/projects/{project_id}/tasks/{task_id}/activity", { params: { path: { project_id: projectId, task_id: a.id } } }),
    );
    const seen = verbs.data.items.map((x) => x.verb).filter((v) => v.startsWith("relation."));
    equal(`${a.key}'s activity: the relation made and removed (newest first)`, ["relation.deleted", "relation.created"], seen);
  });

  await step("boards: drag a card between two others into another column (sort=rank), and a stale drop is BOARD_CHANGED", async () => {
    const card = present("the card to drag", cards[0]);
    const inProgress = await column(alice, projectId, "in_progress", "in_progress column");
    const [top, second] = inProgress;
    if (top === undefined || second === undefined) return fail("in_progress column: two cards to drop between", ">= 2", inProgress.length);
    const moved = await expectStatus(
      `tasks-move ${card.key} between ${top.key} and ${second.key}`,
      200,
      alice.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/move", {
        params: { path: { project_id: projectId, task_id: card.id } },
        body: { after_id: top.id, before_id: second.id, status: "in_progress" },
      }),
    );
    header("tasks-move", moved.response, "ETag");
    equal("moved: status (the column it landed in)", "in_progress", moved.data.status);
    check(top.rank < moved.data.rank && moved.data.rank < second.rank, "moved: rank between its neighbours'", `${top.rank} < rank < ${second.rank}`, moved.data.rank);
    const after = await column(bob, projectId, "in_progress", "in_progress column after the move (bob)");
    equal("in_progress column: the card between the two", [top.key, card.key, ...keys(inProgress.slice(1))], keys(after));
    const todo = await column(bob, projectId, "todo", "todo column after the move");
    check(!keys(todo).includes(card.key), "todo column: the card left it", "absent", card.key);
    const reversed = await listAll(bob, projectId, { status: ["in_progress"], sort: "-rank" }, "in_progress sort=-rank");
    equal("sort=-rank: the column upside down", [...keys(after)].reverse(), keys(reversed));

    // Bob drops a card between two cards as his screen shows them, but alice has just dragged the
    // lower one to the top: 409 BOARD_CHANGED, so bob's UI refetches the column and drops again.
    const bobs = present("a card for bob", cards[1]);
    await expectStatus(
      `tasks-move ${second.key} to the top`,
      200,
      alice.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/move", { params: { path: { project_id: projectId, task_id: second.id } }, body: { before_id: top.id } }),
    );
    const stale = await bob.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/move", {
      params: { path: { project_id: projectId, task_id: bobs.id } },
      body: { after_id: card.id, before_id: second.id, status: "in_progress" },
    });
    equal("stale drop: status", 409, stale.response.status);
    equal("stale drop: error_code", "BOARD_CHANGED", stale.error?.error_code);
    const refetched = await column(bob, projectId, "in_progress", "in_progress column refetched");
    equal("refetched column", [second.key, top.key, card.key, ...keys(inProgress.slice(2))], keys(refetched));
    const below = present("the card below the dragged one", refetched[3]);
    await expectStatus(
      `tasks-move ${bobs.key} again`,
      200,
      bob.api.POST("/api/v1/projects/{project_id}/tasks/{task_id}/move", {
        params: { path: { project_id: projectId, task_id: bobs.id } },
        body: { after_id: card.id, before_id: below.id, status: "in_progress" },
      }),
    );
    const final = await column(alice, projectId, "in_progress", "in_progress column at the end");
    equal("in_progress column at the end", [second.key, top.key, card.key, bobs.key, ...keys(inProgress.slice(2))], keys(final));
  });

  await step("boards: search by key (q=KEY-N, any case, and a key among words)", async () => {
    const drawn = present("card 0", cards[0]);
    const wired = present("card 1", cards[1]);
    const first = present("card 2", cards[2]);
    equal(`q=${first.key}`, [first.key], keys(await listAll(bob, projectId, { q: first.key }, `tasks-list q=${first.key}`)));
    equal(`q=${first.key.toLowerCase()}`, [first.key], keys(await listAll(bob, projectId, { q: first.key.toLowerCase() }, "tasks-list q=<key in lower case>")));
    // Two cards have the run's word in their title, the third does not: the key brings it too, and nothing else.
    const mixed = await listAll(bob, projectId, { q: `${first.key} ${word}`, sort: "number" }, "tasks-list q=<key> <word>");
    equal(`q=${first.key} ${word}`, [drawn.key, wired.key, first.key], keys(mixed));
    const unknown = `${project.key}-${first.number + 100000}`;
    equal(`q=${unknown} (no such task)`, [], keys(await listAll(bob, projectId, { q: unknown }, "tasks-list q=<unknown key>")));
  });
}
