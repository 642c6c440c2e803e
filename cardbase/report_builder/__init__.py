"""Reports: definitions -> one SQL GROUP BY (the query compiler's aggregates through the
engine session, purpose "report") -> pivot tables and plotly charts; saved reports and
dashboards, personal or shared with groups.

Importing the package registers the reports' usage finders (a field a report uses cannot
be removed) and their solution parts (shared reports and dashboards travel in solutions)."""
from . import solution_part, usage  # noqa: F401
