import functools
import inspect

import numpy as np
import pytest
import torch

from nettwin.twin import GLANCE, Twin, TwinError, load_twin, registry
from nettwin.twin.cross_validation import cross_validate


def test_params_are_validated_with_one_message_format(pairs):
    with pytest.raises(TwinError, match=r"Twin: parameter 'strategy' must be one of 'stl', 'mtl', 'tl'; got 'xl'"):
        Twin("glance", strategy="xl").fit(pairs)
    with pytest.raises(TwinError, match=r"parameter 'epochs' must be an int ≥ 1; got 0"):
        Twin("glance", epochs=0).fit(pairs)
    with pytest.raises(TwinError, match=r"parameter 'model' must be one of 'glance'.*; got 'bert'"):
        Twin("bert").fit(pairs)
    with pytest.raises(TwinError, match=r"parameter 'kpis' must be a list of .*; got \['latency'\]"):
        Twin("glance", kpis=["latency"]).fit(pairs)


def test_unknown_model_option_is_named(pairs):
    with pytest.raises(TwinError, match="model 'glance':.*'depth'"):
        Twin("glance", options={"depth": 3}, epochs=1).fit(pairs)


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("glance", {"T": 10**9}, r"model 'glance': parameter 'T' must be an int in \[1, 64\]; got 1000000000"),
        ("glance", {"path": 200_000}, r"model 'glance': parameter 'path' must be an int in \[1, 1024\]"),
        ("gnn", {"layers": 0}, r"model 'gnn': parameter 'layers' must be an int in \[1, 64\]; got 0"),
        ("routenet", {"link_features": ["speed"]}, r"parameter 'link_features' must be a list of 'capacity'"),
        ("routenet_fermi", {"probabilistic": 1}, r"parameter 'probabilistic' must be true or false; got 1"),
        ("glance", {"kpis": ["delay"]}, r"Twin: option 'kpis' is the twin's own parameter 'kpis'"),
        ("glance", ["T", 3], r"model 'glance': options must map option names to values"),
    ],
)
def test_model_options_are_checked_against_declared_ranges_before_a_model_is_built(
    model, options, message, pairs, monkeypatch
):
    cls = registry.MODELS.get(model)
    original = cls.__init__

    @functools.wraps(original)
    def init(self, *args, **kwargs):
        raise AssertionError("a model was built")

    monkeypatch.setattr(cls, "__init__", init)
    with pytest.raises(TwinError, match=message):
        Twin(model, options=options).fit(pairs)


def test_every_model_declares_the_range_of_every_constructor_argument():
    for name in registry.model_names():
        cls = registry.MODELS.get(name)
        arguments = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
        assert set(cls.PARAMS) == set(arguments), name
        registry.check_options(name, cls().config())  # the defaults are in range


def test_a_model_without_declared_ranges_cannot_be_registered():
    class Bare(GLANCE):
        PARAMS = {k: v for k, v in GLANCE.PARAMS.items() if k != "T"}

    with pytest.raises(TwinError, match=r"Bare.PARAMS declares no range for constructor argument 'T'"):
        registry.register_model("bare", Bare)
    assert "bare" not in registry.model_names()


def test_strategies_lay_out_models(pairs, kpis):
    stl = Twin("gnn", strategy="stl", kpis=["delay", "drops"], epochs=1, options={"hidden": 8}).fit(pairs)
    assert sorted(stl.models_) == ["delay", "drops"] and stl.models_["delay"].kpis == ["delay"]
    mtl = Twin("gnn", strategy="mtl", epochs=1, options={"hidden": 8}).fit(pairs)
    assert list(mtl.models_) == ["mtl"] and mtl.models_["mtl"].kpis == kpis
    assert stl.name == "GNN-STL" and mtl.name == "GNN-MTL"


def test_transfer_freezes_the_pretrained_embedding(pairs):
    twin = Twin("glance", strategy="tl", kpis=["drops"], epochs=2, seed=1)
    twin.fit(pairs)
    model = twin.models_["tl"]
    assert model.kpis == ["drops"]
    stages = [r["stage"] for r in twin.history_]
    assert stages[0] == "tl:pretrain" and stages[-1] == "tl:heads"
    assert all(not p.requires_grad for p in model.encoder_parameters())
    assert all(p.requires_grad for p in model.heads.parameters())
    # pre-trained on the other default KPIs
    assert set(twin.normalisation_.kpi_scale) == {"delay", "jitter", "throughput", "drops"}


def test_transfer_needs_other_kpis(pairs):
    with pytest.raises(TwinError, match="strategy 'tl' needs source_kpis"):
        Twin("glance", strategy="tl", epochs=1).fit(pairs)


def test_same_seed_same_twin(pairs, ring):
    a = Twin("glance", epochs=2, seed=3).fit(pairs).predict(ring)
    b = Twin("glance", epochs=2, seed=3).fit(pairs).predict(ring)
    c = Twin("glance", epochs=2, seed=4).fit(pairs).predict(ring)
    np.testing.assert_array_equal(a["delay"], b["delay"])
    assert not np.array_equal(a["delay"], c["delay"])


def test_fitting_leaves_the_callers_random_state_and_thread_count_as_they_were(pairs):
    torch.manual_seed(11)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(11)
    Twin("glance", epochs=1, seed=3, threads=2).fit(pairs)  # the suite runs on one thread
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_training_reduces_the_error(pairs):
    short = Twin("routenet", epochs=1, options={"T": 2}, lr=3e-3).fit(pairs)
    long = Twin("routenet", epochs=40, patience=40, options={"T": 2}, lr=3e-3).fit(pairs)
    assert np.mean(list(long.score(pairs).values())) < np.mean(list(short.score(pairs).values()))
    assert len(long.history_) == 40 and {"epoch", "train_loss", "val_nmae", "seconds"} <= set(long.history_[0])


def test_early_stopping_keeps_the_best_epoch(pairs):
    twin = Twin("gnn", epochs=30, patience=2, lr=0.05, options={"hidden": 8}).fit(pairs)
    errs = [r["val_nmae"] for r in twin.history_]
    improving = [i for i, e in enumerate(errs) if any(e[k] < min(p[k] for p in errs[:i] or [e]) for k in e)]
    last = max(improving, default=0)
    # stopped after `patience` epochs in which no KPI improved its own best
    assert len(errs) == 30 or len(errs) - 1 - last == 2


def test_probabilistic_twin_gives_a_std(pairs, ring):
    pred = Twin("routenet", probabilistic=True, epochs=1, options={"T": 2}).fit(pairs).predict(ring)
    assert {"delay_std", "drops_std"} <= set(pred)
    assert np.all(pred["delay_std"] > 0)


def test_predictions_are_never_negative(pairs, ring):
    pred = Twin("gnn", epochs=1, options={"hidden": 8}).fit(pairs).predict(ring)
    assert all(np.all(v >= 0) for v in pred.values())


def test_cpu_by_default_here_and_threads_restored(pairs):
    before = torch.get_num_threads()
    twin = Twin("gnn", epochs=1, options={"hidden": 8}).fit(pairs)
    assert torch.get_num_threads() == before
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(twin.models_["mtl"].parameters()).device.type == expected


def test_cross_validation_scores_each_fold(pairs):
    scores = cross_validate(Twin("gnn", epochs=1, options={"hidden": 8}), pairs, folds=3)
    assert len(scores) == 3 and all(set(s) == {"delay", "jitter", "throughput", "drops"} for s in scores)
    with pytest.raises(TwinError, match="need 2 ≤ folds ≤ samples"):
        cross_validate(Twin("gnn"), pairs, folds=10)


def test_fit_on_a_dataset_uses_its_splits_and_iqrs(tiny_dataset, tmp_path):
    twin = Twin("glance", epochs=2).fit(tiny_dataset)
    assert twin.n_train_ == 18
    for k in ("delay", "throughput"):
        assert twin.iqr_[k] == pytest.approx(tiny_dataset.iqr(k))
    twin.save(tmp_path / "g.pt")
    again = load_twin(tmp_path / "g.pt")
    test = list(tiny_dataset.samples("test"))
    assert again.score(test) == pytest.approx(twin.score(test))


def test_learning_rate_decays_on_plateaus(pairs):
    twin = Twin("gnn", epochs=12, patience=6, lr=0.05, lr_decay=0.5, options={"hidden": 8}).fit(pairs)
    rates = [r["lr"] for r in twin.history_]
    assert rates[0] == 0.05 and all(b <= a for a, b in zip(rates, rates[1:], strict=False))
    with pytest.raises(TwinError, match=r"parameter 'lr_decay' must be a number in \(0, 1\]; got 0"):
        Twin("gnn", lr_decay=0).fit(pairs)


def test_the_history_marks_the_epoch_whose_weights_are_kept(pairs):
    from nettwin.twin.training import KpiStopping, kept_record

    twin = Twin("gnn", epochs=12, patience=4, lr=0.05, options={"hidden": 8}).fit(pairs)
    kept = kept_record(twin.history_)
    # replaying the rule over the recorded scores (the training loss: these pairs leave no validation set) marks the
    # same epochs as kept
    stopping = KpiStopping(4)
    replay = [stopping.update(r["val_nmae"] or {"train_loss": r["train_loss"]}) for r in twin.history_]
    assert replay == [r["kept"] for r in twin.history_] and not all(replay)
    assert kept["kept"] and kept is [r for r in twin.history_ if r["kept"]][-1]
    # a history saved before epochs were marked: the lowest validation score
    old = [{k: v for k, v in r.items() if k != "kept"} for r in twin.history_]
    assert kept_record(old) == min(old, key=lambda r: r["val_score"])


def test_twins_follow_the_shared_estimator_contract(pairs):
    from nettwin._estimator import clone
    from nettwin.twin import QueueingTwin, make_twin

    twin = Twin("gnn", epochs=1, options={"hidden": 8})
    assert twin.set_params(epochs=2) is twin and twin.get_params()["epochs"] == 2
    with pytest.raises(TwinError, match=r"^Twin has no parameter 'epoch'; its parameters are model, strategy, "):
        twin.set_params(epoch=2)
    fitted = twin.fit(pairs)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not copy.fitted and fitted.fitted
    assert repr(make_twin("qt", kpis=["delay"], epochs=3)) == "QueueingTwin(kpis=['delay'])"
    assert isinstance(make_twin("qt"), QueueingTwin) and make_twin("qt").name == "QT"


def test_each_twin_class_opens_its_own_checkpoints(pairs, tmp_path):
    from nettwin.twin import QueueingTwin

    QueueingTwin().fit(pairs).save(tmp_path / "qt.pt")
    Twin("gnn", epochs=1, options={"hidden": 8}).fit(pairs).save(tmp_path / "gnn.pt")
    assert QueueingTwin.load(tmp_path / "qt.pt").kpis_ == load_twin(tmp_path / "qt.pt").kpis_
    assert Twin.load(tmp_path / "gnn.pt").name == "GNN-MTL"
    with pytest.raises(TwinError, match=r"qt.pt: checkpoint of 'qt', not of a learnable twin model; .* knows glance"):
        Twin.load(tmp_path / "qt.pt")
    with pytest.raises(TwinError, match=r"gnn.pt: a checkpoint of twin 'gnn', not of queueing theory"):
        QueueingTwin.load(tmp_path / "gnn.pt")
