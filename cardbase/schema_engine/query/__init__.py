"""The query compiler: the JSON filter language, sort, pagination, counts, search and
grouped aggregates, compiled to one SQL statement each."""
