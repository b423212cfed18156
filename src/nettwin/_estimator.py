"""The estimator contract twins and TE solvers share (after scikit-learn's), at the bottom of the import graph.

* Parameters are the constructor's arguments: ``__init__`` only stores each under its own name, so
  :meth:`Estimator.get_params` reads them back from the signature, :meth:`Estimator.set_params` changes them and
  :func:`clone` makes an unfitted copy.
* Learned state lives in attributes ending in ``_`` (:func:`learned_attributes`); :func:`check_fitted` raises
  :class:`~nettwin.errors.NotFittedError` naming the estimator when there is none.
* :func:`pick_device` is the one choice of torch device; :func:`torch_threads` the one place torch's
  process-wide thread count changes, for the block of a caller that asked for a number of threads.
* :class:`Registry` maps names to factories; each package fills its own in its registry module, never as a side
  effect of importing something else.

Nothing here imports from ``nettwin.twin`` or ``nettwin.te``; torch is imported only when a device is picked.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from nettwin._validation import short_repr
from nettwin.errors import NettwinError, NotFittedError

if TYPE_CHECKING:
    import torch

__all__ = [
    "Estimator",
    "param_names",
    "clone",
    "learned_attributes",
    "check_fitted",
    "pick_device",
    "torch_threads",
    "Registry",
]

E = TypeVar("E", bound="Estimator")
T = TypeVar("T")


class Estimator:
    """Base class: parameters from the constructor signature, ``set_params``, ``repr``.

    Subclasses set :attr:`error` to their layer's error type (e.g. :class:`~nettwin.errors.TEError`).
    """

    error: ClassVar[type[NettwinError]] = NettwinError
    """What :meth:`set_params` raises for a parameter the estimator does not have."""

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's argument names, in order (``*args``/``**kwargs`` are not parameters)."""
        return param_names(cls)

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments and their current values."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self: E, **params: Any) -> E:
        """Change parameters (they take effect at the next ``fit``); returns ``self``.

        Raises
        ------
        Estimator.error
            Naming the first parameter the estimator does not have, and those it has.
        """
        known = self.param_names()
        for name, value in params.items():
            if name not in known:
                raise self.error(
                    f"{type(self).__name__} has no parameter {short_repr(name)}; its parameters are "
                    f"{', '.join(known) or 'none'}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def param_names(cls: type) -> list[str]:
    """The argument names of ``cls``'s constructor, in order (``*args``/``**kwargs`` are not parameters)."""
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    sig = inspect.signature(cls.__init__)
    return [n for n, p in sig.parameters.items() if n != "self" and p.kind not in kinds]


def clone(estimator: E) -> E:
    """A new, unfitted estimator with the same parameters (estimators among them cloned too)."""
    params = {k: clone(v) if isinstance(v, Estimator) else v for k, v in estimator.get_params().items()}
    return type(estimator)(**params)


def learned_attributes(estimator: object) -> list[str]:
    """The names of ``estimator``'s learned state: public attributes ending in ``_``."""
    return [k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")]


def check_fitted(estimator: object, attributes: str | list[str] | None = None, *, how: str = "fit()") -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` holds the named learned ``attributes`` (default: any).

    The message names the estimator's class and, where it has one, its display ``name`` (``Twin (GLANCE-MTL)``);
    ``how`` says how to fit it (e.g. ``fit(instances)``).
    """
    names = [attributes] if isinstance(attributes, str) else attributes
    fitted = all(hasattr(estimator, a) for a in names) if names else bool(learned_attributes(estimator))
    if not fitted:
        label = type(estimator).__name__
        display = getattr(estimator, "name", None)
        if isinstance(display, str) and display and display != label:
            label = f"{label} ({display})"
        raise NotFittedError(f"{label} is not fitted yet; call {how} or load a checkpoint first")


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """The torch device for ``device``: ``None`` → CUDA when present, else CPU; anything else as given."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch limited to ``n`` intra-op threads (``None``: unchanged), restoring the setting after.

    Torch's thread count is process-wide: this is the one place nettwin changes it, and only for the block of a
    caller that passed a thread count (a ``threads`` argument or option).
    """
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Registry(Generic[T]):
    """Names → factories (classes or functions), filled by explicit :meth:`register` calls.

    Parameters
    ----------
    what : what the names name, for messages (``"TE solver"``).
    error : the error type raised for an unknown or duplicate name.

    Examples
    --------
    >>> r = Registry("colour", NettwinError)
    >>> r.register("red", str)
    <class 'str'>
    >>> r.get("blue")
    Traceback (most recent call last):
    ...
    nettwin.errors.NettwinError: unknown colour 'blue'; choose one of red
    """

    def __init__(self, what: str, error: type[NettwinError]) -> None:
        self.what = what
        self.error = error
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T], *, replace: bool = False) -> Callable[..., T]:
        """Make ``factory`` available as ``name``; returns it. A name taken already needs ``replace=True``."""
        if not isinstance(name, str) or not name:
            raise self.error(f"a {self.what} name must be a non-empty string; got {short_repr(name)}")
        if name in self._factories and not replace:
            raise self.error(f"{self.what} {name!r} is registered already; pass replace=True to replace it")
        self._factories[name] = factory
        return factory

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``; raises ``error`` listing the known names for any other."""
        try:
            return self._factories[name]
        except (KeyError, TypeError):
            raise self.error(
                f"unknown {self.what} {short_repr(name)}; choose one of {', '.join(self._factories)}"
            ) from None

    def create(self, name: str, **params: Any) -> T:
        """``get(name)(**params)``."""
        return self.get(name)(**params)

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)
