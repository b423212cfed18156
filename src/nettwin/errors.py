"""The exception hierarchy: one root, one type per layer, messages fit for a user."""

__all__ = [
    "NettwinError",
    "ScenarioError",
    "UnknownNode",
    "Unreachable",
    "EngineError",
    "DatasetError",
    "TEError",
    "TwinError",
    "NotFittedError",
    "ManageError",
    "NettwinWarning",
]


class NettwinError(Exception):
    """Root of every error nettwin raises on purpose; the CLI prints its message on one line."""


class ScenarioError(NettwinError, ValueError):
    """A scenario (or a file describing one) is invalid."""


class UnknownNode(ScenarioError):
    """A flow, link or path names a node the topology does not have."""


class Unreachable(ScenarioError):
    """No route exists between a flow's source and destination."""


class EngineError(NettwinError):
    """An engine cannot run a scenario, or failed while running it."""


class DatasetError(NettwinError):
    """A dataset spec, directory or shard is invalid or inconsistent."""


class TEError(NettwinError, ValueError):
    """A traffic-engineering instance, solver, checkpoint or option is invalid."""


class TwinError(NettwinError, ValueError):
    """A twin, its options, its checkpoint or its input is invalid."""


class NotFittedError(NettwinError, ValueError):
    """A learned model (twin, TE solver, generator) was used before ``fit`` or before loading a checkpoint."""


class ManageError(NettwinError, ValueError):
    """A management task (an SLA, a what-if analysis, a search over configurations) or its option is invalid."""


class NettwinWarning(UserWarning):
    """Root of every warning nettwin gives on purpose; the CLI prints each as one ``warning:`` line."""
