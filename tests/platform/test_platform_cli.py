"""`cardbase` CLI: init, demo, check, solution export/import, user — on both engines."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.platform.demo import demo_object_names, demo_solution
from cardbase.platform.demo.data import counts_for
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import Setting
from cardbase.schema_engine.snapshot import current_version
from cardbase.schema_engine.store.records import RecordStore

PASSWORD_LINE = re.compile(r"with the password: (\S+)")


@pytest.fixture
def database(new_url):
    """A Database handle on the test's database, for looking behind the CLI's back."""
    db = Database(new_url)
    yield db
    db.dispose()


def schema_version(db: Database) -> int:
    with db.read() as conn:
        return current_version(conn)


# ---- init ----------------------------------------------------------------------------------
def test_init_creates_admin_and_prints_password_once(cli, database):
    first = cli("init")
    assert first.exit_code == 0, first.output
    match = PASSWORD_LINE.search(first.output)
    assert match, first.output
    password = match.group(1)
    assert len(password) >= 12
    assert "shown only once" in first.output
    admin = users.authenticate(database, "admin", password, sleep=lambda s: None)
    assert admin is not None and admin.is_admin
    assert admin.password_hash.startswith("$argon2")

    second = cli("init")
    assert second.exit_code == 0, second.output
    assert "already initialised" in second.output
    assert password not in second.output
    assert users.count_users(database) == 1


def test_init_generates_and_keeps_the_secret_key(cli, database):
    assert cli("init").exit_code == 0
    with database.read() as conn:
        key = conn.execute(sa.select(Setting.value).where(Setting.key == "secret_key")).scalar()
    assert key and re.fullmatch(r"[0-9a-f]{64}", key)
    cli("init")
    with database.read() as conn:
        assert conn.execute(sa.select(Setting.value).where(Setting.key == "secret_key")).scalar() == key


def test_init_uses_admin_password_from_environment(cli, database):
    result = cli("init", env={"CARDBASE_ADMIN_PASSWORD": "correct horse battery"})
    assert result.exit_code == 0, result.output
    assert "CARDBASE_ADMIN_PASSWORD" in result.output
    assert "correct horse battery" not in result.output
    assert users.authenticate(database, "admin", "correct horse battery", sleep=lambda s: None) is not None


def test_init_refuses_a_short_admin_password(cli, database):
    result = cli("init", env={"CARDBASE_ADMIN_PASSWORD": "short"})
    assert result.exit_code == 2
    assert "password" in result.output and "at least 10" in result.output
    assert "Traceback" not in result.output
    assert users.count_users(database) == 0


# ---- demo ----------------------------------------------------------------------------------
def _table_rows(db: Database, obj_name: str):
    with db.read() as conn:
        schema = db.schema(conn)
        table = schema.table(obj_name)
        return schema, conn.execute(sa.select(table)).mappings().all()


def test_demo_loads_solution_and_records(cli, database):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("demo")
    assert result.exit_code == 0, result.output
    assert "Loaded the demo CRM" in result.output

    schema = database.schema()
    assert [o.api_name for o in schema.objects] == demo_object_names()
    expected = counts_for(300)
    store = RecordStore(database)
    total = 0
    for name, n in expected.items():
        count, _estimate = store.count(SYSTEM, name)
        assert count == n, name
        total += count
    assert 250 <= total <= 350

    # Every link points at a live record of its target; required links are set.
    with database.read() as conn:
        for obj in schema.objects:
            table = schema.table(obj)
            for field in obj.user_fields:
                if field.type != "link":
                    continue
                target = schema.table(schema.link_target(field))
                col = table.c[field.column]
                orphans = conn.execute(sa.select(sa.func.count()).select_from(table)
                                       .outerjoin(target, target.c.id == col)
                                       .where(col.is_not(None), target.c.id.is_(None))).scalar_one()
                assert orphans == 0, f"{obj.api_name}.{field.api_name}"
                if field.required:
                    missing = conn.execute(sa.select(sa.func.count()).select_from(table)
                                           .where(col.is_(None))).scalar_one()
                    assert missing == 0, f"{obj.api_name}.{field.api_name}"

    admin = users.find_user(database, "admin")
    _schema, tasks = _table_rows(database, "task")
    assignee = schema.object("task").field("assignee").column
    assert {t[assignee] for t in tasks} == {admin.id}

    # Every order has at least one line; every organisation a contact person.
    _schema, lines = _table_rows(database, "order_line")
    order_col = schema.object("order_line").field("order").column
    assert len({line[order_col] for line in lines}) == expected["order"]
    _schema, contacts = _table_rows(database, "contact_person")
    org_col = schema.object("contact_person").field("organisation").column
    assert len({c[org_col] for c in contacts}) == expected["organisation"]

    # Phones were normalised to E.164; codes follow the patterns.
    _schema, orgs = _table_rows(database, "organisation")
    phone_col = schema.object("organisation").field("phone").column
    assert all(re.fullmatch(r"\+\d{8,15}", o[phone_col]) for o in orgs)
    assert orgs[0]["code"] == "ORG-00001"
    _schema, orders = _table_rows(database, "order")
    assert all(re.fullmatch(r"ORD-\d{4}-\d{5}", o["code"]) for o in orders)

    # Records are created by the admin, not anonymously.
    assert {o["created_by"] for o in orgs} == {admin.id}


def test_demo_is_deterministic(engine_name, make_database, cli_for):
    dumps = []
    for _ in range(2):
        url = make_database(engine_name)
        cli = cli_for(url)
        assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
        assert cli("demo", "--records", "40").exit_code == 0
        db = Database(url)
        try:
            schema, orgs = _table_rows(db, "organisation")
            name = schema.object("organisation").field("name").column
            dumps.append([o[name] for o in orgs])
        finally:
            db.dispose()
    assert dumps[0] == dumps[1] and len(dumps[0]) == counts_for(40)["organisation"]


def test_demo_twice_refuses(cli, database):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert cli("demo", "--records", "40").exit_code == 0
    version = schema_version(database)
    before = RecordStore(database).count(SYSTEM, "organisation")[0]
    again = cli("demo")
    assert again.exit_code == 1
    assert "already loaded" in again.output
    assert "Traceback" not in again.output
    assert schema_version(database) == version
    assert RecordStore(database).count(SYSTEM, "organisation")[0] == before


def test_demo_needs_an_initialised_database(cli):
    result = cli("demo")
    assert result.exit_code == 1
    assert "not initialised" in result.output and "cardbase init" in result.output


# ---- check ---------------------------------------------------------------------------------
def test_check_agrees_after_demo_and_reports_a_dropped_column(cli, database):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert cli("demo", "--records", "40").exit_code == 0
    ok = cli("check")
    assert ok.exit_code == 0, ok.output
    assert "metadata and database agree" in ok.output

    obj = database.schema().object("organisation")
    column = obj.field("city").column  # not indexed, so SQLite can drop it in place
    with database.write() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {obj.table_name} DROP COLUMN {column}")
    bad = cli("check")
    assert bad.exit_code == 1
    assert f"column {column} of field 'city' is missing" in bad.output
    assert "agree" not in bad.output


# ---- solution ------------------------------------------------------------------------------
def _without_timestamp(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_solution_export_import_round_trip(cli, engine_name, make_database, cli_for, tmp_path):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert cli("demo", "--records", "40").exit_code == 0
    first = tmp_path / "first.json"
    result = cli("solution", "export", str(first))
    assert result.exit_code == 0, result.output
    assert "Exported 8 object(s)" in result.output

    other = cli_for(make_database(engine_name))
    assert other("init").exit_code == 0
    imported = other("solution", "import", str(first))
    assert imported.exit_code == 0, imported.output
    assert "added   object organisation" in imported.output
    assert "added   field order_line.product" in imported.output
    second = tmp_path / "second.json"
    assert other("solution", "export", str(second)).exit_code == 0

    doc1 = json.loads(first.read_text(encoding="utf-8"))
    doc2 = json.loads(second.read_text(encoding="utf-8"))
    assert _without_timestamp(doc1) == _without_timestamp(doc2)
    assert [o["name"] for o in doc1["objects"]] == demo_object_names()

    again = other("solution", "import", str(first))
    assert again.exit_code == 0
    assert "Nothing to change" in again.output


def test_solution_export_to_stdout(cli):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("solution", "export", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["format"] == "cardbase-solution"


def _bad_type_document() -> dict:
    """The demo solution with a bad field type in its LAST object: all or nothing."""
    doc = demo_solution()
    doc["objects"][-1]["fields"][0]["type"] = "no_such_type"
    return doc


def _header(**changes) -> dict:
    return {"format": "cardbase-solution", "format_version": 1, "objects": [], "cards": [], "views": [],
            **changes}


BROKEN = {
    "not_json": ("{ this is not json", "is not valid JSON"),
    "binary": (b"\xff\xfe\x00garbage", "UTF-8"),
    "not_an_object": ("[1, 2, 3]", "must be a JSON object"),
    "wrong_format": (json.dumps(_header(format="something-else")), "format: must be 'cardbase-solution'"),
    "wrong_version": (json.dumps(_header(format_version=99)), "99 is not supported"),
    "objects_not_list": (json.dumps(_header(objects={"a": 1})), "objects: must be a list"),
    "bad_field_type": (json.dumps(_bad_type_document()), "unknown field type 'no_such_type'"),
    "malformed_field": (json.dumps(_header(objects=[{"name": "thing", "label": "Thing", "fields": [1]}])),
                        "objects[0].fields[0]: must be an object"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_importing_a_broken_file_changes_nothing(cli, database, tmp_path, case):
    content, message = BROKEN[case]
    path = tmp_path / "broken.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    version = schema_version(database)
    result = cli("solution", "import", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.startswith("Error: ")
    assert "Traceback" not in result.output
    assert schema_version(database) == version
    assert database.schema().objects == ()
    assert cli("check").exit_code == 0


def test_import_of_a_missing_file_is_a_usage_error(cli, tmp_path):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("solution", "import", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


# ---- users ---------------------------------------------------------------------------------
def test_user_create_with_option_and_prompt(cli, database):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    made = cli("user", "create", "bob", "--password", "bravo-pass-7731")
    assert made.exit_code == 0, made.output
    assert "Created the user 'bob'" in made.output
    prompted = cli("user", "create", "carol", "--admin", input="charlie-pass-8842\ncharlie-pass-8842\n")
    assert prompted.exit_code == 0, prompted.output
    assert "charlie-pass-8842" not in prompted.output  # hidden input is not echoed
    carol = users.authenticate(database, "carol", "charlie-pass-8842", sleep=lambda s: None)
    assert carol is not None and carol.is_admin
    bob = users.authenticate(database, "bob", "bravo-pass-7731", sleep=lambda s: None)
    assert bob is not None and not bob.is_admin


@pytest.mark.parametrize("username, password, message", [
    ("bad name", "long-enough", "may only contain"),
    ("dave", "short", "at least 10"),
    ("ADMIN", "long-enough", "already taken"),
])
def test_user_create_errors_are_clear(cli, username, password, message):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("user", "create", username, "--password", password)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_user_set_password(cli, database):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    result = cli("user", "set-password", "admin", "--password", "new-chief-pass-2024")
    assert result.exit_code == 0, result.output
    assert users.authenticate(database, "admin", "new-chief-pass-2024", sleep=lambda s: None) is not None
    assert users.authenticate(database, "admin", "chief-pass-2024", sleep=lambda s: None) is None
    missing = cli("user", "set-password", "nobody", "--password", "whatever-123")
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output


def test_commands_on_an_uninitialised_database_say_so(cli):
    for args in (["check"], ["solution", "export", "-"], ["user", "create", "x", "--password", "12345678"]):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "not initialised" in result.output


# ---- run -----------------------------------------------------------------------------------
def test_run_initialises_loads_the_demo_and_serves(cli, database, monkeypatch):
    from cardbase.platform import server

    from cardbase.platform import worker_cli

    calls = []
    monkeypatch.setattr(server, "serve_gunicorn",
                        lambda factory, host, port, workers: calls.append((host, port, workers, factory)))
    workers_started = []
    monkeypatch.setattr(worker_cli, "start_worker", workers_started.append)
    first = cli("run", "--port", "5999")
    assert first.exit_code == 0, first.output
    assert len(workers_started) == 1  # the outbox's worker beside the web server (issue 18, point 1)
    assert "Loaded the demo CRM" in first.output
    match = re.search(r"cardbase is running at http://127\.0\.0\.1:5999 — log in as admin / (\S+)", first.output)
    assert match, first.output
    assert users.authenticate(database, "admin", match.group(1), sleep=lambda s: None) is not None
    host, port, workers, factory = calls[0]
    assert (host, port, workers) == ("127.0.0.1", 5999, 2)
    app = factory()
    try:
        assert app.test_client().get("/health").get_json()["status"] == "ok"
    finally:
        app.extensions["cardbase"].dispose()

    second = cli("run", "--port", "5999")
    assert second.exit_code == 0, second.output
    assert "Loaded the demo" not in second.output
    assert match.group(1) not in second.output
    assert "log in as admin (its password was printed" in second.output
    assert "CARDBASE_ADMIN_PASSWORD" in second.output
    assert len(database.schema().objects) == 8


def test_serve_refuses_an_uninitialised_database(cli):
    result = cli("serve", "--port", "5998")
    assert result.exit_code == 1
    assert "not initialised" in result.output
