"""Shared fixtures: tiny hand-made scenarios; the command line run in-process; the fuzz suite's hypothesis profiles."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, Phase, settings

from nettwin.scenario import Scenario, parse_scenario

# The fuzz suite's profiles live here, in the first conftest pytest reads, so that `--hypothesis-profile=long` is
# known when hypothesis reads its option (before tests/fuzz is collected). "ci" (the default) is reproducible:
# the same examples every run, no database, no shrinking (a failure prints the small generated case as it is).
_FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}
settings.register_profile(
    "ci", max_examples=100, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate], **_FUZZ
)
settings.register_profile("long", max_examples=1000, **_FUZZ)


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile(config.getoption("hypothesis_profile") or "ci")


def tandem(
    capacities=("1Mbps", "1Mbps", "1Mbps"),
    delays=("1ms", "2ms", "3ms"),
    buffer: int = 32,
    flows: list[dict[str, Any]] | None = None,
    **simulation: Any,
) -> Scenario:
    """A chain a→b→c→d (bidirectional links) with one CBR flow a→d unless ``flows`` is given."""
    names = ["a", "b", "c", "d"][: len(capacities) + 1]
    links = [
        {"src": names[i], "dst": names[i + 1], "capacity": c, "delay": d, "buffer": buffer}
        for i, (c, d) in enumerate(zip(capacities, delays, strict=True))
    ]
    flows = flows or [{"src": names[0], "dst": names[-1], "traffic": {"model": "cbr", "rate": "100kbps"}}]
    return parse_scenario(
        {
            "name": "tandem",
            "topology": {"nodes": names, "links": links},
            "flows": flows,
            "simulation": {"duration": "10s", **simulation},
        }
    )


@pytest.fixture
def tandem_factory():
    return tandem


@pytest.fixture
def square() -> dict[str, Any]:
    """A 4-node square a-b-c-d-a with a diagonal a-c of weight 3, as a raw mapping to edit in tests."""
    return {
        "name": "square",
        "topology": {
            "nodes": ["a", "b", "c", "d"],
            "links": [
                {"src": "a", "dst": "b"},
                {"src": "b", "dst": "c"},
                {"src": "c", "dst": "d"},
                {"src": "d", "dst": "a"},
                {"src": "a", "dst": "c", "weight": 3},
            ],
        },
        "flows": [{"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "100kbps"}}],
    }


class Outcome(NamedTuple):
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Run ``nettwin ARGS`` through the application's entry point in this process (so a test can patch the library
    under it): exit status and output."""
    from nettwin.cli.app import main

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["nettwin", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        out, err = capsys.readouterr()
        return Outcome(exit_info.value.code or 0, out, err)

    return run


@pytest.fixture
def refuse_to_build(monkeypatch: pytest.MonkeyPatch) -> Callable[[type], None]:
    """``refuse_to_build(cls)`` makes building ``cls`` fail the test: what is refused must be refused before a model
    exists."""

    def refuse(cls: type) -> None:
        original = cls.__init__

        @functools.wraps(original)
        def init(self: object, *args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"a {cls.__name__} was built")

        monkeypatch.setattr(cls, "__init__", init)

    return refuse
