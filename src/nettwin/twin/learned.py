"""The learnable twin: a registered model (:mod:`nettwin.twin.registry`) trained with a strategy
(:mod:`nettwin.twin.training`) on the twin contract (:class:`~nettwin.twin.base.BaseTwin`)."""

from __future__ import annotations

import functools
import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nettwin import metrics
from nettwin._checkpoint import EstimatorPayload, check_weights
from nettwin._estimator import pick_device, torch_threads
from nettwin._validation import Flag, Interval, OneOf, check_known, short_repr, validate_params
from nettwin.errors import TwinError
from nettwin.scenario.limits import MAX_SEED
from nettwin.sim.kpi import DEFAULT_KPIS, FLOW_KPIS
from nettwin.twin.base import BaseTwin
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import TwinModel
from nettwin.twin.checkpoint import checked_history, checked_meta, write_checkpoint
from nettwin.twin.flows import flow_predictions, path_predictions
from nettwin.twin.graph import Graph
from nettwin.twin.inputs import as_graph, as_items, default_kpis, is_dataset
from nettwin.twin.normalise import RELATIVE_KPIS, Normalisation
from nettwin.twin.ranges import OutsideTrainingWarning, TrainingRanges, describe
from nettwin.twin.registry import build_model, check_options, display_name, model_names
from nettwin.twin.training import STRATEGIES, TrainConfig

__all__ = ["Twin"]

NONNEGATIVE = set(FLOW_KPIS)

_DECODED = ("packets", "tx_time", "propagation", "path_share", "flow_packets", "flow_tx_time", "flow_propagation")
"""The batch's tensors predictions are decoded and aggregated with."""


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run a block with torch's random state seeded with ``seed``, and the caller's state restored after it (torch's
    generators are process-wide: a fit must not reseed its caller's)."""
    cuda = list(range(torch.cuda.device_count())) if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        if cuda:
            torch.manual_seed(seed)
        else:  # leaves CUDA's generators alone (torch.manual_seed would seed them too)
            torch.random.default_generator.manual_seed(seed)
        yield


class Twin(BaseTwin):
    """A learnable twin: a registered model trained with a strategy.

    Parameters
    ----------
    model : ``glance``, ``routenet``, ``routenet_fermi``, ``gnn`` (see :func:`~nettwin.twin.registry.model_names`).
    strategy : ``stl``, ``mtl`` (default) or ``tl``.
    kpis : KPIs to predict (default: those of delay, jitter, throughput, drops the training data holds, see
        :func:`default_kpis`).
    source_kpis : TL only: the KPIs to pre-train on (default: the other default KPIs the training data holds).
    options : model constructor options (e.g. ``{"T": 3, "path": 32}``).
    epochs, batch_size, lr, weight_decay, patience, loss : optimisation (Adam with L2 ``weight_decay``; early
        stopping after ``patience`` epochs in which no KPI beat its own best validation NMAE, see
        :class:`~nettwin.twin.training.KpiStopping`; ``loss`` mae, mse or huber).
    relative_delay : learn the delays (:data:`~nettwin.twin.normalise.RELATIVE_KPIS`) as the log of their queueing
        part (less the propagation, added back exactly; delay_std and jitter whole) over each flow's transmission
        times along its path (:func:`~nettwin.twin.graph.delay_parts`): the loss then weighs relative errors, and
        links k times faster with k times the traffic give the same targets. Default False (delays learnt in
        seconds).
    lr_decay : multiply the learning rate by this when validation stalls for ``max(2, patience // 3)`` epochs
        (1 keeps it constant).
    probabilistic : heads predict a distribution and ``predict`` also returns ``<kpi>_std``: a Normal (mean, σ)
        for every KPI but drops, which get a binomial head (per-packet drop probability p of the flow's n packets:
        prediction n·p, σ = √(n p (1 − p)); see :mod:`nettwin.twin.likelihood`).
    max_seconds : stop training a model after this much wall time.
    seed : seeds weight initialisation and batch order.
    device : ``cpu``, ``cuda``; default CUDA when present.
    threads : CPU threads torch may use inside ``fit``/``predict`` (default 1: message passing on small graphs
        runs fastest single-threaded, and oversubscribed cores slow multi-threaded kernels down many times;
        None keeps torch's setting).
    verbose : print one line per epoch.

    Attributes (after ``fit``)
    --------------------------
    models_ : {``mtl`` | ``tl`` | KPI name: TwinModel}; normalisation_ : Normalisation; kpis_ : KPIs predicted;
    iqr_ : {KPI: IQR}; history_ : one record per epoch; fit_seconds_ : training wall time; ranges_ : the inputs seen
    in training (:class:`~nettwin.twin.ranges.TrainingRanges`; None when loaded from an older checkpoint).

    ``predict`` warns (:class:`~nettwin.twin.ranges.OutsideTrainingWarning`) when a network is outside those ranges;
    :meth:`outside_training` says why, network by network.

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "1Mbps"}}]}))
    >>> twin = Twin("glance", kpis=["delay"], epochs=2).fit([(net, {"delay": [0.01]})])
    >>> twin.predict(net)["delay"].shape
    (1,)
    """

    def __init__(
        self,
        model: str = "glance",
        *,
        strategy: str = "mtl",
        kpis: Sequence[str] | None = None,
        source_kpis: Sequence[str] | None = None,
        options: Mapping[str, Any] | None = None,
        epochs: int = 100,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 1e-5,
        patience: int = 15,
        loss: str = "mae",
        lr_decay: float = 0.5,
        relative_delay: bool = False,
        probabilistic: bool = False,
        max_seconds: float | None = None,
        seed: int = 0,
        device: str | None = None,
        threads: int | None = 1,
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.strategy = strategy
        self.kpis = kpis
        self.source_kpis = source_kpis
        self.options = options
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.loss = loss
        self.lr_decay = lr_decay
        self.relative_delay = relative_delay
        self.probabilistic = probabilistic
        self.max_seconds = max_seconds
        self.seed = seed
        self.device = device
        self.threads = threads
        self.verbose = verbose

    _CHECKS = {
        "model": OneOf(model_names),
        "strategy": OneOf(tuple(STRATEGIES)),
        "kpis": OneOf(tuple(FLOW_KPIS), many=True, none_ok=True),
        "source_kpis": OneOf(tuple(FLOW_KPIS), many=True, none_ok=True),
        "epochs": Interval(int, 1),
        "batch_size": Interval(int, 1),
        "lr": Interval(float, 0, 1, open_low=True),
        "weight_decay": Interval(float, 0, 1),
        "patience": Interval(int, 1),
        "loss": OneOf(("mae", "mse", "huber")),
        "lr_decay": Interval(float, 0, 1, open_low=True),
        "relative_delay": Flag(),
        "probabilistic": Flag(),
        "max_seconds": Interval(float, 0, open_low=True, none_ok=True),
        "seed": Interval(int, 0, MAX_SEED),
        "device": OneOf(("cpu", "cuda", "mps"), none_ok=True),
        "threads": Interval(int, 1, 1024, none_ok=True),
        "verbose": Flag(),
    }
    """Declared ranges of the parameters (``options`` are checked against the model's own, see
    :func:`~nettwin.twin.registry.check_options`)."""

    @classmethod
    def _validate(cls, params: Mapping[str, Any], owner: str = "Twin", prefix: str | None = None) -> None:
        """Check parameters (and the model options among them) against their declared ranges."""
        validate_params(owner, params, cls._CHECKS, TwinError, prefix=prefix)
        options = params.get("options")
        options = {} if options is None else options
        check_options(params["model"], options, None if prefix is None else owner, prefix and f"{prefix}.options")
        if "kpis" in options:
            raise TwinError(f"{owner}: option 'kpis' is the twin's own parameter 'kpis'; set that instead")

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, KPI lists and options as plain lists and dicts (as checkpoints store them)."""
        params = super().get_params()
        params["kpis"] = list(params["kpis"]) if params["kpis"] is not None else None
        params["source_kpis"] = list(params["source_kpis"]) if params["source_kpis"] is not None else None
        params["options"] = dict(params["options"] or {})
        return params

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.model

    @property
    def name(self) -> str:
        return f"{display_name(self.model)}-{self.strategy.upper()}"

    def _targets(self, held: Iterable[str], where: str) -> tuple[list[str], list[str]]:
        """The KPIs to learn and (TL) to pre-train on, for training data holding the KPIs ``held``."""
        held = set(held)
        kpis = default_kpis(held, where)[0] if self.kpis is None else list(self.kpis)
        if self.strategy != "tl":
            return kpis, []
        if self.source_kpis is not None:
            return kpis, list(self.source_kpis)
        others = [k for k in DEFAULT_KPIS if k not in kpis and k in held]
        if not others:
            raise TwinError(
                f"Twin: strategy 'tl' needs source_kpis other than the target KPIs {kpis} (of the default KPIs, "
                f"{where} holds no other); pass source_kpis=[...]"
            )
        return kpis, others

    def _build(self, kpis: Sequence[str]) -> TwinModel:
        options = dict(self.options or {})
        options.setdefault("probabilistic", self.probabilistic)
        return build_model(self.model, kpis=list(kpis), **options)

    def fit(
        self,
        train: Any,
        val: Any = None,
        *,
        iqr: Mapping[str, float] | None = None,
        callback: Callable[[dict[str, Any]], None] | None = None,
    ) -> Twin:
        """Learn from ``train``, early-stopping on ``val`` (default: the dataset's val split, or 10 % of train).

        ``iqr`` overrides the KPI scales (default: a dataset's manifest IQRs where > 0, else computed from
        ``train``). ``callback`` receives each epoch's record. Returns ``self``.
        """
        self._validate(super().get_params())
        with torch_threads(self.threads):
            return self._fit(train, val, iqr, callback)

    def _fit(
        self, train: Any, val: Any, iqr: Mapping[str, float] | None, callback: Callable[[dict[str, Any]], None] | None
    ) -> Twin:
        dataset = train if is_dataset(train) else None
        if dataset is not None:
            held = set(dataset.kpis)
            kpis, source = self._targets(held, str(dataset.path))
            if iqr is None:  # a KPI the dataset lacks is its one-line DatasetError, naming the dataset's source
                iqr = {k: v for k in dict.fromkeys(kpis + source) if (v := dataset.iqr(k)) > 0}
            train, val = dataset.samples("train"), (dataset.samples("val") if val is None else val)
        rng = np.random.default_rng(self.seed)
        train_items = as_items(train)
        if not train_items:
            raise TwinError("Twin.fit: the training set is empty")
        if dataset is None:
            held = set.intersection(*(set(t) for _, t in train_items))
            kpis, source = self._targets(held, "the training data")
        lacking = [k for k in dict.fromkeys(kpis + source) if k not in held]
        if lacking:
            raise TwinError(
                f"Twin.fit: the training data has no '{lacking[0]}'; it holds "
                f"{', '.join(k for k in FLOW_KPIS if k in held) or 'no KPI a twin learns'}"
            )
        val_items = as_items(val) if val is not None else []
        if not val_items and len(train_items) >= 10:
            perm = rng.permutation(len(train_items))
            cut = max(1, len(train_items) // 10)
            val_items = [train_items[i] for i in perm[:cut]]
            train_items = [train_items[i] for i in perm[cut:]]
        all_kpis = list(dict.fromkeys(kpis + source))
        relative = [k for k in all_kpis if k in RELATIVE_KPIS] if self.relative_delay else []
        targets = [t for _, t in train_items]
        norm = Normalisation.fit([g for g, _ in train_items], targets, all_kpis, iqr, relative)

        def log(r: dict[str, Any]) -> None:
            if self.verbose:
                errs = " ".join(f"{k}={v:.4f}" for k, v in r["val_nmae"].items())
                print(
                    f"[{r['stage']}] epoch {r['epoch']:3d} loss {r['train_loss']:.4f} val NMAE {errs} "
                    f"({r['seconds']:.1f} s)",
                    flush=True,
                )
            if callback is not None:
                callback(r)

        cfg = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            loss=self.loss,
            lr_decay=self.lr_decay,
            max_seconds=self.max_seconds,
            device=pick_device(self.device),
            log=log,
        )
        start = time.perf_counter()
        with _seeded(self.seed, cfg.device):
            models, history = STRATEGIES[self.strategy].fit(
                self._build, train_items, val_items, norm, kpis, source, cfg, rng
            )
        self.fit_seconds_ = time.perf_counter() - start
        self.models_ = models
        self.normalisation_ = norm
        # NMAE divides by the IQR in SI units, which a relative KPI's scale (of log ratios) is not
        given = {k: v for k, v in (iqr or {}).items() if v > 0}
        self.iqr_ = {
            k: (given.get(k) or metrics.iqr(np.concatenate([t[k] for t in targets])))
            if k in relative
            else norm.kpi_scale[k]
            for k in all_kpis
        }
        self.history_ = history
        self.n_train_ = len(train_items)
        self.ranges_ = TrainingRanges.fit([g for g, _ in train_items])
        self.kpis_ = kpis
        return self

    def _inputs(self) -> set[str]:
        return set().union(*(m.inputs() for m in self.models_.values()))

    def _kpi_model(self) -> dict[str, TwinModel]:
        if self.strategy == "stl":
            return {k: self.models_[k] for k in self.kpis_}
        model = next(iter(self.models_.values()))
        return dict.fromkeys(self.kpis_, model)

    @torch.inference_mode()
    def predict_graphs(
        self, graphs: Sequence[Graph], batch_size: int = 256, *, per_path: bool = False
    ) -> list[dict[str, np.ndarray]]:
        """Predictions for pre-encoded graphs, ``batch_size`` networks per forward pass (``per_path``: see
        :meth:`predict`)."""
        self._check_fitted()
        with torch_threads(self.threads):
            return self._predict_graphs(graphs, batch_size, per_path)

    def _predict_graphs(self, graphs: Sequence[Graph], batch_size: int, per_path: bool) -> list[dict[str, np.ndarray]]:
        device = next(iter(self.models_.values())).parameters().__next__().device
        per_kpi = self._kpi_model()
        heads = {k: per_kpi[k].head(k) for k in self.kpis_}
        out: list[dict[str, np.ndarray]] = []
        norm = self.normalisation_
        for i in range(0, len(graphs), batch_size):
            batch = GraphBatch.collate(graphs[i : i + batch_size], norm).to(device)
            results: dict[str, torch.Tensor] = {}
            for model in {id(m): m for m in per_kpi.values()}.values():
                model.eval()
                results.update(model(batch))
            # Decoding and aggregating in double precision on the CPU.
            host = replace(
                batch,
                **{n: getattr(batch, n).double().cpu() for n in _DECODED},
                path_flow=batch.path_flow.cpu(),
            )
            outputs = {k: v.double().cpu() for k, v in results.items()}
            means, stds = path_predictions(heads, outputs, host, norm, self.kpis_)
            means = {k: v.clamp_min(0.0) if k in NONNEGATIVE else v for k, v in means.items()}
            if per_path:
                first = np.cumsum((0, *host.flow_counts[:-1]))  # each graph's first flow in the batch
                local = host.path_flow - torch.as_tensor(np.repeat(first, host.path_counts))
                table = {"flow": local, "share": host.path_share}
                split = host.split_paths
            else:
                means, stds = flow_predictions(means, stds, host)
                table = {}
                split = host.split_flows
            for k in self.kpis_:
                table[k] = means[k]
                if k in stds:
                    table[f"{k}_std"] = stds[k]
            parts = {k: split(v) for k, v in table.items()}
            out += [{k: v[j].numpy() for k, v in parts.items()} for j in range(batch.n_graphs)]
        return out

    def predict(self, networks: Any, batch_size: int = 256, *, per_path: bool = False) -> Any:
        """Per-flow KPIs (SI units) of one network (→ dict) or of a sequence of networks (→ list of dicts).

        A flow split over several paths is predicted path by path, each path carrying its share of the traffic, and
        its KPIs aggregate its paths' by share (:mod:`nettwin.twin.flows`). With ``per_path``, each network's dict
        holds the paths' own predictions instead, (R,) arrays over every path of every flow, flow by flow, with
        ``flow`` (the flow of each) and ``share`` (its share of the flow's packets).

        Raises
        ------
        NotFittedError
            If the twin has not been fitted or loaded.
        """
        self._check_fitted()
        single = not isinstance(networks, list | tuple)
        items = [networks] if single else list(networks)
        graphs = [as_graph(x) for x in items]
        self._warn_outside(graphs)
        preds = self.predict_graphs(graphs, batch_size=batch_size, per_path=per_path)
        return preds[0] if single else preds

    def _warn_outside(self, graphs: Sequence[Graph]) -> None:
        flagged = [(i, why) for i, why in enumerate(self.outside_training(list(graphs))) if why]
        if flagged:
            i, why = flagged[0]
            more = f" ({len(flagged) - 1} more of the {len(graphs)} networks too)" if len(flagged) > 1 else ""
            warnings.warn(describe(f"network {i}", why) + more, OutsideTrainingWarning, stacklevel=3)

    def save(self, path: str | Path) -> None:
        """Write weights, model configs, normalisation, parameters and learning curves to one file."""
        self._check_fitted()
        write_checkpoint(
            path,
            self.model,
            {**self.get_params(), "device": None},
            {
                "models": {
                    name: {"config": m.config(), "state": {k: v.detach().cpu() for k, v in m.state_dict().items()}}
                    for name, m in self.models_.items()
                },
                "normalisation": self.normalisation_.to_dict(),
                "ranges": self.ranges_.to_dict() if self.ranges_ is not None else None,
                "history": self.history_,
                "meta": {
                    "kpis": self.kpis_,
                    "iqr": self.iqr_,
                    "n_train": self.n_train_,
                    "fit_seconds": self.fit_seconds_,
                },
            },
        )

    @classmethod
    def _from_checkpoint(cls, payload: EstimatorPayload, device: str | None, owner: str) -> Twin:
        """A twin from a checkpoint's fields, each checked before anything is built from it."""
        if payload.name not in model_names():
            raise TwinError(
                f"{owner}: checkpoint of {short_repr(payload.name)}, not of a learnable twin model; this nettwin "
                f"knows {', '.join(model_names())}"
            )
        given, state = payload.params, payload.state
        check_known(owner, given, cls.param_names(), TwinError, prefix="params")
        defaults = {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}
        params = {**defaults, **given}
        cls._validate(params, owner, "params")
        if params["model"] != payload.name:
            raise TwinError(f"{owner}: 'params.model' is {params['model']!r} but 'name' is {payload.name!r}")
        twin = cls(**params)
        meta = checked_meta(state, owner)
        twin.kpis_ = list(meta.get("kpis", twin.kpis or DEFAULT_KPIS))
        expected = set(twin.kpis_) if twin.strategy == "stl" else {twin.strategy}
        models = state.get("models", {})
        if set(models) != expected:
            raise TwinError(
                f"{owner}: 'state.models' holds {sorted(models)}, but a {twin.strategy} twin of "
                f"{twin.kpis_} has {sorted(expected)}"
            )
        classes = {}
        for name, entry in models.items():
            where = f"state.models.{name}.config"
            classes[name] = check_options(twin.model, entry["config"], owner, where)
            needed = [name] if twin.strategy == "stl" else twin.kpis_
            lacking = [k for k in needed if k not in entry["config"].get("kpis", [])]
            if lacking:
                raise TwinError(f"{owner}: '{where}.kpis' lacks '{lacking[0]}'")
        twin.normalisation_ = Normalisation.from_dict(state.get("normalisation"), owner, "state.normalisation")
        for key in ("kpi_center", "kpi_scale"):
            lacking = [k for k in twin.kpis_ if k not in getattr(twin.normalisation_, key)]
            if lacking:
                raise TwinError(f"{owner}: 'state.normalisation.{key}' has no '{lacking[0]}'")
        ranges = state.get("ranges")
        twin.ranges_ = None if ranges is None else TrainingRanges.from_dict(ranges, owner, "state.ranges")
        twin.iqr_ = dict(meta.get("iqr", {}))
        twin.n_train_ = meta.get("n_train", 0)
        twin.fit_seconds_ = meta.get("fit_seconds", 0.0)
        twin.history_ = checked_history(state.get("history", []), owner)
        # Only now, every value checked, are models built (and their weights checked before they are loaded).
        dev = pick_device(device)
        twin.models_ = {}
        for name, entry in models.items():
            build = functools.partial(classes[name], **entry["config"])  # options checked above, once
            model = check_weights(build, entry["state"], f"state.models.{name}.state", owner, TwinError)
            twin.models_[name] = model.to(dev).eval()
        return twin
