from __future__ import annotations

import functools
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from te_helpers import random_instance

from nettwin._checkpoint import CheckpointWarning, digest
from nettwin.te import (
    DOTESolver,
    ECMPSolver,
    GeminetSolver,
    NotFittedError,
    TEError,
    load_solver,
    make_instances,
    save_solver,
)
from nettwin.te.dote import DOTENet
from nettwin.te.geminet import GeminetNet
from nettwin.te.instance import pair_sums
from nettwin.te.tensors import TEBatch


@pytest.fixture(scope="module")
def abilene():
    return make_instances("sndlib/abilene", steps=24)


def _mean_mlu(solver, instances):
    return float(np.mean([i.mlu(solver.solve(i)) for i in instances]))


def test_geminet_training_lowers_mlu(abilene):
    untrained = GeminetSolver(train_steps=0).fit(abilene)
    trained = GeminetSolver(train_steps=40, lr=1e-2).fit(abilene)
    assert trained.history_[-1] < trained.history_[0]
    assert _mean_mlu(trained, abilene) < 0.97 * _mean_mlu(untrained, abilene)
    assert _mean_mlu(trained, abilene) < _mean_mlu(ECMPSolver(), abilene)


def test_geminet_runs_on_a_topology_it_never_saw(abilene):
    model = GeminetSolver(train_steps=5).fit(abilene)
    other = random_instance(0)
    x = model.solve(other)
    assert np.all(x >= 0) and pair_sums(other.paths, x) == pytest.approx(np.ones(other.n_pairs), abs=1e-5)


def test_geminet_ratios_are_the_same_with_and_without_autograd(abilene):
    # without autograd the path encoder works in place; the values must not change
    net = GeminetSolver(train_steps=5).fit(abilene[:4]).net_
    batch = TEBatch.from_instances(abilene[:3], torch.device("cpu"))
    with_grad = net(batch)
    assert with_grad.requires_grad
    with torch.inference_mode():
        torch.testing.assert_close(net(batch), with_grad.detach())


def test_dote_trains_on_one_layout_and_refuses_others(abilene):
    dote = DOTESolver(train_steps=30, lr=1e-2).fit(abilene)
    assert _mean_mlu(dote, abilene) < _mean_mlu(ECMPSolver(), abilene)
    with pytest.raises(TEError, match="DOTE was fitted on another topology"):
        dote.solve(random_instance(0))
    with pytest.raises(TEError, match="share their pairs and paths"):
        DOTESolver().fit([abilene[0], random_instance(0)])


@pytest.mark.parametrize("solver", [GeminetSolver(), DOTESolver()])
def test_unfitted_solvers_say_so(solver, abilene):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        solver.solve(abilene[0])


def test_repr_shows_hyper_parameters():
    assert repr(GeminetSolver(steps=4, hidden=16)).startswith("GeminetSolver(hidden=16, steps=4,")
    net = GeminetSolver(steps=3, train_steps=0).fit([random_instance(1)]).net_
    assert "hidden=32, T=3" in repr(net)


@pytest.mark.parametrize("kind", ["geminet", "dote"])
def test_checkpoint_round_trip_in_a_new_process(kind, abilene, tmp_path):
    solver = (GeminetSolver(train_steps=5) if kind == "geminet" else DOTESolver(train_steps=5)).fit(abilene)
    path = save_solver(solver, tmp_path / f"{kind}.pt")
    expected = solver.solve(abilene[-1])
    np.save(tmp_path / "expected.npy", expected)
    code = textwrap.dedent(
        f"""
        import numpy as np
        from nettwin.te import load_solver, make_instances
        s = load_solver({str(path)!r})
        inst = make_instances("sndlib/abilene", steps=24)[-1]
        got = s.solve(inst)
        exp = np.load({str(tmp_path / "expected.npy")!r})
        assert np.allclose(got, exp, atol=1e-6), abs(got - exp).max()
        print(type(s).__name__)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)  # a last guard only
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == type(solver).__name__
    assert load_solver(path).get_params()["train_steps"] == 5


def test_bad_checkpoints_say_why(tmp_path):
    missing = tmp_path / "none.pt"
    with pytest.raises(TEError, match="does not exist"):
        load_solver(missing)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(TEError, match="is not a nettwin TE checkpoint .cannot be read"):
        load_solver(junk)
    import torch

    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(TEError, match="not a nettwin TE checkpoint"):
        load_solver(tmp_path / "other.pt")
    torch.save({"format": "nettwin-te-checkpoint", "format_version": 99, "nettwin_version": "9.0"}, tmp_path / "new.pt")
    with pytest.raises(TEError, match="format 99.*upgrade nettwin"):
        load_solver(tmp_path / "new.pt")


@pytest.fixture(scope="module")
def saved_dote(abilene, tmp_path_factory):
    """A DOTE checkpoint: its bytes and its content."""
    path = save_solver(DOTESolver(hidden=8, train_steps=1).fit(abilene[:2]), tmp_path_factory.mktemp("te") / "d.pt")
    return path.read_bytes(), torch.load(path, weights_only=True)


def _craft(path, data):
    """Write checkpoint content as whoever crafts a file would, digest included."""
    torch.save({**data, "digest": digest(data)}, path)
    return path


def test_a_flipped_byte_in_the_weights_is_reported_as_damage(saved_dote, tmp_path):
    raw, data = saved_dote
    weight = data["state"]["weights"]["mlp.2.weight"]
    at = raw.find(weight.numpy().tobytes()) + weight.numel() * 2
    damaged = bytearray(raw)
    damaged[at] ^= 0x04
    (tmp_path / "bad.pt").write_bytes(bytes(damaged))
    with pytest.raises(TEError, match=r"is damaged \(digest mismatch\); retrain or restore it$"):
        load_solver(tmp_path / "bad.pt")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("params.hidden", 200_000, r"'params.hidden' must be an int in \[1, 1024\]; got 200000"),
        ("params.lr", "fast", r"'params.lr' must be a number in \(0, 1\]; got 'fast'"),
        ("params.width", 3, r"unknown field 'params.width'"),
        (
            "state.n_pairs",
            10**9,
            r"'state.weights.mlp.0.weight' is 8×132 float32 but the configured model holds 8×1000000000",
        ),
        ("state.layout", None, r"'state.layout' must be a string"),
        ("state.weights.mlp.0.bias", float("nan"), r"'state.weights.mlp.0.bias' holds NaN or infinite weights"),
        ("state.momentum", 1.0, r"unknown field 'state.momentum'"),
    ],
)
def test_crafted_te_checkpoints_are_refused_before_a_network_is_allocated(
    field, value, message, saved_dote, tmp_path, monkeypatch
):
    _, data = saved_dote
    data = pickle.loads(pickle.dumps(data))
    part, key = field.split(".", 1)
    if key.startswith("weights."):
        weights = data[part]["weights"]
        weights[key[8:]] = torch.full_like(weights[key[8:]], value)
    else:
        data[part][key] = value
    path = _craft(tmp_path / "crafted.pt", data)
    real = DOTENet.__init__

    @functools.wraps(real)
    def only_on_meta(self, *args, **kwargs):
        assert torch.empty(0).device.type == "meta", "a DOTENet was built on a real device"
        real(self, *args, **kwargs)

    monkeypatch.setattr(DOTENet, "__init__", only_on_meta)
    with pytest.raises(TEError, match=message):
        load_solver(path)


def test_geminet_configs_are_checked_before_the_network_is_built(abilene, tmp_path, refuse_to_build):
    path = save_solver(GeminetSolver(hidden=4, steps=1, train_steps=0).fit(abilene[:1]), tmp_path / "g.pt")
    data = torch.load(path, weights_only=True)
    data["params"]["steps"] = 10**9
    refuse_to_build(GeminetNet)
    with pytest.raises(TEError, match=r"'params.steps' must be an int in \[0, 64\]; got 1000000000"):
        load_solver(_craft(tmp_path / "c.pt", data))


DATA = Path(__file__).parent / "data"
"""Checkpoints written by nettwin before format 3 (format 2: kind, config, state, weights and history side by
side), and the ratios each gave on ``random_instance(0)`` when written."""


def _format_1(data):
    """Format 3 content laid out as format 1 wrote it (no digest)."""
    state = dict(data["state"])
    weights, history = state.pop("weights"), state.pop("history")
    old = {k: v for k, v in data.items() if k not in ("digest", "kind", "name", "params", "state")}
    return {
        **old,
        "format_version": 1,
        "kind": data["name"],
        "config": data["params"],
        "state": state,
        "weights": weights,
        "history": history,
    }


@pytest.mark.parametrize("name", ["geminet", "dote"])
def test_a_format_2_te_checkpoint_loads_and_splits_as_it_did(name):
    solver = load_solver(DATA / f"{name}-format2.pt")
    assert solver.name == name and len(solver.history_) == 2
    expected = json.loads((DATA / "format2-ratios.json").read_text())[name]
    np.testing.assert_allclose(solver.solve(random_instance(0)), expected, rtol=1e-6, atol=1e-7)


def test_a_format_2_te_checkpoint_saved_again_is_format_3_and_splits_the_same(tmp_path):
    solver = load_solver(DATA / "dote-format2.pt")
    again = load_solver(save_solver(solver, tmp_path / "again.pt"))
    assert torch.load(tmp_path / "again.pt", weights_only=True)["format_version"] == 3
    np.testing.assert_array_equal(again.solve(random_instance(0)), solver.solve(random_instance(0)))


def test_a_format_2_te_checkpoint_of_an_unknown_solver_is_refused_in_one_line(tmp_path):
    data = torch.load(DATA / "geminet-format2.pt", weights_only=True)
    data["kind"] = "magic"
    with pytest.raises(TEError, match=r"holds an unknown solver 'magic'; expected geminet or dote$"):
        load_solver(_craft(tmp_path / "magic.pt", data))


def test_a_format_1_te_checkpoint_loads_with_a_warning(saved_dote, tmp_path, abilene):
    _, data = saved_dote
    torch.save(_format_1(data), tmp_path / "old.pt")
    with pytest.warns(CheckpointWarning, match="before checkpoints carried a digest"):
        solver = load_solver(tmp_path / "old.pt")
    assert solver.solve(abilene[0]).shape == (abilene[0].n_paths,)


def test_the_command_line_shows_checkpoint_warnings_as_one_line(saved_dote, tmp_path, run_main):
    _, data = saved_dote
    torch.save(_format_1(data), tmp_path / "old.pt")
    res = run_main("te", "solve", "-t", "sndlib/abilene", "--solver", "dote", "--model", str(tmp_path / "old.pt"))
    assert res.code == 0, res.stderr
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("warning: ") and "before checkpoints carried a digest" in line


def test_fit_checks_the_declared_ranges(abilene):
    with pytest.raises(TEError, match=r"GeminetSolver: parameter 'hidden' must be an int in \[1, 1024\]; got 5000"):
        GeminetSolver(hidden=5000).fit(abilene[:1])
    with pytest.raises(TEError, match=r"DOTESolver: parameter 'lr' must be a number in \(0, 1\]; got 0"):
        DOTESolver(lr=0).fit(abilene[:1])


def test_a_directory_or_a_pickle_is_not_a_te_checkpoint(tmp_path):
    with pytest.raises(TEError, match="is a directory"):
        load_solver(tmp_path)
    (tmp_path / "p.pt").write_bytes(pickle.dumps(ECMPSolver()))
    with pytest.raises(TEError, match="never loads pickled code") as info:
        load_solver(tmp_path / "p.pt")
    assert "weights_only" not in str(info.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_geminet_trains_on_cuda_and_matches_the_cpu():
    instances = make_instances("sndlib/abilene", steps=8)
    solver = GeminetSolver(train_steps=20, device="cuda").fit(instances)
    assert next(solver.net_.parameters()).device.type == "cuda"
    on_gpu = solver.solve(instances[0])
    solver.device, solver.net_ = "cpu", solver.net_.cpu()
    np.testing.assert_allclose(on_gpu, solver.solve(instances[0]), rtol=1e-4, atol=1e-5)


def test_learning_rates_beyond_one_are_refused_not_overflowed(run_main, tmp_path):
    args = ["-t", "nsfnet", "--k", "2", "--steps", "4", "--train-steps", "1", "--out", str(tmp_path / "m.pt")]
    res = run_main("te", "train", *args, "--lr", "1e300")
    assert res.code == 1
    assert res.stderr.strip().splitlines() == [
        "error: GeminetSolver: parameter 'lr' must be a number in (0, 1]; got 1e+300"
    ]
