"""The page results cache: a panel's output kept for the same query, scope, masking and data.

A panel answered once is answered again from the cache while nothing it could show has changed. The key
holds the panel, its URL state, the caller's whole data scope (territories, accounts and what they came
from), the masking policy and the data version: the newest successful job run, since every job that
writes gold records its run after it commits. A new run is a new version, so a refresh invalidates
every entry; entries also expire after `Settings.cache_seconds`. Only panels whose output depends on
those inputs alone use it (callbacks.kit.register_panels).

Where it lives (`Settings.cache_url`): in each process by default, in Redis when C360_CACHE_URL is a
redis:// URL (shared by gunicorn workers), nowhere when it is "none" or in tests (`Settings.testing`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from dash._callback import NoUpdate
from flask import Flask, current_app, has_app_context
from flask_caching import Cache
from plotly.io.json import to_json_plotly
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.scope import DataScope
from dashboard.settings import Settings
from dashboard.tables.app import JobRun

log = logging.getLogger(__name__)

cache = Cache()
EXTENSION = "c360_cache_enabled"


def cache_config(settings: Settings) -> dict[str, Any]:
    """Flask-Caching's configuration for these settings."""
    if settings.cache_url == "none" or settings.testing:
        return {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    base = {"CACHE_DEFAULT_TIMEOUT": settings.cache_seconds, "CACHE_KEY_PREFIX": "c360:"}
    if settings.cache_url:
        return {**base, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_url}
    return {**base, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 500}


def init_app(server: Flask, settings: Settings, *, config: dict[str, Any] | None = None) -> None:
    config = config or cache_config(settings)
    cache.init_app(server, config=config)
    server.extensions[EXTENSION] = config["CACHE_TYPE"] != "NullCache"


def data_version(session: Session) -> int:
    """The id of the newest successful job run (0 before any)."""
    return int(session.scalar(select(func.max(JobRun.id)).where(JobRun.status == "success")) or 0)


def cache_key(name: str, state: Any, scope: DataScope, policy: MaskPolicy, version: int) -> str:
    """A digest of everything the panel's output depends on. The scope's repr holds its territories,
    accounts and basis (the words describing it), so two callers share an entry only when they would
    see the very same panel."""
    parts = json.dumps([name, state, repr(scope), repr(policy), version], sort_keys=True, default=repr)
    return name.rsplit(".", 1)[-1] + ":" + hashlib.sha256(parts.encode()).hexdigest()


def cached_build(build: Callable[..., Any], session: Session, state: Any, *, scope: DataScope,
                 policy: MaskPolicy, prepare: Callable[[Any], Any] | None = None, **options: Any) -> Any:
    """`build(session, state, scope=scope, policy=policy, **options)`, from the cache when it holds it.
    `options` (settings the output depends on, e.g. a threshold) are part of the key. With the cache on,
    a new value is passed through `prepare` (how the pages send it) before it is kept and returned.

    A value is kept as the JSON the browser receives, not as Python objects: unpickling a plotly figure
    validates it all again (a quarter of a second for a chart with its template), reading JSON does not."""
    if not has_app_context() or not current_app.extensions.get(EXTENSION):
        return build(session, state, scope=scope, policy=policy, **options)
    key = cache_key(f"{build.__module__}.{build.__qualname__}", [state, options] if options else state, scope,
                    policy, data_version(session))
    try:
        found = cache.get(key)
    except Exception:  # a cache server that is down costs speed, never the page
        log.warning("page cache unavailable: reading %s from the database", key, exc_info=True)
        found = None
    if found is not None:
        return json.loads(found[1]) if isinstance(found, tuple) and found[0] == JSON_KEPT else found
    value = build(session, state, scope=scope, policy=policy, **options)
    if prepare is not None:
        value = prepare(value)
    try:
        cache.set(key, _kept(value))
    except Exception:
        log.warning("page cache unavailable: %s not kept", key, exc_info=True)
    return value


JSON_KEPT = "json"


def _kept(value: Any) -> Any:
    """What the cache holds for `value`: its JSON, unless an output is left unchanged (no_update, which
    only Dash itself reads), then the value itself."""
    outputs = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
    if any(isinstance(output, NoUpdate) for output in outputs):
        return value
    return (JSON_KEPT, to_json_plotly(value))
