"""SQLite's date buckets read the ISO text's prefix (``substr``) instead of parsing every
value with ``strftime``; the keys must be exactly those ``strftime`` gives, for dates and
datetimes as SQLAlchemy stores them, across month, quarter and year ends, and NULLs."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cardbase.schema_engine.query.buckets import BUCKETS, bucket_expression, sqlite_parsed


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
