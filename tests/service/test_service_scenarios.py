"""Scenarios: validated by the library with one clear message, stored under their content hash; the API schema."""

from __future__ import annotations

from _service import TINY, TestClient, bearer, tiny
from sqlalchemy.orm import Session

import nettwin.service.routes.scenarios
from nettwin.scenario import parse_scenario
from nettwin.service import Settings, create_app
from nettwin.service.models import StoredScenario


def test_storing_the_same_scenario_twice_gives_the_same_id(client: TestClient, keys: dict[str, str]) -> None:
    member = bearer(keys["acme-member"])
    first = client.post("/scenarios", json=TINY, headers=member)
    assert first.status_code == 201
    # The same scenario, spelled differently (units, defaults written out, keys in another order).
    same = tiny(simulation={"seed": 7, "duration": 2.0, "warmup": "0s", "engine": "builtin"})
    second = client.post("/scenarios", json=same, headers=member)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    other = client.post("/scenarios", json=tiny(simulation={"duration": "2s", "seed": 8}), headers=member)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert [s["id"] for s in client.get("/scenarios", headers=member).json()] == [
        first.json()["id"],
        other.json()["id"],
    ]

    record = client.get(f"/scenarios/{first.json()['id']}", headers=member).json()
    assert record["name"] == "tiny"
    assert parse_scenario(record["scenario"]) == parse_scenario(TINY)


def _refusal(client: TestClient, key: str, body: object) -> str:
    answer = client.post("/scenarios", json=body, headers=bearer(key))
    assert answer.status_code == 422, answer.text
    assert set(answer.json()) == {"detail"}
    return answer.json()["detail"]


def test_invalid_scenarios_get_one_message_naming_the_field(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-member"]
    flows = [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "fast"}}]
    assert _refusal(client, key, tiny(flows=flows)).startswith("flows[0].traffic.rate: ")
    assert _refusal(client, key, tiny(simulation={"duration": "-1s"})) == (
        "simulation.duration: cannot read '-1s' as a duration: the value must not be negative"
    )
    assert _refusal(client, key, tiny(colour="blue")) == "colour: unknown key"
    unknown = [{"src": "a", "dst": "zz", "traffic": {"model": "cbr", "rate": "1Mbps"}}]
    assert _refusal(client, key, tiny(flows=unknown)) == "flows[0].dst: unknown node 'zz'"
    # Two problems, one line each.
    lines = _refusal(client, key, tiny(flows=[], colour="blue")).splitlines()
    assert len(lines) == 2 and lines[0].startswith("flows: ") and lines[1] == "colour: unknown key"
    assert client.get("/scenarios", headers=bearer(key)).json() == []


def test_topology_files_on_the_server_are_not_read(client: TestClient, keys: dict[str, str]) -> None:
    detail = _refusal(client, keys["acme-member"], tiny(topology={"file": "/etc/passwd"}))
    assert detail.startswith("topology.file: the service reads no files of its own")


def test_bodies_that_are_not_scenarios(client: TestClient, keys: dict[str, str]) -> None:
    headers = {**bearer(keys["acme-member"]), "Content-Type": "application/json"}
    broken = client.post("/scenarios", content=b'{"name": ', headers=headers)
    assert broken.status_code == 422 and "JSON" in broken.json()["detail"]
    assert client.post("/scenarios", json=[1, 2], headers=headers).status_code == 422


def test_large_bodies_are_refused(servers, keys: dict[str, str]) -> None:  # noqa: ANN001
    client = servers.start(max_body_bytes=2000)
    padded = tiny(name="x" * 3000)
    answer = client.post("/scenarios", json=padded, headers=bearer(keys["acme-member"]))
    assert answer.status_code == 413
    assert answer.json() == {"detail": "the request body is larger than 2,000 bytes"}

    def chunks():  # no Content-Length: the limit is enforced on what arrives
        yield b'{"name": "'
        yield b"x" * 3000
        yield b'"}'

    streamed = client.post("/scenarios", content=chunks(), headers=bearer(keys["acme-member"]))
    assert streamed.status_code == 413
    assert client.post("/scenarios", json=TINY, headers=bearer(keys["acme-member"])).status_code == 201


def test_unknown_ids_and_routes(client: TestClient, keys: dict[str, str]) -> None:
    viewer = bearer(keys["acme-viewer"])
    assert client.get("/scenarios/" + "0" * 64, headers=viewer).json() == {"detail": f"scenario '{'0' * 64}' not found"}
    assert client.get("/nowhere", headers=viewer).status_code == 404
    assert client.get("/scenarios?limit=0", headers=viewer).json() == {
        "detail": "limit: Input should be greater than or equal to 1, got '0'"
    }


def test_openapi_schema_is_served_with_the_library_scenario(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "nettwin"
    assert {"/health", "/scenarios", "/scenarios/{scenario_id}", "/jobs", "/jobs/{job_id}", "/keys"} <= set(
        schema["paths"]
    )
    request = schema["paths"]["/scenarios"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/Scenario"}
    assert "topology" in schema["components"]["schemas"]["Scenario"]["properties"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert client.get("/docs").status_code == 200


def test_an_unexpected_failure_is_a_short_500_without_traceback(
    data_dir,
    keys: dict[str, str],
    monkeypatch,
    caplog,  # noqa: ANN001
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(nettwin.service.routes.scenarios, "build_network", broken)
    with TestClient(create_app(Settings(data_dir)), raise_server_exceptions=False) as client:
        answer = client.post("/scenarios", json=TINY, headers=bearer(keys["acme-member"]))
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error; the server log has the details"}
    assert "secret internals" in caplog.text


def test_the_same_scenario_stored_by_two_requests_at_once(
    client: TestClient,
    keys: dict[str, str],
    monkeypatch,  # noqa: ANN001
) -> None:
    member = bearer(keys["acme-member"])
    first = client.post("/scenarios", json=TINY, headers=member).json()
    # The second request looks before the first has committed: it finds nothing, and its write collides.
    real_get = Session.get
    looks: list[object] = []

    def late_get(self: Session, entity: object, ident: object, **kw: object) -> object:
        if entity is StoredScenario and not looks:
            looks.append(ident)
            return None
        return real_get(self, entity, ident, **kw)

    monkeypatch.setattr(Session, "get", late_get)
    second = client.post("/scenarios", json=TINY, headers=member)
    assert looks, "the lookup was bypassed"
    assert second.status_code == 200 and second.json() == first
