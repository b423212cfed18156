import pytest
import torch

from nettwin.twin import NotFittedError, Twin, TwinError, load_twin
from nettwin.twin.checkpoint import FORMAT, read_checkpoint


def test_checkpoint_holds_weights_config_normalisation_version(pairs, tmp_path):
    Twin("glance", epochs=1).fit(pairs).save(tmp_path / "g.pt")
    data = read_checkpoint(tmp_path / "g.pt")
    assert data["format"] == FORMAT and data["format_version"] == 1 and data["nettwin_version"]
    assert data["twin"] == "glance" and data["params"]["strategy"] == "mtl"
    assert data["models"]["mtl"]["config"]["T"] == 3
    assert all(isinstance(v, torch.Tensor) for v in data["models"]["mtl"]["state"].values())
    assert set(data["normalisation"]["kpi_scale"]) == {"delay", "jitter", "throughput", "drops"}


def test_missing_file(tmp_path):
    with pytest.raises(TwinError, match="does not exist"):
        load_twin(tmp_path / "none.pt")


def test_foreign_file(tmp_path):
    (tmp_path / "x.pt").write_text("hello")
    with pytest.raises(TwinError, match="is not a nettwin twin checkpoint"):
        load_twin(tmp_path / "x.pt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "y.pt")
    with pytest.raises(TwinError, match="no 'nettwin-twin' format tag"):
        load_twin(tmp_path / "y.pt")


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
    data["twin"] = "transformer"
    torch.save(data, tmp_path / "u.pt")
    with pytest.raises(TwinError, match="unknown twin model 'transformer'"):
        load_twin(tmp_path / "u.pt")
    data["twin"] = "gnn"
    data["models"]["mtl"]["config"]["hidden"] = 16
    torch.save(data, tmp_path / "m.pt")
    with pytest.raises(TwinError, match="weights do not fit model 'gnn'"):
        load_twin(tmp_path / "m.pt")


def test_unfitted_twin_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Twin().save(tmp_path / "g.pt")
