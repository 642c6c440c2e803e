"""The syntax tree. Nodes are immutable; the checker returns typed copies
(``type``/``many``/``const`` filled in) so a parsed tree can be cached and shared."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    pos: int  # offset of the node's first character in the formula text
    end: int  # offset after its last character
    type: str | None = field(default=None, kw_only=True)  # set by the checker
    many: bool = field(default=False, kw_only=True)  # a list through a child relation
    const: bool = field(default=False, kw_only=True)  # no references, no clock
    depth: int = field(default=1, kw_only=True, compare=False)

    @property
    def vtype(self) -> str:
        """``type`` of a node the checker returned, where it is always set."""
        if self.type is None:
            raise ValueError(f"{self!r} has not been through the checker")
        return self.type

    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True)
class Literal(Node):
    value: Any = None  # Decimal, str, bool or None (BLANK())


@dataclass(frozen=True)
class FieldRef(Node):
    path: tuple[str, ...] = ()  # names as written: ("Organisation", "City")
    key: str | None = None  # stable id path "12.34": written as {#12.34}, or set by the checker


@dataclass(frozen=True)
class Unary(Node):
    op: str = "-"
    operand: Node = field(kw_only=True)

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Node):
    op: str = "+"
    op_pos: int = 0
    left: Node = field(kw_only=True)
    right: Node = field(kw_only=True)

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Call(Node):
    name: str = ""  # upper case, aliases resolved
    args: tuple[Node, ...] = ()
    written: str = ""  # the name as written (for messages)

    def children(self) -> tuple[Node, ...]:
        return self.args


def walk(node: Node):
    """Every node of the tree, parents before children (iterative: trees are shallow anyway)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))


