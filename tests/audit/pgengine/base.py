from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper


class DatabaseWrapper(PostgreSQLWrapper):
    """Its own ENGINE string, Django's PostgreSQL underneath: the pool matters."""
