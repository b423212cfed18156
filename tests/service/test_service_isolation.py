"""Tenant isolation: every route, called with another tenant's ids, answers as if they did not exist, and changes
nothing of that tenant's."""

from __future__ import annotations

from _processes import wait_until
from _service import ENDLESS, TestClient, bearer


def test_another_tenants_ids_are_not_found_on_any_route(client: TestClient, keys: dict[str, str]) -> None:
    acme, rival = bearer(keys["acme-admin"]), bearer(keys["rival-admin"])
    scenario = client.post("/scenarios", json=ENDLESS, headers=acme).json()["id"]
    job = client.post("/jobs", json={"scenario_id": scenario}, headers=acme).json()["id"]
    made = client.post("/keys", json={"role": "viewer"}, headers=acme).json()
    key = made["id"]
    wait_until(lambda: client.get(f"/jobs/{job}", headers=acme).json()["status"] == "running", "acme's job to run")

    attempts = {
        ("GET", "/scenarios/{scenario_id}"): [("GET", f"/scenarios/{scenario}", None, f"scenario '{scenario}'")],
        ("GET", "/jobs/{job_id}"): [("GET", f"/jobs/{job}", None, f"job '{job}'")],
        ("GET", "/jobs/{job_id}/result"): [("GET", f"/jobs/{job}/result", None, f"job '{job}'")],
        ("GET", "/jobs/{job_id}/events"): [("GET", f"/jobs/{job}/events", None, f"job '{job}'")],
        ("POST", "/jobs/{job_id}/cancel"): [("POST", f"/jobs/{job}/cancel", None, f"job '{job}'")],
        ("DELETE", "/keys/{key_id}"): [("DELETE", f"/keys/{key}", None, f"key '{key}'")],
        ("POST", "/jobs"): [("POST", "/jobs", {"scenario_id": scenario}, f"scenario '{scenario}'")],
    }
    for method, path, body, what in (a for group in attempts.values() for a in group):
        answer = client.request(method, path, json=body, headers=rival)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json() == {"detail": f"{what} not found"}

    # Listings and the audit log show only the caller's own.
    lists = {("GET", "/scenarios"), ("GET", "/jobs"), ("GET", "/keys"), ("GET", "/audit")}
    for _, path in lists:
        mine = client.get(path, headers=rival).json()
        assert all(item.get("id") not in (scenario, job, key) for item in mine), path
        assert all(item.get("tenant", "rival") == "rival" for item in mine), path
    assert all(
        entry["key_id"] != keys["acme-admin"].split("_")[1] for entry in client.get("/audit", headers=rival).json()
    )

    # Storing the same scenario makes the rival's own copy; acme's is untouched.
    assert client.post("/scenarios", json=ENDLESS, headers=rival).status_code == 201
    assert [s["id"] for s in client.get("/scenarios", headers=acme).json()] == [scenario]

    # Nothing of acme's changed: its job still runs, its key still works.
    assert client.get(f"/jobs/{job}", headers=acme).json()["status"] == "running"
    assert client.get("/scenarios", headers=bearer(made["key"])).status_code == 200
    assert next(k for k in client.get("/keys", headers=acme).json() if k["id"] == key)["revoked_at"] is None
    client.post(f"/jobs/{job}/cancel", headers=acme)

    # Every route that takes an id was tried; routes added later must be added here.
    routes = {(m.upper(), path) for path, ops in client.get("/openapi.json").json()["paths"].items() for m in ops}
    assert {r for r in routes if "{" in r[1]} == set(attempts) - {("POST", "/jobs")}
    assert {r for r in routes if "{" not in r[1]} - lists == {
        ("GET", "/health"),
        ("POST", "/scenarios"),
        ("POST", "/jobs"),
        ("POST", "/keys"),
    }
