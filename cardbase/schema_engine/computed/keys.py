"""Reference keys: how a computed field names what it reads, by ids only.

A key is a path of segments joined by ".": each segment but the last crosses a link, the
last names a field. ``12`` is field 12 of the object itself (or a system field by name:
``code``); ``12.34`` follows link 12 to field 34 of the linked record; ``c45.67`` goes
down the child list of the records whose link field 45 points here and reads their field
67 (a list). Ids survive renames; ``c`` marks the reverse direction, which a self-link
(organisation -> parent organisation) would otherwise leave ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..errors import NotFound
from ..snapshot import FieldInfo, ObjectInfo, Schema

CHILD = "c"
MAX_STEPS = 3


@dataclass(frozen=True)
class Step:
    """One link crossed: ``field`` is the link field; ``child`` True goes from a record to
    the records whose ``field`` points at it (source is then ``field``'s target)."""

    field: FieldInfo
    child: bool
    source: ObjectInfo
    target: ObjectInfo

    @property
    def segment(self) -> str:
        return f"{CHILD}{self.field.id}" if self.child else str(self.field.id)


@dataclass(frozen=True, eq=False)
class KeyPath:
    key: str
    steps: tuple[Step, ...]
    field: FieldInfo  # the field read at the end (on ``objects[-1]``)
    objects: tuple[ObjectInfo, ...]  # the object at each position, len(steps) + 1

    @property
    def many(self) -> bool:
        return any(s.child for s in self.steps)

    @cached_property
    def field_ids(self) -> tuple[int, ...]:
        """Ids of every field the path touches (links crossed and the final field)."""
        ids = [s.field.stored_id for s in self.steps]
        if self.field.id is not None:
            ids.append(self.field.id)
        return tuple(ids)

    def rest(self) -> "KeyPath":
        """The same path seen from the object after its first step."""
        return KeyPath(".".join(self.key.split(".")[1:]), self.steps[1:], self.field, self.objects[1:])


def field_segment(field: FieldInfo) -> str:
    return field.key  # the id as text, or a system field's name


def join(steps: tuple[Step, ...], field: FieldInfo) -> str:
    return ".".join([s.segment for s in steps] + [field_segment(field)])


def make_path(steps: tuple[Step, ...], field: FieldInfo, start: ObjectInfo) -> KeyPath:
    objects = (start,) + tuple(s.target for s in steps)
    return KeyPath(join(steps, field), steps, field, objects)


def link_step(schema: Schema, current: ObjectInfo, segment: str) -> Step:
    """The step a non-final segment makes from ``current``; LookupError if it makes none."""
    if segment.startswith(CHILD) and segment[1:].isdigit():
        try:
            link: FieldInfo | None = schema.field_by_id(int(segment[1:]))
        except NotFound:
            link = None
        if link is None or link.type != "link" or int(link.options.get("target", 0)) != current.id:
            raise LookupError(f"{segment} is not a child list of {current.label}")
        return Step(link, True, current, schema.object(link.object_id))
    field = own_field(current, segment)
    if field.type != "link":
        raise LookupError(f"{field.label} is not a link")
    return Step(field, False, current, schema.link_target(field))


def own_field(obj: ObjectInfo, segment: str) -> FieldInfo:
    """A field of ``obj`` by id segment ("12") or system field name ("code")."""
    if segment.isdigit():
        for f in obj.user_fields:
            if f.id == int(segment):
                return f
        raise KeyError(segment)
    field = obj.fields_by_name.get(segment)
    if field is None or not field.system:
        raise KeyError(segment)
    return field


def parse_key(schema: Schema, obj: ObjectInfo, key: str) -> KeyPath:
    """A stored key read from ``obj`` -> its path now; LookupError when something is gone."""
    segments = key.split(".")
    if len(segments) > MAX_STEPS + 1:
        raise LookupError(f"a reference crosses at most {MAX_STEPS} links")
    current, steps = obj, []
    for segment in segments[:-1]:
        step = link_step(schema, current, segment)
        steps.append(step)
        current = step.target
    field = own_field(current, segments[-1])
    return KeyPath(key, tuple(steps), field, (obj,) + tuple(s.target for s in steps))
