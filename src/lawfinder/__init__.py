"""lawfinder: symbolic regression for physicists.

Give it a table of numbers and it returns closed-form formulas, from the
simplest to the most accurate, with fitted constants and their uncertainties.

Examples
--------
>>> from lawfinder import SymbolicRegressor
>>> model = SymbolicRegressor(niterations=20, random_state=0)  # doctest: +SKIP
>>> model.fit(X, y).equations_  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lawfinder")
except PackageNotFoundError:
    # Running from a source tree that was never installed.
    __version__ = "0.0.0+unknown"

__all__ = ["Expression", "SymbolicRegressor", "__version__"]

# The estimator pulls in scikit-learn and pandas; importing it on first use keeps
# `import lawfinder.operators` (kernels, command line start-up) light.
_LAZY = {"SymbolicRegressor": ".estimator", "Expression": ".expression"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
