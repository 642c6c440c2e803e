"""Solutions (administrators, as the designer's solution page): ``GET /api/v1/solution``
exports the whole configuration as one portable document; ``POST /api/v1/solution``
imports one -- with ``?dry_run=true`` only the preview: what importing it would add,
change, keep and remove (``solution_diff``), after running the whole import in a
transaction that is rolled back (so a document the import refuses is refused, with the
same 422, and nothing is written).

The same engine functions as the designer: ``check_document`` refuses a malformed document
with the place of each problem (422), ``diff_solution`` compares it with the current
export, ``import_solution`` applies it in one transaction (a refused document changes
nothing). The answer of a real import carries the diff it applied and the engine's report.
"""
from __future__ import annotations

from cardbase.schema_engine.accounts.policy import ADMIN
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.solution_diff import check_document, diff_solution

from ..context import get_db
from .auth import api_actor
from .blueprint import bp
from .http import arg_bool, json_body, json_response


def _admin() -> Actor:
    actor = api_actor()
    ADMIN.require_admin(actor, "export and import solutions")
    return actor


@bp.get("/v1/solution")
def get_solution():
    _admin()
    return json_response(export_solution(get_db()))


@bp.post("/v1/solution")
def post_solution():
    actor = _admin()
    dry_run = arg_bool("dry_run")
    document = json_body()
    check_document(document)
    diff = diff_solution(document, export_solution(get_db()))
    if dry_run:  # the whole import, rolled back: refused exactly as the real import would be
        import_solution(get_db(), document, actor, dry_run=True)
        return json_response({"dry_run": True, "diff": diff})
    report = import_solution(get_db(), document, actor)
    return json_response({"dry_run": False, "diff": diff, "report": report})
