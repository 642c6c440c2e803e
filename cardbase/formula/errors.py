"""The one error the formula language raises on purpose, and its cycle variant."""
from __future__ import annotations

from typing import Any, Sequence


class FormulaError(ValueError):
    """A formula was refused. ``position`` is the 0-based character offset of the problem
    in ``text`` (None when the problem has no place, e.g. a dependency cycle)."""

    def __init__(self, message: str, position: int | None = None, text: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.text = text

    def with_text(self, text: str, position: int | None = None) -> "FormulaError":
        """A copy that points into ``text`` (used when a stored formula is shown renamed)."""
        err = type(self).__new__(type(self))
        err.__dict__.update(self.__dict__)
        ValueError.__init__(err, self.message)
        err.text = text
        err.position = self.position if position is None else position
        return err

    @property
    def line(self) -> int | None:
        """1-based line of the problem."""
        if self.position is None:
            return None
        before = (self.text or "")[: self.position]
        return before.count("\n") + 1

    @property
    def column(self) -> int | None:
        """1-based column of the problem."""
        if self.position is None:
            return None
        before = (self.text or "")[: self.position]
        return self.position - (before.rfind("\n") + 1) + 1

    @property
    def snippet(self) -> str:
        """The line of the formula with a caret under the problem ('' when unknown)."""
        if self.position is None or self.text is None:
            return ""
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        line = self.text[start: end if end >= 0 else len(self.text)]
        col = self.position - start
        if len(line) > 80:  # keep the snippet readable around the caret
            lo = max(0, col - 40)
            line, col = line[lo: lo + 80], col - lo
        return f"{line}\n{' ' * col}^"

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message,
                "position": self.position, "line": self.line, "column": self.column}


class CycleError(FormulaError):
    """Formulas depend on each other in a circle; ``cycle`` is the path, first == last."""

    def __init__(self, cycle: Sequence[str], names: Sequence[str] | None = None):
        self.cycle = list(cycle)
        shown = list(names) if names is not None else self.cycle
        super().__init__("circular reference: " + " -> ".join(shown))
