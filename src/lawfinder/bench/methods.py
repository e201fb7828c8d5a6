"""The methods a benchmark compares: lawfinder and its peers.

Each method fits the training data within a time budget on a number of cores
and reports its chosen model as text that sympy can read (with the functions
of `SYMPY_FUNCTIONS`), its predictions on the test rows, and, where the method
shows its progress, the model it would have returned at each moment with its
training loss (each method's own measure).

``lawfinder-units`` is lawfinder told the units of every variable as well.
The peers come with the optional extra ``lawfinder[bench]``:

- pyoperon, the Python package of Operon (Burlacu, Kronberger and Kommenda,
  GECCO 2020), with the operator set and local search of its SRBench entry;
- gplearn, run one generation at a time (it has no time limit of its own) so
  that it stops at the budget and reports its best program as it goes.

PySR needs a Julia installation that cannot be made by pip; its published
figures are quoted in the README instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import sympy

METHODS = ("lawfinder", "lawfinder-units", "operon", "gplearn")

# The operators every method may use, as close as each method allows.
OPERON_SYMBOLS = "add,sub,mul,div,exp,log,sin,cos,sqrt,square,constant,variable"
GPLEARN_FUNCTIONS = ("add", "sub", "mul", "div", "sqrt", "log", "sin", "cos", "neg")


@dataclass
class FitOutcome:
    """What one method found on one data set."""

    model: str
    predictions: np.ndarray
    seconds: float
    progress: list[tuple[float, str, float]] = field(default_factory=list)
    n_evals: int | None = None


def fit_method(method, X, y, X_test, variable_names, timeout, n_jobs, seed, units=None):
    """Fit ``method`` to ``(X, y)`` for at most ``timeout`` seconds.

    ``units`` is ``(X_units, y_units)``; only ``lawfinder-units`` uses them (and
    needs them), the others see the same numbers without their units.

    Returns
    -------
    FitOutcome
    """
    runners = {
        "lawfinder": _fit_lawfinder,
        "lawfinder-units": _fit_lawfinder,
        "operon": _fit_operon,
        "gplearn": _fit_gplearn,
    }
    if method not in runners:
        raise ValueError(
            f"unknown method {method!r}; allowed methods: {', '.join(METHODS)}"
        )
    arguments = (X, y, X_test, list(variable_names), timeout, n_jobs, seed)
    if method == "lawfinder-units":
        if units is None:
            raise ValueError("method 'lawfinder-units' needs the units of the data")
        return _fit_lawfinder(*arguments, units=units)
    return runners[method](*arguments)


def check_available(method: str) -> None:
    """Raise ImportError with the fix when a peer's package is missing."""
    packages = {"operon": "pyoperon", "gplearn": "gplearn"}
    if method not in packages:
        return
    try:
        __import__(packages[method])
    except ImportError:
        raise ImportError(
            f"method {method!r} needs the package {packages[method]!r}; install "
            "the benchmark extra with: pip install 'lawfinder[bench]'"
        ) from None


def _fit_lawfinder(
    X, y, X_test, names, timeout, n_jobs, seed, units=None
) -> FitOutcome:
    from ..estimator import SymbolicRegressor
    from ..expression import Expression
    from ..model_selection import TINY_LOSS, pareto_front, select

    floor = max(float(np.finfo(np.float64).eps * np.mean(y**2)), TINY_LOSS)
    progress: list[tuple[float, str, float]] = []

    def record(state) -> None:
        front = pareto_front(state.hall_of_fame, floor)
        if not front:
            return
        chosen = front[select(front, "best", floor)]
        text = str(
            Expression(
                chosen.opcodes, chosen.arguments, chosen.constants, names
            ).to_sympy()
        )
        if not progress or progress[-1][1] != text:
            progress.append((state.elapsed, text, float(chosen.loss)))

    model = SymbolicRegressor(
        niterations=None,
        timeout=timeout,
        n_jobs=n_jobs,
        random_state=seed,
        callbacks=[record],
    )
    start = time.perf_counter()
    X_units, y_units = units if units is not None else (None, None)
    model.fit(X, y, variable_names=names, X_units=X_units, y_units=y_units)
    seconds = time.perf_counter() - start
    return FitOutcome(
        model=str(model.sympy()),
        predictions=model.predict(X_test),
        seconds=seconds,
        progress=progress,
        n_evals=int(model.n_evals_),
    )


def _fit_operon(X, y, X_test, names, timeout, n_jobs, seed) -> FitOutcome:
    from pyoperon.sklearn import SymbolicRegressor

    model = SymbolicRegressor(
        allowed_symbols=OPERON_SYMBOLS,
        optimizer_iterations=5,
        generations=10**9,
        max_evaluations=10**15,
        max_time=max(1, int(round(timeout))),
        n_threads=n_jobs,
        random_state=seed,
    )
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    text = model.get_model_string(model.model_, 12, _safe_names(len(names)))
    return FitOutcome(
        model=_rename(text, len(names), names),
        predictions=model.predict(X_test),
        seconds=seconds,
        n_evals=int(model.stats_.get("evaluation_count", 0)) or None,
    )


def _fit_gplearn(X, y, X_test, names, timeout, n_jobs, seed) -> FitOutcome:
    from gplearn.functions import make_function
    from gplearn.genetic import SymbolicRegressor

    # gplearn has no exp; this one, like its other functions, never overflows.
    def protected_exp(x):
        return np.exp(np.clip(x, -100.0, 100.0))

    exp = make_function(function=protected_exp, name="exp", arity=1)
    model = SymbolicRegressor(
        generations=1,
        warm_start=True,
        function_set=(*GPLEARN_FUNCTIONS, exp),
        n_jobs=n_jobs,
        random_state=seed,
    )
    progress: list[tuple[float, str, float]] = []
    start = time.perf_counter()
    while True:
        model.fit(X, y)
        elapsed = time.perf_counter() - start
        text = _gplearn_to_sympy_text(str(model._program), names)
        if not progress or progress[-1][1] != text:
            progress.append((elapsed, text, float(model._program.raw_fitness_)))
        if elapsed >= timeout:
            break
        model.set_params(generations=model.generations + 1)
    return FitOutcome(
        model=text,
        predictions=model.predict(X_test),
        seconds=time.perf_counter() - start,
        progress=progress,
    )


def _safe_names(count: int) -> list[str]:
    return [f"XVAR{index}" for index in range(count)]


def _rename(text: str, count: int, names: list[str]) -> str:
    # Longest first, so that XVAR1 does not match inside XVAR10.
    for index in sorted(range(count), key=lambda i: -len(str(i))):
        text = text.replace(f"XVAR{index}", names[index])
    return text


# gplearn's protected functions, written as the plain ones on the domain where
# they are equal; SRBench reads gplearn's programs the same way.
_GPLEARN_SYMPY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)),
    "log": lambda a: sympy.log(sympy.Abs(a)),
    "sin": sympy.sin,
    "cos": sympy.cos,
    "neg": lambda a: -a,
    "exp": sympy.exp,
}


def _gplearn_to_sympy_text(program: str, names: list[str]) -> str:
    from sympy.parsing.sympy_parser import parse_expr

    symbols = {f"X{index}": sympy.Symbol(name) for index, name in enumerate(names)}
    return str(parse_expr(program, local_dict={**_GPLEARN_SYMPY, **symbols}))


# Functions the model texts may use, for sympy's parser.
SYMPY_FUNCTIONS = {
    "square": lambda a: a**2,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "tanh": sympy.tanh,
    "Abs": sympy.Abs,
    "abs": sympy.Abs,
}
