"""Simulate jobs: queued in the database, run in worker processes, results as the library gives them; cancel;
nothing accepted is lost when the server stops, gracefully or not."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from _processes import LAST_GUARD, wait_until
from _service import ENDLESS, TINY, Servers, TestClient, bearer, tiny
from sqlalchemy import update

from nettwin.scenario import parse_scenario
from nettwin.service import Settings
from nettwin.service.db import Database
from nettwin.service.models import Job
from nettwin.service.routes import jobs as jobs_routes
from nettwin.service.runner import MAX_ATTEMPTS, STOPPED_REASON
from nettwin.sim import simulate
from nettwin.sim.builtin import WIRELESS_MESSAGE


def _wireless() -> dict:
    """A scenario the built-in engine refuses (it models wired links only)."""
    return tiny(
        topology={"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless"},
        flows=[{"src": 0, "dst": 3, "traffic": {"model": "cbr", "rate": "50kbps"}}],
    )


def _store(client: TestClient, key: str, scenario: dict[str, Any]) -> str:
    answer = client.post("/scenarios", json=scenario, headers=bearer(key))
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["id"]


def _submit(client: TestClient, key: str, scenario_id: str, **params: Any) -> str:
    answer = client.post("/jobs", json={"scenario_id": scenario_id, **params}, headers=bearer(key))
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"
    return answer.json()["id"]


def _job(client: TestClient, key: str, job_id: str) -> dict[str, Any]:
    return client.get(f"/jobs/{job_id}", headers=bearer(key)).json()


def _wait_for(client: TestClient, key: str, job_id: str, *states: str) -> dict[str, Any]:
    wait_until(lambda: _job(client, key, job_id)["status"] in states, f"job {job_id} to be {' or '.join(states)}")
    return _job(client, key, job_id)


def _untimed(output: dict[str, Any]) -> dict[str, Any]:
    """The runs without what the clock decides."""
    return {
        **output,
        "runs": [
            {**r, "meta": {k: v for k, v in r["meta"].items() if not k.endswith("seconds")}} for r in output["runs"]
        ],
    }


def test_a_simulate_job_gives_what_the_library_gives(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    scenario_id = _store(client, key, TINY)
    first = _submit(client, key, scenario_id, runs=2)
    second = _submit(client, key, scenario_id, runs=2)
    done = _wait_for(client, key, first, "succeeded", "failed")
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0 and done["attempts"] == 1 and done["error"] is None
    assert done["params"] == {"engine": "builtin", "seed": None, "runs": 2}
    assert done["started_at"] <= done["finished_at"]

    answer = client.get(f"/jobs/{first}/result", headers=bearer(keys["acme-viewer"]))
    assert answer.status_code == 200
    output = answer.json()
    direct = simulate(parse_scenario(TINY), runs=2)
    expected = json.loads(json.dumps({"scenario": "tiny", "runs": [r.to_dict() for r in direct]}))
    assert _untimed(output) == _untimed(expected)

    again = _wait_for(client, key, second, "succeeded", "failed")
    assert again["status"] == "succeeded"
    assert again["result_hash"] == done["result_hash"] and len(done["result_hash"]) == 64
    assert [j["id"] for j in client.get("/jobs", headers=bearer(key)).json()] == [second, first]


def test_job_requests_that_cannot_run(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    missing = client.post("/jobs", json={"scenario_id": "f" * 64}, headers=bearer(key))
    assert missing.status_code == 404 and missing.json() == {"detail": f"scenario '{'f' * 64}' not found"}
    scenario_id = _store(client, key, tiny(simulation={"duration": "2s", "engine": "ns3"}))
    foreign = client.post("/jobs", json={"scenario_id": scenario_id}, headers=bearer(key))
    assert foreign.status_code == 422
    assert foreign.json() == {"detail": "engine: 'ns3' does not run on this service; choose builtin or analytic"}
    bad = client.post("/jobs", json={"scenario_id": scenario_id, "runs": 0, "seed": -1}, headers=bearer(key))
    assert bad.status_code == 422
    assert bad.json()["detail"].splitlines() == [
        "seed: Input should be greater than or equal to 0, got -1",
        "runs: Input should be greater than or equal to 1, got 0",
    ]
    assert client.get("/jobs", headers=bearer(key)).json() == []


def test_cancel_queued_and_running_jobs(servers: Servers, keys: dict[str, str]) -> None:
    client = servers.start(workers=1)
    key = keys["acme-member"]
    endless = _submit(client, key, _store(client, key, ENDLESS))
    _wait_for(client, key, endless, "running")
    tiny_id = _store(client, key, TINY)
    queued = _submit(client, key, tiny_id)

    cancelled = client.post(f"/jobs/{queued}/cancel", headers=bearer(key))
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["attempts"] == 0
    stopped = client.post(f"/jobs/{endless}/cancel", headers=bearer(key))
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"

    # The one worker slot is free again: a new job runs to its end.
    after = _submit(client, key, tiny_id)
    assert _wait_for(client, key, after, "succeeded", "failed")["status"] == "succeeded"
    assert _job(client, key, endless)["status"] == "cancelled" and _job(client, key, endless)["error"] is None
    assert _job(client, key, queued)["attempts"] == 0

    again = client.post(f"/jobs/{endless}/cancel", headers=bearer(key))
    assert again.status_code == 409 and again.json() == {"detail": f"job '{endless}' is already cancelled"}
    assert client.post(f"/jobs/{after}/cancel", headers=bearer(key)).status_code == 409
    result = client.get(f"/jobs/{endless}/result", headers=bearer(key))
    assert result.status_code == 409 and result.json() == {"detail": f"job '{endless}' is cancelled; it has no result"}


def test_a_graceful_stop_queues_running_jobs_again(servers: Servers, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    client = servers.start(workers=1)
    endless = _submit(client, key, _store(client, key, ENDLESS))
    _wait_for(client, key, endless, "running")
    servers.stop(client)

    client = servers.start(workers=1)
    job = _wait_for(client, key, endless, "running")
    assert job["attempts"] == 1  # the stop was not the job's doing: not counted
    client.post(f"/jobs/{endless}/cancel", headers=bearer(key))


@pytest.mark.parametrize("attempts", [1, MAX_ATTEMPTS])
def test_jobs_a_killed_server_left_running(servers: Servers, keys: dict[str, str], attempts: int) -> None:
    """A server killed while a job ran leaves it 'running' in the database; the next server runs it again, unless
    it had already been started MAX_ATTEMPTS times: then it is failed, with the reason."""
    key = keys["acme-member"]
    client = servers.start()
    job_id = _submit(client, key, _store(client, key, TINY))
    _wait_for(client, key, job_id, "succeeded")
    servers.stop(client)
    db = Database(Settings(servers.data_dir))
    with db.session() as session:  # what a kill during the job leaves behind
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="running", attempts=attempts, result=None, result_hash=None)
        )
    db.close()

    client = servers.start()
    job = _wait_for(client, key, job_id, "succeeded", "failed")
    if attempts < MAX_ATTEMPTS:
        assert job["status"] == "succeeded" and job["attempts"] == attempts + 1 and job["result_hash"]
    else:
        assert job["status"] == "failed" and job["attempts"] == attempts
        assert job["error"] == STOPPED_REASON.format(n=attempts)


def test_a_job_the_engine_refuses_fails_with_its_message(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    job_id = _submit(client, key, _store(client, key, _wireless()), engine="builtin")
    job = _wait_for(client, key, job_id, "succeeded", "failed")
    assert job["status"] == "failed" and job["result_hash"] is None
    assert job["error"] == WIRELESS_MESSAGE
    result = client.get(f"/jobs/{job_id}/result", headers=bearer(key))
    assert result.status_code == 409
    assert result.json() == {"detail": f"job '{job_id}' is failed ({WIRELESS_MESSAGE}); it has no result"}


def _events(client: TestClient, key: str, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of a job's stream, read until it closes, as (name, data)."""
    events = []
    with client.stream("GET", f"/jobs/{job_id}/events", headers=bearer(key)) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        for block in answer.read().decode().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            if fields:
                events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_job_events_stream_progress_until_the_job_ends(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    job_id = _submit(client, key, _store(client, key, TINY), runs=3)
    events = _events(client, key, job_id)  # the stream closes when the job ends: no waiting here
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) <= {"progress"}
    progress = [(data["status"], data["progress"]) for _, data in events[:-1]]
    assert progress == sorted(set(progress), key=lambda p: (p[0] == "running", p[1]))  # each change once, in order
    assert all(data["id"] == job_id for _, data in events)
    done = events[-1][1]
    assert done == _job(client, key, job_id)
    assert done["status"] == "succeeded" and len(done["result_hash"]) == 64
    # A finished job's stream is its last event alone.
    assert _events(client, keys["acme-viewer"], job_id) == [("done", done)]


def test_job_events_follow_a_job_while_it_runs(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream of a running job stays open, telling its state, until the job ends (here: cancelled)."""
    key = keys["acme-member"]
    endless = _submit(client, key, _store(client, key, ENDLESS))
    _wait_for(client, key, endless, "running")
    looked = threading.Event()
    read = jobs_routes._read

    def spied(*args: Any) -> Any:
        looked.set()  # the stream has sent its first event and looks at the job again
        return read(*args)

    monkeypatch.setattr(jobs_routes, "_read", spied)
    with ThreadPoolExecutor(1) as pool:
        stream = pool.submit(_events, client, keys["acme-viewer"], endless)
        assert looked.wait(LAST_GUARD)
        assert not stream.done()
        client.post(f"/jobs/{endless}/cancel", headers=bearer(key))
        events = stream.result(LAST_GUARD)
    assert [name for name, _ in events] == ["progress", "cancelled"]
    assert events[0][1]["status"] == "running" and events[-1][1]["status"] == "cancelled"


def test_job_events_report_a_failure(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    job_id = _submit(client, key, _store(client, key, _wireless()), engine="builtin")
    name, data = _events(client, key, job_id)[-1]
    assert name == "failed" and data["error"] == WIRELESS_MESSAGE and data["result_hash"] is None


def test_a_tenant_may_have_so_many_unfinished_jobs(servers: Servers, keys: dict[str, str]) -> None:
    client = servers.start(workers=1, tenant_jobs=2)
    key = keys["acme-member"]
    endless = _submit(client, key, _store(client, key, ENDLESS))
    _wait_for(client, key, endless, "running")
    tiny_id = _store(client, key, TINY)
    _submit(client, key, tiny_id)  # queued behind the running one: it counts too

    refused = client.post("/jobs", json={"scenario_id": tiny_id}, headers=bearer(key))
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "tenant 'acme' already has 2 jobs queued or running, the most it may have at once; "
        "wait for one to end, or cancel one"
    }
    assert len(client.get("/jobs", headers=bearer(key)).json()) == 2  # nothing of the refused one was kept
    # The limit is per tenant.
    rival = keys["rival-member"]
    client.post(f"/jobs/{_submit(client, rival, _store(client, rival, TINY))}/cancel", headers=bearer(rival))

    client.post(f"/jobs/{endless}/cancel", headers=bearer(key))
    last = _submit(client, key, tiny_id)  # a finished job no longer counts
    assert _wait_for(client, key, last, "succeeded", "failed")["status"] == "succeeded"
