"""The learnable twins; each file holds one model and shows only its own update rules."""

from nettwin.twin.models.glance import GLANCE
from nettwin.twin.models.gnn import GNN
from nettwin.twin.models.routenet import RouteNet
from nettwin.twin.models.routenet_fermi import RouteNetFermi

__all__ = ["GLANCE", "GNN", "RouteNet", "RouteNetFermi"]
