"""nettwin: digital twins of communication networks."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Looked up on first use: importlib.metadata costs a third of the command line's start-up.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("nettwin")
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.0.0+local"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'nettwin' has no attribute {name!r}")
