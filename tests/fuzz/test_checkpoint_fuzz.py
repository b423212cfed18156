"""Damaged checkpoints: a real twin and a real TE solver checkpoint with bytes flipped, cut, inserted or zeroed,
loaded by ``nettwin predict`` and ``nettwin te solve``.

Beyond the command-line contract, a damaged file must never pass for the original: it is refused, or (when the
damage falls where nothing is read) it predicts exactly what the original predicts.
"""

from __future__ import annotations

import json

import pytest
from conftest import examples
from fuzz_support import breach, check, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz


@st.composite
def damage(draw: st.DrawFn, size: int) -> tuple[str, list[tuple[int, int]]]:
    """A description of what to do to a file of ``size`` bytes: (kind, [(offset, amount), ...])."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "zero", "swap"]))
    spots = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=200))
    return kind, spots


def apply(data: bytes, kind: str, spots: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    if kind == "truncate":
        return bytes(out[: spots[0][0]])
    if kind == "insert":
        for offset, value in sorted(spots, reverse=True):
            out[offset:offset] = bytes([value])
        return bytes(out)
    if kind == "zero":
        offset, length = spots[0]
        out[offset : offset + 16 * length] = bytes(len(out[offset : offset + 16 * length]))
        return bytes(out)
    if kind == "swap":
        a, b = spots[0][0], spots[-1][0]
        out[a], out[b] = out[b], out[a]
        return bytes(out)
    for offset, value in spots:
        out[offset] ^= value
    return bytes(out)


def _answer(outcome, keys: tuple[str, ...]) -> object:
    # From the document's first line: text before it is a contract breach that check() reports on its own.
    text = outcome.stdout
    data = json.loads(text[text.find("\n{") + 1 :] if not text.startswith("{") else text)
    return [data[k] for k in keys]


@pytest.fixture(scope="module")
def twin_reference(twin_checkpoint, tiny_scenario):
    ok = run_cli(["predict", str(twin_checkpoint), str(tiny_scenario), "--format", "json"])
    check(ok, json_stdout=True, must_pass=True)
    return twin_checkpoint.read_bytes(), _answer(ok, ("flows",))


@pytest.fixture(scope="module")
def te_reference(te_checkpoint):
    args = ["te", "solve", "-t", "nsfnet", "--k", "2", "--solver", "geminet", "--model", str(te_checkpoint)]
    ok = run_cli([*args, "--format", "json"])
    check(ok, json_stdout=True, must_pass=True)
    return te_checkpoint.read_bytes(), _answer(ok, ("mlu", "links"))


@settings(max_examples=examples(3))
@given(data=st.data())
def test_a_damaged_twin_checkpoint_is_refused_or_predicts_as_the_original(
    data, twin_reference, tiny_scenario, case_dir
):
    original, expected = twin_reference
    kind, spots = data.draw(damage(len(original)), label="damage")
    path = case_dir() / "twin.pt"
    path.write_bytes(apply(original, kind, spots))
    outcome = check(
        run_cli(["predict", str(path), str(tiny_scenario), "--format", "json"]),
        inputs=f"{kind} {spots}",
        json_stdout=True,
    )
    if outcome.code == 0 and _answer(outcome, ("flows",)) != expected:
        breach(
            "silent", "predict: a damaged twin checkpoint loads and predicts otherwise", outcome, "", f"{kind} {spots}"
        )


@settings(max_examples=examples(2))
@given(data=st.data())
def test_a_damaged_te_checkpoint_is_refused_or_solves_as_the_original(data, te_reference, case_dir):
    original, expected = te_reference
    kind, spots = data.draw(damage(len(original)), label="damage")
    path = case_dir() / "geminet.pt"
    path.write_bytes(apply(original, kind, spots))
    args = ["te", "solve", "-t", "nsfnet", "--k", "2", "--solver", "geminet", "--model", str(path), "--format", "json"]
    outcome = check(run_cli(args), inputs=f"{kind} {spots}", json_stdout=True)
    if outcome.code == 0 and _answer(outcome, ("mlu", "links")) != expected:
        breach(
            "silent", "te solve: a damaged solver checkpoint loads and solves otherwise", outcome, "", f"{kind} {spots}"
        )
