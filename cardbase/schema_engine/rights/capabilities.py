"""What an actor may do with an object and each of its fields, in one value.

Menus, cards, lists, boards, the calendar and the OpenAPI description all ask the session
for these instead of deriving rights from an ``Access`` themselves, so no channel can
disagree with the store about what is allowed.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..snapshot import FieldInfo, ObjectInfo
from .access import RIGHTS, Access


@dataclass(frozen=True)
class ObjectCapabilities:
    """The object rights held (``rights``) and the fields the actor may read and write."""

    obj: ObjectInfo
    rights: frozenset[str]
    readable: frozenset[str]
    writable: frozenset[str]

    def can(self, right: str) -> bool:
        if right not in RIGHTS:
            raise ValueError(f"unknown right {right!r}")
        return right in self.rights

    def reads(self, field: FieldInfo | str) -> bool:
        return (field if isinstance(field, str) else field.api_name) in self.readable

    def writes(self, field: FieldInfo | str) -> bool:
        return (field if isinstance(field, str) else field.api_name) in self.writable

    def level(self, field: FieldInfo | str) -> str:
        """"hidden", "read_only" or "editable"."""
        return "editable" if self.writes(field) else "read_only" if self.reads(field) else "hidden"

    @property
    def readable_fields(self) -> list[FieldInfo]:
        return [f for f in self.obj.fields if f.api_name in self.readable]

    def as_dict(self) -> dict:
        """For JSON (the API's metadata)."""
        return {"rights": sorted(self.rights), "fields": {f.api_name: self.level(f) for f in self.obj.fields}}


def capabilities_of(access: Access, obj: ObjectInfo) -> ObjectCapabilities:
    allowed = access.field_readable(obj)
    readable = [f for f in obj.fields if allowed is None or allowed(f)]
    return ObjectCapabilities(
        obj, frozenset(r for r in RIGHTS if access.can(obj, r)),
        frozenset(f.api_name for f in readable),
        frozenset(f.api_name for f in readable if f.writable and access.field_writable(obj, f)))
