"""The shared estimator contract: parameters from the signature, the fitted check, the device choice, registries."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from nettwin._estimator import Estimator, Registry, check_fitted, clone, learned_attributes, pick_device
from nettwin.errors import NettwinError, NotFittedError, TEError


class Inner(Estimator):
    def __init__(self, width: int = 3) -> None:
        self.width = width


class Outer(Estimator):
    error = TEError

    def __init__(self, inner: Inner | None = None, *, rate: float = 0.1, **extra: object) -> None:
        self.inner = inner
        self.rate = rate

    def fit(self) -> Outer:
        self.weights_ = [1.0]
        return self


def test_parameters_come_from_the_constructor_signature():
    est = Outer(Inner(5), rate=0.5)
    assert Outer.param_names() == ["inner", "rate"]
    assert est.get_params() == {"inner": est.inner, "rate": 0.5}
    assert repr(est) == "Outer(inner=Inner(width=5), rate=0.5)"


def test_set_params_changes_known_parameters_and_names_unknown_ones():
    est = Outer()
    assert est.set_params(rate=2.0) is est and est.rate == 2.0
    with pytest.raises(TEError, match=r"^Outer has no parameter 'speed'; its parameters are inner, rate$"):
        est.set_params(speed=1)


def test_clone_is_unfitted_with_equal_parameters_and_its_own_inner_estimators():
    est = Outer(Inner(7), rate=0.3).fit()
    copy = clone(est)
    assert type(copy) is Outer and not learned_attributes(copy)
    assert copy.inner is not est.inner and copy.inner.get_params() == {"width": 7}
    assert copy.rate == 0.3


def test_the_fitted_check_names_the_estimator():
    est = Outer()
    with pytest.raises(NotFittedError, match=r"^Outer is not fitted yet; call fit\(\) or load a checkpoint first$"):
        check_fitted(est)
    with pytest.raises(NotFittedError, match=r"call fit\(data\)"):
        check_fitted(est, "weights_", how="fit(data)")
    est.fit()
    check_fitted(est)
    check_fitted(est, ["weights_"])
    assert learned_attributes(est) == ["weights_"]


def test_the_fitted_check_adds_the_display_name_an_estimator_has():
    class Named(Outer):
        name = "outer-mtl"

    with pytest.raises(NotFittedError, match=r"^Named \(outer-mtl\) is not fitted yet"):
        check_fitted(Named())


def test_the_device_is_cuda_when_present_unless_one_is_asked_for():
    assert pick_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")


def test_a_registry_lists_the_known_names_for_an_unknown_one():
    reg: Registry[Estimator] = Registry("solver", TEError)
    reg.register("inner", Inner)
    reg.register("outer", Outer)
    assert reg.names() == ["inner", "outer"] and "inner" in reg and len(reg) == 2
    assert isinstance(reg.create("inner", width=2), Inner)
    with pytest.raises(TEError, match=r"^unknown solver 'magic'; choose one of inner, outer$"):
        reg.get("magic")
    with pytest.raises(TEError, match="unknown solver"):
        reg.get(["not", "a", "name"])
    with pytest.raises(TEError, match="registered already"):
        reg.register("inner", Outer)
    reg.register("inner", Outer, replace=True)
    assert reg.get("inner") is Outer
    with pytest.raises(NettwinError, match="non-empty string"):
        reg.register("", Inner)


def test_the_contract_module_imports_neither_twins_nor_te_nor_torch():
    code = (
        "import sys, nettwin._estimator; "
        "print(sorted(m for m in sys.modules if m.startswith(('nettwin.twin', 'nettwin.te', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)  # a last guard only
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
