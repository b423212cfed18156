"""Versioned torch checkpoints: one tagged file, written atomically, checked on reading, read without running code.

Twins and learned TE solvers share this envelope, so they share what can go wrong on reading it and how that is
said. Inside it, an estimator's checkpoint holds one layout (:func:`write_estimator`, :func:`read_estimator`)::

    {"kind": "te-solver" | ..., "name": registered name, "params": {constructor arguments},
     "state": {learned state: tensors and plain data}}

next to the envelope's ``format``, ``format_version`` (the version), ``nettwin_version`` and ``digest``.

Integrity: the envelope holds ``digest``, ``"sha256:<hex>"`` of the canonical bytes of everything else in it
(:func:`digest`: every key and value, tensors by dtype, shape and raw bytes). A byte changed anywhere in what the
file holds — a weight, a configuration value, a tag — no longer matches it. Bytes of the container that hold
nothing (zip padding and headers) either leave the content as it was or make the file unreadable, which is said
too. The digest catches damage, not forgery: what keeps a crafted file harmless is that it is read with
``weights_only=True`` and its parameters and weights are validated before a model is built from them.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import pickletools
import struct
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nettwin
from nettwin._files import atomic_write_bytes
from nettwin._validation import short_repr, string_keyed
from nettwin.errors import NettwinError, NettwinWarning

if TYPE_CHECKING:
    import torch

__all__ = [
    "write_tagged",
    "read_tagged",
    "write_estimator",
    "read_estimator",
    "EstimatorPayload",
    "digest",
    "check_weights",
    "CheckpointWarning",
    "DIGEST_SINCE",
    "FORMATS",
]

DIGEST_SINCE = 2
"""The first format version (of every nettwin checkpoint format) that carries a digest."""

FORMATS = {
    "nettwin-twin": ("twin", "nettwin.twin.load_twin or 'nettwin predict'"),
    "nettwin-te-checkpoint": ("TE solver", "nettwin.te.load_solver or 'nettwin te solve --model'"),
}
"""nettwin's checkpoint formats: what each holds and what opens it, so that a reader given a checkpoint of
another format says which it is."""


class CheckpointWarning(NettwinWarning):
    """A checkpoint loads but cannot be fully checked (written before checkpoints carried a digest)."""


def digest(data: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical bytes of ``data`` (its ``digest`` key left out).

    Canonical: dicts in key order (so a re-saved checkpoint keeps its digest), every value with its type, tensors by
    dtype, shape and bytes in row-major order on the CPU.

    Raises
    ------
    TypeError
        For a value that is neither plain data nor a tensor.
    """
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in data.items() if k != "digest"})
    return f"sha256:{h.hexdigest()}"


def _chunk(h: Any, tag: bytes, payload: bytes) -> None:
    h.update(tag + struct.pack("<Q", len(payload)) + payload)


def _feed(h: Any, obj: Any) -> None:
    import torch

    if obj is None or isinstance(obj, bool):
        h.update({None: b"N", True: b"T", False: b"F"}[obj])
    elif isinstance(obj, int):
        _chunk(h, b"i", str(obj).encode())
    elif isinstance(obj, float):
        h.update(b"f" + struct.pack("<d", obj))
    elif isinstance(obj, str):
        _chunk(h, b"s", obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, bytes):
        _chunk(h, b"b", obj)
    elif isinstance(obj, list | tuple):
        _chunk(h, b"l" if isinstance(obj, list) else b"t", b"")
        h.update(struct.pack("<Q", len(obj)))
        for x in obj:
            _feed(h, x)
    elif isinstance(obj, dict):
        _chunk(h, b"d", b"")
        h.update(struct.pack("<Q", len(obj)))
        for key in sorted(obj, key=lambda k: (type(k).__name__, repr(k))):
            _feed(h, key)
            _feed(h, obj[key])
    elif isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        _chunk(h, b"x", f"{t.dtype}{tuple(obj.shape)}".encode())
        h.update(memoryview(t.view(torch.uint8).numpy()))
    else:
        raise TypeError(f"a checkpoint holds plain data and tensors only, not {type(obj).__name__}")


def write_tagged(path: str | Path, fmt: str, version: int, payload: dict[str, Any]) -> None:
    """Write ``payload`` tagged with its format, format version, the nettwin version and a digest, atomically."""
    import torch

    data = {"format": fmt, "format_version": version, "nettwin_version": nettwin.__version__, **payload}
    data["digest"] = digest(data)
    buf = io.BytesIO()
    torch.save(data, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_tagged(path: str | Path, fmt: str, version: int, what: str, error: type[NettwinError]) -> dict[str, Any]:
    """Read a file written by :func:`write_tagged` with format ``fmt`` and format version ≤ ``version``.

    Loads with ``weights_only=True`` onto the CPU and checks the digest. A file of a format version before
    :data:`DIGEST_SINCE` has none: it loads with a :class:`CheckpointWarning`. Raises ``error`` naming the file and
    why: missing, a directory, unreadable, damaged, not a nettwin ``what`` checkpoint, or written by a newer nettwin.
    """
    import torch

    path = Path(path)
    if path.is_dir():
        raise error(f"checkpoint {path} is a directory, not a checkpoint file")
    if not path.exists():
        raise error(f"checkpoint {path} does not exist")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise error(f"cannot read checkpoint {path}: {err.strerror or err}") from err
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols of foreign files
            data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for foreign or corrupt files
        raise error(_unreadable(path, raw, fmt, what, err)) from err
    if not isinstance(data, dict):
        raise error(f"{path} is not a nettwin {what} checkpoint (no '{fmt}' format tag)")
    found = data.get("format_version")
    if data.get("format") == fmt and isinstance(found, int) and found > version:
        # A newer format may lay out (and digest) its content otherwise: say so before checking anything else.
        raise error(
            f"{path} uses checkpoint format {found!r}, written by nettwin {_written_by(data)}; this "
            f"nettwin {nettwin.__version__} reads format ≤ {version}: upgrade nettwin to load it"
        )
    if "digest" in data:
        try:
            ok = data["digest"] == digest(data)
        except (TypeError, RuntimeError):  # content that is neither plain data nor a plain tensor
            ok = False
        if not ok:
            raise error(_damaged(path, "digest mismatch"))
    if data.get("format") != fmt:
        raise error(_foreign(path, data, fmt, what))
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise error(_damaged(path, f"format version {short_repr(found)}"))
    if "digest" not in data:
        if found >= DIGEST_SINCE:
            raise error(_damaged(path, "no digest"))
        warnings.warn(
            f"{path} was written by nettwin {_written_by(data)} (format {found}), before checkpoints "
            "carried a digest: damage to it cannot be detected; save it again to add one",
            CheckpointWarning,
            stacklevel=2,
        )
    return data


@dataclass(frozen=True)
class EstimatorPayload:
    """What an estimator's checkpoint holds: its kind, registered name, parameters, learned state and the format
    version it was written in."""

    kind: str
    name: str
    params: dict[str, Any]
    state: dict[str, Any]
    version: int


def write_estimator(
    path: str | Path, fmt: str, version: int, kind: str, name: str, params: Mapping[str, Any], state: Mapping[str, Any]
) -> None:
    """Write an estimator's checkpoint in the one layout (module docstring), atomically, with its digest."""
    write_tagged(path, fmt, version, {"kind": kind, "name": name, "params": dict(params), "state": dict(state)})


def read_estimator(
    path: str | Path,
    fmt: str,
    version: int,
    kind: str,
    what: str,
    error: type[NettwinError],
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> EstimatorPayload:
    """Read a checkpoint written by :func:`write_estimator` (via :func:`read_tagged`) and check its layout.

    ``upgrade`` turns the content of a file written in an older format version (before the one layout) into the
    layout; it is called for every file of a version below ``version``. Raises ``error`` naming the field at fault:
    another ``kind`` of estimator, a name that is not a string, parameters or state that are not mappings.
    """
    data = read_tagged(path, fmt, version, what, error)
    found = data["format_version"]
    if upgrade is not None and found < version:
        data = upgrade(data)
    if data.get("kind") != kind:
        raise error(f"{path} holds {short_repr(data.get('kind'))}, not a {kind} checkpoint")
    name = data.get("name")
    if not isinstance(name, str):
        raise error(f"{path}: 'name' must be a string; got {short_repr(name)}")
    for field in ("params", "state"):
        if not string_keyed(data.get(field)):
            raise error(f"{path}: '{field}' must be a mapping; got {short_repr(data.get(field))}")
    return EstimatorPayload(kind, name, data["params"], data["state"], found)


def _foreign(path: Path, data: Mapping[str, Any], fmt: str, what: str) -> str:
    """Why ``data``, of another format than ``fmt``, is not a ``what`` checkpoint: which one it is, if nettwin's."""
    other = data.get("format")
    if not isinstance(other, str) or other not in FORMATS:
        return f"{path} is not a nettwin {what} checkpoint (no '{fmt}' format tag)"
    holds, opener = FORMATS[other]
    # The estimator's name: 'name' in the one layout, 'twin' (twins) or 'kind' (TE solvers) before it.
    name = next((v for k in ("name", "twin", "kind") if _is_name(v := data.get(k))), None)
    named = f" ({name})" if name else ""
    return f"{path} is a nettwin {holds} checkpoint{named}, not a {what} checkpoint; open it with {opener}"


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier() and len(value) <= 40


def _written_by(data: Mapping[str, Any]) -> str:
    version = data.get("nettwin_version")
    return version if isinstance(version, str) and len(version) <= 40 else short_repr(version)


def _damaged(path: Path, why: str) -> str:
    return f"checkpoint {path} is damaged ({why}); retrain or restore it"


def _unreadable(path: Path, raw: bytes, fmt: str, what: str, err: Exception) -> str:
    # The format tag and the envelope's keys are stored verbatim (one changed byte cannot hit both): a file that
    # holds them is a checkpoint of ours that no longer reads.
    if fmt.encode() in raw or b"nettwin_version" in raw:
        return _damaged(path, "it cannot be read")
    # torch's text for what it refuses suggests loading with weights_only=False, that is, running the file's code:
    # never pass that on.
    if isinstance(err, pickle.UnpicklingError) and _is_pickle(raw):
        return (
            f"{path} is not a nettwin {what} checkpoint: it holds pickled Python objects, and nettwin never loads "
            "pickled code"
        )
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if "weights_only" in first:
        first = "neither a PyTorch file nor a pickle"
    return f"{path} is not a nettwin {what} checkpoint (cannot be read: {first})"


def _is_pickle(raw: bytes) -> bool:
    """Whether ``raw`` (or, for a PyTorch zip file, its ``data.pkl``) parses as a pickle; nothing in it is run."""
    stream = raw
    if zipfile.is_zipfile(io.BytesIO(raw)):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                stream = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
        except (zipfile.BadZipFile, StopIteration, OSError, ValueError):
            return False
    try:
        for _ in pickletools.genops(stream):
            pass
    except Exception:  # any malformed stream: not a pickle
        return False
    return True


def check_weights(
    build: Callable[[], torch.nn.Module], state: Any, where: str, owner: str, error: type[NettwinError]
) -> torch.nn.Module:
    """The module ``build()`` makes, loaded with ``state`` once ``state`` is known to fit it.

    ``state`` must map each of the module's parameter and buffer names to a tensor of the same shape and dtype,
    with finite values only. The module is first built on PyTorch's ``meta`` device (no memory) to learn what it
    expects, so a state that does not fit is refused before any weight is allocated. Raises ``error`` naming
    ``where`` (the field of the file) and the tensor at fault.
    """
    import torch

    if not string_keyed(state):
        raise error(f"{owner}: '{where}' must map weight names to tensors")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise error(f"{owner}: '{where}.{name}' must be a tensor; got {type(tensor).__name__}")
        if (tensor.is_floating_point() or tensor.is_complex()) and not bool(torch.isfinite(tensor).all()):
            raise error(f"{owner}: '{where}.{name}' holds NaN or infinite weights; retrain or restore it")
    with torch.device("meta"):
        expected = build().state_dict()
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        which = f"has no '{missing[0]}'" if missing else f"has an unexpected '{extra[0]}'"
        raise error(f"{owner}: '{where}' {which}: the weights do not fit the model's configuration")
    for name, want in expected.items():
        got = state[name]
        if tuple(got.shape) != tuple(want.shape) or got.dtype != want.dtype:
            raise error(
                f"{owner}: '{where}.{name}' is {_describe(got)} but the configured model holds {_describe(want)}: "
                "the weights do not fit the model's configuration"
            )
    module = build()
    module.load_state_dict(state)
    return module


def _describe(t: torch.Tensor) -> str:
    shape = "×".join(map(str, t.shape)) or "scalar"
    return f"{shape} {str(t.dtype).removeprefix('torch.')}"
