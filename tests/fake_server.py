"""What every stand-in server of the suite shares: a threaded http.server on 127.0.0.1 on a free port.

Subclasses set ``handler`` (a BaseHTTPRequestHandler reading ``self.server.fake``) and ``name``; those
with failure modes also set ``MODES`` and use ``set_mode``/``take_mode``.
"""

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    handler = None
    name = "fake-server"
    MODES = frozenset({"normal"})

    def __init__(self):
        self.mode = "normal"
        self.failures_left = None
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def set_mode(self, mode, times=None):
        """Answer in this mode; with times, only the next that many requests, then normally."""
        if mode not in self.MODES:
            raise ValueError(f"Unknown mode {mode!r}; choose one of {sorted(self.MODES)}.")
        with self._lock:
            self.mode = mode
            self.failures_left = times

    def take_mode(self):
        """The mode for one request, counting down a limited run of failures."""
        with self._lock:
            mode = self.mode
            if self.failures_left is not None:
                self.failures_left -= 1
                if self.failures_left <= 0:
                    self.mode, self.failures_left = "normal", None
            return mode

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
