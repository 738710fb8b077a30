"""The layering the code promises (../shared/DESIGN.md, "Layout"): only repositories and core storage
talk to MongoDB, core imports no domain, and the request path has no `Any`-typed service factory."""

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
DOMAINS = {p.name for p in BACKEND.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - {
    "core",
    "testing",
}
# Where driver calls belong: each domain's repository, core's storage, and the ops tools that work on
# stored shapes as such (migrations rewrite documents; index and seed tools run outside requests).
# The pytest plugin arranges data for testers directly.
ALLOWED = ("*/repository.py", "core/storage/*", "migrations/*", "ops/*", "testing/*")
# Beanie's class-level queries, and the driver collection behind a document class.
CLASS_QUERIES = {
    "get",
    "find",
    "find_one",
    "find_many",
    "find_all",
    "insert_many",
    "aggregate",
    "count",
    "delete_all",
    "get_motor_collection",
    "get_pymongo_collection",
}
# Beanie's instance writes.
INSTANCE_WRITES = {"insert", "save", "replace", "set", "delete", "update", "inc", "sync"}


def _modules() -> list[Path]:
    return sorted(BACKEND.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(BACKEND).as_posix()


def _allowed(path: Path) -> bool:
    return any(Path(_relative(path)).match(pattern) for pattern in ALLOWED)


def _document_names(tree: ast.Module) -> set[str]:
    """Names a module imports from the domains' documents modules (Beanie document classes and enums)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".documents")
        for alias in node.names
    }


def _document_bound(tree: ast.Module, documents: set[str]) -> set[str]:
    """Names bound to documents: parameters or variables annotated with a document class, and
    variables assigned a new document (`task = Task(...)`)."""

    def names_document(annotation: ast.expr | None) -> bool:
        return annotation is not None and any(
            isinstance(n, ast.Name) and n.id in documents for n in ast.walk(annotation)
        )

    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and names_document(node.annotation):
            bound.add(node.arg)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if names_document(node.annotation):
                bound.add(node.target.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id in documents:
                bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return bound


def driver_calls(path: Path) -> list[str]:
    """`Document.find(...)`-style queries, writes on document instances, and driver collections."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documents = _document_names(tree)
    instances = _document_bound(tree, documents)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "collection":
            found.append(f"{node.lineno} collection(...)")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            method, name = func.attr, func.value.id
            if (method in CLASS_QUERIES and name in documents) or (
                method in INSTANCE_WRITES and name in instances
            ):
                found.append(f"{node.lineno} {name}.{method}(...)")
    return sorted(found, key=lambda call: int(call.split()[0]))


def test_only_repositories_and_core_storage_talk_to_mongodb() -> None:
    offenders = [
        f"{_relative(path)}:{call}"
        for path in _modules()
        if not _allowed(path)
        for call in driver_calls(path)
    ]

    assert offenders == []


def test_the_check_sees_a_service_that_queries_by_itself(tmp_path: Path) -> None:
    service = tmp_path / "service.py"
    service.write_text(
        "from backend.tasks.documents import Comment, Task\n"
        "async def get(task_id, comment: Comment):\n"
        "    task = await Task.get(task_id)\n"
        "    await comment.set({'body': 'x'})\n"
        "    made = Task(title='x')\n"
        "    await made.insert()\n"
        "    return await Task.get_motor_collection().find_one({})\n"
    )

    calls = [call.split(" ", 1)[1] for call in driver_calls(service)]

    assert calls == [
        "Task.get(...)",
        "comment.set(...)",
        "made.insert(...)",
        "Task.get_motor_collection(...)",
    ]


def test_core_imports_no_domain() -> None:
    offenders = []
    for path in (BACKEND / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend."):
                top = node.module.split(".")[1]
                if top in DOMAINS or top in ("main", "resources", "documents"):
                    offenders.append(f"{_relative(path)}:{node.lineno} {node.module}")

    assert offenders == []
