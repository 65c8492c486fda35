"""The liveness listener: ``GET /healthz`` on an address of its own (``VERIFY_HEALTH_ADDRESS``), answered
by a thread of each worker process, outside the WSGI server's threads.

Why beside the app's own ``/healthz``: a granian worker has one thread for requests (README,
Performance). When Redis stops answering, the request on that thread waits for its timeout before
the gate closes (``registry.gate``), and a probe sent to the app's port in that quarter of a second
waits behind it. A liveness probe must never wait behind Redis work, or an orchestrator restarts
healthy workers during a Redis stall. This thread does no Redis work. It answers 503 when a request
of its worker has run for ``STUCK_SECONDS`` (``Watch``: a deadlock, a call that never returns), so a
worker that no longer serves is restarted all the same: nothing verify does takes that long (Redis
answers or times out within half a second, notices are sent in the background). Every worker binds
the same address (``SO_REUSEPORT``): the kernel hands each probe to one of them.
"""

import io
import json
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

STUCK_SECONDS = 30.0
MAX_HEAD = 8192  # a probe's request line and headers are a few hundred bytes


class _Handler(BaseHTTPRequestHandler):
    timeout = 2  # a client gives its thread back within 2 s, however slowly it sends
    server_version = "verify"
    sys_version = ""

    def setup(self):
        super().setup()
        # http.server's timeout is per read, and it takes 100 header lines of 64 KiB each: a client
        # sending a byte a second held a thread for ever, twenty sending 6 MB heads held 120 MB. The
        # head is read here whole, within ``timeout`` in all and ``MAX_HEAD`` bytes; one not complete
        # by then is not answered (an empty request: the connection is closed).
        head = self._head()
        self.rfile = io.BytesIO(head if _ended(head) else b"")
        self.connection.settimeout(self.timeout)  # for the answer

    def _head(self):
        deadline, head = time.monotonic() + self.timeout, b""
        while not _ended(head) and len(head) < MAX_HEAD:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.connection.settimeout(left)
            try:
                chunk = self.connection.recv(MAX_HEAD - len(head))
            except OSError:  # too slow, or gone
                break
            if not chunk:
                break
            head += chunk
        return head

    def do_GET(self):  # noqa: N802 (http.server's name)
        found = self.path.partition("?")[0] == "/healthz"
        if not found:
            status, body = 404, {"title": "Not found", "status": 404}
        else:
            stuck = self.server.watch.stuck_for() if self.server.watch else 0
            status, body = (503, {"status": "stuck", "seconds": round(stuck)}) if stuck else (200, {"status": "ok"})
        body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json" if status == 404 else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature): probes are not logged
        pass


def _ended(head):
    """True when ``head`` holds the blank line that ends a request's headers."""
    return b"\n\n" in head or b"\n\r\n" in head


class Watch:
    """WSGI middleware that notes when each running request began (``stuck_for``)."""

    def __init__(self, app, stuck_seconds=STUCK_SECONDS):
        self._app = app
        self._stuck_seconds = stuck_seconds
        self._running = {}  # a token per running request -> time.monotonic() of its start
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        """The app's answer, the request noted as running meanwhile."""
        token = object()
        with self._lock:
            self._running[token] = time.monotonic()
        try:
            return self._app(environ, start_response)
        finally:
            with self._lock:
                del self._running[token]

    def stuck_for(self):
        """How long the oldest running request has run, when that is ``stuck_seconds`` or more; else 0."""
        with self._lock:
            oldest = min(self._running.values(), default=None)
        seconds = 0 if oldest is None else time.monotonic() - oldest
        return seconds if seconds >= self._stuck_seconds else 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a worker that stops is not held up by a probe's connection
    request_queue_size = 128  # socketserver's 5 drops a burst's SYNs: the client retries a second later

    def handle_error(self, request, client_address):
        # A client gone before its answer (a probe that timed out, a scanner's reset) is no fault of
        # ours: socketserver printed a traceback to the worker's stderr for each one.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def server_bind(self):
        # Every worker of the server binds the same address; the kernel spreads the probes.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class _Server6(_Server):
    address_family = socket.AF_INET6


def start(host, port, watch=None):
    """Serve ``/healthz`` on ``host``:``port`` from a daemon thread of this process, 503 while ``watch``
    (a ``Watch`` around the app) has a stuck request; the server (its ``shutdown()`` stops it)."""
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    server.watch = watch
    threading.Thread(target=server.serve_forever, name="verify-liveness", daemon=True).start()
    log.info("liveness probes answered on port %d, path /healthz", server.server_address[1])
    return server
