"""Data in and out: spreadsheet imports (CSV, XLSX) with mapping and duplicate checks,
merging duplicate records, full backup and restore, and readable SQL views for BI tools.
Imports and merges are operations of the store's one change pipeline.

Importing the package installs the SQL views' schema-change hook (``sql_views``), so every
process that serves the platform keeps the views current once they are enabled."""
from . import sql_views  # noqa: F401  (registers its change hook)
