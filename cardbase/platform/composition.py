"""Building the engine services for a Database: the one place outside the app factory's
``context.install_engine`` that constructs them (the CLI, the demo loader, scripts).

A command builds its ``Engine`` once and passes it around; every channel then reads and
writes through ``engine.store`` (sessions) and changes the schema through
``engine.schema_service``, which shares the store's rights policy.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from cardbase.automation import confirm
from cardbase import doc_templates  # noqa: F401  (Word templates: its usage finders and solution part register)
from cardbase.schema_engine.accounts import groups as accounts_groups, users as accounts_users
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore


@dataclass(frozen=True)
class Engine:
    """The engine services of one Database."""

    db: Database
    store: RecordStore
    schema_service: SchemaService
    users: ModuleType = accounts_users  # accounts: users (create, set_password, find ...)
    groups: ModuleType = accounts_groups  # accounts: groups and their members


def build_engine(db: Database) -> Engine:
    """The store and the schema service of ``db`` (one rights policy for both)."""
    store = RecordStore(db)
    confirm.install(store)  # webhooks that confirm a change before it commits
    return Engine(db=db, store=store, schema_service=SchemaService(db, policy=store.policy))
