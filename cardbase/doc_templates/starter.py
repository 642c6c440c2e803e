"""A starter template generated from the metadata: every field of the object with its
label, and for each child list a table that repeats a row per child record with a totals
row below. Power users download it, style it in Word and upload it again -- it passes the
checker as it is."""
from __future__ import annotations

import io

import docx
from docx.shared import Pt

from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema

from .checker import child_lists

ITEM = "item"


def _shown(fields: tuple[FieldInfo, ...], skip: int | None = None) -> list[FieldInfo]:
    return [f for f in fields if f.id != skip]


def starter_template(schema: Schema, obj: ObjectInfo, language: str = "en") -> bytes:
    """The .docx bytes of a starter template for ``obj`` with labels in ``language``."""
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(f"{obj.label_in(language)} {{{{ {obj.api_name}.code }}}}", level=1)
    fields = _shown(obj.user_fields)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for field in fields:
        cells = table.add_row().cells
        cells[0].text = field.label_in(language)
        cells[1].text = f"{{{{ {field.api_name} }}}}"
    for name, link in child_lists(schema, obj).items():
        child = schema.object(link.object_id)
        columns = _shown(child.user_fields, skip=link.id)
        if not columns:
            continue
        document.add_heading(child.label_plural_in(language), level=2)
        rows = document.add_table(rows=4, cols=len(columns))
        rows.style = "Table Grid"
        for i, field in enumerate(columns):
            rows.rows[0].cells[i].text = field.label_in(language)
            rows.rows[2].cells[i].text = f"{{{{ {ITEM}.{field.api_name} }}}}"
        rows.rows[1].cells[0].text = f"{{%tr for {ITEM} in {name} %}}"
        rows.rows[3].cells[0].text = "{%tr endfor %}"
        totals = rows.add_row().cells
        for i, field in enumerate(columns):
            if field.ftype.value_type == "number" and field.type != "integer":
                totals[i].text = f"{{{{ {name}|total('{field.api_name}') }}}}"
    document.add_paragraph("")
    document.add_paragraph("{{ today|date('long') }}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
