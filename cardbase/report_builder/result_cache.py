"""A per-process cache of report results that is never stale: keyed on everything a
result depends on, including the data versions of the tables it was read from.

The key of a report run is the hash of
  * the definition (canonical JSON: groups, measures, sort, top, labels, its own filter),
    the filter overrides (live, dashboard and API filters) and the currency policy;
  * the grouped statement built for this viewer -- its SQL text and parameters. That is
    the exact rights fingerprint: record scopes, rule views, shares, the link visibility
    of the viewer's groups, "me" (the user id) and "today" (relative dates become
    parameters) are all in it; a hidden field cannot be in it (the statement is built,
    and refused, for every request before the cache is asked);
  * the viewer's groups and admin flag, and the schema and rights versions (belt and
    braces: a rights change gives a new key even where the SQL would not show it);
  * the data version (``schema_engine.data_versions``) of every table the statement
    names: the object itself, objects reached through link paths or rule views, shares,
    users -- plus the exchange rates when the policy converts currencies.
The language is not in it: a result holds values, never texts in a language (labels and
numbers are formatted by the pages from it).

Versions are read from the database once per session, so a write in another process is
seen; a session with uncommitted writes of its own (bumped only at commit) never uses the
cache. Results are shared between requests and must be treated as read-only.
"""
from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from cardbase.schema_engine import data_versions
from cardbase.schema_engine.query.aggregate import PreparedAggregate

from .definition import ReportDefinition
from .figures import CurrencyPolicy, PerCurrency

if TYPE_CHECKING:  # pragma: no cover
    from cardbase.schema_engine.db import Database
    from cardbase.schema_engine.store.session import Session

    from .runner import ReportResult

MAX_ENTRIES = 512
MAX_WEIGHT = 400_000  # cells + row and column keys + 1 per entry: a bound on the memory held
CURRENCY_TABLES = ("cb_exchange_rate", "cb_currency_settings")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    bypassed: int = 0  # runs that could not use the cache (own writes, unversioned tables)


class ResultCache:
    """A bounded LRU of report results (by entries and by their size in cells)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_weight: int = MAX_WEIGHT):
        self.max_entries, self.max_weight = max_entries, max_weight
        self._entries: OrderedDict[str, tuple["ReportResult", int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> "ReportResult | None":
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.stats.misses += 1
                return None
            self._entries.move_to_end(key)
            self.stats.hits += 1
            return found[0]

    def put(self, key: str, result: "ReportResult") -> None:
        weight = len(result.cells) + len(result.row_keys) + len(result.column_keys) + 1
        if weight > self.max_weight:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._entries[key] = (result, weight)
            self._weight += weight
            while len(self._entries) > self.max_entries or self._weight > self.max_weight:
                _key, (_result, dropped) = self._entries.popitem(last=False)
                self._weight -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0


_caches: "weakref.WeakKeyDictionary[Database, ResultCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(db: "Database") -> ResultCache:
    """The process's cache for one database (never shared between databases)."""
    with _caches_lock:
        cache = _caches.get(db)
        if cache is None:
            cache = _caches[db] = ResultCache()
        return cache


def result_key(session: "Session", definition: ReportDefinition, where: dict | None, policy: CurrencyPolicy,
               prepared: PreparedAggregate) -> str | None:
    """The key of this run, or None when it must not be cached."""
    tokens = session.data_tokens()
    if tokens is None:
        return None
    policy_key: Any = getattr(policy, "cache_key", None)  # a converting policy says what it converts to
    if policy_key is None and type(policy) is not PerCurrency:
        return None  # a policy that cannot say what it depends on
    compiled = prepared.statement.compile(dialect=session.conn.dialect)
    sql = str(compiled)
    # every table the statement reads, found both ways: by walking it and in its text
    tables = data_versions.tables_in(sql) | {t.name for t in find_tables(prepared.statement, check_columns=True)
                                             if isinstance(t, sa.Table)}
    if not all(data_versions.tracked(name) for name in tables):
        return None  # it reads a table whose writes are not versioned: never cache it
    tables = data_versions.tables_behind(session.schema, tables) | set(data_versions.SCHEMA_AND_RIGHTS)
    if policy_key is not None:
        tables.update(CURRENCY_TABLES)
    actor = session.actor
    material = [definition.to_json(), where, policy_key, sql, sorted(compiled.params.items()),
                sorted(actor.group_ids), actor.is_admin, session.schema.version,
                sorted((name, tokens.get(name, "")) for name in tables)]
    text = json.dumps(material, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cached_run(session: "Session", definition: ReportDefinition, where: dict | None, policy: CurrencyPolicy,
               prepared: PreparedAggregate, compute: Callable[[], "ReportResult"]) -> "ReportResult":
    """The cached result of this run, or ``compute()``'s (kept for the next reader)."""
    cache = cache_for(session.store.db)
    key = result_key(session, definition, where, policy, prepared)
    if key is None:
        cache.stats.bypassed += 1
        return compute()
    found = cache.get(key)
    if found is not None:
        return found
    result = compute()
    cache.put(key, result)
    return result
