"""SQLite's date buckets read the ISO text's prefix (``substr``) instead of parsing every
value with ``strftime``; the keys must be exactly those ``strftime`` gives, for dates and
datetimes as SQLAlchemy stores them, across month, quarter and year ends, and NULLs."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cardbase.schema_engine.query.buckets import _PG_FORMATS, BUCKETS, bucket_expression, bucket_key, sqlite_parsed


def test_sqlite_prefix_buckets_equal_the_parsed_ones():
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    table = sa.Table("t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("d", sa.Date),
                     sa.Column("ts", sa.DateTime))
    meta.create_all(engine)
    start = dt.datetime(1999, 12, 25, 23, 59, 59, 999999)
    rows = [{"d": (start + dt.timedelta(days=i)).date(), "ts": start + dt.timedelta(days=i, minutes=37 * i)}
            for i in range(0, 3 * 366, 3)] + [{"d": None, "ts": None}, {"d": dt.date(2026, 3, 31),
                                                                      "ts": dt.datetime(2026, 12, 31, 0, 0)}]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
        for column in (table.c.d, table.c.ts):
            for bucket in BUCKETS:
                fast = bucket_expression("sqlite", column, bucket)
                slow = sqlite_parsed(column, bucket)
                pairs = conn.execute(sa.select(fast, slow).order_by(table.c.id)).all()
                assert len(pairs) == len(rows)
                assert all(a == b for a, b in pairs), (column.name, bucket, [p for p in pairs if p[0] != p[1]][:3])
                if bucket != "week":
                    assert "substr" in str(fast.compile(dialect=engine.dialect))
    assert pairs[-1] == ("2026", "2026") and pairs[-2] == (None, None)


def test_postgresql_groups_by_date_trunc_and_shows_the_same_keys_as_to_char(db):
    """PostgreSQL groups a bucket by ``date_trunc`` and formats it once per group; the text
    must be what ``to_char`` of every row gives (ISO weeks across year ends included), and
    the grouped query must name the cheap key, not the per-row ``to_char``."""
    if db.engine.dialect.name != "postgresql":
        shown, key = bucket_key("sqlite", sa.column("d", sa.Date), "month")
        assert shown is key  # SQLite's text key is already cheap: one expression
        return
    meta = sa.MetaData()
    table = sa.Table("bucket_t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("d", sa.Date),
                     sa.Column("ts", sa.DateTime))
    start = dt.datetime(1999, 12, 25, 23, 59, 59, 999999)
    rows = [{"d": (start + dt.timedelta(days=i)).date(), "ts": start + dt.timedelta(days=i, minutes=37 * i)}
            for i in range(0, 3 * 366, 3)] + [{"d": None, "ts": None}]
    with db.engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(sa.insert(table), rows)
        for column in (table.c.d, table.c.ts):
            for bucket in BUCKETS:
                shown, key = bucket_key("postgresql", column, bucket)
                per_row = sa.func.to_char(column, sa.literal_column(f"'{_PG_FORMATS[bucket]}'"), type_=sa.String)
                pairs = conn.execute(sa.select(shown, per_row).order_by(table.c.id)).all()
                assert all(a == b for a, b in pairs), (column.name, bucket, [p for p in pairs if p[0] != p[1]][:3])
                grouped = conn.execute(sa.select(shown, sa.func.count()).group_by(key).order_by(key)).all()
                expected = sorted({b for _, b in pairs if b is not None})
                assert [g for g, _ in grouped if g is not None] == expected  # chronological = ISO text order
                assert sum(n for _, n in grouped) == len(rows)
        meta.drop_all(conn)


def test_report_statement_groups_by_the_cheap_key_on_postgresql():
    from sqlalchemy.dialects import postgresql

    shown, key = bucket_key("postgresql", sa.column("d", sa.Date), "month")
    stmt = sa.select(shown, sa.func.count()).group_by(key)
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    group_by = sql.split("GROUP BY", 1)[1]
    assert "date_trunc('month', d)" in group_by and "to_char" not in group_by
