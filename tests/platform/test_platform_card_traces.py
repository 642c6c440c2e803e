"""Point 9 of issue 13: a hidden field leaves no trace on the card -- a section or tab
left empty by hidden fields disappears, a child list the user cannot read is not an empty
box -- while an admin sees all of it."""
from __future__ import annotations

from test_platform_web_cards import client_for, html, site  # noqa: F401  (the fixture)

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts.cards import save_card


def test_empty_sections_tabs_and_unreadable_child_lists_disappear(site):  # noqa: F811
    app, db, ids = site
    save_card(db, SYSTEM, "deal", "Traces", {"tabs": [
        {"label": "Main", "sections": [{"label": "Basics", "columns": 1, "items": [{"field": "title"}]},
                                       {"label": "Confidential", "columns": 1, "items": [{"field": "secret"}]}]},
        {"label": "Classified", "sections": [{"label": "Only secrets", "columns": 1, "items": [{"field": "notes"}]}]},
        {"label": "Work", "sections": [{"label": "Tasks", "columns": 1, "items": [
            {"related": {"object": "task", "link": "deal"}, "label": "Open tasks", "columns": ["title"]}]}]}]},
        is_default=True)
    rights.admin.set_object_rights(db, SYSTEM, "Sales", "task", [])
    rights.admin.set_field_right(db, SYSTEM, "Sales", "deal", "notes", "hidden")
    admin = html(client_for(app, "root").get(f"/o/deal/{ids['deal']}"))
    for trace in ("Confidential", ">Classified</button>", "Only secrets", ">Work</button>", "Open tasks"):
        assert trace in admin
    sam = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert "Basics" in sam and "Big deal" in sam
    for trace in ("Confidential", "Classified", "Only secrets", ">Work</button>", "Open tasks", "TOPSECRET"):
        assert trace not in sam, trace
    assert ">Main</button>" in sam  # the tabs that still show something (Main, History) remain
