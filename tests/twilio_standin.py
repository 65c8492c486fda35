"""A local HTTP server standing in for Twilio's REST API: records each message the app sends."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class TwilioStandIn:
    """Accepts POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio and remembers To, From, Body."""

    def __init__(self, fail=False, delay=0.0):
        self.sent = []
        self.fail = fail
        self.delay = delay
        self.event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if outer.delay:
                    threading.Event().wait(outer.delay)
                if outer.fail:
                    body = {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
                    self._answer(400, body)
                else:
                    outer.sent.append({"path": self.path, "auth": self.headers.get("Authorization"), **form})
                    sid = "SM" + secrets.token_hex(16)
                    self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To"),
                                       "from": form.get("From"), "body": form.get("Body")})
                outer.event.set()

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
