"""The contract every twin follows, on the estimator contract twins and TE solvers share (:mod:`nettwin._estimator`).

As scikit-learn's: ``__init__`` only stores its arguments (so ``get_params``, ``set_params`` and
:func:`~nettwin._estimator.clone` come from its signature); ``fit(train, val)`` learns and returns ``self``; learned
state ends in ``_``; ``predict`` checks the twin was fitted and says so if not; ``save``/``load`` round-trip through
one checkpoint file (:func:`~nettwin.twin.factory.load_twin` opens any twin's). Predictions return
``{kpi: (F,) array}`` in SI units (s, bit/s, packets) per network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nettwin._checkpoint import EstimatorPayload
from nettwin._estimator import Estimator, check_fitted
from nettwin.errors import NettwinError, TwinError
from nettwin.metrics import nmae
from nettwin.twin.checkpoint import read_checkpoint
from nettwin.twin.inputs import as_graph, as_network
from nettwin.twin.ranges import TrainingRanges

__all__ = ["BaseTwin"]


class BaseTwin(Estimator):
    """What every twin offers; see the module docstring."""

    error: ClassVar[type[NettwinError]] = TwinError
    kind = ""
    """The name the twin registry and checkpoints know the twin by."""
    display = ""
    """How reports print the twin (default: its kind)."""

    @property
    def name(self) -> str:
        """Name used in reports, e.g. ``GLANCE-MTL``."""
        return self.display or self.kind

    def fit(
        self,
        train: Any,
        val: Any = None,
        *,
        iqr: Mapping[str, float] | None = None,
        callback: Callable[[dict[str, Any]], None] | None = None,
    ) -> BaseTwin:
        raise NotImplementedError

    def predict(self, networks: Any, *, per_path: bool = False) -> Any:
        raise NotImplementedError

    @property
    def fitted(self) -> bool:
        """Whether the twin has been fitted or loaded (it knows the KPIs it predicts, ``kpis_``)."""
        return hasattr(self, "kpis_")

    def _check_fitted(self) -> None:
        check_fitted(self, "kpis_")

    def outside_training(self, networks: Any) -> list[str] | list[list[str]]:
        """Why each network is outside the ranges of inputs the twin was trained on: one reason per input, e.g.
        ``link capacity 10 Gbps > 150 kbps seen`` (see :mod:`nettwin.twin.ranges`).

        One network gives a list of reasons, a sequence one list per network; an empty list means inside every
        range, or no ranges to compare with (queueing theory, checkpoints written before twins recorded them).
        """
        self._check_fitted()
        single = not isinstance(networks, list | tuple)
        ranges: TrainingRanges | None = getattr(self, "ranges_", None)
        inputs = self._inputs()
        out = [ranges.check(as_graph(x), inputs) if ranges else [] for x in ([networks] if single else networks)]
        return out[0] if single else out

    def _inputs(self) -> set[str] | None:
        """The feature columns the twin reads (None: every one counts)."""
        return None

    def score(self, samples: Iterable[Any], iqr: Mapping[str, float] | None = None) -> dict[str, float]:
        """NMAE per KPI against the samples' run-0 KPIs (IQRs: given, else the twin's training IQRs)."""
        self._check_fitted()
        inputs, targets = [], []
        for x in samples:
            if isinstance(x, tuple) and len(x) == 2:
                inputs.append(x[0])
                targets.append(x[1])
            else:
                inputs.append(as_network(x))
                targets.append(x.kpis(0))
        preds = self.predict(inputs)
        scale = dict(iqr or getattr(self, "iqr_", {}))
        return {
            k: nmae(
                np.concatenate([p[k] for p in preds]),
                np.concatenate([np.asarray(t[k], float) for t in targets]),
                scale.get(k, 1.0),
            )
            for k in self.kpis_
        }

    def save(self, path: str | Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> BaseTwin:
        """Open a checkpoint of this kind of twin written by :meth:`save` (any kind: :func:`load_twin`).

        Raises
        ------
        TwinError
            If the file is not a checkpoint of this kind of twin, or any field of it is wrong.
        """
        return cls._from_checkpoint(read_checkpoint(path), device, str(path))

    @classmethod
    def _from_checkpoint(cls, payload: EstimatorPayload, device: str | None, owner: str) -> BaseTwin:
        """A fitted twin from a checkpoint's name, parameters and state, each checked before anything is built from
        it."""
        raise TwinError(f"{owner}: a {cls.__name__} has no checkpoints of its own; open it with load_twin")
