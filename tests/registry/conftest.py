"""Registry fixtures, defined in registry_harness.py (imported by its unique name)."""

from registry_harness import make_database_url, pg_cluster, registry, shared_registry

__all__ = ["make_database_url", "pg_cluster", "registry", "shared_registry"]
