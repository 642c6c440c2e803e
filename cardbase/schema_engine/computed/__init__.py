"""Formula, lookup and rollup fields at run time: the dependency graph across all objects
(``plan``), computing values for new records and propagating changes to everything that
depends on them inside the writer's transaction (``engine``), what a configuration change
means for stored values (``changes``), and recomputation in resumable batches (``jobs``).

The field types themselves (options, columns, formatting) are in ``field_types/formula.py``,
``lookup.py`` and ``rollup.py``; the formula language in ``cardbase.formula``. Importing
this package plugs what those types and the rights need from here into them
(``support``).
"""
from . import support  # noqa: F401  (installs the formula/rollup support and the rights' graph)
from .engine import Change, Recomputed, compute_existing, compute_new, has_computed, own_seed, propagate
from .plan import check_definition, plan_for

__all__ = ["Change", "Recomputed", "compute_existing", "compute_new", "own_seed", "has_computed", "propagate",
           "check_definition", "plan_for"]
