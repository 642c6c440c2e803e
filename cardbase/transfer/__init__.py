"""Data in and out: spreadsheet imports (CSV, XLSX) with mapping and duplicate checks,
merging duplicate records, full backup and restore, and readable SQL views for BI tools.
Imports and merges are operations of the store's one change pipeline."""
