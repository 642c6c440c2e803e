"""``cardbase backup FILE``, ``cardbase restore FILE`` and ``cardbase sql-views``: the
transfer features on the command line (the work is done in ``cardbase.transfer``).
Registered on the ``cardbase`` group by ``cli.py``."""
from __future__ import annotations

import click

from cardbase.transfer import backup as backups
from cardbase.transfer import sql_views


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.pass_obj
def backup(state, file: str) -> None:
    """Write the whole instance (configuration, records, history, trash, users, rights ...) to FILE,
    consistently while the server runs."""
    db = state.initialised_db()
    manifest = backups.backup(db, file)
    rows = sum(t["rows"] for t in manifest["tables"])
    click.echo(f"backup written to {file}: {len(manifest['tables'])} tables, {rows:,} rows, "
               f"format version {manifest['format_version']}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_obj
def restore(state, file: str) -> None:
    """Restore FILE (a `cardbase backup`) into this empty instance, on either engine."""
    manifest = backups.restore(state.db, file)
    rows = sum(t["rows"] for t in manifest["tables"])
    click.echo(f"restored {len(manifest['tables'])} tables, {rows:,} rows from {file} "
               f"(taken on {manifest['source_engine']} at {manifest['created_at']})")


@click.command("sql-views")
@click.option("--off", is_flag=True, help="Drop the views and stop keeping them current.")
@click.pass_obj
def sql_views_command(state, off: bool) -> None:
    """Create one readable SQL view per object (named after its API name) for BI tools, and
    keep them current on every schema change."""
    db = state.initialised_db()
    if off:
        sql_views.disable(db)
        click.echo("SQL views dropped; they are no longer kept current")
        return
    names = sql_views.enable(db)
    click.echo(f"{len(names)} views: {', '.join(names)}" if names else "no objects yet; views follow as they are created")
