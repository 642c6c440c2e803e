"""The placeholders of a .docx as the power user sees them, each with its place.

Word splits text into runs (spelling marks, formatting, revisions), so a placeholder can
be spread over several XML elements; we read each paragraph's whole text, as Word shows
it, and find the tags in it. ``check_source`` joins the tags one per line, so a Jinja
error or a checker finding on line n belongs to tag n: its text and place ("table 1,
row 2, cell 3") go into the report. docxtpl's own prefixes (``{%tr``, ``{%tc``, ``{%p``,
``{%r``, ``{{r``, ``{{p``) and cell tags (``colspan``, ``cellbg``, ``vm``, ``hm``) are
normalised to plain Jinja for the check; rendering uses docxtpl's own preprocessing of
the XML, which joins split runs the same way."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Iterator

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_UNCLOSED = re.compile(r"\{[{%#][^{]{0,80}")
_PREFIX = re.compile(r"^\{([{%#])(?:tr|tc|p|r)\s")
_CELL_EXPR = re.compile(r"^\{%\s*(?:colspan|cellbg)\s+(.*?)\s*%\}$", re.DOTALL)
_CELL_MARK = re.compile(r"^\{%\s*(?:vm|hm)\s*%\}$")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "„": '"'})
PART_KINDS = (("word/document.xml", ""), ("word/header", "header"), ("word/footer", "footer"),
              ("word/footnotes.xml", "footnotes"))


@dataclass(frozen=True)
class Tag:
    text: str  # as written in the document, e.g. "{{ client.company }}"
    place: str  # "paragraph 3", "table 1, row 2, cell 3", "header: paragraph 1"

    @property
    def jinja(self) -> str:
        """The tag as plain Jinja, on one line."""
        text = " ".join(self.text.translate(_QUOTES).split())
        cell = _CELL_EXPR.match(text)
        if cell:
            return "{{ " + cell.group(1) + " }}"
        if _CELL_MARK.match(text):
            return ""
        return _PREFIX.sub(lambda m: "{" + m.group(1) + " ", text)


def _part_names(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    out = []
    names = sorted(archive.namelist())
    for prefix, kind in PART_KINDS:
        for name in names:
            if name.startswith(prefix) and name.endswith(".xml") and "/_rels/" not in name:
                label = kind if not kind or name == f"{prefix}.xml" else f"{kind} {name[len(prefix):-4] or 1}"
                out.append((name, label))
    return out


def template_tags(content: bytes) -> list[Tag]:
    """Every tag of the document, headers, footers and footnotes, in reading order."""
    tags: list[Tag] = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name, label in _part_names(archive):
            root = etree.fromstring(archive.read(name), _PARSER)
            for place, text in _paragraphs(root):
                where = f"{label}: {place}" if label else place
                tags.extend(Tag(m.group(0), where) for m in TAG.finditer(text))
                # an opening without its closing: Jinja would fail on it while filling
                tags.extend(Tag(m.group(0), where) for m in _UNCLOSED.finditer(TAG.sub("", text)))
    return tags


def _paragraphs(root: etree._Element) -> Iterator[tuple[str, str]]:
    """(place, text) of each paragraph; a paragraph in a table is named by its cell."""
    tables = list(root.iter(f"{W}tbl"))  # kept alive: lxml gives the same proxy for an element then
    outside = 0
    for p in root.iter(f"{W}p"):
        text = "".join(t.text or "" for t in p.iter(f"{W}t"))
        cell = next(p.iterancestors(f"{W}tc"), None)
        if cell is None:
            outside += 1
            if "{" in text:
                yield f"paragraph {outside}", text
            continue
        if "{" not in text:
            continue
        row = cell.getparent()
        table = row.getparent() if row is not None else None
        if row is None or table is None:
            yield "table", text
            continue
        rows = [r for r in table if r.tag == f"{W}tr"]
        cells = [c for c in row if c.tag == f"{W}tc"]
        yield (f"table {tables.index(table) + 1}, row {rows.index(row) + 1}, "
               f"cell {cells.index(cell) + 1}"), text


def check_source(tags: list[Tag]) -> str:
    """The tags as one Jinja source, tag n on line n."""
    return "\n".join(t.jinja for t in tags)
