"""``nettwin serve`` and ``nettwin serve create-key`` on the command line (the server itself runs in
test_service_crash.py)."""

from __future__ import annotations

import importlib.util

import pytest
from _service import TINY, Servers, bearer


def test_create_key_command_prints_a_working_key(servers: Servers, run_main) -> None:  # noqa: ANN001
    args = ["serve", "create-key", "--tenant", "initech", "--role", "member", "--data-dir", str(servers.data_dir)]
    done = run_main(*args)
    assert done.code == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("ntk_") and "\n" not in key
    assert "member key" in done.stderr and "initech" in done.stderr
    client = servers.start()
    assert client.post("/scenarios", json=TINY, headers=bearer(key)).status_code == 201
    assert client.get("/keys", headers=bearer(key)).status_code == 403


def test_create_key_command_refuses_a_bad_tenant_name(servers: Servers, run_main) -> None:  # noqa: ANN001
    done = run_main("serve", "create-key", "--tenant", "a b", "--data-dir", str(servers.data_dir))
    assert done.code == 1
    assert done.stderr.strip() == "error: tenant: expected 1 to 64 letters, digits, '.', '_' or '-', got 'a b'"


def test_serve_without_the_service_extra_says_how_to_install_it(
    run_main,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,  # noqa: ANN001
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    for args in (["serve", "--data-dir", str(tmp_path)], ["serve", "create-key", "--tenant", "t"]):
        done = run_main(*args)
        assert done.code == 1
        assert done.stderr.strip() == "error: nettwin serve needs uvicorn: pip install 'nettwin[service]'"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"NETTWIN_WORKERS": "many"}, "error: NETTWIN_WORKERS: expected a whole number, got 'many'"),
        ({"NETTWIN_WORKERS": "0"}, "error: workers must be at least 1, got 0"),
        ({"NETTWIN_TENANT_JOBS": "4.5"}, "error: NETTWIN_TENANT_JOBS: expected a whole number, got '4.5'"),
        ({"NETTWIN_TENANT_JOBS": "0"}, "error: tenant_jobs must be at least 1, got 0"),
    ],
)
def test_bad_settings_are_one_line(run_main, monkeypatch: pytest.MonkeyPatch, tmp_path, settings, message) -> None:  # noqa: ANN001
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    done = run_main("serve", "--data-dir", str(tmp_path))
    assert (done.code, done.stderr.strip()) == (1, message)
