import json
import pickle
import random
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from nettwin._checkpoint import CheckpointWarning, digest
from nettwin.errors import TEError
from nettwin.te import load_solver, save_solver
from nettwin.twin import GLANCE, NotFittedError, QueueingTwin, Twin, TwinError, load_twin
from nettwin.twin.checkpoint import FORMAT, FORMAT_VERSION, read_checkpoint


@pytest.fixture(scope="module")
def saved(tmp_path_factory, builders):
    """A small GLANCE checkpoint (bytes and content) and a network to predict."""
    pairs = [(n, builders.targets(n)) for n in (builders.chain(), builders.ring())]
    path = tmp_path_factory.mktemp("ckpt") / "g.pt"
    Twin("glance", epochs=1, options={"path": 16, "link": 8, "node": 8}).fit(pairs).save(path)
    return path.read_bytes(), torch.load(path, weights_only=True), builders.chain()


def craft(path, data, redigest=True):
    """Write checkpoint content as a hand-made file would be: ``redigest`` as whoever crafts it would."""
    if redigest:
        data = {**data, "digest": digest(data)}
    torch.save(data, path)
    return path


def deep_copy(data):
    return pickle.loads(pickle.dumps(data))


def test_checkpoint_holds_weights_config_normalisation_version_in_the_estimator_layout(pairs, tmp_path):
    Twin("glance", epochs=1).fit(pairs).save(tmp_path / "g.pt")
    data = torch.load(tmp_path / "g.pt", weights_only=True)
    assert set(data) == {"format", "format_version", "nettwin_version", "kind", "name", "params", "state", "digest"}
    assert data["format"] == FORMAT and data["format_version"] == FORMAT_VERSION == 3 and data["nettwin_version"]
    assert data["digest"] == digest(data) and data["digest"].startswith("sha256:")
    payload = read_checkpoint(tmp_path / "g.pt")
    assert (payload.kind, payload.name, payload.version) == ("twin", "glance", 3)
    assert payload.params["strategy"] == "mtl" and payload.params["device"] is None
    state = payload.state
    assert set(state) == {"models", "normalisation", "ranges", "history", "meta"}
    assert state["models"]["mtl"]["config"]["T"] == 3
    assert all(isinstance(v, torch.Tensor) for v in state["models"]["mtl"]["state"].values())
    assert set(state["normalisation"]["kpi_scale"]) == {"delay", "jitter", "throughput", "drops"}
    assert state["ranges"]["link.capacity"] == [2e6, 10e6]  # the chains of 2, 4, 6 Mbps and the 10 Mbps ring
    assert state["meta"]["n_train"] == len(pairs) and [r["epoch"] for r in state["history"]] == [1]


def test_queueing_theory_keeps_only_its_kpis_and_scales(pairs, ring, tmp_path):
    twin = QueueingTwin(kpis=["delay", "drops"]).fit(pairs)
    twin.save(tmp_path / "qt.pt")
    payload = read_checkpoint(tmp_path / "qt.pt")
    assert (payload.name, payload.params) == ("qt", {"kpis": ["delay", "drops"]})
    assert payload.state == {"meta": {"kpis": ["delay", "drops"], "iqr": twin.iqr_}}
    again = load_twin(tmp_path / "qt.pt")
    assert again.iqr_ == twin.iqr_ and np.array_equal(again.predict(ring)["delay"], twin.predict(ring)["delay"])


def test_the_digest_ignores_key_order_and_sees_every_value():
    a = {"x": 1, "w": torch.arange(4.0), "c": {"T": 3}}
    b = {"c": {"T": 3}, "w": torch.arange(4.0), "x": 1}
    assert digest(a) == digest(b)
    for changed in ({**a, "x": 2}, {**a, "x": 1.0}, {**a, "w": torch.arange(4)}, {**a, "c": {"T": 4}}):
        assert digest(changed) != digest(a)
    w = torch.arange(4.0)
    w.view(torch.int32)[2] ^= 1  # one bit of one weight
    assert digest({**a, "w": w}) != digest(a)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TwinError, match="does not exist"):
        load_twin(tmp_path / "none.pt")
    with pytest.raises(TwinError, match=f"checkpoint {tmp_path} is a directory"):
        load_twin(tmp_path)


def test_foreign_file(tmp_path):
    (tmp_path / "x.pt").write_text("hello")
    with pytest.raises(TwinError, match="is not a nettwin twin checkpoint"):
        load_twin(tmp_path / "x.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "y.pt")
    with pytest.raises(TwinError, match="no 'nettwin-twin' format tag"):
        load_twin(tmp_path / "y.pt")


class Payload:
    """Any class: pickling it stores code to call on loading."""


@pytest.mark.parametrize("kind", ["torch", "pickle"])
def test_a_pickle_is_refused_without_advice_to_run_it(kind, tmp_path):
    path = tmp_path / "p.pt"
    if kind == "torch":
        torch.save({"model": Payload()}, path)
    else:
        path.write_bytes(pickle.dumps({"model": Payload()}))
    with pytest.raises(TwinError) as info:
        load_twin(path)
    message = str(info.value)
    assert "is not a nettwin twin checkpoint" in message and "never loads pickled code" in message
    assert "weights_only" not in message and "\n" not in message


def test_newer_format_says_to_upgrade(pairs, tmp_path):
    Twin("gnn", epochs=1, options={"hidden": 8}).fit(pairs).save(tmp_path / "g.pt")
    data = torch.load(tmp_path / "g.pt", weights_only=True)
    data["format_version"] = 99
    torch.save(data, tmp_path / "g.pt")
    with pytest.raises(TwinError, match="format 99.*upgrade nettwin"):
        load_twin(tmp_path / "g.pt")


def test_unknown_model_and_mismatched_weights(pairs, tmp_path):
    Twin("gnn", epochs=1, options={"hidden": 8}).fit(pairs).save(tmp_path / "g.pt")
    data = torch.load(tmp_path / "g.pt", weights_only=True)
    data["name"] = data["params"]["model"] = "transformer"
    with pytest.raises(TwinError, match="unknown twin model 'transformer'"):
        load_twin(craft(tmp_path / "u.pt", data))
    data["name"] = data["params"]["model"] = "gnn"
    data["state"]["models"]["mtl"]["config"]["hidden"] = 16
    fit = r"'state.models.mtl.state.convs.0.lin.weight' is 8×25 float32 but the configured model holds 16×25"
    with pytest.raises(TwinError, match=fit):
        load_twin(craft(tmp_path / "m.pt", data))


def tensor_offset(raw: bytes, data) -> int:
    """Where in the file the bytes of the checkpoint's largest weight lie."""
    state = data["state"]["models"]["mtl"]["state"]
    largest = max(state.values(), key=lambda t: t.numel())
    at = raw.find(largest.numpy().tobytes())
    assert at > 0
    return at + largest.numel() * 2


def value_offset(raw: bytes, text: bytes) -> int:
    at = raw.find(text)
    assert at > 0
    return at + len(text) - 1


@pytest.mark.parametrize(
    "where", ["tensor", "config", "normalisation", "tag", "tag, no longer text", "200 random bytes"]
)
def test_a_flipped_byte_anywhere_is_reported_as_damage(where, saved, tmp_path):
    raw, data, net = saved
    damaged = bytearray(raw)
    if where == "200 random bytes":
        for at in random.Random(7).sample(range(len(raw)), 200):
            damaged[at] ^= 0xFF
    else:
        at = {
            "tensor": lambda: tensor_offset(raw, data),
            "config": lambda: value_offset(raw, b"node_updates"),
            "normalisation": lambda: value_offset(raw, b"kpi_center") + 40,
            "tag": lambda: value_offset(raw, FORMAT.encode()),
            "tag, no longer text": lambda: value_offset(raw, FORMAT.encode()),  # unreadable as UTF-8
        }[where]()
        damaged[at] ^= 0xFF if where.endswith("text") else 0x01
    path = tmp_path / "damaged.pt"
    path.write_bytes(bytes(damaged))
    with pytest.raises(TwinError, match=rf"^checkpoint {path} is damaged \(.*\); retrain or restore it$"):
        load_twin(path).predict(net)


def test_predict_refuses_a_damaged_checkpoint_in_one_line(saved, builders, tmp_path, run_main):
    raw, data, _ = saved
    damaged = bytearray(raw)
    damaged[tensor_offset(raw, data)] ^= 0x10
    path = tmp_path / "damaged.pt"
    path.write_bytes(bytes(damaged))
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(builders.chain_data()))
    res = run_main("predict", str(path), str(scenario))
    assert res.code == 1
    assert res.stderr.strip() == f"error: checkpoint {path} is damaged (digest mismatch); retrain or restore it"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(value, saved, tmp_path):
    _, data, _ = saved
    data = deep_copy(data)
    name = next(iter(data["state"]["models"]["mtl"]["state"]))
    data["state"]["models"]["mtl"]["state"][name].view(-1)[0] = value
    with pytest.raises(TwinError, match=rf"'state.models.mtl.state.{name}' holds NaN or infinite weights"):
        load_twin(craft(tmp_path / "nan.pt", data))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("params.strategy", "xl", r"'params.strategy' must be one of 'stl', 'mtl', 'tl'; got 'xl'"),
        ("params.threads", 10**9, r"'params.threads' must be an int in \[1, 1024\]"),
        ("params.probabilistic", 1, r"'params.probabilistic' must be true or false; got 1"),
        ("params.depth", 3, r"unknown field 'params.depth'"),
        ("params.options", {"T": 2.5}, r"'params.options.T' must be an int in \[1, 64\]; got 2.5"),
        ("state.models.mtl.config", ["T", 3], r"'state.models.mtl.config' must map option names to values; got \["),
        ("state.models.mtl.config.path", 200_000, r"'state.models.mtl.config.path' must be an int in \[1, 1024\]"),
        ("state.models.mtl.config.T", 10**9, r"'state.models.mtl.config.T' must be an int in \[1, 64\]; got 10"),
        ("state.models.mtl.config.path_features", ["speed"], r"'state.models.mtl.config.path_features' must be a"),
        ("state.models.mtl.config.kpis", ["delay"], r"'state.models.mtl.config.kpis' lacks 'jitter'"),
        ("state.models.mtl", {"config": {}}, r"'state.models.mtl' must be a mapping with 'config' and 'state'"),
        ("state.models", {}, r"'state.models' holds \[\], but a mtl twin of .* has \['mtl'\]"),
        ("state.normalisation", "x", r"'state.normalisation' must be a mapping or None; got 'x'"),
        ("state.normalisation.link", [[0.0], [1.0]], r"'state.normalisation.link' must be \[means, standard devi"),
        ("state.normalisation.kpi_scale.delay", 0.0, r"'state.normalisation.kpi_scale' must be a mapping of names to"),
        ("state.ranges.link.capacity", [2.0, 1.0], r"'state.ranges.link.capacity' must be \[low, high\]"),
        ("state.meta.kpis", "delay", r"'state.meta.kpis' must be a list of"),
        ("state.history", [{"stage": "mtl"}], r"'state.history\[0\].epoch' must be an int ≥ 0; got None"),
        ("state.weights", {}, r"unknown field 'state.weights'; known: models, normalisation, ranges, history, meta"),
        ("state", [], r"'state' must be a mapping; got \[\]"),
        ("name", 3, r"'name' must be a string; got 3"),
        ("name", "routenet", r"'params.model' is 'glance' but 'name' is 'routenet'"),
        ("kind", "te-solver", r"holds 'te-solver', not a twin checkpoint$"),
    ],
)
def test_crafted_values_are_refused_naming_the_field_before_a_model_is_built(
    field, value, message, saved, tmp_path, refuse_to_build
):
    _, data, _ = saved
    data = deep_copy(data)
    ranges = "state.ranges."
    *parents, last = field.split(".") if not field.startswith(ranges) else ["state", "ranges", field[len(ranges) :]]
    target = data
    for key in parents:
        target = target[key]
    target[last] = value
    path = craft(tmp_path / "crafted.pt", data)
    refuse_to_build(GLANCE)
    with pytest.raises(TwinError, match=message):
        load_twin(path)


DATA = Path(__file__).parent / "data"
"""Checkpoints written by nettwin before format 3 (format 2: ``twin``, ``params``, ``models``, ``normalisation``,
``ranges``, ``history`` and ``meta`` side by side), and what each predicted for the chain and the ring when written."""

FORMAT_2 = ["glance-mtl", "routenet-stl", "qt"]


def predictions(twin, builders):
    return {name: twin.predict(net) for name, net in (("chain", builders.chain()), ("ring", builders.ring()))}


@pytest.mark.parametrize("name", FORMAT_2)
def test_a_format_2_checkpoint_loads_and_predicts_as_it_did(name, builders):
    twin = load_twin(DATA / f"{name}-format2.pt")
    expected = json.loads((DATA / "format2-predictions.json").read_text())[name]
    got = predictions(twin, builders)
    for network, kpis in expected.items():
        assert set(got[network]) == set(kpis)  # the probabilistic GLANCE's standard deviations too
        for kpi, values in kpis.items():
            np.testing.assert_array_equal(got[network][kpi], values, err_msg=f"{network} {kpi}")


@pytest.mark.parametrize("name", FORMAT_2)
def test_a_format_2_checkpoint_saved_again_is_format_3_and_predicts_the_same(name, builders, tmp_path):
    twin = load_twin(DATA / f"{name}-format2.pt")
    twin.save(tmp_path / "again.pt")
    assert torch.load(tmp_path / "again.pt", weights_only=True)["format_version"] == 3
    again = load_twin(tmp_path / "again.pt")
    assert type(again) is type(twin) and again.get_params() == twin.get_params()
    assert getattr(again, "ranges_", None) == getattr(twin, "ranges_", None)
    before, after = predictions(twin, builders), predictions(again, builders)
    for network in before:
        assert before[network].keys() == after[network].keys()
        for kpi in before[network]:
            np.testing.assert_array_equal(after[network][kpi], before[network][kpi])


def format_1(name):
    """A format 2 fixture as format 1 wrote it: no digest, no ranges."""
    data = torch.load(DATA / f"{name}-format2.pt", weights_only=True)
    return {**{k: v for k, v in data.items() if k not in ("digest", "ranges")}, "format_version": 1}


def test_a_format_1_checkpoint_loads_with_a_warning_and_no_ranges(chain, tmp_path):
    path = craft(tmp_path / "old.pt", format_1("glance-mtl"), redigest=False)
    with pytest.warns(CheckpointWarning, match="before checkpoints carried a digest"):
        twin = load_twin(path)
    assert twin.ranges_ is None and twin.outside_training(chain) == []
    expected = json.loads((DATA / "format2-predictions.json").read_text())["glance-mtl"]["chain"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(twin.predict(chain)["delay"], expected["delay"])


@pytest.mark.parametrize("key", ["twin", "params", "models"])
def test_an_old_checkpoint_without_a_part_is_refused_naming_it(key, tmp_path):
    data = format_1("routenet-stl")
    del data[key]
    path = craft(tmp_path / "old.pt", data, redigest=False)
    with (
        pytest.warns(CheckpointWarning),
        pytest.raises(TwinError, match=rf"incomplete twin checkpoint \(no '{key}'\)$"),
    ):
        load_twin(path)


def test_an_old_checkpoint_with_crafted_values_is_refused_naming_the_field(tmp_path):
    data = torch.load(DATA / "glance-mtl-format2.pt", weights_only=True)
    data["models"]["mtl"]["config"]["T"] = 0
    with pytest.raises(TwinError, match=r"'state.models.mtl.config.T' must be an int in \[1, 64\]; got 0$"):
        load_twin(craft(tmp_path / "crafted.pt", data))


def test_a_format_2_checkpoint_without_its_digest_is_damaged(tmp_path):
    data = torch.load(DATA / "qt-format2.pt", weights_only=True)
    path = craft(tmp_path / "nodigest.pt", {k: v for k, v in data.items() if k != "digest"}, redigest=False)
    with pytest.raises(TwinError, match=r"is damaged \(no digest\)"):
        load_twin(path)


@pytest.mark.parametrize("te", ["geminet-format2.pt", "format 3"])
def test_a_te_solver_checkpoint_is_named_as_such(te, tmp_path, run_main, builders):
    path = Path(__file__).parents[1] / "te" / "data" / "geminet-format2.pt"
    if te == "format 3":
        path = save_solver(load_solver(path), tmp_path / "geminet.pt")
    message = (
        f"{path} is a nettwin TE solver checkpoint (geminet), not a twin checkpoint; open it with "
        "nettwin.te.load_solver or 'nettwin te solve --model'"
    )
    with pytest.raises(TwinError) as info:
        load_twin(path)
    assert str(info.value) == message
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(builders.chain_data()))
    res = run_main("predict", str(path), str(scenario))
    assert res.code == 1 and res.stderr.strip() == f"error: {message}"


@pytest.mark.parametrize("name", ["glance-mtl-format2.pt", "format 3"])
def test_the_te_loader_names_a_twin_checkpoint(name, tmp_path):
    path = DATA / "glance-mtl-format2.pt"
    if name == "format 3":
        load_twin(path).save(path := tmp_path / "glance.pt")
    with pytest.raises(TEError) as info:
        load_solver(path)
    assert str(info.value) == (
        f"{path} is a nettwin twin checkpoint (glance), not a TE checkpoint; open it with nettwin.twin.load_twin "
        "or 'nettwin predict'"
    )


def test_a_loaded_twin_predicts_as_the_saved_one(pairs, ring, tmp_path):
    twin = Twin("routenet_fermi", epochs=1, options={"path": 8, "link": 8, "queue": 8, "T": 2}).fit(pairs)
    twin.save(tmp_path / "r.pt")
    again = load_twin(tmp_path / "r.pt")
    assert np.array_equal(again.predict(ring)["delay"], twin.predict(ring)["delay"])
    assert again.ranges_ == twin.ranges_


def test_unfitted_twin_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Twin().save(tmp_path / "g.pt")


def test_a_checkpoint_saved_before_the_later_traffic_models_loads_and_predicts(pairs, ring, tmp_path):
    """Twins saved before the uniform, normal and ppbp columns read the first 8 path columns and hold statistics
    and ranges for those only: they load, predict as saved, and flag a traffic model they never saw."""
    old_columns = ["rate", "mean_rate", "packet_size", "tau_on", "tau_off", "cbr", "poisson", "onoff"]
    twin = Twin("glance", epochs=1, options={"path": 16, "link": 8, "node": 8, "path_features": old_columns})
    twin.fit(pairs).save(tmp_path / "new.pt")
    data = torch.load(tmp_path / "new.pt", weights_only=True)
    state = data["state"]
    state["normalisation"]["path"] = [column[:8] for column in state["normalisation"]["path"]]
    state["ranges"] = {
        k: v for k, v in state["ranges"].items() if k not in ("path.uniform", "path.normal", "path.ppbp")
    }
    again = load_twin(craft(tmp_path / "old.pt", data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(again.predict(ring)["delay"], twin.predict(ring)["delay"])
    flows = tuple(replace(f, traffic=f.traffic.model_copy(update={"model": "uniform"})) for f in ring.flows)
    assert "traffic model uniform not seen in training" in again.outside_training(replace(ring, flows=flows))[0]
