"""Database layer: engine, schema, queries and migrations. Knows nothing of HTTP."""
