"""The app's scripts are kept Brotli-compressed at quality 11 once first served, and later answered from
that copy to browsers accepting Brotli; the copy is the very same script, other clients still get theirs,
and what changes per request (callbacks, pages) is never kept."""

from __future__ import annotations

import re
import time

import brotli

from dashboard.precompressed import EXTENSION, kept_copy


def _scripts(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)


def test_a_script_is_answered_from_its_brotli_copy_once_made(login_as):
    client = login_as("executive")
    folder = client.application.extensions[EXTENSION]
    identity = {"Accept-Encoding": "identity"}
    sizes = {src: len(client.get(src, headers=identity).data) for src in _scripts(client)}
    src = min((s for s, size in sizes.items() if size >= 20_000), key=sizes.get)  # the smallest worth keeping
    raw = client.get(src, headers=identity).data

    first = client.get(src, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert first.status_code == 200
    copy = kept_copy(folder, src if "?" in src else src + "?")
    deadline = time.monotonic() + 60
    while not copy.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    kept = client.get(src, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert kept.headers["Content-Encoding"] == "br"
    assert brotli.decompress(kept.data) == raw
    assert len(kept.data) < len(raw) / 2
    assert "max-age=31536000" in kept.headers["Cache-Control"] and "Accept-Encoding" in kept.headers["Vary"]

    gzip_only = client.get(src, headers={"Accept-Encoding": "gzip"})
    assert gzip_only.headers.get("Content-Encoding") == "gzip"
    plain = client.get(src, headers=identity)
    assert "Content-Encoding" not in plain.headers and plain.data == raw


def test_pages_and_callback_answers_are_never_kept(login_as):
    client = login_as("executive")
    folder = client.application.extensions[EXTENSION]
    for _ in range(2):
        assert client.get("/", headers={"Accept-Encoding": "br"}).status_code == 200
        assert client.get("/_dash-layout", headers={"Accept-Encoding": "br"}).status_code == 200
    time.sleep(1.0)
    assert not kept_copy(folder, "/?").exists() and not kept_copy(folder, "/_dash-layout?").exists()
