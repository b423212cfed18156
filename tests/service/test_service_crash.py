"""A real server killed (SIGKILL) while a job runs and another waits: its worker processes end with it, and the next
server runs both jobs; nothing accepted is lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _processes import LAST_GUARD, alive, descendants, wait_until
from _service import ENDLESS, TINY, Servers, bearer

from nettwin.service import Settings
from nettwin.service.db import Database
from nettwin.service.models import Job


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _serve(data_dir: Path, log_path: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """``nettwin serve`` with one worker in a process of its own, once it answers, and its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "nettwin", "serve", "--port", str(port), "--data-dir", str(data_dir), *options]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NETTWIN_WORKERS": "1"}
        )
    wait_until(lambda: server.poll() is not None or _answers(url), "the server to answer")
    return server, url


@pytest.mark.slow
def test_a_killed_server_loses_no_accepted_job(servers: Servers, keys: dict[str, str], tmp_path: Path) -> None:
    server, url = _serve(servers.data_dir, tmp_path / "server.log")
    try:
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        http = httpx.Client(base_url=url, headers=bearer(keys["acme-member"]), timeout=LAST_GUARD)
        endless = http.post("/jobs", json={"scenario_id": http.post("/scenarios", json=ENDLESS).json()["id"]}).json()
        wait_until(lambda: http.get(f"/jobs/{endless['id']}").json()["status"] == "running", "the job to run")
        waiting = http.post("/jobs", json={"scenario_id": http.post("/scenarios", json=TINY).json()["id"]}).json()
        assert http.get(f"/jobs/{waiting['id']}").json()["status"] == "queued"  # one worker, and it is busy
        helpers = descendants(server.pid)
        assert helpers, "the running job has a worker process"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    wait_until(lambda: not any(alive(pid) for pid in helpers), "the killed server's processes to end")

    client = servers.start(workers=2)
    member = bearer(keys["acme-member"])
    rerun = lambda: client.get(f"/jobs/{endless['id']}", headers=member).json()  # noqa: E731
    wait_until(lambda: rerun()["status"] == "running", "the interrupted job to run again")
    assert rerun()["attempts"] == 2
    # Stopped now that it has shown it runs again, so that it does not slow the other down.
    assert client.post(f"/jobs/{endless['id']}/cancel", headers=member).json()["status"] == "cancelled"
    wait_until(
        lambda: client.get(f"/jobs/{waiting['id']}", headers=member).json()["status"] == "succeeded",
        "the waiting job to run",
    )


@pytest.mark.slow
def test_an_open_event_stream_does_not_keep_a_stopping_server(
    servers: Servers, keys: dict[str, str], tmp_path: Path
) -> None:
    """The stream of a job that never ends stays open; SIGTERM still stops the server, which closes the stream after
    its grace period and queues the job again. Its log, asked for as JSON, is JSON lines throughout."""
    server, url = _serve(servers.data_dir, tmp_path / "server.log", "--log-format", "json")
    try:
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        http = httpx.Client(base_url=url, headers=bearer(keys["acme-member"]), timeout=LAST_GUARD)
        endless = http.post("/jobs", json={"scenario_id": http.post("/scenarios", json=ENDLESS).json()["id"]}).json()
        with http.stream("GET", f"/jobs/{endless['id']}/events") as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: progress"
            server.send_signal(signal.SIGTERM)
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in lines:
                    pass
        wait_until(lambda: server.poll() is not None, "the server to stop")
    finally:
        server.kill()
        server.wait()
    db = Database(Settings(servers.data_dir))
    with db.session() as session:  # stopped, not killed: queued again, the start not counted
        job = session.get_one(Job, endless["id"])
        assert (job.status, job.attempts) == ("queued", 0)
    db.close()
    log = (tmp_path / "server.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()]
    submitted = next(line for line in lines if line.get("route") == "/jobs" and line.get("method") == "POST")
    assert submitted["status"] == 202 and submitted["tenant"] == "acme"
    assert submitted["key_id"] == keys["acme-member"].split("_")[1]
    assert keys["acme-member"] not in log
    assert any(line["logger"].startswith("uvicorn") for line in lines)
