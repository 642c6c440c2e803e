"""A hidden field leaves no trace on the card: a section left without a field or list the
reader may see, and a tab left without a section, are not shown at all (the card context
already drops hidden fields and child lists the reader may not read)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence


def visible_tabs(tabs: Sequence[Any]) -> list[Any]:
    """The tabs with their sections that still show something, in order."""
    out = []
    for tab in tabs:
        sections = [s for s in tab.sections if any(s.grid) or s.lists]
        if sections:
            out.append(tab if len(sections) == len(tab.sections) else replace(tab, sections=sections))
    return out
