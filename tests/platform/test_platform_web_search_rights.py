"""Searching never reveals a hidden field's values: the list's quick search and the global
search find a deal by its hidden note for who may see the note, and for nobody else."""
from __future__ import annotations

from test_platform_web_export import app, client_for  # noqa: F401 - the fixture: Sales may not see secret_note


def test_quick_search_and_global_search_ignore_hidden_fields(app):  # noqa: F811
    sam, root = client_for(app, "sam"), client_for(app, "root")
    for url in ("/o/deal?q=TOP-SECRET", "/search?q=TOP-SECRET"):
        assert "Deal 00" in root.get(url).get_data(as_text=True), url  # the value is searchable ...
        seen = sam.get(url)
        assert seen.status_code == 200
        body = seen.get_data(as_text=True)
        assert "Deal 00" not in body and "Deal 01" not in body, url  # ... but not by who may not see it
    # what sam may see is still found
    assert "Deal 07" in sam.get("/o/deal?q=Deal 07").get_data(as_text=True)
    assert "Deal 07" in sam.get("/search?q=Deal 07").get_data(as_text=True)
