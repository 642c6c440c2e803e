"""The placeholder cheat-sheet of an object: what a power user can copy into Word -- every
field by API name, the fields one link away, each child list as a table loop with its
fields and a total, and the formatting filters with examples."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from cardbase.schema_engine.snapshot import ObjectInfo, Schema

from .checker import child_lists
from .starter import ITEM


@dataclass(frozen=True)
class Entry:
    label: str
    placeholder: str


@dataclass
class ChildSheet:
    label: str
    loop: str
    end: str
    fields: list[Entry] = dc_field(default_factory=list)
    total: str | None = None


@dataclass
class CheatSheet:
    fields: list[Entry]
    links: list[Entry]
    children: list[ChildSheet]
    filters: list[Entry]


def cheat_sheet(schema: Schema, obj: ObjectInfo, language: str = "en") -> CheatSheet:
    own = [Entry(f.label_in(language), f"{{{{ {obj.api_name}.{f.api_name} }}}}")
           for f in obj.fields if f.api_name in ("code", "created_at", "modified_at") or not f.system]
    links: list[Entry] = []
    for link in obj.user_fields:
        if link.type != "link":
            continue
        target = schema.link_target(link)
        links.extend(Entry(f"{link.label_in(language)} → {f.label_in(language)}",
                           f"{{{{ {obj.api_name}.{link.api_name}.{f.api_name} }}}}") for f in target.user_fields)
    children = []
    for name, link in child_lists(schema, obj).items():
        child = schema.object(link.object_id)
        sheet = ChildSheet(child.label_plural_in(language), f"{{%tr for {ITEM} in {name} %}}", "{%tr endfor %}")
        for f in child.user_fields:
            if f.id == link.id:
                continue
            sheet.fields.append(Entry(f.label_in(language), f"{{{{ {ITEM}.{f.api_name} }}}}"))
            if f.ftype.value_type == "number" and f.type != "integer":  # the last such column: the line's cost
                sheet.total = f"{{{{ {name}|total('{f.api_name}') }}}}"
        children.append(sheet)
    example = next((f.api_name for f in obj.user_fields if f.ftype.value_type == "number"), "amount")
    day = next((f.api_name for f in obj.user_fields if f.ftype.value_type == "date"), "created_at")
    flag = next((f.api_name for f in obj.user_fields if f.ftype.value_type == "boolean"), None)
    filters = [
        Entry("date", f"{{{{ {obj.api_name}.{day}|date('long') }}}}"),
        Entry("date (pattern)", f"{{{{ {obj.api_name}.{day}|date('dd.MM.yyyy') }}}}"),
        Entry("number", f"{{{{ {obj.api_name}.{example}|number(2) }}}}"),
        Entry("money", f"{{{{ {obj.api_name}.{example}|money }}}}"),
        Entry("money (currency)", f"{{{{ {obj.api_name}.{example}|money('EUR') }}}}"),
        Entry("in_words", f"{{{{ {obj.api_name}.{example}|in_words }}}}"),
        Entry("today", "{{ today|date }}"),
        Entry("upper", f"{{{{ {obj.api_name}.code|upper }}}}"),
        Entry("if", f"{{% if {obj.api_name}.{flag or example} %}}…{{% else %}}…{{% endif %}}"),
    ]
    return CheatSheet(own, links, children, filters)
