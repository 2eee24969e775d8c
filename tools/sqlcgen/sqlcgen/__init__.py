"""sqlc process plugin that writes typed async Python (psycopg or asyncpg) for annotated queries."""
