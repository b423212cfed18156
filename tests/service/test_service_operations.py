"""Operations: Prometheus metrics of requests and jobs, the access log, request ids."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from _processes import wait_until
from _service import Servers, TestClient, bearer, tiny
from prometheus_client.parser import text_string_to_metric_families

from nettwin.service import Settings
from nettwin.service.errors import ServiceError
from nettwin.service.logs import ACCESS_FIELDS, JsonFormatter


def _samples(client: TestClient, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_template_and_jobs_by_status(client: TestClient, keys: dict[str, str]) -> None:
    member = bearer(keys["acme-member"])
    scenario = client.post("/scenarios", json=tiny(), headers=member).json()["id"]
    job = client.post("/jobs", json={"scenario_id": scenario}, headers=member).json()["id"]
    for _ in range(3):
        assert client.get(f"/jobs/{job}", headers=member).status_code == 200
    assert client.get("/jobs/0123456789abcdef", headers=member).status_code == 404
    assert client.get("/scenarios", headers=bearer("ntk_wrong")).status_code == 401
    assert client.get(f"/no/such/{job}").status_code == 404
    assert client.post("/scenarios", content=b"x" * 5_000_000, headers=member).status_code == 413

    def job_counted() -> bool:
        return _value(_samples(client), "nettwin_job_duration_seconds_count", status="succeeded") == 1

    wait_until(job_counted, "the job's duration to be recorded")
    samples = _samples(client)
    count = "nettwin_http_requests_total"
    assert _value(samples, count, method="GET", route="/jobs/{job_id}", status="200") == 3
    assert _value(samples, count, method="GET", route="/jobs/{job_id}", status="404") == 1
    assert _value(samples, count, method="POST", route="/scenarios", status="201") == 1
    assert _value(samples, count, method="POST", route="/jobs", status="202") == 1
    assert _value(samples, count, method="GET", route="/scenarios", status="401") == 1
    # An unknown path and a body refused before routing have no route template.
    assert _value(samples, count, method="GET", route="unmatched", status="404") == 1
    assert _value(samples, count, method="POST", route="unmatched", status="413") == 1
    latency = "nettwin_http_request_duration_seconds_count"
    assert _value(samples, latency, method="GET", route="/jobs/{job_id}", status="200") == 3
    assert _value(samples, "nettwin_jobs", status="succeeded") == 1
    assert _value(samples, "nettwin_jobs", status="queued") == 0
    assert _value(samples, "nettwin_job_duration_seconds_sum", status="succeeded") > 0

    # No id, key or tenant reaches a label: their number is bounded by the routes, methods and statuses.
    labels = {value for _, pairs in samples for _, value in pairs}
    assert not any(secret in label for label in labels for secret in (job, scenario, "acme", *keys.values()))
    assert all(r == "unmatched" or r.startswith("/") for (name, pairs) in samples for k, r in pairs if k == "route")
    # The metrics are operations, not part of the API: they stay out of the OpenAPI document.
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_need_the_token_when_one_is_set(servers: Servers) -> None:
    client = servers.start(metrics_token="s3cret-token")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer("wrong")).status_code == 401
    assert _value(_samples(client, bearer("s3cret-token")), "nettwin_jobs", status="running") == 0


def test_each_request_is_one_access_log_line_with_its_request_id(
    client: TestClient, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    member = bearer(keys["acme-member"])
    caplog.set_level(logging.INFO, logger="nettwin.service.access")
    answer = client.get("/jobs/0123456789abcdef", headers={**member, "X-Request-ID": "trace-42"})
    assert answer.status_code == 404
    assert answer.headers["X-Request-ID"] == "trace-42"
    made = client.get("/health")  # no id sent: one is made
    assert re.fullmatch("[0-9a-f]{32}", made.headers["X-Request-ID"])
    unusable = client.get("/health", headers={"X-Request-ID": "no spaces allowed"})
    assert unusable.headers["X-Request-ID"] != "no spaces allowed"
    client.get("/scenarios", headers=bearer("ntk_wrong"))

    records = [r for r in caplog.records if r.name == "nettwin.service.access"]
    assert len(records) == 4
    first, health, _, refused = records
    fields = {field: getattr(first, field) for field in ACCESS_FIELDS}
    assert fields == {
        "request_id": "trace-42",
        "tenant": "acme",
        "key_id": keys["acme-member"].split("_")[1],
        "method": "GET",
        "route": "/jobs/{job_id}",
        "status": 404,
        "duration_ms": fields["duration_ms"],
    }
    assert fields["duration_ms"] > 0
    assert (health.request_id, health.tenant, health.key_id) == (made.headers["X-Request-ID"], None, None)
    assert (refused.status, refused.tenant) == (401, None)
    assert not any(key in caplog.text for key in keys.values())

    line = json.loads(JsonFormatter().format(first))
    assert {k: line[k] for k in ACCESS_FIELDS} == fields
    assert (line["level"], line["logger"]) == ("INFO", "nettwin.service.access")
    assert line["time"].endswith("+00:00") and "GET /jobs/{job_id} 404" in line["message"]


def test_the_log_format_is_text_or_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETTWIN_LOG_FORMAT", "json")
    assert Settings.from_env(tmp_path).log_format == "json"
    assert Settings.from_env(tmp_path, log_format="text").log_format == "text"
    monkeypatch.setenv("NETTWIN_LOG_FORMAT", "xml")
    with pytest.raises(ServiceError, match=r"^log format \(NETTWIN_LOG_FORMAT\): expected text or json, got 'xml'$"):
        Settings.from_env(tmp_path)
