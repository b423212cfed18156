"""Every command of ``nettwin``, found by walking the application, with random option values and arguments.

Each command starts from a cheap valid invocation (tiny inputs from the session fixtures); a case then sets a few
of its options to values of the wrong type, out of range, non-finite, huge or odd text, gives paths that are
directories, missing, junk or unwritable, drops a required argument or adds one too many. A command added later
is covered without touching this file (its parameters are read from the application).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import TINY_SPEC, examples
from fuzz_strategies import MARKUP_TEXT, UNICODE_TEXT, UNIT_TEXT
from fuzz_support import check, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from nettwin.cli.app import app

pytestmark = pytest.mark.fuzz


def commands() -> dict[tuple[str, ...], Any]:
    """Every runnable command of the application by its words, e.g. ``("dataset", "generate")``.

    The click objects are typer's (typer carries its own click), so they are told apart by what they have.
    """
    found: dict[tuple[str, ...], Any] = {}

    def walk(cmd: Any, words: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, (*words, name))
        else:
            found[words] = cmd

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = commands()

# Options whose large values are legitimately long runs (the user asked for them): only small values are drawn.
LONG_BY_DESIGN = {"epochs", "train_steps", "patience", "max_minutes", "sample_timeout"}
# Values that start heavyweight runtimes outside nettwin (a Ray cluster, ns-3 workers): not drawn.
HEAVY_VALUES = {"ray", "ns3"}


def base_invocations(fix: dict[str, Path]) -> dict[tuple[str, ...], list[str]]:
    """A cheap valid invocation of each known command (unknown commands start from their required arguments)."""
    out = str(fix["out"])
    return {
        ("simulate",): [str(fix["scenario"])],
        ("train",): [str(fix["dataset"]), "--epochs", "1", "--batch-size", "4", "--quiet", "--out", out],
        ("evaluate",): [str(fix["twin"]), str(fix["dataset"]), "--limit", "2", "--no-simbase", "--out", out],
        ("predict",): [str(fix["twin"]), str(fix["scenario"])],
        ("dataset", "generate"): [str(fix["spec"]), "--out", out, "--workers", "1", "--samples", "2"],
        ("dataset", "info"): [str(fix["dataset"])],
        ("te", "solve"): ["-t", "nsfnet", "--k", "2"],
        ("te", "train"): ["-t", "nsfnet", "--k", "2", "--steps", "4", "--train-steps", "1", "--out", out],
        ("te", "evaluate"): ["-t", "nsfnet", "--k", "2", "--steps", "4", "--baselines", "ecmp"],
    }


def _odd_paths(folder: Path) -> dict[str, Path]:
    (folder / "empty.yaml").write_text("")
    (folder / "junk.pt").write_bytes(bytes(range(256)) * 4)
    (folder / "text.json").write_text("{not json")
    (folder / "adir").mkdir(exist_ok=True)
    return {
        "missing": folder / "missing.yaml",
        "directory": folder / "adir",
        "empty": folder / "empty.yaml",
        "junk": folder / "junk.pt",
        "text": folder / "text.json",
        "under a file": folder / "empty.yaml" / "x.json",
        "missing parent": folder / "no" / "such" / "x.json",
        "name too long": folder / ("n" * 300),
        "read-only place": Path("/proc/nettwin-fuzz/x.json"),
        "device": Path("/dev/null"),
    }


def _is_option(param: Any) -> bool:
    return param.param_type_name == "option"


def _annotation(param: Any) -> Any:
    """The Python type a parameter takes, with ``X | None`` and ``list[X]`` unwrapped to ``X``."""
    import typing

    hint = param.type_descriptor.annotation
    while typing.get_args(hint):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _values(param: Any) -> st.SearchStrategy[Any]:
    """Strings to give ``param`` on the command line: right and wrong ones for its type."""
    import enum

    kind = _annotation(param)
    name = param.name or ""
    odd_text = st.sampled_from([*MARKUP_TEXT, *UNICODE_TEXT, *UNIT_TEXT, "", " ", "-", "--", "x=y", "key="])
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.one_of(st.sampled_from([e.value for e in kind if e.value not in HEAVY_VALUES]), odd_text)
    if kind is int:
        small = st.sampled_from(["0", "1", "2", "-1", "1.5", "abc", "", "0x10", "nan"])
        huge = st.sampled_from([str(10**30), str(2**63), str(10**12), "-" + str(10**30)])
        return small if name in LONG_BY_DESIGN else st.one_of(small, huge)
    if kind is float:
        small = st.sampled_from(["0", "1e-9", "-1", "nan", "inf", "-inf", "abc", "1e400", ""])
        return small if name in LONG_BY_DESIGN else st.one_of(small, st.sampled_from(["1e300", "1e12"]))
    if kind is Path:
        return st.sampled_from(["@missing", "@directory", "@empty", "@junk", "@text", "@under a file",
                                "@missing parent", "@name too long", "@read-only place", "@device"])  # fmt: skip
    if name in LONG_BY_DESIGN:
        return st.sampled_from(["1s", "0s", "-1s", "abc", "nan", "1e999s"])
    return st.one_of(odd_text, st.sampled_from(["analytic", "builtin", "qt", "cuda", "sndlib/nowhere", "gbn"]))


def _flag(param: Any) -> str:
    return param.opts[0]


@st.composite
def invocations(draw: st.DrawFn) -> tuple[tuple[str, ...], list[Any]]:
    """(command words, argument list) with a few parameters changed; "@kind" stands for an odd path."""
    words = draw(st.sampled_from(sorted(COMMANDS)))
    cmd = COMMANDS[words]
    changes: list[Any] = []
    params = [p for p in cmd.params if p.name != "help"]
    for param in draw(st.lists(st.sampled_from(params), max_size=3, unique_by=lambda p: p.name)) if params else []:
        if _is_option(param) and param.is_flag:
            changes.append(("flag", _flag(param), draw(st.booleans())))
        elif _is_option(param):
            changes.append(("option", _flag(param), draw(_values(param))))
        else:
            changes.append(("argument", param.name, draw(_values(param))))
    extra = draw(st.sampled_from([None, None, None, "drop-first", "extra-argument", "unknown-option", "help"]))
    return words, [changes, extra]


@pytest.fixture(scope="module")
def fixtures(fuzz_dir, tiny_scenario, tiny_dataset, twin_checkpoint) -> dict[str, Path]:
    import yaml

    spec = fuzz_dir / "cli-spec.yaml"
    spec.write_text(yaml.safe_dump({**TINY_SPEC, "samples": 2}))
    return {"scenario": tiny_scenario, "dataset": tiny_dataset, "twin": twin_checkpoint, "spec": spec}


def _argv(words, changes, extra, base: list[str], odd: dict[str, Path], cmd: Any) -> list[str]:
    argv = list(base)
    positional = [p for p in cmd.params if not _is_option(p)]
    for kind, key, value in changes:
        if isinstance(value, str) and value.startswith("@"):
            value = str(odd[value[1:]])
        if kind == "flag":
            argv = [a for a in argv if a != key]
            if value:
                argv.append(key)
        elif kind == "option":
            if key in argv:  # replace the base's value
                i = argv.index(key)
                argv[i + 1] = value
            else:
                argv += [key, value]
        else:
            index = next(i for i, p in enumerate(positional) if p.name == key)
            if index < len(argv) and not argv[index].startswith("-"):
                argv[index] = value
            else:
                argv.insert(index, value)
    if extra == "drop-first" and argv:
        argv = argv[1:]
    elif extra == "extra-argument":
        argv.append("surplus")
    elif extra == "unknown-option":
        argv.append("--no-such-option")
    elif extra == "help":
        argv.append("--help")
    return [*words, *argv]


@settings(max_examples=examples(6))
@given(case=invocations())
def test_every_command_runs_or_refuses_its_options_with_one_line_per_problem(case, fixtures, case_dir):
    words, (changes, extra) = case
    folder = case_dir()
    odd = _odd_paths(folder)
    fix = {**fixtures, "out": folder / "out.pt"}
    base = base_invocations(fix).get(words, [])
    argv = _argv(words, changes, extra, base, odd, COMMANDS[words])
    if words == ("dataset", "generate"):
        out = argv.index("--out") + 1 if "--out" in argv else None
        if out is not None and out < len(argv) and argv[out] == str(fix["dataset"]):
            return  # never write into the session's dataset
    check(run_cli(argv), json_stdout="json" in argv and "--format" in argv and "--help" not in argv)


def test_the_walk_finds_every_command():
    assert {("simulate",), ("train",), ("predict",), ("dataset", "generate"), ("te", "solve")} <= set(COMMANDS)
