from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from te_helpers import random_instance

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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
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


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_geminet_trains_on_cuda_and_matches_the_cpu():
    instances = make_instances("sndlib/abilene", steps=8)
    solver = GeminetSolver(train_steps=20, device="cuda").fit(instances)
    assert next(solver.net_.parameters()).device.type == "cuda"
    on_gpu = solver.solve(instances[0])
    solver.device, solver.net_ = "cpu", solver.net_.cpu()
    np.testing.assert_allclose(on_gpu, solver.solve(instances[0]), rtol=1e-4, atol=1e-5)
