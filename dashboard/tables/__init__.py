"""ORM tables for every schema; importing this package registers them all on `Base.metadata`."""

from dashboard.tables import app, bronze, gold, identity, quality, silver, sources  # noqa: F401
from dashboard.tables.base import SCHEMAS, Base

__all__ = ["Base", "SCHEMAS", "app", "bronze", "gold", "silver"]
