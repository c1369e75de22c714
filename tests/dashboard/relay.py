"""A TCP relay in front of the test PostgreSQL that a test can cut and restore, as if the database went
down and came back: while cut, new connections are refused and open ones are closed under their users."""

from __future__ import annotations

import socket
import threading

from sqlalchemy import make_url


def upstream_address(url: str) -> tuple[int, object]:
    """Where the database of `url` listens: a Unix socket (pgserver's) or a TCP host and port."""
    parsed = make_url(url)
    socket_dir = parsed.query.get("host") or (parsed.host if (parsed.host or "").startswith("/") else None)
    port = parsed.port or 5432
    if socket_dir:
        return socket.AF_UNIX, f"{socket_dir}/.s.PGSQL.{port}"
    return socket.AF_INET, (parsed.host or "127.0.0.1", port)


class DatabaseRelay:
    """Listens on 127.0.0.1:`port` and pipes each connection to the database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.family, self.address = upstream_address(database_url)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """`database_url` reached through the relay."""
        parsed = make_url(self.database_url)
        query = {k: v for k, v in parsed.query.items() if k != "host"}
        return parsed.set(host="127.0.0.1", port=self.port, query=query).render_as_string(hide_password=False)

    def start(self) -> DatabaseRelay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def drop_connections(self) -> None:
        """Close every open connection (a restart that is already over: new connections work)."""
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self) -> None:
        """The database goes down: nothing listens any more and open connections are closed."""
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would leave the socket listening.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        self.drop_connections()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.socket(self.family, socket.SOCK_STREAM)
            try:
                server.connect(self.address)
            except OSError:
                client.close()
                server.close()
                continue
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
