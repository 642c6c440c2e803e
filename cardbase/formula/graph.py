"""Which formula depends on which field: cycles are refused, recomputation follows a
topological order."""
from __future__ import annotations

import heapq
from typing import Callable, Iterable

from .errors import CycleError


class DependencyGraph:
    """Nodes are keys (any strings: field ids, "object.field" …). ``add(a, [b, c])`` says
    that a is computed from b and c. Deterministic: ties are broken by insertion order."""

    def __init__(self):
        self._deps: dict[str, list[str]] = {}  # node -> what it reads, in insertion order
        self._order: dict[str, int] = {}

    def _touch(self, key: str) -> None:
        if key not in self._order:
            self._order[key] = len(self._order)
            self._deps.setdefault(key, [])

    def add(self, node: str, depends_on: Iterable[str] = ()) -> None:
        """Add edges node -> each of depends_on (keeps earlier edges of node)."""
        self._touch(node)
        for dep in depends_on:
            self._touch(dep)
            if dep not in self._deps[node]:
                self._deps[node].append(dep)

    def replace(self, node: str, depends_on: Iterable[str] = ()) -> None:
        """Set what node depends on, dropping its earlier edges (an edited formula)."""
        self._touch(node)
        self._deps[node] = []
        self.add(node, depends_on)

    def remove(self, node: str) -> None:
        """Forget node and every edge to or from it."""
        self._deps.pop(node, None)
        self._order.pop(node, None)
        for deps in self._deps.values():
            if node in deps:
                deps.remove(node)

    def __contains__(self, node: str) -> bool:
        return node in self._deps

    def nodes(self) -> list[str]:
        return list(self._order)

    def depends_on(self, node: str) -> list[str]:
        return list(self._deps.get(node, ()))

    def dependants(self, node: str) -> list[str]:
        """The nodes that read node directly."""
        return [n for n, deps in self._deps.items() if node in deps]

    def affected_by(self, changed: Iterable[str]) -> set[str]:
        """Every node that (transitively) reads one of ``changed``, not including them."""
        readers: dict[str, list[str]] = {}
        for n, deps in self._deps.items():
            for d in deps:
                readers.setdefault(d, []).append(n)
        seen: set[str] = set()
        stack = list(changed)
        while stack:
            for reader in readers.get(stack.pop(), ()):
                if reader not in seen:
                    seen.add(reader)
                    stack.append(reader)
        return seen

    # ---- cycles ---------------------------------------------------------------------
    def find_cycle(self) -> list[str] | None:
        """A cycle as a path whose first and last nodes are equal, or None."""
        WHITE, GREY, BLACK = 0, 1, 2
        colour = dict.fromkeys(self._deps, WHITE)
        for start in self._order:
            if colour[start] != WHITE:
                continue
            path, iters = [start], [iter(self._deps[start])]
            colour[start] = GREY
            while iters:  # iterative DFS: a long chain of formulas must not hit recursion limits
                nxt = next(iters[-1], None)
                if nxt is None:
                    colour[path.pop()] = BLACK
                    iters.pop()
                elif colour[nxt] == GREY:
                    return path[path.index(nxt):] + [nxt]
                elif colour[nxt] == WHITE:
                    colour[nxt] = GREY
                    path.append(nxt)
                    iters.append(iter(self._deps[nxt]))
        return None

    def check_acyclic(self, label: Callable[[str], str] | None = None) -> None:
        """Raise CycleError ("circular reference: A -> B -> A") if formulas form a circle;
        ``label`` turns keys into names for the message."""
        cycle = self.find_cycle()
        if cycle is not None:
            raise CycleError(cycle, [label(k) for k in cycle] if label else None)

    # ---- order ------------------------------------------------------------------------
    def topological_order(self, keys: Iterable[str] | None = None) -> list[str]:
        """``keys`` (default: all nodes) ordered so that everything a node reads, directly or
        through nodes not in ``keys``, comes before it. Raises CycleError on a cycle."""
        self.check_acyclic()
        pending = {n: len(deps) for n, deps in self._deps.items()}
        readers: dict[str, list[str]] = {}
        for n, deps in self._deps.items():
            for d in deps:
                readers.setdefault(d, []).append(n)
        heap = [(self._order[n], n) for n, count in pending.items() if count == 0]
        heapq.heapify(heap)
        order: list[str] = []
        while heap:
            _, n = heapq.heappop(heap)
            order.append(n)
            for r in readers.get(n, ()):
                pending[r] -= 1
                if pending[r] == 0:
                    heapq.heappush(heap, (self._order[r], r))
        if keys is None:
            return order
        wanted = set(keys)
        unknown = [k for k in wanted if k not in self._deps]
        return [n for n in order if n in wanted] + sorted(unknown)

    def recompute_order(self, changed: Iterable[str]) -> list[str]:
        """The nodes to recompute after ``changed`` changed, in a safe order."""
        return self.topological_order(self.affected_by(changed))
