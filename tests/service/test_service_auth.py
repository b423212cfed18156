"""API keys and roles: no, malformed, wrong and revoked keys are refused; each role may do what it should only."""

from __future__ import annotations

import pytest
from _service import TINY, TestClient, bearer


def test_health_needs_no_key(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "an API key is required"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "an API key is required"),
        (bearer("not-a-key"), "invalid API key"),
        (bearer("ntk_0123456789abcdef_" + "x" * 43), "invalid API key"),
    ],
)
def test_missing_or_invalid_keys_are_refused(client: TestClient, headers: dict[str, str], message: str) -> None:
    for method, path in [("GET", "/scenarios"), ("POST", "/scenarios"), ("GET", "/jobs"), ("GET", "/keys")]:
        answer = client.request(method, path, headers=headers, json=TINY if method == "POST" else None)
        assert answer.status_code == 401, (method, path)
        assert answer.json()["detail"].startswith(message)
        assert answer.headers["www-authenticate"] == "Bearer"


def test_a_wrong_secret_with_a_real_key_id_is_refused(client: TestClient, keys: dict[str, str]) -> None:
    key = keys["acme-admin"]
    assert client.get("/keys", headers=bearer(key)).status_code == 200  # remembered as verified
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    answer = client.get("/keys", headers=bearer(forged))
    assert answer.status_code == 401
    assert answer.json() == {"detail": "invalid API key"}


def test_a_revoked_key_is_refused_from_then_on(client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["acme-admin"])
    made = client.post("/keys", json={"role": "viewer", "name": "dashboard"}, headers=admin)
    assert made.status_code == 201
    new = made.json()
    assert new["role"] == "viewer" and new["name"] == "dashboard" and new["revoked_at"] is None
    assert client.get("/scenarios", headers=bearer(new["key"])).status_code == 200
    listed = client.get("/keys", headers=admin).json()
    assert new["id"] in [k["id"] for k in listed]
    assert all("key" not in k and "secret_hash" not in k for k in listed)

    revoked = client.delete(f"/keys/{new['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    answer = client.get("/scenarios", headers=bearer(new["key"]))
    assert answer.status_code == 401
    assert answer.json() == {"detail": "this API key was revoked"}
    again = client.delete(f"/keys/{new['id']}", headers=admin)
    assert again.status_code == 409
    assert again.json() == {"detail": f"key '{new['id']}' is already revoked"}


def test_roles(client: TestClient, keys: dict[str, str]) -> None:
    viewer, member, admin = (bearer(keys[f"acme-{role}"]) for role in ("viewer", "member", "admin"))
    stored = client.post("/scenarios", json=TINY, headers=member)
    assert stored.status_code == 201
    scenario_id = stored.json()["id"]

    # A viewer reads, and changes nothing.
    assert client.get("/scenarios", headers=viewer).status_code == 200
    assert client.get(f"/scenarios/{scenario_id}", headers=viewer).status_code == 200
    assert client.get("/jobs", headers=viewer).status_code == 200
    for method, path, body in [
        ("POST", "/scenarios", TINY),
        ("POST", "/jobs", {"scenario_id": scenario_id}),
        ("GET", "/keys", None),
        ("POST", "/keys", {"role": "viewer"}),
        ("GET", "/audit", None),
    ]:
        answer = client.request(method, path, json=body, headers=viewer)
        assert answer.status_code == 403, (method, path)
        assert "viewer role" in answer.json()["detail"]

    # A member also runs jobs, and cancels them, but manages no keys.
    job = client.post("/jobs", json={"scenario_id": scenario_id}, headers=member)
    assert job.status_code == 202
    assert client.post(f"/jobs/{job.json()['id']}/cancel", headers=viewer).status_code == 403
    for method, path in [("GET", "/keys"), ("POST", "/keys"), ("DELETE", "/keys/0123456789abcdef"), ("GET", "/audit")]:
        answer = client.request(method, path, json={} if method == "POST" else None, headers=member)
        assert answer.status_code == 403, (method, path)
        assert answer.json() == {"detail": "this needs the admin role; the key has the member role"}

    # An admin does all of it.
    assert client.get("/keys", headers=admin).status_code == 200
    assert client.post("/jobs", json={"scenario_id": scenario_id}, headers=admin).status_code == 202


def test_audit_log_records_who_changed_what(client: TestClient, keys: dict[str, str]) -> None:
    member, admin = bearer(keys["acme-member"]), bearer(keys["acme-admin"])
    client.post("/scenarios", json=TINY, headers=member)
    client.post("/scenarios", json={"flows": []}, headers=member)  # refused: audited all the same
    client.get("/scenarios", headers=member)  # a read: not audited
    client.post("/scenarios", json=TINY)  # no key: nobody to record
    client.post("/keys", json={"role": "viewer"}, headers=admin)

    entries = client.get("/audit", headers=admin).json()
    member_id = keys["acme-member"].split("_")[1]
    assert [(e["key_id"], e["method"], e["path"], e["status"]) for e in entries] == [
        (keys["acme-admin"].split("_")[1], "POST", "/keys", 201),
        (member_id, "POST", "/scenarios", 422),
        (member_id, "POST", "/scenarios", 201),
    ]
    assert all(e["at"].endswith("Z") or e["at"].endswith("+00:00") for e in entries)
