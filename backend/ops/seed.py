"""Demo data for the frontend team: users, projects, a few hundred tasks, comments and relations, made
through the API itself (so every rule, activity record and counter is as real use would leave it).

People have handles (`@ada`, with the suffix of a second set), and some descriptions and comments
mention them; Ada, Grace, Alan and Edsger are in every project, so `GET /api/v1/tasks` as any of them
lists the tasks of all three."""

import random
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from backend.resources import resources_of
from backend.tasks.schemas import MAX_BATCH

DEMO_PASSWORD = "demo-password-1"
PEOPLE = [
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
    ("edsger", "Edsger Dijkstra"),
]
PROJECTS = [("WEB", "Website relaunch"), ("API", "Public API"), ("MOB", "Mobile app")]
VERBS = ["Fix", "Add", "Refactor", "Document", "Test", "Design", "Review", "Ship"]
THINGS = [
    "login page",
    "search",
    "rate limits",
    "billing export",
    "dark mode",
    "onboarding",
    "webhooks",
    "activity feed",
    "task board",
    "notifications",
    "CSV import",
    "profile settings",
]
# The catalogue of each project: name, colour, description. Tasks carry the names lower-cased.
LABELS = [
    ("Bug", "#e5484d", "Something does not work as documented."),
    ("Feature", "#30a46c", "Something new for users."),
    ("UX", "#d6409f", "How it looks and feels."),
    ("Backend", "#0090ff", ""),
    ("Frontend", "#6e56cf", ""),
    ("Tech-debt", "#a18072", "Costs us later if left."),
    ("Security", "#f76b15", "Report privately first."),
]
STATUSES = ["backlog", "todo", "in_progress", "in_review", "done", "canceled"]


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    display_name: str


async def seed_demo(app: FastAPI, *, tasks_per_project: int = 100, seed: int = 7) -> list[Login]:
    """Create the demo data through the app; returns the logins. Emails and keys get a suffix when
    demo data already exists, so seeding twice adds a second set instead of failing."""
    rng = random.Random(seed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seed") as http:
        users = resources_of(app).stores.mongo.database["users"]
        again = await users.count_documents({"email_normalized": "ada@demo.tasklane.dev"}, limit=1) > 0
        # A second set beside the first: emails and project keys get a short random suffix.
        suffix = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=2)) + uuid.uuid4().hex[:2] if again else ""
        logins = []
        headers: dict[str, dict[str, str]] = {}
        ids: dict[str, str] = {}
        handles = {handle: f"{handle}{suffix.lower()}" for handle, _ in PEOPLE}
        for handle, name in PEOPLE:
            email = f"{handle}{suffix.lower()}@demo.tasklane.dev"
            created = await http.post(
                "/api/v1/auth/register",
                json={
                    "email": email,
                    "password": DEMO_PASSWORD,
                    "display_name": name,
                    "handle": handles[handle],
                },
            )
            created.raise_for_status()
            ids[handle] = created.json()["id"]
            token = await http.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
            token.raise_for_status()
            headers[handle] = {"Authorization": f"Bearer {token.json()['access_token']}"}
            logins.append(Login(email, DEMO_PASSWORD, name))
        owner = headers["ada"]
        first_tasks: list[tuple[str, str]] = []  # (project id, task id) of each project's first task
        for key, title in PROJECTS:
            project_key = f"{key}{suffix[:2]}"
            project = await http.post(
                "/api/v1/projects",
                json={"name": title, "key": project_key, "description": f"Demo: {title}."},
                headers=owner,
            )
            project.raise_for_status()
            base = f"/api/v1/projects/{project.json()['id']}"
            for handle, role in (("grace", "admin"), ("alan", "member"), ("edsger", "viewer")):
                added = await http.post(
                    f"{base}/members", json={"user_id": ids[handle], "role": role}, headers=owner
                )
                added.raise_for_status()
            for name, color, description in LABELS:
                label = await http.post(
                    f"{base}/labels",
                    json={"name": name, "color": color, "description": description},
                    headers=owner,
                )
                label.raise_for_status()
            top_level: list[Authored] = []
            subtasks: list[Authored] = []
            for _ in range(tasks_per_project):
                body: dict[str, object] = {
                    "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)}",
                    "description": "Steps:\n\n1. Look\n2. Change\n3. Verify\n"
                    + (
                        f"\nAsk @{handles[rng.choice(['grace', 'alan', 'edsger'])]}.\n"
                        if rng.random() < 0.3
                        else ""
                    ),
                    "status": rng.choice(STATUSES),
                    "priority": rng.randrange(5),
                    "labels": rng.sample([name.lower() for name, _, _ in LABELS], rng.randrange(3)),
                    "assignee_ids": rng.sample([ids["ada"], ids["grace"], ids["alan"]], rng.randrange(3)),
                }
                author = rng.choice(["ada", "grace", "alan"])
                (subtasks if top_level and rng.random() < 0.2 else top_level).append(Authored(author, body))
            # The tasks in batches, as a board's import would: the top level first, then subtasks of it.
            top_ids = await create_tasks(http, base, top_level, headers)
            for subtask in subtasks:
                subtask.body["parent_id"] = rng.choice(top_ids)
            task_ids = [*top_ids, *await create_tasks(http, base, subtasks, headers)]
            for task_id, task in zip(task_ids, [*top_level, *subtasks], strict=True):
                if rng.random() < 0.5:
                    said = rng.choice(["On it.", "Can we split this?", "Done in review.", "+1"])
                    if rng.random() < 0.3:  # a mention: `@grace` (a member of every demo project)
                        said = f"@{handles[rng.choice(['ada', 'grace', 'alan', 'edsger'])]} {said}"
                    comment = {"body": said}
                    made = await http.post(
                        f"{base}/tasks/{task_id}/comments", json=comment, headers=headers[task.author]
                    )
                    made.raise_for_status()
            # New tasks are ranked last; a few cards dragged on the board, as people do.
            for task_id in rng.sample(top_ids, min(10, len(top_ids) // 2)):
                target = rng.choice([other for other in top_ids if other != task_id])
                moved = await http.post(
                    f"{base}/tasks/{task_id}/move", json={"after_id": target}, headers=owner
                )
                moved.raise_for_status()
            await _relate(http, base, top_ids, owner)
            await _watch(http, base, top_ids[:3], headers)
            first_tasks += [(base, top_ids[0])] if top_ids else []
        if len(first_tasks) >= 2:  # one relation across projects: Ada sees both
            (web, web_task), (_, api_task) = first_tasks[:2]
            across = await http.post(
                f"{web}/tasks/{web_task}/relations",
                json={"type": "relates_to", "task_id": api_task},
                headers=owner,
            )
            across.raise_for_status()
        await _read_all_but_the_newest(http, headers["ada"], keep=5)
    return logins


async def _watch(
    http: httpx.AsyncClient, base: str, task_ids: list[str], headers: dict[str, dict[str, str]]
) -> None:
    """Edsger (a viewer) watches a few tasks, and Grace moves them on: everyone watching them (their
    creators, assignees, commenters and Edsger) gets a `status_changed` notification."""
    for task_id in task_ids:
        watched = await http.put(f"{base}/tasks/{task_id}/watchers/me", headers=headers["edsger"])
        watched.raise_for_status()
        moved = await http.patch(
            f"{base}/tasks/{task_id}", json={"status": "in_review"}, headers=headers["grace"]
        )
        moved.raise_for_status()


async def _read_all_but_the_newest(http: httpx.AsyncClient, headers: dict[str, str], *, keep: int) -> None:
    """Ada has read her older notifications: a few unread ones for the badge."""
    newest = await http.get("/api/v1/users/me/notifications", params={"limit": keep + 1}, headers=headers)
    newest.raise_for_status()
    items = newest.json()["items"]
    if len(items) > keep:
        read = await http.post(
            "/api/v1/users/me/notifications/read", json={"up_to": items[keep]["created_at"]}, headers=headers
        )
        read.raise_for_status()


async def _relate(http: httpx.AsyncClient, base: str, task_ids: list[str], by: dict[str, str]) -> None:
    """A few relations of each type between top-level tasks: a short chain of `blocks` (earlier tasks
    block later ones, so no cycle), and some `relates_to` and `duplicates`."""
    wanted = [("blocks", i, i + 1) for i in range(4)]
    wanted += [("relates_to", i, i + 5) for i in range(3)] + [("duplicates", 8, 9)]
    for type_, one, other in wanted:
        if other >= len(task_ids):
            continue
        made = await http.post(
            f"{base}/tasks/{task_ids[one]}/relations",
            json={"type": type_, "task_id": task_ids[other]},
            headers=by,
        )
        made.raise_for_status()


@dataclass(frozen=True)
class Authored:
    author: str
    body: dict[str, object]


async def create_tasks(
    http: httpx.AsyncClient, base: str, tasks: list[Authored], headers: dict[str, dict[str, str]]
) -> list[str]:
    """Create the tasks through `POST .../tasks/batch`, one batch per author (of at most 100): their
    ids, in the order given."""
    ids: dict[int, str] = {}
    for author in dict.fromkeys(task.author for task in tasks):
        mine = [index for index, task in enumerate(tasks) if task.author == author]
        for start in range(0, len(mine), MAX_BATCH):
            chunk = mine[start : start + MAX_BATCH]
            response = await http.post(
                f"{base}/tasks/batch", json={"tasks": [tasks[i].body for i in chunk]}, headers=headers[author]
            )
            response.raise_for_status()
            for index, result in zip(chunk, response.json()["results"], strict=True):
                if result["outcome"] != "created":
                    raise RuntimeError(f"demo task refused: {result['problem']['detail']}")
                ids[index] = result["task"]["id"]
    return [ids[index] for index in range(len(tasks))]


async def is_empty(app: FastAPI) -> bool:
    database = resources_of(app).stores.mongo.database
    for name in ("users", "projects", "tasks"):
        if await database[name].count_documents({}, limit=1):
            return False
    return True
