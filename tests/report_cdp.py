"""A small Chrome DevTools Protocol client over Chromium's --remote-debugging-pipe (stdlib only).

The report's browser tests drive Debian's chromium through it: navigate, evaluate JS in the page, watch
for JavaScript dialogs (alert/confirm/prompt: the proof that injected script ran), network requests and
console messages, and take screenshots. The pipe needs no port, no websocket library and no browser
download: messages are JSON objects separated by NUL bytes on file descriptors 3 (to the browser) and 4
(from it).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("PRIVSCAN_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


class CdpError(RuntimeError):
    pass


def _high_fd_pipe() -> tuple[int, int]:
    """A pipe whose ends are numbered 10 or more, so moving them to 3 and 4 cannot clobber one another."""
    r, w = os.pipe()
    high = []
    for fd in (r, w):
        high.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return high[0], high[1]


class Browser:
    """One headless Chromium with one page; events are kept in `events` (method, params) as they come."""

    def __init__(self, executable: str, *, width: int = 1280, height: int = 900, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._tmp = Path(tempfile.mkdtemp(prefix="privscan-chromium-"))
        self._profile = self._tmp / "profile"
        self._profile.mkdir()
        # stderr to a file, not a pipe: chromium logs a lot and an undrained pipe would block it
        self._log = (self._tmp / "stderr.log").open("wb")
        to_browser_r, self._to_browser = _high_fd_pipe()
        self._from_browser, from_browser_w = _high_fd_pipe()
        # chromium reads commands on fd 3 and writes replies on fd 4: bash moves our pipe ends there
        # (bash, not sh: dash only redirects single-digit descriptors)
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        args = [*FLAGS, f"--user-data-dir={self._profile}", f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", script, executable, *args],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.session: str | None = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Network.enable", "Log.enable"):
            self.call(domain)
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    # ---- transport --------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    event = (msg.get("method", ""), msg.get("params", {}))
                    self.seen.append(event)
                    self.events.put(event)
                    if event[0] == "Page.javascriptDialogOpening":
                        # a dialog blocks the page: record it (above) and dismiss it so the test goes on
                        self._send("Page.handleJavaScriptDialog", {"accept": True}, session=msg.get("sessionId"))
        with self._cond:
            self._cond.notify_all()

    def _send(self, method: str, params: dict[str, Any], *, session: str | None) -> int:
        with self._cond:
            self._next_id += 1
            msg_id = self._next_id
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(msg).encode("utf-8") + b"\0")
        except BrokenPipeError as e:
            self.proc.wait(timeout=10)
            raise CdpError(f"{method}: chromium is gone (exit code {self.proc.poll()}){self._stderr()}") from e
        return msg_id

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = self._send(method, params, session=self.session)
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while msg_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise CdpError(f"{method}: no reply from chromium (exit code {self.proc.poll()}){self._stderr()}")
                self._cond.wait(min(left, 0.5))
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        log = (self._tmp / "stderr.log").read_bytes().decode("utf-8", "replace").strip()
        return ": " + log[-800:]

    def wait_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError(f"timed out waiting for {method}")
            try:
                name, params = self.events.get(timeout=left)
            except queue.Empty as e:
                raise CdpError(f"timed out waiting for {method}") from e
            if name == method:
                return params

    # ---- page helpers -----------------------------------------------------------------------------

    def goto(self, url: str, *, settle: float = 0.3) -> None:
        """Navigate and wait for the load event, then a moment for handlers to run; events start afresh."""
        while not self.events.empty():
            self.events.get_nowait()
        self.seen.clear()
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        time.sleep(settle)

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"page raised: {result['exceptionDetails'].get('text')} in {expression!r}")
        return result["result"].get("value")

    def dialogs(self) -> list[dict[str, Any]]:
        return [p for name, p in self.seen if name == "Page.javascriptDialogOpening"]

    def problems(self) -> list[str]:
        """Uncaught exceptions and error/warning log entries (CSP violations land here)."""
        out = []
        for name, p in self.seen:
            if name == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif name == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"{p['entry']['source']}: {p['entry']['text']}")
        return out

    def requests(self) -> list[str]:
        """URLs the page asked for, data: URIs left out (they are inline, not network)."""
        urls = [p["request"]["url"] for name, p in self.seen if name == "Network.requestWillBeSent"]
        return [u for u in urls if not u.startswith("data:")]

    def screenshot(self, path: Path, *, full_page: bool = True, max_height: int = 4000) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": min(size["height"], max_height),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.session = None
                try:
                    self._send("Browser.close", {}, session=None)
                    self.proc.wait(timeout=5)
                except (OSError, CdpError, subprocess.TimeoutExpired):
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._log.close()
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
