"""Static scripts and styles sent Brotli-compressed at its best level, made once in the background.

Every response is compressed as it leaves (Dash's `compress`, flask-compress: zstd level 3, fast enough
for callback answers). The app's scripts are large and never change under a given URL (Dash puts the
package version and file time in each path; /assets/ URLs carry the file time), so each is compressed
once more, with Brotli at quality 11 (plotly.js: 1.44 MB gzip, 1.09 MB Brotli), by a low-priority thread
after it was first served, and kept under the data folder. From then on a browser accepting Brotli gets
that copy, straight from disk. The first visitor after an install or upgrade gets the fast compression.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import queue
import threading
from pathlib import Path

import brotli
from flask import Flask, Response, request, send_file

log = logging.getLogger(__name__)

PREFIXES = ("/_dash-component-suites/", "/assets/")
MIN_BYTES = 20_000
QUALITY = 11
EXTENSION = "c360_precompressed_dir"
# Dash's own answer for a script whose path carries its version; /assets/ files are revalidated.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000"


def _cacheable() -> bool:
    return request.method == "GET" and request.path.startswith(PREFIXES)


def _key(full_path: str | None = None) -> str:
    return hashlib.sha256((full_path or request.full_path).encode()).hexdigest()


def kept_copy(folder: Path, full_path: str) -> Path:
    """Where the copy of the URL `full_path` (path and query, as Flask's request.full_path) is kept."""
    return folder / f"{_key(full_path)}.br"


def _accepts_brotli() -> bool:
    return "br" in {part.split(";")[0].strip() for part in request.headers.get("Accept-Encoding", "").split(",")}


class _Compressor(threading.Thread):
    """One background thread, at the lowest CPU priority, writing each copy once (write, then rename, so a
    reader never sees half a file and two processes writing the same copy do no harm)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True, name="c360-precompress")
        self.folder = folder
        self.jobs: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.pending: set[str] = set()
        self.lock = threading.Lock()

    def submit(self, key: str, data: bytes) -> None:
        with self.lock:
            if key in self.pending:
                return
            self.pending.add(key)
        self.jobs.put((key, data))

    def run(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only, on Linux
        except (AttributeError, OSError):
            pass
        while True:
            key, data = self.jobs.get()
            target = self.folder / f"{key}.br"
            try:
                if not target.exists():
                    partial = target.with_suffix(f".{os.getpid()}.part")
                    partial.write_bytes(brotli.compress(data, quality=QUALITY))
                    partial.replace(target)
            except OSError:
                log.warning("could not keep a compressed copy in %s", self.folder, exc_info=True)
            finally:
                with self.lock:
                    self.pending.discard(key)


def init_app(server: Flask, folder: Path) -> None:
    """Serve kept copies and make the missing ones; register after Dash, so that the hook seeing each
    response runs before flask-compress's (Flask runs them last registered first)."""
    folder.mkdir(parents=True, exist_ok=True)
    server.extensions[EXTENSION] = folder
    compressors: dict[int, _Compressor] = {}

    def compressor() -> _Compressor:
        # One per process: a thread started before gunicorn forks its workers would not run in them.
        pid = os.getpid()
        if pid not in compressors:
            compressors[pid] = _Compressor(folder)
            compressors[pid].start()
        return compressors[pid]

    @server.before_request
    def serve_kept_copy() -> Response | None:
        if not _cacheable() or not _accepts_brotli():
            return None
        kept = folder / f"{_key()}.br"
        if not kept.exists():
            return None
        mimetype = mimetypes.guess_type(request.path)[0] or "application/octet-stream"
        response = send_file(kept, mimetype=mimetype, conditional=True, etag=kept.stem[:32])
        response.headers["Content-Encoding"] = "br"
        response.headers["Vary"] = "Accept-Encoding"
        response.headers["Cache-Control"] = (VERSIONED_CACHE_CONTROL if request.path.startswith(PREFIXES[0])
                                             else "no-cache")
        return response

    @server.after_request
    def keep_a_copy(response: Response) -> Response:
        if (not _cacheable() or response.status_code != 200 or "Content-Encoding" in response.headers
                or response.mimetype not in ("application/javascript", "text/javascript", "text/css",
                                             "application/json", "image/svg+xml")):
            return response
        if response.content_length is not None and response.content_length < MIN_BYTES:
            return response
        key = _key()
        if (folder / f"{key}.br").exists():
            return response
        response.direct_passthrough = False  # read the body once here; it stays buffered for what follows
        data = response.get_data()
        if len(data) >= MIN_BYTES:
            compressor().submit(key, data)
        return response
