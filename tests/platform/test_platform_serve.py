"""`cardbase serve` really serves: gunicorn in a subprocess answers /health."""
from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request

import pytest
from designer_testlib import cardbase_command, free_port, health, serve_env, stop


@pytest.mark.slow
def test_serve_answers_health(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    init = subprocess.run(cardbase_command("--database-url", url, "init"), env=serve_env(), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen(cardbase_command("--database-url", url, "serve", "--port", str(port), "--workers", "1"),
                            env=serve_env(), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            body = health(port)
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
        stop(proc)
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
