"""A many-to-one link to a record of another object (a contact's organisation): a real
foreign-key column holding the target record's id, indexed so child lists are fast.
Whether the target record exists (and may be seen) is the record store's business."""
from __future__ import annotations

from typing import Any, Mapping

import marshmallow as ma
import sqlalchemy as sa

from .. import naming
from .base import EQUALITY, FieldType, FieldValueError, OptionContext
from .options import CHOICE, OBJECT, OptionSpec, _l
from .decimal import shown
from .registry import register
from ..i18n import _

ON_DELETE = ("restrict", "cascade", "set_null")
_ON_DELETE_ALIASES = {"set_empty": "set_null"}
MAX_ID = 2**63 - 1


def parse_record_id(raw: Any, what: str) -> int:
    """42, "42" or {"id": 42} -> 42; anything else -> FieldValueError "must be the id of <what>"."""
    if isinstance(raw, Mapping) and set(raw) - {"display"} == {"id"}:
        raw = raw["id"]  # the form links are sent out in may come back
    if isinstance(raw, str) and raw.strip().isdigit() and raw.strip().isascii():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ID:
        raise FieldValueError(_('must be the id of %(what)s (a whole number such as 42), not %(value)s',
                                what=what, value=shown(raw)))
    return raw


@register
class LinkType(FieldType):
    """A link to one record of the ``target`` object; unique makes it one-to-one."""

    name = "link"
    label = _l("Link")
    operators = EQUALITY
    value_type = "link"
    indexed = True
    supports_default = False

    options_legend = _l("Link")
    options = (
        OptionSpec("target", OBJECT, required=True, label=_l("Links to the object"),
                   doc="the object this field links to"),
        OptionSpec("on_delete", CHOICE, default="restrict", choices=ON_DELETE, aliases=_ON_DELETE_ALIASES,
                   label=_l("When the linked record is deleted"),
                   choice_labels={"restrict": _l("Refuse to delete a record that is still linked"),
                                  "cascade": _l("Delete the linking records too"),
                                  "set_null": _l("Empty the link")}),
    )

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        exported = super().export_options(options, ctx)
        if "target" in exported:
            exported["target"] = ctx.object_name(int(exported["target"]))
        return exported

    def sa_type(self, field) -> sa.types.TypeEngine:
        return sa.BigInteger()

    def foreign_key(self, field, schema) -> str | None:
        return f"{naming.table_name(int(field.options['target']))}.id"

    def marshmallow_field(self, field) -> ma.fields.Field:
        return ma.fields.Integer(allow_none=True, strict=True)

    def parse(self, field, raw: Any) -> int | None:
        if self.is_empty(raw):
            return None
        return parse_record_id(raw, "a linked record")

    def to_json(self, field, value: int | None) -> int | None:
        return value

    def from_db(self, field, values) -> int | None:
        return None if values[0] is None else int(values[0])
