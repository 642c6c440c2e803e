"""`cardbase serve` really serves: gunicorn in a subprocess answers /health."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cardbase(*args: str) -> list[str]:
    """The installed console script if there is one, else ``python -m``."""
    script = Path(sys.executable).with_name("cardbase")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "cardbase.platform.cli", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDBASE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CARDBASE_ADMIN_PASSWORD"] = "admin-password"
    return env


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


@pytest.mark.slow
def test_serve_answers_health(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    init = subprocess.run(_cardbase("--database-url", url, "init"), env=_env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    port = _free_port()
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen(_cardbase("--database-url", url, "serve", "--port", str(port), "--workers", "1"),
                            env=_env(), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            body = _health(port)
            if body:
                break
            time.sleep(0.2)
        log.seek(0)
        output = log.read()
        assert body == {"status": "ok", "database": "sqlite", "schema_version": 1}, output
        assert f"cardbase is running at http://127.0.0.1:{port}" in output
        # The app behind it is the real one: home needs a login.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(request, timeout=5)
        assert info.value.code == 302 and info.value.headers["Location"] == "/login?next=/"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
