"""Creating the system tables: every module that declares tables on the shared Base
(``meta_models``, ``rights_models``, ``token_models``) is imported here, at module level,
so ``create_all`` sees them all. It sits just above those modules in the layering
(tests/test_layering.py): ``meta_models`` itself imports none of them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.schema import CreateColumn

from . import token_models  # noqa: F401  (the API's tokens and rate limit)
from .meta_models import Base, MetaState
from . import rights_models  # noqa: F401  (the rights tables)
from . import automation_models, report_models, template_models, transfer_models  # noqa: F401
from . import currency_models  # noqa: F401  (base currency and exchange rates)

if TYPE_CHECKING:  # pragma: no cover
    from .db import Database

__all__ = ["create_system_tables", "system_table_names"]


def create_system_tables(db: "Database") -> None:
    """Create the system tables and the state row if missing (idempotent)."""
    with db.write() as conn:
        Base.metadata.create_all(conn)
        _add_missing_columns(conn)
        if conn.execute(select(MetaState.id)).first() is None:
            conn.execute(insert(MetaState).values(id=1, schema_version=1, format_version=1))


# Columns added to system tables after their first release: (table, column), added with
# their server default to databases created before (create_all only creates missing tables).
ADDED_COLUMNS = (("cb_user", "credentials_epoch"), ("cb_api_token", "credentials_epoch"),
                 ("cb_notification", "message"), ("cb_notification", "params"),
                 ("cb_transfer_job", "heartbeat_at"))


def _add_missing_columns(conn: Connection) -> None:
    inspector = inspect(conn)
    for table_name, column_name in ADDED_COLUMNS:
        present = {c["name"] for c in inspector.get_columns(table_name)}
        if column_name not in present:
            column = Base.metadata.tables[table_name].c[column_name]
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table_name} ADD COLUMN {ddl}")


def system_table_names() -> set[str]:
    """Every system table (all table modules are imported above)."""
    return set(Base.metadata.tables)
