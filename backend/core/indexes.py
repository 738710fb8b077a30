"""Declared indexes (on the documents, nowhere else) against the live ones: what is missing, extra
or different, and applying the difference. Used by `tasklane indexes` and by readiness."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beanie import Document
from pymongo import IndexModel

from backend.core.db import Database

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
        documents = await database[collection].list_indexes().to_list(None)
        specs = [_spec(collection, doc) for doc in documents if doc["name"] != "_id_"]
        found[collection] = {spec.name: spec for spec in specs}
    return found


@dataclass
class Drift:
    missing: list[IndexSpec] = field(default_factory=list)
    extra: list[IndexSpec] = field(default_factory=list)
    differing: list[tuple[IndexSpec, IndexSpec]] = field(default_factory=list)  # (declared, live)

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def rows(self) -> list[tuple[str, str, str, str]]:
        rows = [(s.collection, s.name, "missing", s.describe()) for s in self.missing]
        rows += [(s.collection, s.name, "extra", s.describe()) for s in self.extra]
        rows += [
            (d.collection, d.name, "differs", f"declared {d.describe()}; live {lv.describe()}")
            for d, lv in self.differing
        ]
        return rows


def compare(want: dict[str, dict[str, IndexSpec]], have: dict[str, dict[str, IndexSpec]]) -> Drift:
    drift = Drift()
    for collection, specs in want.items():
        present = have.get(collection, {})
        for name, spec in specs.items():
            if name not in present:
                drift.missing.append(spec)
            elif present[name] != spec:
                drift.differing.append((spec, present[name]))
        drift.extra += [spec for name, spec in present.items() if name not in specs]
    return drift


async def check(database: Database, models: Sequence[type[Document]]) -> Drift:
    want = declared(models)
    return compare(want, await live(database, want))


async def apply(database: Database, drift: Drift, *, drop_extra: bool) -> None:
    """Create what is missing; drop extra and differing indexes only when asked (then recreate the
    differing ones as declared). `_id_` is never listed, so never dropped."""
    if drop_extra:
        for spec in [*drift.extra, *(live_spec for _, live_spec in drift.differing)]:
            await database[spec.collection].drop_index(spec.name)
    to_create = [*drift.missing, *(d for d, _ in drift.differing)] if drop_extra else drift.missing
    for spec in to_create:
        await database[spec.collection].create_indexes([spec.model()])
