"""Locust users for bench/load.py: people of each role using Client360 as a browser does.

bench/load.py records, with the app's own callback map, what each role's pages post (the router's
request and every callback a page fires when opened, and the callbacks each filter change fires) into a
JSON script, and starts locust with this file. Each simulated user signs in through the login form as
one of its role's bench users, loads the app once (page, layout, callback map), then, with think time
between actions, opens pages, changes filters and drills into customers. Every request is appended to
C360_LOAD_EVENTS (one JSON line: time, name, kind, milliseconds, status, error) for load.py's report.

Runs in its own virtual environment (see bench/locust/requirements.txt): it imports nothing of the app.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from locust import FastHttpUser, between, events, task

SCRIPT = json.loads(open(os.environ["C360_LOAD_SCRIPT"], encoding="utf-8").read())
EVENTS_PATH = os.environ["C360_LOAD_EVENTS"]
THINK_MIN, THINK_MAX = (float(v) for v in os.environ.get("C360_LOAD_THINK", "5,15").split(","))
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
DASH_ROUTE = "/_dash-update-component"
_events = open(EVENTS_PATH, "a", encoding="utf-8", buffering=1 << 16)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **_):
    status = getattr(response, "status_code", 0) if response is not None else 0
    kind = name.split(" ", 1)[0]
    _events.write(json.dumps({"t": round(time.time(), 3), "name": name, "kind": kind, "ms": round(response_time, 1),
                              "status": status, "error": str(exception)[:200] if exception else None}) + "\n")


@events.quitting.add_listener
def _flush(environment, **_):
    _events.flush()


def _weighted_logins() -> list[tuple[str, dict]]:
    """(role, login) in proportion to the roles' weights, logins of a role taken in turn."""
    order = []
    for role, spec in SCRIPT["roles"].items():
        order.extend([role] * int(spec["weight"]))
    random.Random(0).shuffle(order)
    turns = {role: itertools.cycle(spec["logins"]) for role, spec in SCRIPT["roles"].items()}
    return [(role, next(turns[role])) for role in order]


_ASSIGNMENT = itertools.cycle(_weighted_logins())


class DashboardUser(FastHttpUser):
    """One person at the dashboard."""

    wait_time = between(THINK_MIN, THINK_MAX)
    # A browser opens up to 6 connections per host; one is enough to measure each request.
    concurrency = 1

    def on_start(self) -> None:
        self.role, self.login = next(_ASSIGNMENT)
        self.visits = self.login["visits"]
        self.drills = [v for v in self.visits if "<" in v["page"]]
        self.pages = [v for v in self.visits if "<" not in v["page"]] or self.visits
        self.current = None
        self._sign_in()
        first = self.pages[0]
        self._get(first["path"], f"page {first['page']}")
        self._get("/_dash-layout", "boot /_dash-layout")
        self._get("/_dash-dependencies", "boot /_dash-dependencies")
        self._post_all(self.login["shell"])
        self._open(first)

    def _sign_in(self) -> None:
        with self.client.get("/login", name="login GET", catch_response=True) as form:
            token = CSRF.search(form.text or "")
            if not token:
                form.failure("the login form has no CSRF token")
                return
        email, password = self.login["email"], self.login["password"]
        with self.client.post("/login", name="login POST", allow_redirects=False, catch_response=True,
                              data={"email": email, "password": password, "csrf_token": token.group(1)}) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in refused: HTTP {answer.status_code}")

    def _get(self, path: str, name: str) -> None:
        self.client.get(path, name=name)

    def _post_all(self, calls: list[dict]) -> None:
        for call in calls:
            with self.client.post(DASH_ROUTE, json=call["body"], name=call["name"], catch_response=True) as answer:
                if answer.status_code not in (200, 204):
                    reason = f": {answer.error!r}" if answer.status_code == 0 and answer.error else ""
                    answer.failure(f"HTTP {answer.status_code}{reason}")
                elif answer.status_code == 200 and b"c360-error-state" in (answer.content or b""):
                    # A panel's error card is an answer the user cannot use: counted as an error.
                    answer.failure("the panel answered its error card")

    def _open(self, visit: dict) -> None:
        self.current = visit
        self._post_all(visit["open"])

    @task(5)
    def open_a_page(self) -> None:
        self._open(random.choice(self.pages))

    @task(4)
    def change_a_filter(self) -> None:
        if self.current is None or not self.current["changes"]:
            self._open(random.choice(self.pages))
            return
        self._post_all(random.choice(self.current["changes"]))

    @task(1)
    def drill_into_a_customer(self) -> None:
        self._open(random.choice(self.drills or self.pages))
