"""Learnable digital twins: graph batching, the shared message-passing blocks, models, training, evaluation.

>>> from nettwin.data import Dataset
>>> from nettwin.twin import Twin, load_twin
>>> twin = Twin("glance", strategy="mtl").fit(Dataset("out/nsfnet"))          # doctest: +SKIP
>>> twin.save("glance.pt")                                                     # doctest: +SKIP
>>> load_twin("glance.pt").predict("examples/nsfnet.yaml")["delay"]            # doctest: +SKIP
"""

from nettwin.errors import NotFittedError, TwinError
from nettwin.metrics import mre, nmae
from nettwin.twin.base import BaseTwin
from nettwin.twin.batch import GraphBatch
from nettwin.twin.cross_validation import cross_validate
from nettwin.twin.factory import load_twin, make_twin
from nettwin.twin.graph import Graph, graph_from_network
from nettwin.twin.inputs import default_kpis
from nettwin.twin.learned import Twin
from nettwin.twin.models import GLANCE, GNN, RouteNet, RouteNetFermi
from nettwin.twin.models._features import scale_free_options
from nettwin.twin.normalise import Normalisation
from nettwin.twin.qt import QueueingTwin
from nettwin.twin.ranges import OutsideTrainingWarning, TrainingRanges
from nettwin.twin.registry import build_model, check_options, model_names, register_model, twin_names

__all__ = [
    "GLANCE",
    "GNN",
    "BaseTwin",
    "Graph",
    "GraphBatch",
    "Normalisation",
    "NotFittedError",
    "OutsideTrainingWarning",
    "QueueingTwin",
    "RouteNet",
    "RouteNetFermi",
    "TrainingRanges",
    "Twin",
    "TwinError",
    "build_model",
    "check_options",
    "cross_validate",
    "default_kpis",
    "graph_from_network",
    "load_twin",
    "make_twin",
    "model_names",
    "mre",
    "nmae",
    "register_model",
    "scale_free_options",
    "twin_names",
]
