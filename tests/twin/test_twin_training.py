import math

from nettwin.twin.training import KpiStopping


def test_a_kpi_that_keeps_improving_keeps_training_going():
    # drops is best at once (it starts at queueing theory's estimate) and then worsens a little; delay keeps
    # learning slowly. The mean never beats epoch 1's, yet training must go on while delay improves.
    stop = KpiStopping(patience=3)
    drops = [0.10] + [0.35] * 20
    delay = [1.0 - 0.01 * i for i in range(21)]
    for d, p in zip(delay, drops, strict=True):
        stop.update({"delay": d, "drops": p})
        assert not stop.done
    assert (drops[0] + delay[0]) / 2 < min((a + b) / 2 for a, b in zip(delay[1:], drops[1:], strict=True))


def test_stops_after_patience_epochs_that_improve_no_kpi():
    stop = KpiStopping(patience=2)
    for err in ({"delay": 1.0, "drops": 1.0}, {"delay": 0.5, "drops": 2.0}, {"delay": 0.6, "drops": 1.5}):
        stop.update(err)
        assert not stop.done
    stop.update({"delay": 0.7, "drops": 1.1})
    assert stop.done


def test_keeps_the_epoch_closest_to_every_kpi_best():
    stop = KpiStopping(patience=10)
    assert stop.update({"delay": 1.0, "drops": 0.1})
    # delay halves while drops triples: relative to their bests (0.5, 0.1) the first epoch scores (2 + 1) / 2,
    # the second (1 + 3) / 2, so the first stays the checkpoint although its mean NMAE is higher
    assert not stop.update({"delay": 0.5, "drops": 0.3})
    assert stop.kept == {"delay": 1.0, "drops": 0.1}
    assert stop.update({"delay": 0.55, "drops": 0.12})  # (1.1 + 1.2) / 2 < (2 + 1) / 2


def test_one_kpi_is_plain_early_stopping_and_nan_does_not_count():
    stop = KpiStopping(patience=1)
    assert stop.update({"delay": 0.5, "jitter": math.nan})
    assert stop.update({"delay": 0.4, "jitter": math.nan})
    assert not stop.update({"delay": 0.45, "jitter": math.nan})
    assert stop.done and stop.best == {"delay": 0.4}
