"""A local HTTP file server for download tests (no network needed).

``running_server()`` starts ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread.
Routes are set per path with :meth:`FileServer.add`; behaviours: honour ``Range`` (or not),
cut the connection mid-file (once or always), fail with a status (always or once), redirect,
stream slowly. Every request is logged with its ``Range`` header.

Imported by tests/datasets/conftest.py and tests/core/test_hub.py (tests/ has no packages).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse


@dataclass
class Route:
    data: bytes = b""
    ignore_range: bool = False
    cut: str | None = None  # None, "once" or "always": send half the body, then hang up
    status: int | None = None  # answer with this error status instead of the data
    status_once: bool = False  # ...only for the first request
    redirect: str | None = None  # answer 302 to this path
    chunk_delay: float = 0.0  # seconds between 64 KiB chunks
    hits: int = 0


@dataclass
class Request:
    path: str
    range: str | None


@dataclass
class FileServer:
    host: str = "127.0.0.1"
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, data: bytes = b"", **behaviour) -> str:
        """Serve ``data`` at ``path``; return its URL."""
        self.routes[path] = Route(data=data, **behaviour)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    server_version = "ember-test"

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self):
        owner: FileServer = self.server.owner
        path = urlparse(self.path).path
        with owner.lock:
            owner.requests.append(Request(path, self.headers.get("Range")))
            route = owner.routes.get(path)
            if route is not None:
                route.hits += 1
        if route is None:
            self.send_error(404)
            return
        if route.redirect:
            self.send_response(302)
            self.send_header("Location", owner.url(route.redirect))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.status and (not route.status_once or route.hits == 1):
            self.send_error(route.status)
            return
        self._send_data(route)

    def _send_data(self, route: Route) -> None:
        data, start = route.data, 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and not route.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route.cut == "always" or (route.cut == "once" and route.hits == 1):
            body = body[: len(body) // 2]
        for i in range(0, len(body), 1 << 16):
            self.wfile.write(body[i : i + (1 << 16)])
            if route.chunk_delay:
                time.sleep(route.chunk_delay)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client hanging up is not an error
        pass


@contextlib.contextmanager
def running_server():
    """Start a :class:`FileServer` in a thread; stop it on exit."""
    owner = FileServer()
    server = _Server((owner.host, 0), _Handler)
    server.owner = owner
    owner.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield owner
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def isolate_environment(monkeypatch, tmp_path) -> None:
    """Point the cache at ``tmp_path``, go online, bypass proxies, retry without waiting."""
    import ember._download

    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember-home"))
    monkeypatch.delenv("EMBER_OFFLINE", raising=False)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    monkeypatch.setattr(ember._download, "RETRY_WAIT_S", 0.0)
