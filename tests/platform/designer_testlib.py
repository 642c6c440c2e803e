"""Helpers of the configurator's Flask tests (test_platform_designer_*.py): the API tests'
small CRM (organisation, deal with a formula), users with and without the configure
right, a logged-in test client and the hidden form state of a designer page; and a real
``cardbase serve`` in a subprocess with a client that picks the worker process serving
each request (WorkerClient)."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Iterator

from api_testlib import _create_crm, _create_users, make_app, signed_in, templated

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin


def designer_app(db, **config):
    """root (admin); sam (reads and edits deals and organisations, no configure right);
    kim (configure right on deals only, in group Designers). From a template database."""
    templated(db, "designer", _create_crm, _create_users, _designer_rights)
    return make_app(db, **config)


def _designer_rights(db) -> None:
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.create_group(db, SYSTEM, "Designers")
    users.add_member(db, SYSTEM, "kim", "Designers")
    for name in ("organisation", "deal"):
        rights_admin.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit"])
    rights_admin.set_object_rights(db, SYSTEM, "Designers", "deal", ["read", "configure"])
    rights_admin.set_object_rights(db, SYSTEM, "Designers", "organisation", ["read"])


client_for = signed_in  # the name the designer tests use


def form_state(html: str) -> dict[str, str]:
    """The hidden schema_version and fingerprint of the (first) designer form on a page."""
    out = {}
    for name in ("schema_version", "fingerprint"):
        found = re.search(rf'name="{name}" value="([^"]*)"', html)
        assert found, f"no {name} on the page"
        out[name] = found.group(1)
    return out


def page(client, url: str) -> tuple[str, dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:2000])
    html = response.get_data(as_text=True)
    return html, form_state(html)


def text_of(response) -> str:
    """The page's text without tags and with entities decoded, for message checks."""
    import html as html_lib

    raw = response.get_data(as_text=True)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", raw)))


def error_under(response, key: str) -> str:
    """The message shown under the input of engine key ``key`` (e.g. "options.length")."""
    import html as html_lib

    raw = response.get_data(as_text=True)
    found = re.search(rf'data-error-for="{re.escape(key)}">([^<]*)<', raw)
    assert found, f"no error shown under {key}: {text_of(response)[:3000]}"
    return html_lib.unescape(found.group(1))


def field_form(state: dict[str, str], **values: Any) -> dict[str, Any]:
    """A field form as the browser posts it: state, label, type, options as <type>.<opt>."""
    data: dict[str, Any] = {**state, "type": "string", "help_text": "", "default": ""}
    data.update(values)
    return data


# ---- a real `cardbase serve` in a subprocess (test_platform_serve.py, ..._designer_workers.py) ----
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cardbase_command(*args: str) -> list[str]:
    """The installed console script if there is one, else ``python -m``."""
    script = Path(sys.executable).with_name("cardbase")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "cardbase.platform.cli", *args]


def serve_env() -> dict[str, str]:
    """The environment of a served cardbase: none of the developer's CARDBASE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDBASE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CARDBASE_ADMIN_PASSWORD"] = "chief-pass-2024"
    return env


def health(port: int) -> dict | None:
    """The /health body of a server on loopback, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop), SIGKILL if it does not end in time."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Served:
    """A running ``cardbase serve``: its master process, port and worker pids."""

    proc: subprocess.Popen
    port: int
    log: Any
    workers: list[int] = dc_field(default_factory=list)

    def output(self) -> str:
        """What the server printed so far (its log and gunicorn's)."""
        self.log.seek(0)
        return self.log.read()


def child_pids(pid: int) -> list[int]:
    """gunicorn's workers of its master ``pid``: the processes whose parent it is, except
    the short-lived job resumer ``cardbase serve`` starts beside them
    (``python -m cardbase.platform.server``, see platform/server.py)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    resumer = b"cardbase.platform.server" in cmdline.read()
            except OSError:
                continue
            if int(fields[1]) == pid and not resumer:
                out.append(int(entry))
    return sorted(out)


@contextmanager
def served(url: str, cwd: Path, workers: int, timeout: float = 30) -> Iterator[Served]:
    """``cardbase --database-url URL serve --workers N`` until the block ends; waits until
    /health answers and all N workers are forked."""
    port = free_port()
    log = open(cwd / "serve.log", "w+")
    proc = subprocess.Popen(cardbase_command("--database-url", url, "serve", "--port", str(port),
                                             "--workers", str(workers)),
                            env=serve_env(), cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    server = Served(proc, port, log)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            server.workers = child_pids(proc.pid)
            if len(server.workers) == workers and health(port):
                break
            time.sleep(0.1)
        assert len(server.workers) == workers and health(port), server.output()
        yield server
    finally:
        stop(proc)
        log.close()


@dataclass
class Reply:
    """One HTTP response, with the pid of the worker process that served it."""

    status: int
    headers: dict[str, str]
    text: str
    worker: int

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.text)


class WorkerClient:
    """HTTP/1.1 to a served cardbase that sends each request to the worker process the
    caller names. Gunicorn's workers share one listening socket, so which one accepts a
    new connection is up to the kernel: the client opens connections until one lands on
    the wanted worker (it finds the process holding the server end of the socket in
    /proc) and keeps it alive for the next requests. Cookies are kept like a browser's."""

    IDLE = 3.0  # seconds: reuse a kept-alive connection only well inside gunicorn's keep-alive
    ATTEMPTS = 300

    def __init__(self, served_: Served) -> None:
        self.served = served_
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.pool: dict[int, tuple[http.client.HTTPConnection, float]] = {}

    def owner(self, conn: http.client.HTTPConnection) -> int | None:
        """The worker pid holding the server end of ``conn``."""
        client_port = conn.sock.getsockname()[1]
        inode = None
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                parts = line.split()
                if (int(parts[1].rsplit(":", 1)[1], 16) == self.served.port
                        and int(parts[2].rsplit(":", 1)[1], 16) == client_port):
                    inode = parts[9]
        if inode is None:
            return None
        wanted = f"socket:[{inode}]"
        for pid in self.served.workers:
            fd_dir = f"/proc/{pid}/fd"
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(f"{fd_dir}/{fd}") == wanted:
                        return pid
                except OSError:
                    continue
        return None

    def connection(self, worker: int) -> http.client.HTTPConnection:
        """A kept-alive connection served by ``worker``, or a new one that landed there."""
        kept = self.pool.pop(worker, None)
        if kept is not None and time.monotonic() - kept[1] < self.IDLE:
            return kept[0]
        if kept is not None:
            kept[0].close()
        for _attempt in range(self.ATTEMPTS):
            conn = http.client.HTTPConnection("127.0.0.1", self.served.port, timeout=10)
            conn.request("GET", "/health")
            conn.getresponse().read()  # answered: the server end is accepted and kept alive
            pid = self.owner(conn)
            if pid == worker:
                return conn
            if pid is not None and pid not in self.pool:
                self.pool[pid] = (conn, time.monotonic())  # good for the other worker's next request
            else:
                conn.close()
        raise AssertionError(f"no connection reached worker {worker} in {self.ATTEMPTS} attempts")

    def request(self, worker: int, method: str, path: str, *, form: dict[str, Any] | None = None,
                body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        """One request served by process ``worker`` (form: urlencoded; body: JSON)."""
        conn = self.connection(worker)
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        served_by = self.owner(conn)
        assert served_by == worker, (served_by, worker)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.will_close:
            conn.close()
        else:
            self.pool[worker] = (conn, time.monotonic())
        return Reply(response.status, dict(response.getheaders()), text, worker)

    def get(self, worker: int, path: str, **kw: Any) -> Reply:
        """GET served by ``worker``."""
        return self.request(worker, "GET", path, **kw)

    def post(self, worker: int, path: str, **kw: Any) -> Reply:
        """POST served by ``worker``."""
        return self.request(worker, "POST", path, **kw)

    def login(self, worker: int, username: str, password: str) -> None:
        """Sign in through the login form (its CSRF token included)."""
        page = self.get(worker, "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                          page.text)
        assert token, page.text[:2000]
        reply = self.post(worker, "/login", form={"csrf_token": token.group(1) or token.group(2),
                                                  "username": username, "password": password})
        assert reply.status == 302, reply.text[:2000]

    def close(self) -> None:
        """Close every kept-alive connection."""
        for conn, _used in self.pool.values():
            conn.close()
        self.pool.clear()
