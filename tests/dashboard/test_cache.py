"""The page results cache: kept per panel, URL state, scope, masking and data version; never shared
between scopes or masking policies; dropped by a new job run; and a cache server that is down costs
speed, never the page."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from callbacks.support_insights import build_products, build_topics
from dashboard import cache as page_cache
from dashboard.masking import MaskPolicy
from dashboard.scope import DataScope
from dashboard.settings import Settings, SettingsError
from dashboard.tables.app import JobRun
from dashboard.tables.gold import SupportCase
from tests.dashboard.queries.conftest import rolled_back  # noqa: F401

FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)


@pytest.fixture()
def session(rolled_back):  # noqa: F811 (the fixture imported above)
    return rolled_back


def _settings(**overrides) -> Settings:
    return Settings.from_env({}, **overrides)


def test_where_the_cache_lives_comes_from_the_settings():
    assert page_cache.cache_config(_settings())["CACHE_TYPE"] == "SimpleCache"
    assert page_cache.cache_config(_settings(cache_url="redis://cache:6379/0")) == {
        "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": "redis://cache:6379/0", "CACHE_DEFAULT_TIMEOUT": 600,
        "CACHE_KEY_PREFIX": "c360:"}
    assert page_cache.cache_config(_settings(cache_url="none"))["CACHE_TYPE"] == "NullCache"
    assert page_cache.cache_config(_settings(testing=True))["CACHE_TYPE"] == "NullCache"
    for bad in ({"C360_CACHE_URL": "memcached://x"}, {"C360_CACHE_SECONDS": "0"}):
        with pytest.raises(SettingsError, match="C360_CACHE"):
            Settings.from_env(bad)


@pytest.fixture()
def cached_app():
    server = Flask("cache-test")
    page_cache.init_app(server, _settings(), config={"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 60})
    with server.app_context():
        page_cache.cache.clear()
        yield server


def _counting(build):
    calls = []

    def counted(session, state, *, scope, policy):
        calls.append((state, scope, policy))
        return build(session, state, scope=scope, policy=policy)

    counted.__qualname__ = build.__qualname__
    counted.__module__ = build.__module__
    return counted, calls


def _json(output) -> str:
    return json.dumps(output, default=lambda o: o.to_plotly_json(), sort_keys=True)


def test_a_panel_is_built_once_per_scope_and_policy_and_never_shown_to_another(cached_app, session):
    territories = session.scalars(select(SupportCase.territory).where(SupportCase.territory != "Unknown")
                                  .group_by(SupportCase.territory).order_by(func.count().desc()).limit(2)).all()
    scopes = [DataScope.restricted_to([t]) for t in territories] + [DataScope.everything()]
    build, calls = _counting(build_products)
    state = {"days": "90"}
    for _ in range(2):
        for scope in scopes:
            for policy in (FULL, MASKED):
                cached = page_cache.cached_build(build, session, state, scope=scope, policy=policy)
                assert _json(cached) == _json(build_products(session, state, scope=scope, policy=policy))
    assert len(calls) == len(scopes) * 2  # the second round came from the cache
    # Each scope's panel differs, so an entry shared between them would show: the assertion above caught it.
    assert len({_json(page_cache.cached_build(build, session, state, scope=s, policy=FULL))
                for s in scopes}) == len(scopes)
    # Another URL state is another entry.
    page_cache.cached_build(build, session, {"days": "7"}, scope=scopes[0], policy=FULL)
    assert len(calls) == len(scopes) * 2 + 1


def test_a_new_job_run_is_new_data(cached_app, session):
    build, calls = _counting(build_topics)
    page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    assert len(calls) == 1
    before = page_cache.data_version(session)
    session.add(JobRun(job_id="etl", triggered_by="test", status="success"))
    session.flush()
    assert page_cache.data_version(session) > before
    page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    assert len(calls) == 2
    session.add(JobRun(job_id="etl", triggered_by="test", status="failed"))  # a failed run changed nothing
    session.flush()
    page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    assert len(calls) == 2


def test_a_cache_server_that_is_down_costs_speed_not_the_page(session):
    server = Flask("cache-down")
    page_cache.init_app(server, _settings(), config={"CACHE_TYPE": "RedisCache", "CACHE_DEFAULT_TIMEOUT": 60,
                                                     "CACHE_REDIS_URL": "redis://127.0.0.1:9/0"})
    build, calls = _counting(build_topics)
    with server.app_context():
        first = page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
        again = page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    assert _json(first) == _json(again) and len(calls) == 2


def test_without_an_app_or_with_the_cache_off_every_call_builds(session):
    build, calls = _counting(build_topics)
    page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    server = Flask("cache-off")
    page_cache.init_app(server, _settings(cache_url="none"))
    with server.app_context():
        page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
        page_cache.cached_build(build, session, {}, scope=DataScope.everything(), policy=FULL)
    assert len(calls) == 3


def test_settings_a_panel_depends_on_are_part_of_its_key(cached_app, session):
    from callbacks.morning_coffee import PageQuery, _kpi_panel

    calls = []

    def counted(session, query, *, scope, policy, green_minutes, amber_minutes):
        calls.append((green_minutes, amber_minutes))
        return _kpi_panel(session, query, scope=scope, policy=policy, green_minutes=green_minutes,
                          amber_minutes=amber_minutes)

    counted.__qualname__, counted.__module__ = _kpi_panel.__qualname__, _kpi_panel.__module__
    query, everything = PageQuery.from_state({}), DataScope.everything()

    def panel(green: float, amber: float):
        return _json(page_cache.cached_build(counted, session, query, scope=everything, policy=FULL,
                                             green_minutes=green, amber_minutes=amber))

    strict, lenient = panel(0.001, 0.002), panel(10**6, 2 * 10**6)
    assert panel(0.001, 0.002) == strict and len(calls) == 2  # the same settings again: from the cache
    assert strict != lenient  # team efficiency is red for one, green for the other: never shared
    assert strict == _json(_kpi_panel(session, query, scope=everything, policy=FULL, green_minutes=0.001,
                                      amber_minutes=0.002))
