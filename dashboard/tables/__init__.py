"""ORM tables for every schema; importing this package registers them all on `Base.metadata`."""

from dashboard.tables import (  # noqa: F401
    app,
    attribution_text,
    bronze,
    gold,
    identity,
    insights,
    intelligence,
    quality,
    sales,
    silver,
    sources,
)
from dashboard.tables.base import SCHEMAS, Base

__all__ = ["Base", "SCHEMAS", "app", "bronze", "gold", "silver"]
