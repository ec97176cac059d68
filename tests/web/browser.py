"""Running the situation room for browser tests: a uvicorn server in a thread, Debian's Chromium
through Playwright, screenshots saved as artifacts."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from groundspeed.web import create_app

CHROMIUM = Path(os.environ.get("GROUNDSPEED_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GROUNDSPEED_CHROMIUM)"
    return None


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("GROUNDSPEED_ARTIFACTS") or Path(__file__).parent / "_artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The app served by uvicorn in a background thread; stop and start it again at will."""

    def __init__(self, data: Path, port: int | None = None, **options: Any) -> None:
        self.data = data
        self.port = port or free_port()
        self.options = options
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = create_app(self.data, poll_seconds=0.5, **self.options)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="groundspeed-test-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                msg = "the test server did not start"
                raise RuntimeError(msg)
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = None


@contextmanager
def running(data: Path, **options: Any) -> Iterator[Server]:
    server = Server(data, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
