"""What both batteries share: naming the rule an estimator breaks, the estimator contract, and a new process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from nettwin._estimator import param_names
from nettwin.errors import NettwinError

NEW_PROCESS_SECONDS = 600
"""A guard against a hung child, not a time the work is expected to take."""


class Battery:
    """Runs rules on one estimator; a broken rule is an ``AssertionError`` naming both."""

    def __init__(self, who: str) -> None:
        self.who = who

    def fail(self, rule: str, detail: str) -> NoReturn:
        raise AssertionError(f"{self.who}: {rule}: {detail}")

    def require(self, ok: bool, rule: str, detail: str) -> None:
        if not ok:
            self.fail(rule, detail)

    @contextmanager
    def rule(self, rule: str) -> Iterator[None]:
        """Run a block under ``rule``: any failure in it, an assertion or an unexpected error, is said as breaking
        that rule."""
        try:
            yield
        except AssertionError as err:
            if str(err).startswith(f"{self.who}: "):
                raise
            self.fail(rule, str(err).strip() or "assertion failed")
        except Exception as err:
            raise AssertionError(f"{self.who}: {rule}: raised {type(err).__name__}: {err}") from err

    def one_line_error(self, rule: str, action: Callable[[], Any], error: type[NettwinError], *names: str) -> None:
        """``action()`` must raise ``error`` with a one-line message mentioning each of ``names``."""
        try:
            action()
        except error as err:
            text = str(err)
            self.require(bool(text) and "\n" not in text, rule, f"the message is not one line: {text!r}")
            missing = [n for n in names if n not in text]
            self.require(not missing, rule, f"the message {text!r} does not name {missing[0]!r}" if missing else "")
            return
        except Exception as err:
            self.fail(rule, f"raised {type(err).__name__} ({err}), not a {error.__name__}")
        self.fail(rule, f"no {error.__name__} was raised")

    def init_stores_parameters(self, est: Any) -> None:
        """``__init__`` stores each argument under its own name and nothing else; ``get_params`` reads them back
        and a new estimator made of them has the same."""
        names = param_names(type(est))
        rule = "__init__ only stores its arguments"
        attrs = set(vars(est))
        extra, missing = sorted(attrs - set(names)), sorted(set(names) - attrs)
        self.require(not extra, rule, f"it also sets {', '.join(extra)}")
        self.require(not missing, rule, f"it does not store {', '.join(missing)} under that name")
        with self.rule("get_params gives the constructor arguments"):
            params = est.get_params()
            self.require(
                set(params) == set(names), "get_params gives the constructor arguments", f"{list(params)} != {names}"
            )
        with self.rule("an estimator made of get_params has the same parameters"):
            again = type(est)(**params).get_params()
            self.require(
                same_params(again, params),
                "an estimator made of get_params has the same parameters",
                f"{again!r} != {params!r}",
            )

    def fit_returns_self(self, est: Any, fit: Callable[[Any], Any], learns: bool) -> None:
        """``fit`` returns the estimator, leaves its parameters alone and adds only attributes ending in ``_``
        (at least one when it ``learns``)."""
        before = dict(vars(est))
        with self.rule("fit returns self"):
            result = fit(est)
        self.require(result is est, "fit returns self", f"it returned {type(result).__name__}")
        changed = [k for k, v in before.items() if vars(est).get(k) is not v]
        self.require(not changed, "fit leaves the parameters alone", f"it changed {', '.join(changed)}")
        added = [k for k in vars(est) if k not in before]
        wrong = [k for k in added if not k.endswith("_") or k.startswith("_")]
        self.require(not wrong, "learned state ends in _", f"fit set {', '.join(wrong)}")
        if learns:
            self.require(bool(added), "learned state ends in _", "fit set no learned attribute")


def same_params(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two parameter sets are equal, estimators among them compared by their own parameters."""
    if set(a) != set(b):
        return False
    for k, x in a.items():
        y = b[k]
        if hasattr(x, "get_params") and hasattr(y, "get_params"):
            if type(x) is not type(y) or not same_params(x.get_params(), y.get_params()):
                return False
        elif x != y:
            return False
    return True


def in_new_process(battery: Battery, rule: str, script: str) -> Any:
    """Run ``script`` in a new Python process; what it prints is JSON, returned decoded."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=NEW_PROCESS_SECONDS)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        battery.fail(rule, f"the new process failed: {last}")
    return json.loads(done.stdout)
