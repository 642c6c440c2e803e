"""The ``cardbase`` command: init, demo, serve, run, check, solution, user, group, rights.

Errors the engine raises on purpose (CardbaseError) become one clear line and exit code
2, never a traceback; a missing or uninitialised database is exit code 1.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, ProgrammingError

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database, database_url
from cardbase.schema_engine.drift import check_drift, unfinished_jobs
from cardbase.schema_engine.errors import CardbaseError, SchemaError
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.solution import export_solution, import_solution, load_file, save_file

from .composition import Engine, build_engine
from .config import ensure_secret_key, load_config
from .context import actor_for

ADMIN_USERNAME = "admin"


class CardbaseCliError(click.ClickException):
    """A CardbaseError shown as a message: exit code 2."""

    exit_code = 2


class _Group(click.Group):
    """Turns engine and database errors of any subcommand into a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CardbaseError as exc:
            raise CardbaseCliError(exc.message) from None
        except (OperationalError, ProgrammingError) as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            raise click.ClickException(f"the database refused: {first}") from None


class State:
    """What every command shares: the database URL and, once asked for, the Database and
    its engine services (built once per command)."""

    def __init__(self, url: str | None):
        self.url = database_url(url)
        self._db: Database | None = None
        self._engine: Engine | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.url)
        return self._db

    @property
    def engine(self) -> Engine:
        """The store, schema service and accounts of the command's Database."""
        if self._engine is None:
            self._engine = build_engine(self.db)
        return self._engine

    def initialised_engine(self) -> Engine:
        self.initialised_db()
        return self.engine

    def shown_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def initialised_db(self) -> Database:
        """The Database, or a clear error if ``cardbase init`` has not run on it."""
        db = self.db
        with db.engine.connect() as conn:
            if not sa.inspect(conn).has_table("cb_meta_state"):
                raise click.ClickException(
                    f"the database {self.shown_url()} is not initialised: run `cardbase init` first")
        return db

    def close(self) -> None:
        self._engine = None
        if self._db is not None:
            self._db.dispose()
            self._db = None


pass_state = click.make_pass_decorator(State)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", metavar="URL", default=None,
              help="Database to use (overrides CARDBASE_DATABASE_URL; default sqlite:///cardbase.db).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """cardbase: a no-code CRM builder."""
    ctx.obj = State(database_url)
    ctx.call_on_close(ctx.obj.close)


# ---- init ---------------------------------------------------------------------------------
@dataclass
class InitResult:
    created: bool  # False: the database already had users
    username: str
    password: str | None  # only when generated now (shown once)
    from_env: bool = False


def initialise(db: Database, engine: Engine | None = None) -> InitResult:
    """System tables, secret key and (on an empty database) the admin user. Idempotent."""
    db.create_system_tables()
    engine = engine or build_engine(db)
    config = load_config()
    if not config.secret_key:
        ensure_secret_key(db)
    if engine.users.count_users(db):
        admin = _first_admin(db)
        return InitResult(created=False, username=admin.username if admin else ADMIN_USERNAME, password=None)
    password = config.admin_password or secrets.token_urlsafe(12)
    engine.users.create_user(db, SYSTEM, ADMIN_USERNAME, password, display_name="Administrator", is_admin=True)
    if config.admin_password:
        return InitResult(created=True, username=ADMIN_USERNAME, password=None, from_env=True)
    return InitResult(created=True, username=ADMIN_USERNAME, password=password)


@main.command()
@pass_state
def init(state: State) -> None:
    """Create the system tables and the admin user (idempotent)."""
    result = initialise(state.db, state.engine)
    if not result.created:
        click.echo(f"The database {state.shown_url()} is already initialised; nothing to do.")
        return
    click.echo(f"Initialised {state.shown_url()}.")
    if result.from_env:
        click.echo(f"Created the admin user '{result.username}' with the password from CARDBASE_ADMIN_PASSWORD.")
    else:
        click.echo(f"Created the admin user '{result.username}' with the password: {result.password}")
        click.echo("This password is shown only once: keep it "
                   f"(change it with `cardbase user set-password {result.username}`).")


# ---- demo ---------------------------------------------------------------------------------
def _first_admin(db: Database) -> sa.Row | None:
    """The first administrator's cb_user row (None: there is none)."""
    with db.read() as conn:
        return conn.execute(sa.select(User.__table__).where(User.is_admin.is_(True))
                            .order_by(User.id).limit(1)).first()


def load_demo(db: Database, records: int, engine: Engine | None = None) -> dict[str, int]:
    """Import the demo solution and create its sample records as the first admin (in one
    write session)."""
    from .demo import demo_object_names, demo_solution, generate_records
    from .demo.reports import install_demo_reports

    engine = engine or build_engine(db)
    admin = _first_admin(db)
    if admin is None:
        raise click.ClickException("there is no admin user: run `cardbase init` first")
    schema = db.schema()
    existing = [name for name in demo_object_names() if schema.has_object(name)]
    if existing:
        raise click.ClickException(
            f"the demo is already loaded (or objects of the same names exist: {', '.join(existing)}); "
            "use a new, empty database for the demo")
    import_solution(db, demo_solution())
    counts = generate_records(engine.store, actor_for(admin, db), records, assignee=admin.id,
                              then=install_demo_reports)  # and the reports and the sales dashboard
    from .demo.currencies import install_demo_currencies
    install_demo_currencies(db, actor_for(admin, db))  # EUR as the base, rates for GBP and USD
    from .demo.templates import install_demo_templates
    install_demo_templates(engine.store, actor_for(admin, db))  # the tutorial's invoice (Word template)
    db.optimize()  # fresh planner statistics for the new tables and indexes
    return counts


@main.command()
@click.option("--records", default=300, show_default=True, type=click.IntRange(8, 100_000),
              help="About how many sample records to create.")
@pass_state
def demo(state: State, records: int) -> None:
    """Load the demo CRM (objects and sample records) into an initialised database."""
    engine = state.initialised_engine()
    counts = load_demo(engine.db, records, engine)
    click.echo(f"Loaded the demo CRM: {_counts_text(counts)}.")


def _counts_text(counts: dict[str, int]) -> str:
    return f"{sum(counts.values())} records (" + ", ".join(f"{n} {name}" for name, n in counts.items()) + ")"


# ---- serve / run ---------------------------------------------------------------------------
def _serve(state: State, host: str, port: int, workers: int, dev: bool, login: str = "") -> None:
    from . import server
    from .app import create_app

    db = state.initialised_db()
    if not load_config().secret_key:
        ensure_secret_key(db)  # before the fork, so workers never race to create it
    state.close()
    url = state.url
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":  # not again in the dev reloader's child
        click.echo(f"cardbase is running at {server.base_url(host, port)}" + (f" — {login}" if login else ""))
    sys.stdout.flush()
    factory = lambda: create_app({"CARDBASE_DATABASE_URL": url})  # noqa: E731
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        # once per server (the gunicorn master, the dev server's watcher), in the background
        server.start_job_resumer(url)
    if dev:
        server.serve_dev(factory, host, port)
    else:
        server.serve_gunicorn(factory, host, port, workers)


def _default_port() -> int:
    return load_config().port


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: $PORT or 5000).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Gunicorn workers.")
@click.option("--dev", is_flag=True, help="Flask's reloading development server instead of gunicorn.")
@pass_state
def serve(state: State, host: str, port: int | None, workers: int, dev: bool) -> None:
    """Serve the web app (gunicorn; --dev for the development server)."""
    _serve(state, host, port or _default_port(), workers, dev)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: $PORT or 5000).")
@pass_state
def run(state: State, host: str, port: int | None) -> None:
    """Initialise if needed, load the demo into an empty database, then serve."""
    db, engine = state.db, state.engine
    result = initialise(db, engine)
    if result.created:
        click.echo(f"Initialised {state.shown_url()}.")
    from cardbase.schema_engine.computed.jobs import resume_recompute_jobs

    if resume_recompute_jobs(db):
        click.echo("Finished recalculations an earlier run left unfinished.")
    if not db.schema().objects:
        click.echo("The database has no objects yet: loading the demo CRM …")
        click.echo(f"Loaded the demo CRM: {_counts_text(load_demo(db, 300, engine))}.")
    if result.password:
        login = f"log in as {result.username} / {result.password}"
    elif result.from_env:
        login = f"log in as {result.username} with the password from CARDBASE_ADMIN_PASSWORD"
    else:
        login = (f"log in as {result.username} (its password was printed when the database was initialised; "
                 f"reset it with `cardbase user set-password {result.username}`, or set CARDBASE_ADMIN_PASSWORD "
                 "before the first run to choose it)")
    from .worker_cli import start_worker

    start_worker(state.url)  # the outbox's worker beside the web server
    _serve(state, host, port or _default_port(), 2, False, login)


# ---- recompute ----------------------------------------------------------------------------
@main.command()
@pass_state
def recompute(state: State) -> None:
    """Finish formula, lookup and rollup recalculations left unfinished (e.g. by a crash)."""
    from cardbase.schema_engine.computed.jobs import resume_recompute_jobs

    def report(progress) -> None:
        click.echo(f"job {progress.job_id}: {progress.processed}/{progress.total} records"
                   + (" - done" if progress.done else ""))

    finished = resume_recompute_jobs(state.initialised_db(), progress=report)
    click.echo(f"{len(finished)} recalculation job(s) finished" if finished else "no unfinished recalculations")


# ---- check --------------------------------------------------------------------------------
@main.command()
@pass_state
@click.pass_context
def check(ctx: click.Context, state: State) -> None:
    """Compare the metadata with the database's tables, columns, indexes and sequences,
    and list recalculations left unfinished."""
    db = state.initialised_db()
    problems = check_drift(db) + unfinished_jobs(db)
    if not problems:
        click.echo("metadata and database agree; no recalculation is unfinished")
        return
    for problem in problems:
        click.echo(problem)
    click.echo(f"{len(problems)} problem(s) found", err=True)
    ctx.exit(1)


# ---- solution -----------------------------------------------------------------------------
@main.group(cls=_Group)
def solution() -> None:
    """Export or import the configuration (objects, fields, cards, views) as JSON."""


@solution.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@pass_state
def solution_export(state: State, file: str) -> None:
    """Write the solution to FILE ("-" for standard output)."""
    document = export_solution(state.initialised_db())
    if file == "-":
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    save_file(document, file)
    click.echo(f"Exported {len(document['objects'])} object(s), {len(document['cards'])} card(s) and "
               f"{len(document['views'])} view(s) to {file}.")


@solution.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@pass_state
def solution_import(state: State, file: str) -> None:
    """Apply the solution in FILE: add what is missing, change what differs, all or nothing."""
    db = state.initialised_db()
    document = _read_solution(file)
    try:
        report = import_solution(db, document)
    except CardbaseError:
        raise
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # The engine does not yet check every part of a document's shape; the import ran
        # in one transaction, so nothing was changed.
        raise CardbaseCliError(f"the solution file is malformed ({type(exc).__name__}: {exc}); "
                               "nothing was changed") from None
    if not report["added"] and not report["changed"]:
        click.echo("Nothing to change: the database already has this solution.")
        return
    for line in report["added"]:
        click.echo(f"added   {line}")
    for line in report["changed"]:
        click.echo(f"changed {line}")
    click.echo(f"Imported {file}: {len(report['added'])} added, {len(report['changed'])} changed.")


def _read_solution(file: str) -> Any:
    try:
        if file == "-":
            try:
                return json.loads(sys.stdin.read())
            except json.JSONDecodeError as exc:
                raise SchemaError({"document": f"is not valid JSON: {exc}"}) from None
        return load_file(file)
    except UnicodeDecodeError:
        raise SchemaError({"document": "is not a UTF-8 text file"}) from None


# ---- users --------------------------------------------------------------------------------
@main.group(cls=_Group)
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for, hidden, if not given).")
@click.option("--display-name", default="", help="Name shown in the app (default: the username).")
@pass_state
def user_create(state: State, username: str, admin: bool, password: str, display_name: str) -> None:
    """Create a user."""
    engine = state.initialised_engine()
    row = engine.users.create_user(engine.db, SYSTEM, username, password, display_name=display_name,
                                     is_admin=admin)
    click.echo(f"Created {'the administrator' if row.is_admin else 'the user'} '{row.username}' (id {row.id}).")


@user.command("set-password")
@click.argument("username")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="The new password (asked for, hidden, if not given).")
@pass_state
def user_set_password(state: State, username: str, password: str) -> None:
    """Set a user's password (and lift a login lock)."""
    engine = state.initialised_engine()
    engine.users.set_password(engine.db, SYSTEM, username, password)
    click.echo(f"The password of '{username}' was changed.")


# ---- groups and rights ---------------------------------------------------------------------
@main.group(cls=_Group)
def group() -> None:
    """Manage groups (roles, departments, branches) and their members."""


@group.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the group is for.")
@pass_state
def group_create(state: State, name: str, description: str) -> None:
    """Create a group."""
    engine = state.initialised_engine()
    row = engine.groups.create_group(engine.db, SYSTEM, name, description)
    click.echo(f"Created the group '{row.name}' (id {row.id}).")


@group.command("add")
@click.argument("username")
@click.argument("group_name")
@pass_state
def group_add(state: State, username: str, group_name: str) -> None:
    """Add a user to a group."""
    engine = state.initialised_engine()
    engine.groups.add_member(engine.db, SYSTEM, username, group_name)
    click.echo(f"'{username}' is now a member of '{group_name}'.")


@group.command("remove")
@click.argument("username")
@click.argument("group_name")
@pass_state
def group_remove(state: State, username: str, group_name: str) -> None:
    """Remove a user from a group."""
    engine = state.initialised_engine()
    engine.groups.remove_member(engine.db, SYSTEM, username, group_name)
    click.echo(f"'{username}' is no longer a member of '{group_name}'.")


@group.command("delete")
@click.argument("group_name")
@click.option("--with-rights", is_flag=True,
              help="Delete its object rights, record scopes, field rights, rule views and record shares too.")
@pass_state
def group_delete(state: State, group_name: str, with_rights: bool) -> None:
    """Delete a group (refused while rights refer to it, naming them, unless --with-rights)."""
    engine = state.initialised_engine()
    engine.groups.delete_group(engine.db, SYSTEM, group_name, with_rights=with_rights)
    click.echo(f"Deleted the group '{group_name}'" + (" with its rights." if with_rights else "."))


@group.command("list")
@pass_state
def group_list(state: State) -> None:
    """List the groups and how many members each has."""
    engine = state.initialised_engine()
    for g in engine.groups.list_groups(engine.db):
        click.echo(f"{g['name']}\t{g['members']} member(s)")


@main.group(cls=_Group)
def rights() -> None:
    """Inspect users' rights."""


@rights.command("explain")
@click.argument("username")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@pass_state
def rights_explain(state: State, username: str, object_name: str, record_id: int, as_json: bool) -> None:
    """Which rule grants or denies each right of USERNAME on a record."""
    from cardbase.schema_engine.rights import explain

    engine = state.initialised_engine()
    db = engine.db
    row = engine.users.find_user(db, username)
    if row is None:
        raise CardbaseCliError(f"there is no user '{username}'")
    result = explain(db, actor_for(row, db), object_name, record_id, policy=engine.store.policy)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(f"{result['user']} on {result['object']} #{result['record']}:")
    for right, info in result["rights"].items():
        click.echo(f"  {right:<10} {'yes' if info['allowed'] else 'no ':<4} " + "; ".join(info["reasons"]))
    restricted = {k: v for k, v in result["fields"].items() if v["level"] != "editable"}
    for name, info in restricted.items():
        click.echo(f"  field {name}: {info['level']} (" + "; ".join(info["reasons"]) + ")")


from .worker_cli import worker as _worker  # noqa: E402  (cardbase worker)

main.add_command(_worker)

from .transfer_cli import backup as _backup, restore as _restore, sql_views_command as _sql_views  # noqa: E402

for _command in (_backup, _restore, _sql_views):
    main.add_command(_command)


if __name__ == "__main__":  # python -m cardbase.platform.cli
    main(prog_name="cardbase")
