"""Reports: definitions -> one SQL GROUP BY (the query compiler's aggregates) -> pivot
tables and plotly charts. Built on ``schema_engine.query.aggregate``; the report
definitions themselves arrive with the reports issue."""
