"""Demo data for the frontend team: users, projects, a few hundred tasks and comments, made through
the API itself (so every rule, activity record and counter is as real use would leave it)."""

import random
import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from backend.resources import resources_of

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
        for handle, name in PEOPLE:
            email = f"{handle}{suffix.lower()}@demo.tasklane.dev"
            created = await http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": DEMO_PASSWORD, "display_name": name},
            )
            created.raise_for_status()
            ids[handle] = created.json()["id"]
            token = await http.post("/api/v1/auth/token", data={"username": email, "password": DEMO_PASSWORD})
            token.raise_for_status()
            headers[handle] = {"Authorization": f"Bearer {token.json()['access_token']}"}
            logins.append(Login(email, DEMO_PASSWORD, name))
        owner = headers["ada"]
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
            created_ids: list[str] = []
            for _ in range(tasks_per_project):
                body = {
                    "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)}",
                    "description": "Steps:\n\n1. Look\n2. Change\n3. Verify\n",
                    "status": rng.choice(STATUSES),
                    "priority": rng.randrange(5),
                    "labels": rng.sample([name.lower() for name, _, _ in LABELS], rng.randrange(3)),
                    "assignee_ids": rng.sample([ids["ada"], ids["grace"], ids["alan"]], rng.randrange(3)),
                }
                if created_ids and rng.random() < 0.2:
                    body["parent_id"] = rng.choice(created_ids)
                author = headers[rng.choice(["ada", "grace", "alan"])]
                task = await http.post(f"{base}/tasks", json=body, headers=author)
                task.raise_for_status()
                task_id = task.json()["id"]
                if "parent_id" not in body:
                    created_ids.append(task_id)
                if rng.random() < 0.5:
                    comment = {"body": rng.choice(["On it.", "Can we split this?", "Done in review.", "+1"])}
                    made = await http.post(f"{base}/tasks/{task_id}/comments", json=comment, headers=author)
                    made.raise_for_status()
    return logins


async def is_empty(app: FastAPI) -> bool:
    database = resources_of(app).stores.mongo.database
    for name in ("users", "projects", "tasks"):
        if await database[name].count_documents({}, limit=1):
            return False
    return True
