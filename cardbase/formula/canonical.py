"""The stored form of a formula and its display: references are stored as stable id tokens
``{#12}`` / ``{#12.34}`` and shown with the current names ``[Organisation].[City]``, so
renaming a field or an object never breaks a formula and always shows the new name."""
from __future__ import annotations

import bisect
from typing import Callable, Iterable, Sequence

from . import tokenizer as tk
from .errors import FormulaError
from .nodes import FieldRef, Node, walk


def canonicalize(text: str, typed: Node) -> str:
    """The formula text with every reference replaced by its {#key} token; the rest (spaces,
    line breaks, function-name case) is kept as written."""
    refs = sorted((n for n in walk(typed) if isinstance(n, FieldRef)), key=lambda n: n.pos)
    out, last = [], 0
    for ref in refs:
        assert ref.key is not None  # the checker sets every reference's key
        out.append(text[last:ref.pos])
        out.append(key_token(ref.key))
        last = ref.end
    out.append(text[last:])
    return "".join(out)


def key_token(key: str) -> str:
    return "{#" + key + "}"


def dependencies(canonical: str) -> set[str]:
    """The reference keys a stored formula uses."""
    try:
        return {t.value for t in tk.tokenize(canonical) if t.kind == tk.KEY}
    except FormulaError as exc:
        exc.text = canonical
        raise


def _replacements(canonical: str, names_of: Callable[[str], str | None]) -> Iterable[tuple[int, int, str]]:
    for tok in tk.tokenize(canonical):
        if tok.kind == tk.KEY:
            shown = names_of(tok.value)
            if shown is not None:
                yield tok.pos, tok.end, shown


def render_with_map(canonical: str, resolver) -> tuple[str, Callable[[int | None], int | None]]:
    """The display text and a function mapping a position in ``canonical`` to the display."""
    def names_of(key: str) -> str | None:
        try:
            return tk.format_path(resolver.name_of(key))
        except LookupError:
            return None  # a deleted field stays visible as {#key}

    out, last = [], 0
    starts: list[int] = []  # canonical offsets where a replaced token starts
    shifts: list[tuple[int, int, int]] = []  # (canonical end, display start, display end)
    shift = 0
    for pos, end, shown in _replacements(canonical, names_of):
        out.append(canonical[last:pos])
        out.append(shown)
        starts.append(pos)
        shifts.append((end, pos + shift, pos + shift + len(shown)))
        shift += len(shown) - (end - pos)
        last = end
    out.append(canonical[last:])

    def to_display(position: int | None) -> int | None:
        if position is None:
            return None
        i = bisect.bisect_right(starts, position) - 1
        if i < 0:
            return position
        end, d_start, d_end = shifts[i]
        if position < end:  # inside a replaced token: its start
            return d_start
        return d_end + (position - end)

    return "".join(out), to_display


def render(canonical: str, resolver) -> str:
    """The formula as the power user sees it now, with current names in brackets."""
    return render_with_map(canonical, resolver)[0]


def render_tolerant(snippet: str, resolver) -> str:
    """``render`` for a piece of formula text used in a message; never raises."""
    if "{#" not in snippet:
        return snippet
    try:
        return render(snippet, resolver)
    except FormulaError:
        return snippet


__all__: Sequence[str] = ["canonicalize", "dependencies", "render", "render_with_map", "key_token"]
