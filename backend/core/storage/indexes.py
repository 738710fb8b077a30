"""Declared indexes (on the documents, nowhere else) against the live ones: what is missing, extra
or different, and applying the difference. Used by `tasklane indexes` and by readiness."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beanie import Document
from pymongo import IndexModel
from pymongo.errors import OperationFailure

from backend.core.storage.db import Database, opened

_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    name: str
    keys: tuple[tuple[str, Any], ...]
    options: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        keys = ", ".join(f"{k} {v}" for k, v in self.keys)
        options = ", ".join(f"{k}={v}" for k, v in self.options)
        return f"({keys})" + (f" {options}" if options else "")

    def model(self) -> IndexModel:
        return IndexModel(list(self.keys), name=self.name, **dict(self.options))


def _spec(collection: str, document: Mapping[str, Any]) -> IndexSpec:
    keys = tuple((k, int(v) if isinstance(v, int | float) else v) for k, v in dict(document["key"]).items())
    options = []
    for name in _OPTIONS:
        value = document.get(name)
        if value is not None and value is not False:  # 0 is a real value (a TTL of 0 s)
            options.append((name, int(value) if name == "expireAfterSeconds" else value))
    return IndexSpec(collection, str(document["name"]), keys, tuple(options))


def declared(models: Iterable[type[Document]]) -> dict[str, dict[str, IndexSpec]]:
    found: dict[str, dict[str, IndexSpec]] = {}
    for model in models:
        collection = model.Settings.name
        specs = [_spec(collection, index.document) for index in getattr(model.Settings, "indexes", [])]
        found[collection] = {spec.name: spec for spec in specs}
    return found


async def live(database: Database, collections: Iterable[str]) -> dict[str, dict[str, IndexSpec]]:
    found: dict[str, dict[str, IndexSpec]] = {}
    for collection in collections:
        documents = await (await opened(database[collection].list_indexes())).to_list(None)
        specs = [_spec(collection, doc) for doc in documents if doc["name"] != "_id_"]
        found[collection] = {spec.name: spec for spec in specs}
    return found


@dataclass(frozen=True)
class DriftRow:
    """One index that is not as declared, and the command that makes it so."""

    collection: str
    name: str
    status: str  # missing | extra | differs | renamed
    definition: str
    fix: str


@dataclass
class Drift:
    missing: list[IndexSpec] = field(default_factory=list)
    extra: list[IndexSpec] = field(default_factory=list)
    differing: list[tuple[IndexSpec, IndexSpec]] = field(default_factory=list)  # (declared, live)
    # The declared keys and options live under another name: (declared, live).
    renamed: list[tuple[IndexSpec, IndexSpec]] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.extra or self.differing or self.renamed)

    def needs_fixing(self, *, strict: bool) -> bool:
        """Missing, differing or renamed indexes; extra ones only when `strict`."""
        return bool(self.missing or self.differing or self.renamed or (strict and self.extra))

    def rows(self) -> list[DriftRow]:
        rows = [DriftRow(s.collection, s.name, "missing", s.describe(), APPLY) for s in self.missing]
        rows += [DriftRow(s.collection, s.name, "extra", s.describe(), REBUILD) for s in self.extra]
        rows += [
            DriftRow(
                d.collection, d.name, "differs", f"declared {d.describe()}; live {lv.describe()}", REBUILD
            )
            for d, lv in self.differing
        ]
        rows += [
            DriftRow(
                d.collection,
                d.name,
                "renamed",
                f"live as {lv.name} {lv.describe()}",
                f'{REBUILD}  (or in mongosh: db.{d.collection}.dropIndex("{lv.name}"), then {APPLY})',
            )
            for d, lv in self.renamed
        ]
        return rows


APPLY = "tasklane indexes apply"
REBUILD = "tasklane indexes apply --drop-extra"


def compare(want: dict[str, dict[str, IndexSpec]], have: dict[str, dict[str, IndexSpec]]) -> Drift:
    drift = Drift()
    for collection, specs in want.items():
        present = have.get(collection, {})
        extra = {name: spec for name, spec in present.items() if name not in specs}
        for name, spec in specs.items():
            if name in present:
                if present[name] != spec:
                    drift.differing.append((spec, present[name]))
                continue
            # The same keys and options under another name: a hand-made or renamed copy. Creating
            # the declared one would fail ("index already exists with a different name").
            twin = next((live for live in extra.values() if _same_index(live, spec)), None)
            if twin is None:
                drift.missing.append(spec)
            else:
                drift.renamed.append((spec, twin))
                del extra[twin.name]
        drift.extra += extra.values()
    return drift


def _same_index(a: IndexSpec, b: IndexSpec) -> bool:
    return a.keys == b.keys and a.options == b.options


async def check(database: Database, models: Sequence[type[Document]]) -> Drift:
    want = declared(models)
    return compare(want, await live(database, want))


@dataclass(frozen=True)
class Applied:
    """What `apply` did to one index: `created` or `dropped`, or `failed` with the server's reason."""

    collection: str
    name: str
    action: str  # create | drop
    result: str  # done | failed
    error: str | None = None


async def apply(database: Database, drift: Drift, *, drop_extra: bool) -> list[Applied]:
    """Create what is missing; drop extra, differing and renamed indexes only when asked (then
    create the declared ones). Goes on past a failure, and reports every index it touched.
    `_id_` is never listed, so never dropped."""
    results: list[Applied] = []
    replaced = [*drift.differing, *drift.renamed]
    if drop_extra:
        for spec in [*drift.extra, *(live for _, live in replaced)]:
            results.append(await _attempt(database, spec, "drop"))
    to_create = [*drift.missing, *(d for d, _ in replaced)] if drop_extra else drift.missing
    for spec in to_create:
        results.append(await _attempt(database, spec, "create"))
    return results


async def _attempt(database: Database, spec: IndexSpec, action: str) -> Applied:
    collection = database[spec.collection]
    try:
        if action == "drop":
            await collection.drop_index(spec.name)
        else:
            await collection.create_indexes([spec.model()])
    except OperationFailure as exc:
        reason = str(exc.details.get("errmsg") if exc.details else exc).split("\n")[0]
        return Applied(spec.collection, spec.name, action, "failed", f"{exc.code}: {reason}")
    return Applied(spec.collection, spec.name, action, "done")
