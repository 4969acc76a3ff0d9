"""The SQL edge: the only package that builds queries.

``engine`` makes engines for SQLite, PostgreSQL and MariaDB; ``tables`` and ``types`` are the
schema (the stable contract with the seller's systems); ``migrate`` drives Alembic; the store
modules hold the intention-named queries the jobs use.
"""
