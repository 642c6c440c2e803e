"""Marshmallow schemas of the API's fixed shapes (errors, tokens, metadata, users,
groups, rights, history …), turned into OpenAPI components by apispec. Response schemas
are strict (no undeclared keys), so the contract tests notice any drift between what the
API returns and what it promises. The per-object record schemas are generated from the
live metadata in ``openapi.py``."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from cardbase.schema_engine.field_types.base import ALL_OPERATORS
from cardbase.schema_engine.rights.models import ACCESS_MODES, FIELD_LEVELS, LEVELS, OBJECT_RIGHTS, RECORD_SCOPES

DECIMAL_OUT = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL_IN = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"
ID_OR_NAME = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        {"type": "string", "minLength": 1, "maxLength": 150}]}


def _desc(text: str) -> dict:
    return {"description": text}


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ErrorBody(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # some errors add a key: current, rows, usages, failures, total

    code = f.String(required=True, metadata=_desc("machine-readable: validation_error, not_found, conflict …"))
    message = f.String(required=True, metadata=_desc("what went wrong, for people"))
    fields = f.Dict(keys=f.String(), values=f.List(f.String()), required=True,
                    metadata=_desc("field (or parameter) -> its problems"))


class Error(Strict):
    error = f.Nested(ErrorBody, required=True)


class LinkRef(Strict):
    id = f.Integer(required=True)
    display = f.String(required=True, allow_none=True, metadata=_desc("how the linked record names itself"))
    restricted = f.Boolean(metadata=_desc("true when the caller may not see the linked record"))


class Money(Strict):
    amount = f.String(required=True, metadata={"pattern": DECIMAL_OUT, "format": "decimal"})
    currency = f.String(required=True, metadata={"pattern": "^[A-Z]{3}$"})


class MoneyInput(Strict):
    amount = f.Raw(required=True, metadata={"anyOf": [{"type": "string", "pattern": DECIMAL_IN},
                                                       {"type": "number"}, {"type": "null"}]})
    currency = f.String(allow_none=True, metadata={"description": "ISO 4217 code; default: the field's currency",
                                                   "pattern": "^[A-Za-z]{3}$"})


# ---- auth ---------------------------------------------------------------------------------------
class TokenRequest(Strict):
    username = f.String(required=True, validate=v.Length(min=1, max=150))
    password = f.String(required=True, validate=v.Length(min=1, max=1024))


class Token(Strict):
    token = f.String(required=True, metadata=_desc("send it as 'Authorization: Bearer <token>'"))
    expires_at = f.DateTime(required=True)


class PersonalTokenRequest(Strict):
    name = f.String(required=True, validate=v.Length(min=1, max=200))
    expires_at = f.DateTime(allow_none=True, metadata=_desc("default: never"))
    user_id = f.Integer(validate=v.Range(min=1, max=2**31 - 1), metadata=_desc("admins: create the token for this user"))


class PersonalToken(Strict):
    id = f.Integer(required=True)
    name = f.String(required=True)
    kind = f.String(required=True, validate=v.OneOf(["session", "personal"]))
    prefix = f.String(required=True, metadata=_desc("the token's first characters, to recognise it"))
    user_id = f.Integer(required=True)
    created_at = f.DateTime(required=True)
    expires_at = f.DateTime(required=True, allow_none=True)
    last_used_at = f.DateTime(required=True, allow_none=True)
    revoked_at = f.DateTime(required=True, allow_none=True)
    token = f.String(metadata=_desc("the secret: only in the answer to its creation"))


class PersonalTokenList(Strict):
    data = f.List(f.Nested(PersonalToken), required=True)


# ---- metadata -----------------------------------------------------------------------------------
# Each type's options are described by the <Type>FieldOptions schemas the OpenAPI document
# generates from the types' declarations (openapi_fields.py); this is the fallback text.
_OPTIONS = "the type's options, as the field type declares them (see the <Type>FieldOptions schemas)"
_NAME = {"pattern": "^[a-z][a-z0-9_]{0,62}$"}


_RULE = ("a condition in the filter language (docs/filters.md) over fields of the same record, no paths "
         "through links; docs/field_rules.md")


class FieldRules(Strict):
    visible_when = f.Dict(allow_none=True, metadata=_desc("the field is shown (and may be set) only when " + _RULE))
    required_when = f.Dict(allow_none=True, metadata=_desc("the field must have a value when " + _RULE))
    readonly_when = f.Dict(allow_none=True, metadata=_desc("the field may not change when, before the change, "
                                                           + _RULE))


_RULES = ("conditional rules, enforced by the record store for every channel: visible_when, required_when, "
          "readonly_when")


class FieldDef(Strict):
    name = f.String(required=True)
    label = f.String(required=True)
    type = f.String(required=True)
    required = f.Boolean(required=True)
    unique = f.Boolean(required=True)
    default = f.Raw(required=True, allow_none=True)
    options = f.Dict(required=True, metadata=_desc(_OPTIONS))
    help_text = f.String(required=True)
    position = f.Integer(required=True)
    rules = f.Nested(FieldRules, metadata=_desc(_RULES + " (absent: none)"))


class FieldDefInput(Strict):
    name = f.String(metadata={**_NAME, "description": "API name; default: from the label"})
    label = f.String(required=True, validate=v.Length(min=1, max=200))
    type = f.String(required=True, metadata=_desc("a registered field type (the OpenAPI document lists them)"))
    required = f.Boolean()
    unique = f.Boolean()
    default = f.Raw(allow_none=True)
    options = f.Dict(allow_none=True, metadata=_desc(_OPTIONS))
    help_text = f.String(validate=v.Length(max=2000))
    position = f.Integer(validate=v.Range(min=-2**31, max=2**31 - 1))
    rules = f.Nested(FieldRules, allow_none=True, metadata=_desc(_RULES + "; null or {} removes them"))


class FieldDefPatch(FieldDefInput):
    label = f.String(validate=v.Length(min=1, max=200))
    type = f.String()


class FieldList(Strict):
    data = f.List(f.Nested(FieldDef), required=True)


class ObjectDef(Strict):
    name = f.String(required=True)
    label = f.String(required=True)
    label_plural = f.String(required=True)
    description = f.String(required=True)
    code_pattern = f.String(required=True)
    display_field = f.String(required=True, allow_none=True)
    position = f.Integer(required=True)
    fields = f.List(f.Nested(FieldDef), required=True)


class ObjectDefInput(Strict):
    name = f.String(metadata={**_NAME, "description": "API name; default: from the label"})
    label = f.String(required=True, validate=v.Length(min=1, max=200))
    label_plural = f.String(validate=v.Length(min=1, max=200))
    description = f.String(validate=v.Length(max=5000))
    code_pattern = f.String(metadata=_desc("how codes are numbered, e.g. CL-{00000}"))
    display_field = f.String(allow_none=True)
    position = f.Integer(validate=v.Range(min=-2**31, max=2**31 - 1))
    fields = f.List(f.Nested(FieldDefInput))


class ObjectDefPatch(Strict):
    name = f.String(metadata=_NAME)
    label = f.String(validate=v.Length(min=1, max=200))
    label_plural = f.String(validate=v.Length(min=1, max=200))
    description = f.String(validate=v.Length(max=5000))
    code_pattern = f.String()
    display_field = f.String(allow_none=True)
    position = f.Integer(validate=v.Range(min=-2**31, max=2**31 - 1))


class ObjectList(Strict):
    data = f.List(f.Nested(ObjectDef), required=True)


# ---- users and groups ---------------------------------------------------------------------------
class GroupRef(Strict):
    id = f.Integer(required=True)
    name = f.String(required=True)


class User(Strict):
    id = f.Integer(required=True)
    username = f.String(required=True)
    display_name = f.String(required=True)
    active = f.Boolean(required=True)
    email = f.String(metadata=_desc("admins and the user themselves only (also below)"))
    language = f.String()
    is_admin = f.Boolean()
    created_at = f.DateTime()
    groups = f.List(f.Nested(GroupRef))


class UserList(Strict):
    data = f.List(f.Nested(User), required=True)


class UserInput(Strict):
    username = f.String(required=True, validate=v.Length(min=1, max=150))
    password = f.String(required=True, validate=v.Length(min=8, max=1024))
    display_name = f.String(validate=v.Length(max=200))
    email = f.String(validate=v.Length(max=254))
    is_admin = f.Boolean()
    language = f.String(validate=v.OneOf(["en", "de"]))


class UserPatch(Strict):
    display_name = f.String(validate=v.Length(max=200))
    email = f.String(allow_none=True, validate=v.Length(max=254))
    language = f.String(validate=v.OneOf(["en", "de"]))
    active = f.Boolean()
    is_admin = f.Boolean()
    password = f.String(validate=v.Length(min=8, max=1024))
    current_password = f.String(metadata=_desc("needed when users change their own password"))


class Group(Strict):
    id = f.Integer(required=True)
    name = f.String(required=True)
    description = f.String(required=True)
    member_count = f.Integer(required=True)


class GroupList(Strict):
    data = f.List(f.Nested(Group), required=True)


class GroupInput(Strict):
    name = f.String(required=True, validate=v.Length(min=1, max=150))
    description = f.String(validate=v.Length(max=2000))


class GroupPatch(Strict):
    name = f.String(validate=v.Length(min=1, max=150))
    description = f.String(validate=v.Length(max=2000))


# ---- rights -------------------------------------------------------------------------------------
_SCOPE = {"description": "which records the group's rights reach: all, own_and_shared, rule_views (only records its "
                    "rule views match) or none; null: the object's access mode"}
_PARENT = {"description": "the link whose record the object's records take their access from (null: their own)"}


class GroupRights(Strict):
    group_id = f.Integer(required=True)
    group = f.String(required=True)
    rights = f.List(f.String(validate=v.OneOf(OBJECT_RIGHTS)), required=True)
    scope = f.String(required=True, allow_none=True, validate=v.OneOf(RECORD_SCOPES), metadata=_SCOPE)


class ObjectRights(Strict):
    mode = f.String(required=True, validate=v.OneOf(ACCESS_MODES))
    groups = f.List(f.Nested(GroupRights), required=True)
    parent = f.String(required=True, allow_none=True, metadata=_PARENT)


class GroupRightsInput(Strict):
    group = f.Raw(required=True, metadata=ID_OR_NAME)
    rights = f.List(f.String(validate=v.OneOf(OBJECT_RIGHTS)), required=True)
    scope = f.String(allow_none=True, validate=v.OneOf(RECORD_SCOPES), metadata=_SCOPE)


class ObjectRightsPatch(Strict):
    mode = f.String(validate=v.OneOf(ACCESS_MODES))
    groups = f.List(f.Nested(GroupRightsInput))
    parent = f.String(allow_none=True, metadata=_PARENT)


class GroupFieldLevel(Strict):
    group_id = f.Integer(required=True)
    group = f.String(required=True)
    level = f.String(required=True, validate=v.OneOf(FIELD_LEVELS))


class FieldRights(Strict):
    groups = f.List(f.Nested(GroupFieldLevel), required=True)


class GroupFieldLevelInput(Strict):
    group = f.Raw(required=True, metadata=ID_OR_NAME)
    level = f.String(required=True, allow_none=True, validate=v.OneOf(FIELD_LEVELS))


class FieldRightsPatch(Strict):
    groups = f.List(f.Nested(GroupFieldLevelInput), required=True)


class RuleView(Strict):
    id = f.Integer(required=True)
    group = f.String(required=True)
    name = f.String(required=True)
    level = f.String(required=True, validate=v.OneOf(LEVELS))
    filter = f.Dict(required=True, allow_none=True, metadata=_desc("the filter language, with today's names"))
    error = f.String(required=True, allow_none=True, metadata=_desc("why a stored filter no longer works"))


class RuleViewList(Strict):
    data = f.List(f.Nested(RuleView), required=True)


class RuleViewInput(Strict):
    group = f.Raw(required=True, metadata=ID_OR_NAME)
    name = f.String(required=True, validate=v.Length(min=1, max=200))
    filter = f.Dict(required=True, metadata=_desc("the filter language (docs/filters.md)"))
    level = f.String(validate=v.OneOf(LEVELS))


class Share(Strict):
    user = f.String(required=True, allow_none=True)
    user_id = f.Integer(required=True, allow_none=True)
    group = f.String(required=True, allow_none=True)
    group_id = f.Integer(required=True, allow_none=True)
    level = f.String(required=True, validate=v.OneOf(LEVELS))


class ShareList(Strict):
    data = f.List(f.Nested(Share), required=True)


class ShareInput(Strict):
    user = f.Raw(metadata=ID_OR_NAME)
    group = f.Raw(metadata=ID_OR_NAME)
    level = f.String(validate=v.OneOf(LEVELS))


class OwnerInput(Strict):
    owner = f.Integer(required=True, validate=v.Range(min=1, max=2**31 - 1), metadata=_desc("id of the user to give it to"))
    version = f.Integer(metadata=_desc("the version read (or send If-Match)"))


# ---- records: history and bulk ------------------------------------------------------------------
class Actor(Strict):
    id = f.Integer(required=True, allow_none=True)
    username = f.String(required=True)
    display = f.String(required=True)


class Change(Strict):
    field = f.String(required=True, allow_none=True)
    key = f.String(required=True)
    label = f.String(required=True)
    old = f.Raw(required=True, allow_none=True)
    new = f.Raw(required=True, allow_none=True)


class HistoryEntry(Strict):
    id = f.Integer(required=True)
    at = f.DateTime(required=True)
    action = f.String(required=True, metadata=_desc("create, update, delete, restore, unlink, relink, purge"))
    version = f.Integer(required=True)
    actor = f.Nested(Actor, required=True)
    batch = f.String(required=True, allow_none=True)
    changes = f.List(f.Nested(Change), required=True)


class HistoryList(Strict):
    data = f.List(f.Nested(HistoryEntry), required=True)


class BulkResultRow(Strict):
    id = f.Integer(required=True)
    code = f.String(required=True)
    version = f.Integer(required=True)
    action = f.String(required=True, validate=v.OneOf(["created", "updated"]))


class BulkResult(Strict):
    data = f.List(f.Nested(BulkResultRow), required=True)


class Action(Strict):
    id = f.Integer(required=True, metadata=_desc("the action's id (for undo)"))
    kind = f.String(required=True, metadata=_desc("create, bulk, update, owner, delete, restore, purge, share, "
                                                  "unshare, undo …"))
    at = f.DateTime(required=True)
    object = f.String(required=True, allow_none=True, metadata=_desc("the object's API name"))
    records = f.Integer(required=True, metadata=_desc("how many records it changed"))
    undoes = f.Integer(required=True, allow_none=True, metadata=_desc("the action an undo reverted"))
    undone_by = f.Integer(required=True, allow_none=True, metadata=_desc("the undo that reverted it"))
    undoable = f.Boolean(required=True, metadata=_desc("not undone yet and not a purge (undo may still be "
                                                       "refused when a record changed since)"))


class ActionList(Strict):
    data = f.List(f.Nested(Action), required=True)


class UndoResult(Strict):
    undone = f.Integer(required=True, metadata=_desc("the action reverted"))
    action = f.Integer(required=True, allow_none=True, metadata=_desc("the new action (undo it to redo)"))


STATIC = [ErrorBody, Error, LinkRef, Money, MoneyInput, TokenRequest, Token, PersonalTokenRequest, PersonalToken,
          PersonalTokenList, FieldRules, FieldDef, FieldDefInput, FieldDefPatch, FieldList, ObjectDef, ObjectDefInput,
          ObjectDefPatch, ObjectList, GroupRef, User, UserList, UserInput, UserPatch, Group, GroupList, GroupInput,
          GroupPatch, GroupRights, ObjectRights, GroupRightsInput, ObjectRightsPatch, GroupFieldLevel, FieldRights,
          GroupFieldLevelInput, FieldRightsPatch, RuleView, RuleViewList, RuleViewInput, Share, ShareList,
          ShareInput, OwnerInput, Actor, Change, HistoryEntry, HistoryList, BulkResultRow, BulkResult,
          Action, ActionList, UndoResult]

FILTER_OPERATORS = ALL_OPERATORS
