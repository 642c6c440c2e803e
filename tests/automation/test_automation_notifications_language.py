"""Issue 18 polish, point 2, in the engine: a mention is stored as the message and its
parameters, so the same notification reads German under the engine's German gettext and
English outside a request; every engine notification message has its German translation."""
from __future__ import annotations

import re
from pathlib import Path

from automation_testlib import actor, crm, sales_group
from babel.messages.pofile import read_po
from babel.support import Translations

from cardbase.automation import comments, notifications
from cardbase.platform.i18n import SOURCE_DIR, compiled_catalogues
from cardbase.schema_engine import i18n

AUTOMATION = Path(notifications.__file__).parent


def test_a_mention_reads_in_the_language_in_force(db):
    store = crm(db)
    sales_group(db)
    root, sam = actor(db, "root"), actor(db, "sam")
    deal = store.create(sam, "deal", {"title": "Mentioned deal"})
    with store.session(sam, write=True) as tx:
        comments.add(tx, "deal", deal["id"], "@root bitte anrufen")
    with store.session(root) as tx:
        [english] = notifications.list_for(tx.conn, root.user_id)
        token = i18n.use_language("de", Translations.load(str(compiled_catalogues()), ["de"], domain="messages"))
        try:
            [in_german] = notifications.list_for(tx.conn, root.user_id)
        finally:
            i18n.reset_language(token)
    record = deal.get("code") or deal["id"]
    assert english["text"] == f"sam mentioned you on Deal {record}: @root bitte anrufen"
    assert in_german["text"] == f"sam hat Sie bei Deal {record} erwähnt: @root bitte anrufen"


def test_every_notification_message_of_the_engine_has_a_german_translation():
    marked = {m for path in AUTOMATION.glob("*.py")
              for m in re.findall(r'N_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', path.read_text(encoding="utf-8"))}
    assert len(marked) >= 6  # mention, task, two reminders, a stopped scenario, a paused webhook
    with (SOURCE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="de")
    missing = [m for m in marked if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []


def test_a_database_from_before_gets_the_message_columns(tmp_path):
    """An installation made before messages were kept: starting adds the two columns, and
    its old notifications show their stored English text."""
    import sqlalchemy as sa

    from cardbase.schema_engine.db import Database
    from cardbase.schema_engine.system_tables import create_system_tables

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    create_system_tables(db)
    with db.write() as conn:
        conn.exec_driver_sql("ALTER TABLE cb_notification DROP COLUMN message")
        conn.exec_driver_sql("ALTER TABLE cb_notification DROP COLUMN params")
        conn.exec_driver_sql("INSERT INTO cb_notification (user_id, kind, text, created_at) "
                             "VALUES (1, 'task', 'root gave you a task: old', '2026-01-01 00:00:00')")
    create_system_tables(db)
    with db.read() as conn:
        assert {"message", "params"} <= {c["name"] for c in sa.inspect(conn).get_columns("cb_notification")}
        assert [n["text"] for n in notifications.list_for(conn, 1)] == ["root gave you a task: old"]
