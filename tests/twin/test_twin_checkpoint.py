import json
import pickle
import random
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from nettwin._checkpoint import CheckpointWarning, digest
from nettwin.twin import GLANCE, NotFittedError, Twin, TwinError, load_twin
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


def test_checkpoint_holds_weights_config_normalisation_version(pairs, tmp_path):
    Twin("glance", epochs=1).fit(pairs).save(tmp_path / "g.pt")
    data = read_checkpoint(tmp_path / "g.pt")
    assert data["format"] == FORMAT and data["format_version"] == FORMAT_VERSION and data["nettwin_version"]
    assert data["digest"] == digest(data) and data["digest"].startswith("sha256:")
    assert data["twin"] == "glance" and data["params"]["strategy"] == "mtl"
    assert data["models"]["mtl"]["config"]["T"] == 3
    assert all(isinstance(v, torch.Tensor) for v in data["models"]["mtl"]["state"].values())
    assert set(data["normalisation"]["kpi_scale"]) == {"delay", "jitter", "throughput", "drops"}
    assert data["ranges"]["link.capacity"] == [2e6, 10e6]  # the chains of 2, 4, 6 Mbps and the 10 Mbps ring


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
    data["twin"] = data["params"]["model"] = "transformer"
    with pytest.raises(TwinError, match="unknown twin model 'transformer'"):
        load_twin(craft(tmp_path / "u.pt", data))
    data["twin"] = data["params"]["model"] = "gnn"
    data["models"]["mtl"]["config"]["hidden"] = 16
    fit = r"'models.mtl.state.convs.0.lin.weight' is 8×25 float32 but the configured model holds 16×25"
    with pytest.raises(TwinError, match=fit):
        load_twin(craft(tmp_path / "m.pt", data))


def tensor_offset(raw: bytes, data) -> int:
    """Where in the file the bytes of the checkpoint's largest weight lie."""
    state = data["models"]["mtl"]["state"]
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
    name = next(iter(data["models"]["mtl"]["state"]))
    data["models"]["mtl"]["state"][name].view(-1)[0] = value
    with pytest.raises(TwinError, match=rf"'models.mtl.state.{name}' holds NaN or infinite weights"):
        load_twin(craft(tmp_path / "nan.pt", data))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("params.strategy", "xl", r"'params.strategy' must be one of 'stl', 'mtl', 'tl'; got 'xl'"),
        ("params.threads", 10**9, r"'params.threads' must be an int in \[1, 1024\]"),
        ("params.probabilistic", 1, r"'params.probabilistic' must be true or false; got 1"),
        ("params.depth", 3, r"unknown field 'params.depth'"),
        ("params.options", {"T": 2.5}, r"'params.options.T' must be an int in \[1, 64\]; got 2.5"),
        ("models.mtl.config", ["T", 3], r"'models.mtl.config' must map option names to values; got \['T', 3\]"),
        ("models.mtl.config.path", 200_000, r"'models.mtl.config.path' must be an int in \[1, 1024\]; got 200000"),
        ("models.mtl.config.T", 10**9, r"'models.mtl.config.T' must be an int in \[1, 64\]; got 1000000000"),
        ("models.mtl.config.path_features", ["speed"], r"'models.mtl.config.path_features' must be a list of"),
        ("models.mtl.config.kpis", ["delay"], r"'models.mtl.config.kpis' lacks 'jitter'"),
        ("models.mtl", {"config": {}}, r"'models.mtl' must be a mapping with 'config' and 'state'"),
        ("normalisation", "x", r"'normalisation' must be a mapping or None; got 'x'"),
        ("normalisation.link", [[0.0], [1.0]], r"'normalisation.link' must be \[means, standard deviations\], 17"),
        ("normalisation.kpi_scale.delay", 0.0, r"'normalisation.kpi_scale' must be a mapping of names to numbers > 0"),
        ("ranges.link.capacity", [2.0, 1.0], r"'ranges.link.capacity' must be \[low, high\]"),
        ("meta.kpis", "delay", r"'meta.kpis' must be a list of"),
        ("history", [{"stage": "mtl"}], r"'history\[0\].epoch' must be an int ≥ 0; got None"),
    ],
)
def test_crafted_values_are_refused_naming_the_field_before_a_model_is_built(
    field, value, message, saved, tmp_path, refuse_to_build
):
    _, data, _ = saved
    data = deep_copy(data)
    *parents, last = field.split(".") if not field.startswith("ranges.") else ["ranges", field[len("ranges.") :]]
    target = data
    for key in parents:
        target = target[key]
    target[last] = value
    path = craft(tmp_path / "crafted.pt", data)
    refuse_to_build(GLANCE)
    with pytest.raises(TwinError, match=message):
        load_twin(path)


def test_a_format_1_checkpoint_loads_with_a_warning_and_no_ranges(saved, tmp_path):
    _, data, net = saved
    old = {k: v for k, v in deep_copy(data).items() if k not in ("digest", "ranges")}
    old["format_version"] = 1
    path = craft(tmp_path / "old.pt", old, redigest=False)
    with pytest.warns(CheckpointWarning, match="before checkpoints carried a digest"):
        twin = load_twin(path)
    assert twin.ranges_ is None and twin.outside_training(net) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert twin.predict(net)["delay"].shape == (3,)


def test_a_format_2_checkpoint_without_its_digest_is_damaged(saved, tmp_path):
    _, data, _ = saved
    path = craft(tmp_path / "nodigest.pt", {k: v for k, v in data.items() if k != "digest"}, redigest=False)
    with pytest.raises(TwinError, match=r"is damaged \(no digest\)"):
        load_twin(path)


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
    data["normalisation"]["path"] = [column[:8] for column in data["normalisation"]["path"]]
    data["ranges"] = {k: v for k, v in data["ranges"].items() if k not in ("path.uniform", "path.normal", "path.ppbp")}
    again = load_twin(craft(tmp_path / "old.pt", data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(again.predict(ring)["delay"], twin.predict(ring)["delay"])
    flows = tuple(replace(f, traffic=f.traffic.model_copy(update={"model": "uniform"})) for f in ring.flows)
    assert "traffic model uniform not seen in training" in again.outside_training(replace(ring, flows=flows))[0]
