"""The liveness listener: ``GET /healthz`` on an address of its own (``VERIFY_HEALTH_ADDRESS``), answered
by a thread of each worker process, outside the WSGI server's threads.

Why beside the app's own ``/healthz``: a granian worker has one thread for requests (README,
Performance). When Redis stops answering, the request on that thread waits for its timeout before
the gate closes (``registry.gate``), and a probe sent to the app's port in that quarter of a second
waits behind it. A liveness probe must never wait behind Redis work, or an orchestrator restarts
healthy workers during a Redis stall. This thread does no Redis work: it answers while the process
runs Python at all. Every worker binds the same address (``SO_REUSEPORT``): the kernel hands each
probe to one of them.
"""

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

BODY = json.dumps({"status": "ok"}).encode()


class _Handler(BaseHTTPRequestHandler):
    timeout = 2  # a client that sends nothing gives its thread back within 2 s
    server_version = "verify"
    sys_version = ""

    def do_GET(self):  # noqa: N802 (http.server's name)
        found = self.path.partition("?")[0] == "/healthz"
        body = BODY if found else json.dumps({"title": "Not found", "status": 404}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json" if found else "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature): probes are not logged
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a worker that stops is not held up by a probe's connection
    request_queue_size = 128  # socketserver's 5 drops a burst's SYNs: the client retries a second later

    def server_bind(self):
        # Every worker of the server binds the same address; the kernel spreads the probes.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class _Server6(_Server):
    address_family = socket.AF_INET6


def start(host, port):
    """Serve ``/healthz`` on ``host``:``port`` from a daemon thread of this process; the server (its
    ``shutdown()`` stops it)."""
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    threading.Thread(target=server.serve_forever, name="verify-liveness", daemon=True).start()
    log.info("liveness probes answered on port %d, path /healthz", server.server_address[1])
    return server
