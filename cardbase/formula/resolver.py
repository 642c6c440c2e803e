"""How formulas meet the schema: the schema engine implements ``Resolver``; formulas only
ever see ``Ref``s (stable id paths and value types), never schema objects."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol, Sequence, runtime_checkable

from .valuetypes import normalize_type


@dataclass(frozen=True)
class Ref:
    """A resolved reference.

    key:  stable id path, field ids joined by "." ("12", or "12.34" for link 12 -> field 34)
    type: value type of the field (number, text, date, datetime, boolean, any; other
          field-type words such as "link" count as any)
    many: True when the path goes through a child list (order -> its lines); such a
          reference is a list and may only be used inside an aggregate (SUM, COUNT …)
    """

    key: str
    type: str
    many: bool = False


@runtime_checkable
class Resolver(Protocol):
    def resolve(self, path: Sequence[str]) -> Ref:
        """Names as written (["Organisation", "City"]) -> Ref. Match labels and API names,
        case-insensitively. Raise LookupError when unknown; a LookupError that is not a
        bare KeyError may carry a message that is shown to the user as the reason."""

    def resolve_key(self, key: str) -> Ref:
        """A stored key ("12.34") -> its Ref now. Raise LookupError when the field is gone."""

    def name_of(self, key: str) -> Sequence[str]:
        """A stored key -> the current display names of its path, e.g. ["Organisation", "City"].
        Raise LookupError when the field is gone."""


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class DictResolver:
    """A Resolver over a plain mapping, for tests and scripts.

    ``fields`` maps a name (str) or a path of names (tuple) to a Ref; several names (label,
    API name) may map to the same Ref. Lookup is case- and whitespace-insensitive. The
    display path of a key is the first path registered for it unless ``display`` says
    otherwise.
    """

    def __init__(self, fields: Mapping[str | tuple[str, ...], Ref],
                 display: Mapping[str, Sequence[str] | str] | None = None):
        self._by_path: dict[tuple[str, ...], Ref] = {}
        self._by_key: dict[str, Ref] = {}
        self._names: dict[str, tuple[str, ...]] = {}
        for path, ref in fields.items():
            names = (path,) if isinstance(path, str) else tuple(path)
            self._by_path[tuple(_norm(n) for n in names)] = ref
            self._by_key.setdefault(ref.key, ref)
            self._names.setdefault(ref.key, names)
        for key, shown in (display or {}).items():
            self._names[key] = (shown,) if isinstance(shown, str) else tuple(shown)

    def resolve(self, path: Sequence[str]) -> Ref:
        ref = self._by_path.get(tuple(_norm(n) for n in path))
        if ref is None:
            raise KeyError(tuple(path))
        return ref

    def resolve_key(self, key: str) -> Ref:
        return self._by_key[key]

    def name_of(self, key: str) -> Sequence[str]:
        return self._names[key]

    def keys(self) -> Iterable[str]:
        return self._by_key.keys()


def normalized(ref: Ref) -> Ref:
    """The Ref with its type word mapped to a formula value type."""
    t = normalize_type(ref.type)
    return ref if t == ref.type else Ref(ref.key, t, bool(ref.many))
