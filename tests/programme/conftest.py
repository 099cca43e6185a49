"""The store tests' fixtures (a real PostgreSQL server, a store URL on each back end) for the programme tests."""

from tests.store.conftest import pg_server, store_url

__all__ = ["pg_server", "store_url"]
