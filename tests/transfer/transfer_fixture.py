"""The small CRM the transfer tests import into: organisations and people with every kind
of field a spreadsheet fills (text, e-mail, phone, date, choice, decimal, money, link)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

import sqlalchemy as sa
from db_templates import from_template

from cardbase.schema_engine.actor import Actor, SYSTEM
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore


def world(db) -> tuple[SchemaService, RecordStore, Actor]:
    from_template(db, "transfer", _build)
    with db.read() as conn:
        uid = conn.execute(sa.select(User.id).where(User.username == "importer")).scalar_one()
    return SchemaService(db), RecordStore(db), Actor(user_id=uid, username="importer", is_admin=True)


def _build(db) -> None:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {
        "name": "organisation", "label": "Organisation", "label_plural": "Organisations",
        "code_pattern": "ORG-{00000}",
        "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "city", "label": "City", "type": "string"},
        ]})
    svc.create_object(SYSTEM, {
        "name": "person", "label": "Person", "label_plural": "People", "code_pattern": "P-{00000}",
        "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "email", "label": "E-mail", "type": "email"},
            {"name": "phone", "label": "Phone", "type": "phone"},
            {"name": "city", "label": "City", "type": "string"},
            {"name": "birthday", "label": "Birthday", "type": "date"},
            {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": [
                {"value": "lead", "label": "Lead"}, {"value": "client", "label": "Client"}]}},
            {"name": "score", "label": "Score", "type": "decimal", "options": {"precision": 12, "scale": 2}},
            {"name": "budget", "label": "Budget", "type": "money", "options": {"currency": "EUR"}},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "set_null"}},
        ]})
    svc.set_translations(SYSTEM, "organisation", {"de": {"label": "Firma", "label_plural": "Firmen"}})
    for name, label in (("email", "E-Mail-Adresse"), ("phone", "Telefon"), ("city", "Ort"),
                        ("birthday", "Geburtstag"), ("organisation", "Firma")):
        svc.set_translations(SYSTEM, "person", {"de": {"label": label}}, name)
    with db.write() as conn:
        conn.execute(sa.insert(User).values(username="importer", display_name="Importer", is_admin=True))


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], sheet: str = "Sheet1") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path
