"""The rollup's "only records matching" condition in the field designer is edited with the
configurator's condition builder (static/conditions.js), not typed as JSON: one builder
per child object the rollup may sum, the one of the chosen child shown and posted
(static/rollup_filter.js). The option stays a condition in the filter language, so the
form posts what it always did."""
from __future__ import annotations

from typing import Any

from .support import builder_texts, condition_fields, operator_labels


def rollup_condition_context(schema, obj) -> dict[str, Any]:
    """For the field form: per child object its condition fields (its own and one link
    deep), with the builder's operator words and texts."""
    children: dict[str, list[dict[str, Any]]] = {}
    for child, _link in schema.children(obj):
        if child.api_name not in children:
            children[child.api_name] = condition_fields(schema, child, links=True)
    return {"rollup_conditions": children, "condition_ops": operator_labels(), "condition_texts": builder_texts()}
