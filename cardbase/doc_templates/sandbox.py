"""The Jinja environment templates run in: Jinja's ``SandboxedEnvironment`` narrowed further.

The sandbox already refuses private and dunder attributes (``__class__``,
``__globals__`` ...). On top of it:

* no globals but a bounded ``range`` (no ``cycler``, ``joiner``, ``namespace``, ``lipsum``,
  ``dict``); only the filters listed in ``SAFE_FILTERS`` plus the formatting filters --
  none that pads or repeats text to a width the template chooses (``center``, ``indent``,
  ``wordwrap``, ``format``), none that marks text as safe XML;
* no string formatting (``"%s" % x``, ``"{}".format(x)``): format strings reach attributes
  and build text of any width;
* strings, dates and numbers expose only a few harmless methods; records none at all;
* ``*``, ``+`` and ``**`` are checked before they run, so ``"x" * 10**9`` or ``9**9**9``
  never start;
* a ``Budget`` counts every loop step, call and operator against ``MAX_LOOP_STEPS`` and the
  clock against ``RENDER_SECONDS`` (each ``for`` loop is compiled with a guard around its
  iterable), and the renderer stops output beyond ``MAX_OUTPUT_CHARS``; recursion ends at
  Python's own limit.
There are no file, import or network functions in a template at all.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from decimal import Decimal
from typing import Any, Iterable, Iterator

from jinja2 import StrictUndefined, Template, nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.i18n import _

from .formatting import Formatter
from .limits import MAX_LOOP_STEPS, MAX_POWER, MAX_RANGE, MAX_VALUE_CHARS, RENDER_SECONDS

COMPILED_CACHE = 64  # compiled sources kept per language
LOOP_GUARD = "_cb_loop_guard"  # the filter wrapped around every loop's iterable (not for templates)
SAFE_FILTERS = ("abs", "capitalize", "count", "default", "d", "e", "escape", "first", "float", "int", "join",
                "last", "length", "list", "lower", "max", "min", "reject", "rejectattr", "reverse", "round",
                "select", "selectattr", "sort", "string", "striptags", "sum", "title", "trim", "truncate",
                "unique", "upper", "wordcount", "map", "groupby", "batch", "slice", "dictsort")
STR_METHODS = frozenset({"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
                         "endswith", "split", "isdigit", "isalpha"})
DATE_METHODS = frozenset({"isoformat", "weekday", "isoweekday"})
LOOP_METHODS = frozenset({"cycle", "changed"})


class LimitExceeded(Exception):
    """A rendering ran into a time or size limit; the message says which."""


class Budget:
    """The time and steps one rendering may use."""

    def __init__(self, seconds: float = RENDER_SECONDS, steps: int = MAX_LOOP_STEPS):
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.steps_left = steps
        self.steps = steps

    def tick(self, steps: int = 1) -> None:
        self.steps_left -= steps
        if self.steps_left < 0:
            raise LimitExceeded(_("the template did more than %(steps)s loop steps and operations",
                                   steps=format(self.steps, ",")))
        if time.monotonic() > self.deadline:
            raise LimitExceeded(_("the template ran longer than %(seconds)s seconds", seconds=format(self.seconds, "g")))


def _too_long() -> SecurityError:
    return SecurityError(_("the result would be longer than %(limit)s characters", limit=format(MAX_VALUE_CHARS, ",")))


def _too_large_power(base: Any, exponent: Any) -> bool:
    if not isinstance(exponent, (int, float, Decimal)):
        return False
    size = abs(Decimal(exponent))
    return bool(size > MAX_POWER or (isinstance(base, int) and base.bit_length() * size > 64 * MAX_POWER))


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


_budget: ContextVar[Budget | None] = ContextVar("cardbase_template_budget", default=None)


def current_budget() -> Budget:
    """The budget of the rendering in progress (a fresh one outside ``budget_scope``)."""
    found = _budget.get()
    if found is None:
        found = Budget()
        _budget.set(found)
    return found


@contextmanager
def budget_scope(budget: Budget) -> Iterator[Budget]:
    """Run a rendering against ``budget`` (per thread and task: environments are shared)."""
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


class DocumentEnvironment(SandboxedEnvironment):
    """The environment of documents in one language: shared by every rendering (see
    ``environment``); each rendering's limits are its own ``Budget`` (``budget_scope``)."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, language: str = "en"):
        self.formatter = Formatter(language)
        super().__init__(autoescape=True, undefined=StrictUndefined, finalize=self.formatter.display,
                         keep_trailing_newline=True)
        self._compiled: OrderedDict[str, Template] = OrderedDict()
        self._compiled_lock = threading.Lock()
        self.globals.clear()
        self.globals["range"] = self._range
        safe = {name: self.filters[name] for name in SAFE_FILTERS}
        self.filters.clear()
        self.filters.update(safe)
        self.filters.update(self.formatter.filters())
        self.filters[LOOP_GUARD] = self._loop_guard
        self.tests.pop("callable", None)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:  # noqa: A002
        """Compiled once per source (a template's parts are the same for every document it
        fills; the environment is shared per language, so the cache serves them all)."""
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        with self._compiled_lock:
            found = self._compiled.get(source)
            if found is not None:
                self._compiled.move_to_end(source)
                return found
        compiled = super().from_string(source)
        with self._compiled_lock:
            self._compiled[source] = compiled
            while len(self._compiled) > COMPILED_CACHE:
                self._compiled.popitem(last=False)
        return compiled

    # ---- every loop, call and operator counts --------------------------------------------------
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
        return tree

    def _loop_guard(self, iterable: Iterable[Any]) -> Iterator[Any]:
        tick = current_budget().tick
        for item in iterable:
            tick()
            yield item

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise SecurityError(_("range() is limited to %(limit)s numbers in a template", limit=format(MAX_RANGE, ",")))
        current_budget().tick()
        return numbers

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        current_budget().tick()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        current_budget().tick()
        if operator == "%" and isinstance(left, str):
            raise SecurityError(_("formatting text with the percent operator is not available in templates: "
                                  "use the filters number, money and date"))
        if operator == "**" and _too_large_power(left, right):
            raise SecurityError(_("the power is too large for a template (exponents up to %(limit)s)", limit=MAX_POWER))
        if operator == "*":
            count, other = (right, left) if isinstance(right, int) else (left, right)
            if isinstance(count, int) and _size(other) * count > MAX_VALUE_CHARS:
                raise _too_long()
        if operator == "+" and _size(left) + _size(right) > MAX_VALUE_CHARS:
            raise _too_long()
        return super().call_binop(context, operator, left, right)

    # ---- what attributes a template may reach ------------------------------------------------
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, str):
            return attr in STR_METHODS
        if isinstance(obj, (date, datetime)):
            return not callable(value) or attr in DATE_METHODS
        if isinstance(obj, LoopContext):
            return not callable(value) or attr in LOOP_METHODS
        if isinstance(obj, Money):
            return attr in ("amount", "currency")
        return not callable(value)

    def wrap_str_format(self, value: Any) -> Any:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise SecurityError(_("str.format is not available in templates: use the filters number, money and date"))
        return refused


@lru_cache(maxsize=None)
def environment(language: str) -> DocumentEnvironment:
    """The shared environment of a document language."""
    return DocumentEnvironment(language)
