"""Datasets: specs and per-sample drawing, parallel and Ray executors, Parquet storage, the loader, the writer, and
importers and exporters."""

from nettwin.data.dataset import Dataset, Sample
from nettwin.data.executor import LocalExecutor, RayExecutor
from nettwin.data.export import export_dataset
from nettwin.data.generate import generate_dataset
from nettwin.data.importers import import_dataset, register_importer
from nettwin.data.sampling import draw_scenario, split_assignment
from nettwin.data.spec import DatasetSpec, load_dataset_spec, parse_dataset_spec
from nettwin.data.storage import SCHEMA
from nettwin.data.writer import DatasetWriter

__all__ = [
    "SCHEMA",
    "Dataset",
    "DatasetSpec",
    "DatasetWriter",
    "LocalExecutor",
    "RayExecutor",
    "Sample",
    "draw_scenario",
    "export_dataset",
    "generate_dataset",
    "import_dataset",
    "load_dataset_spec",
    "parse_dataset_spec",
    "register_importer",
    "split_assignment",
]
