"""Canonical JSON and the content hashes built on it (scenario ids, result hashes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nettwin._json import plain

__all__ = ["canonical_json", "digest", "result_hash"]


def canonical_json(value: Any) -> str:
    """Standard JSON with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(text: str) -> str:
    """SHA-256 of ``text`` (UTF-8), in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def result_hash(output: dict[str, Any]) -> str:
    """Hash of a simulate job's output without what the clock decides (meta entries ending in ``seconds``), so the
    same scenario, engine, seed and runs give the same hash."""
    runs = [
        {**run, "meta": {k: v for k, v in run.get("meta", {}).items() if not k.endswith("seconds")}}
        for run in output["runs"]
    ]
    return digest(canonical_json({**output, "runs": runs}))
