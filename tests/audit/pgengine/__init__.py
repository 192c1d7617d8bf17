"""A database backend of a project's own, built on Django's PostgreSQL one."""
