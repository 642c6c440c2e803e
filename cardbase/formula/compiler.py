"""The pipeline: text -> parse -> resolve and type-check -> constant-fold and build the
simpleeval program -> CompiledFormula. Stored formulas load through a cache keyed by their
canonical text and the types of what they reference."""
from __future__ import annotations

import functools
import re
from typing import Any, Mapping, Sequence

from .canonical import canonicalize, dependencies, render, render_with_map
from .checker import check
from .errors import FormulaError
from .evaluator import Program, build, run
from .limits import MAX_CANONICAL_LENGTH, MAX_FORMULA_LENGTH
from .parser import parse
from .resolver import Ref, Resolver, normalized
from .tokenizer import format_path


class CompiledFormula:
    """A checked formula, ready to evaluate. Immutable and safe to share between threads.

    result_type: the value type it produces (number, text, date, datetime, boolean; "any"
                 only when it is always empty or uses only untyped references)
    references:  frozenset of the reference keys it reads ("12", "12.34")
    refs:        key -> Ref (type, and many=True for child-list references)
    canonical:   the stored form, references as {#key} tokens
    volatile:    True when it uses TODAY() or NOW()
    """

    __slots__ = ("canonical", "result_type", "references", "refs", "volatile", "_program")

    def __init__(self, canonical: str, refs: Mapping[str, Ref], program: Program):
        self.canonical = canonical
        self.result_type: str = program.result_type
        self.refs: Mapping[str, Ref] = dict(refs)
        self.references: frozenset[str] = frozenset(refs)
        self.volatile: bool = program.clock
        self._program = program

    def evaluate(self, values: Mapping[str, Any] | None = None, now: Any = None) -> Any:
        """The value for one record. ``values`` maps each reference key to its value (a list
        for a child-list reference); missing keys are empty. ``now`` (datetime, date or a
        callable) is the clock of TODAY()/NOW(), default the current UTC time. Returns a
        Decimal, str, date, datetime, bool or None; None for any runtime problem."""
        return run(self._program, values, now)

    def render(self, resolver: Resolver) -> str:
        return render(self.canonical, resolver)

    @property
    def expression(self) -> str:
        """The generated simpleeval expression (for debugging)."""
        return self._program.expr

    def __repr__(self) -> str:
        return f"CompiledFormula({self.canonical!r}, result_type={self.result_type!r})"


def _compile(text: str, resolver: Resolver, max_length: int) -> CompiledFormula:
    tree = parse(text, max_length)
    typed, refs = check(tree, resolver, text)
    program = build(typed, text)
    return CompiledFormula(canonicalize(text, typed), refs, program)


def compile_formula(text: str, resolver: Resolver) -> CompiledFormula:
    """Parse, resolve and type-check formula text as a power user wrote it.
    Raises FormulaError(message, position) when it is refused."""
    return _compile(text, resolver, MAX_FORMULA_LENGTH)


class _KnownRefs:
    """A resolver that knows only the already resolved keys of a stored formula."""

    def __init__(self, refs: Sequence[tuple[str, Ref]]):
        self._refs = dict(refs)

    def resolve(self, path):
        raise KeyError(tuple(path))

    def resolve_key(self, key: str) -> Ref:
        return self._refs[key]

    def name_of(self, key: str):
        raise KeyError(key)


@functools.lru_cache(maxsize=2048)
def _load_cached(canonical: str, refs: tuple[tuple[str, Ref], ...]) -> CompiledFormula:
    return _compile(canonical, _KnownRefs(refs), MAX_CANONICAL_LENGTH)


def load_canonical(canonical: str, resolver: Resolver) -> CompiledFormula:
    """Load a stored formula, checking it against the schema as it is now (a referenced
    field may have been deleted or changed its type). Cached per canonical text and the
    Refs it resolves to. A FormulaError points into the rendered (display) text."""
    try:
        try:
            keys = sorted(dependencies(canonical)) if isinstance(canonical, str) else None
            refs = tuple((k, normalized(resolver.resolve_key(k))) for k in keys) if keys is not None else None
        except LookupError:
            refs = None
        if refs is not None and all(isinstance(r, Ref) for _, r in refs):
            return _load_cached(canonical, refs)
        return _compile(canonical, resolver, MAX_CANONICAL_LENGTH)  # raises the precise error
    except FormulaError as exc:
        if not isinstance(canonical, str) or exc.text != canonical:
            raise
        try:
            text, to_display = render_with_map(canonical, resolver)
        except FormulaError:
            raise exc from None
        shown = exc.with_text(text, to_display(exc.position))
        shown.message = _KEY_IN_MESSAGE.sub(lambda m: _names_or_token(m, resolver), exc.message)
        shown.args = (shown.message,)
        raise shown from None


_KEY_IN_MESSAGE = re.compile(r"\{#([A-Za-z0-9_.-]+)\}")


def _names_or_token(match: "re.Match[str]", resolver: Resolver) -> str:
    try:
        return format_path(resolver.name_of(match.group(1)))
    except LookupError:
        return match.group(0)


def clear_cache() -> None:
    _load_cached.cache_clear()
