"""Field-type options, declared once. A type lists its options as ``OptionSpec``s
(``FieldType.options``); from that one declaration come

* the generic check and normalisation (``clean_declared``): unknown names, the kind of
  each value, ranges, allowed values, required options and defaults -- every error keyed
  ``options.<name>`` -- used by the schema service and the solution import alike;
* the JSON schema of the options (``options_json_schema``) for the OpenAPI description;
* the configurator's inputs (the designer reads ``kind``, ``widget``, ``label``, ``help``,
  the range and the allowed values).

What cannot be declared -- a formula compiled against the schema, a field of the linked
object -- stays in the type (``FieldType.finish_options``), after the generic check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import NotFound, SchemaError

# The kinds of option value. The designer picks its input from the kind unless the option
# names a ``widget`` of its own.
INT, BOOL, TEXT, CHOICE, OBJECT, REFERENCE, CHOICE_LIST, FORMULA, CONDITION = (
    "int", "bool", "text", "choice", "object", "reference", "choice_list", "formula", "condition")
KINDS = (INT, BOOL, TEXT, CHOICE, OBJECT, REFERENCE, CHOICE_LIST, FORMULA, CONDITION)
DEFAULT_WIDGETS = {INT: "number", BOOL: "checkbox", TEXT: "text", CHOICE: "select", OBJECT: "object",
                   REFERENCE: "text", CHOICE_LIST: "choices", FORMULA: "formula", CONDITION: "json"}
# Widget of an option the previous option's widget already shows (the formula editor
# shows the formula's decimal places).
WITHIN = "within"


def _l(text: str) -> str:
    """Marks a configurator text for translation (`make messages` extracts ``_l``); the
    designer translates it where it is shown. The API's texts stay English (``doc``)."""
    return text


def shown(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class OptionSpec:
    """One option of a field type.

    ``default``: the value when the option is missing or empty (None: the option is left
    out). ``minimum``/``maximum``: the range of an int; ``maximum_of`` names an earlier
    option whose value caps this one (a decimal's scale <= its precision; the default is
    capped too). ``choices``: the allowed values of a choice (``aliases`` maps older
    spellings); ``choice_labels`` what the designer shows for them. ``check``: a callable
    value -> normalised value, raising ``ValueError`` (the message) or ``SchemaError`` for
    what a kind cannot say (an ISO currency code, a numbering pattern). ``label``/``help``/
    ``placeholder``: the configurator's texts (marked with ``_l``, translated where shown).
    ``doc``: what the option is, in English, for the OpenAPI description and the "is
    required: ..." message (default: ``help``, else ``label``)."""

    name: str
    kind: str
    default: Any = None
    required: bool = False
    label: str = ""
    help: str = ""
    minimum: int | None = None
    maximum: int | None = None
    maximum_of: str | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    check: Callable[[Any], Any] | None = None
    widget: str | None = None
    placeholder: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"option '{self.name}': unknown kind '{self.kind}'; known: {', '.join(KINDS)}")
        if self.kind == CHOICE and not self.choices:
            raise TypeError(f"option '{self.name}': a choice option needs its choices")

    @property
    def key(self) -> str:
        return f"options.{self.name}"

    @property
    def description(self) -> str:
        return self.doc or self.help or self.label

    @property
    def input_widget(self) -> str:
        return self.widget or DEFAULT_WIDGETS[self.kind]

    def error(self, message: str) -> SchemaError:
        return SchemaError({self.key: message})

    # ---- checking one value -----------------------------------------------------------------
    def bounds(self, cleaned: Mapping[str, Any]) -> tuple[int | None, int | None]:
        high = self.maximum
        if self.maximum_of is not None and isinstance(cleaned.get(self.maximum_of), int):
            capped = cleaned[self.maximum_of]
            high = capped if high is None else min(high, capped)
        return self.minimum, high

    def default_for(self, cleaned: Mapping[str, Any]) -> Any:
        value = self.default
        if self.kind == INT and value is not None:
            _low, high = self.bounds(cleaned)
            if high is not None and value > high:
                value = high
        return value

    def clean(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> Any:
        """A present, non-empty value -> its normalised form, or SchemaError naming it."""
        value = getattr(self, "_clean_" + self.kind)(value, ctx, cleaned)
        if self.check is not None:
            try:
                value = self.check(value)
            except SchemaError:
                raise
            except ValueError as exc:
                raise self.error(str(exc)) from None
        return value

    def _clean_int(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> int:
        low, high = self.bounds(cleaned)
        if isinstance(value, bool) or not isinstance(value, int) or \
                (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                raise self.error(f"must be a whole number from {low} to {high}")
            if low is not None:
                raise self.error(f"must be a whole number of at least {low}")
            raise self.error("must be a whole number")
        return value

    def _clean_bool(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, not {shown(value)}")
        return value

    def _clean_text(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> str:
        if self.check is not None:
            return value  # the check words its own message (a currency code, a region ...)
        if not isinstance(value, str):
            raise self.error(f"must be a text, not {shown(value)}")
        value = value.strip()
        if self.max_length is not None and len(value) > self.max_length:
            raise self.error(f"is {len(value)} characters long; at most {self.max_length} are allowed")
        return value

    def _clean_choice(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> str:
        if isinstance(value, str):
            value = self.aliases.get(value.strip(), value.strip())
        if value not in self.choices:
            raise self.error(f"{shown(value)} is not allowed; use one of {', '.join(self.choices)}")
        return value

    def _clean_object(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.error(f"must name an object (its API name or id), not {shown(value)}")
        if isinstance(value, str):
            value = int(value.strip()) if value.strip().isdigit() else value.strip()
        try:
            return ctx.object_id(value)
        except NotFound:
            raise self.error(f"there is no object '{value}'") from None

    def _clean_reference(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> int | str:
        """A field named by id, API name or label: the type resolves it (it knows where)."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.error(f"must name a field (its API name or id), not {shown(value)}")
        return value

    def _clean_choice_list(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> Any:
        return value  # the list's own check (``check``) knows its items

    def _clean_formula(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> str:
        if not isinstance(value, str):
            raise self.error(f"must be a formula text, not {shown(value)}")
        return value

    def _clean_condition(self, value: Any, ctx: Any, cleaned: Mapping[str, Any]) -> Any:
        if not isinstance(value, Mapping):
            raise self.error("must be a condition in the filter language (a JSON object)")
        return value

    # ---- describing -----------------------------------------------------------------------------
    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of the option's value (OpenAPI 3.1)."""
        kind = self.kind
        if kind == INT:
            out: dict[str, Any] = {"type": "integer"}
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        elif kind == BOOL:
            out = {"type": "boolean"}
        elif kind in (TEXT, FORMULA):
            out = {"type": "string"}
            if self.max_length is not None:
                out["maxLength"] = self.max_length
        elif kind == CHOICE:
            out = {"type": "string", "enum": [*self.choices, *self.aliases]}
        elif kind in (OBJECT, REFERENCE):
            out = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}]}
        elif kind == CHOICE_LIST:
            item = {"type": "object", "required": ["value"], "additionalProperties": False,
                    "properties": {"value": {"type": "string"}, "label": {"type": "string"},
                                   "color": {"type": "string"}}}
            out = {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "string"}, item]}}
        else:  # CONDITION
            out = {"type": ["object", "null"]}
        if kind != CONDITION and not self.required:
            out = {"anyOf": [out, {"type": "null"}]} if "anyOf" not in out else \
                {"anyOf": [*out["anyOf"], {"type": "null"}]}
        if self.description:
            out["description"] = self.description
        if self.default is not None:
            out["default"] = self.default
        return out


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_declared(specs: tuple[OptionSpec, ...], options: Mapping[str, Any], ctx: Any) -> dict[str, Any]:
    """Check ``options`` against the declaration, all at once: every problem (unknown names
    included) is reported, keyed ``options.<name>``; nothing is half-accepted. Missing or
    empty options take their default (left out when it is None)."""
    if not isinstance(options, Mapping):
        raise SchemaError({"options": "must be an object"})
    known = {s.name for s in specs}
    errors: dict[str, Any] = {f"options.{k}": "is not an option of this field type"
                              for k in sorted(map(str, options)) if k not in known}
    cleaned: dict[str, Any] = {}
    for spec in specs:
        raw = options.get(spec.name)
        if is_empty(raw) if spec.kind != CHOICE_LIST else raw is None:
            if spec.required:
                errors[spec.key] = "is required" + (f": {spec.doc}" if spec.doc else "")
                continue
            value = spec.default_for(cleaned)
            if value is not None:
                cleaned[spec.name] = value
            continue
        try:
            cleaned[spec.name] = spec.clean(raw, ctx, cleaned)
        except SchemaError as exc:
            errors.update(exc.errors)
    if errors:
        raise SchemaError(errors)
    return cleaned


def options_json_schema(specs: tuple[OptionSpec, ...], *, extra: bool = False) -> dict[str, Any]:
    """The JSON schema of a type's options object. ``extra``: the object may carry keys
    the system adds (computed fields' result and references), which clients may send back."""
    out: dict[str, Any] = {"type": "object", "properties": {s.name: s.json_schema() for s in specs},
                           "additionalProperties": extra}
    required = [s.name for s in specs if s.required]
    if required:
        out["required"] = required
    return out
