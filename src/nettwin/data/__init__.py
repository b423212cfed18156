"""Datasets: specs and per-sample drawing, parallel and Ray executors, Parquet storage, and the loader."""

from nettwin.data.dataset import Dataset, Sample
from nettwin.data.executor import LocalExecutor, RayExecutor
from nettwin.data.generate import generate_dataset
from nettwin.data.sampling import draw_scenario, split_assignment
from nettwin.data.spec import DatasetSpec, load_dataset_spec, parse_dataset_spec
from nettwin.data.storage import SCHEMA

__all__ = [
    "SCHEMA",
    "Dataset",
    "DatasetSpec",
    "LocalExecutor",
    "RayExecutor",
    "Sample",
    "draw_scenario",
    "generate_dataset",
    "load_dataset_spec",
    "parse_dataset_spec",
    "split_assignment",
]
