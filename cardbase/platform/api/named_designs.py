"""The REST handling every named design of an object shares -- cards and named table
designs: create from a starting point, read, replace, patch and delete one by id, each
answer carrying the design's ETag and a change guarded by ``If-Match``.

One ``NamedDesignKind`` per sort of design says which engine functions to call and what
its content key is; layouts.py routes the URLs to it, so the two resources cannot drift."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import url_for

from cardbase.schema_engine.snapshot import ObjectInfo

from ..context import get_db
from .auth import api_actor
from .http import if_match_tags, json_object, json_response, no_content, reject_unknown, require_keys, small_id
from .metadata import configurable_object
from .records import reading

Design = dict[str, Any]


def design_object(object_name: str) -> ObjectInfo:
    """The object whose designs are asked for (configure right; 404 when unknown)."""
    return configurable_object(object_name)[1]


@dataclass(frozen=True)
class NamedDesignKind:
    """One sort of named design and the engine functions that keep it."""

    label: str  # "a card": names the design in an error about unknown keys
    content_key: str  # "layout" / "definition"
    id_name: str  # "card_id" / "table_id": names a bad id in the error
    endpoint: str  # the GET endpoint of one design (the Location of a created one)
    ref_arg: str  # that endpoint's URL argument for the id
    get: Callable[[Any, str, int | None], Design]  # (source, api_name, id)
    save: Callable[..., Design]  # (db, actor, api_name, name, content, is_default=, design_id=, expected=)
    delete: Callable[[Any, Any, str, int], None]  # (db, actor, api_name, id)
    etag: Callable[[Design], str]
    start: Callable[[ObjectInfo], Any]  # the content a new design starts from

    @property
    def keys(self) -> set[str]:
        return {"name", self.content_key, "is_default"}

    def response(self, design: Design, status: int = 200, headers: dict[str, str] | None = None):
        return json_response(design, status, {**(headers or {}), "ETag": f'"{self.etag(design)}"'})

    def _save(self, obj: ObjectInfo, body: Design, design_id: int | None, defaults: Design) -> Design:
        """Save from a request body, taking what it leaves out from ``defaults`` (the engine
        compares the If-Match tags with the design as stored, in its transaction)."""
        reject_unknown(body, self.keys, self.label)
        merged = {**defaults, **body}
        return self.save(get_db(), api_actor(), obj.api_name, merged.get("name"), merged.get(self.content_key),
                         is_default=merged.get("is_default", False), design_id=design_id,
                         expected=if_match_tags() if design_id is not None else None)

    def create(self, object_name: str):
        body = json_object()
        obj = design_object(object_name)
        require_keys(body, "name")
        design = self._save(obj, body, None, {self.content_key: self.start(obj)})
        location = url_for(self.endpoint, object_name=obj.api_name, **{self.ref_arg: design["id"]})
        return self.response(design, 201, {"Location": location})

    def read(self, object_name: str, ref: str):
        design_id = small_id(ref, self.id_name)
        return self.response(self.get(reading(), design_object(object_name).api_name, design_id))

    def replace(self, object_name: str, ref: str):
        """Replace name and content; ``is_default`` left out keeps the design's status."""
        design_id = small_id(ref, self.id_name)
        body = json_object()
        obj = design_object(object_name)
        require_keys(body, "name", self.content_key)
        current = self.get(reading(), obj.api_name, design_id)
        return self.response(self._save(obj, body, design_id, {"is_default": current["is_default"]}))

    def patch(self, object_name: str, ref: str):
        design_id = small_id(ref, self.id_name)
        body = json_object()
        obj = design_object(object_name)
        current = self.get(reading(), obj.api_name, design_id)
        return self.response(self._save(obj, body, design_id, current))

    def remove(self, object_name: str, ref: str):
        design_id = small_id(ref, self.id_name)
        self.delete(get_db(), api_actor(), design_object(object_name).api_name, design_id)
        return no_content()
