"""CUDA: twins train and predict on a GPU and agree with the CPU on the same weights.

Skipped where no CUDA device is present (as on CPU-only CI); on a GPU machine: ``pytest tests/twin/test_twin_cuda.py``.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("model", ["glance", "routenet", "routenet_fermi", "gnn"])
def test_twin_trains_on_cuda_and_matches_the_cpu(model, tiny_dataset):
    from nettwin.twin import Twin
    from nettwin.twin.batch import GraphBatch
    from nettwin.twin.graph import graph_from_network

    twin = Twin(model, epochs=3, probabilistic=True).fit(tiny_dataset)
    gpu = next(iter(twin.models_.values()))
    assert next(gpu.parameters()).device.type == "cuda"
    networks = [s.network() for s in tiny_dataset.samples("test")]
    batch = GraphBatch.collate([graph_from_network(n) for n in networks], twin.normalisation_)
    cpu = copy.deepcopy(gpu).cpu().eval()
    gpu.eval()
    with torch.inference_mode():
        on_gpu, on_cpu = gpu(batch.to("cuda")), cpu(batch)
    for kpi in on_cpu:
        torch.testing.assert_close(on_gpu[kpi].cpu(), on_cpu[kpi], rtol=1e-4, atol=1e-4)
    pred = twin.predict(networks)
    assert all(np.isfinite(p[k]).all() for p in pred for k in p)
