"""Snapping fitted constants to the simple exact values physics laws use.

A search fits ``0.1591549`` where the law has ``1 / (2 pi)``. Snapping tries,
for each constant, the simple values near it (integers, small fractions,
fractions of pi, square roots) in order of simplicity, and keeps the first one
under which the fit is not measurably worse.

The rule for "not measurably worse" is the F-test of a nested model: snapping
``q`` constants removes ``q`` free parameters, so with ``n`` rows, ``k``
constants and the loss ``L0`` of the entry as fitted, the snapped loss ``L``
is accepted when

    (L - L0) / q  <=  F(1 - significance; q, n - k) * L0 / (n - k),

that is ``L <= L0 * (1 + q * F / (n - k))``. ``L0 / (n - k)`` is the noise
variance per degree of freedom, so the allowed increase follows the scatter of
the data. On noise-free data ``L0`` is rounding noise, raised to a floor of
``(1e-12 * rms(y))**2``, so any snap that changes the predictions is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import scipy.special
import sympy

from .._config import ROW_BLOCK
from ..kernels.evaluate import program_loss
from ..printing import to_sympy
from ..search.hall_of_fame import standard_errors
from ..search.island import SearchData
from ..search.result import HallOfFameEntry

# Candidate fractions p/q: denominators up to 12, numerators up to 24, and
# integers up to 100 (16, 32, 64 appear in laws; 97 rarely, but costs more).
MAX_DENOMINATOR = 12
MAX_NUMERATOR = 24
MAX_INTEGER = 100

# Relative RMS error of evaluating a program in float64: losses below
# (ROUNDING_RTOL * rms(y))**2 are rounding noise, not a worse fit.
ROUNDING_RTOL = 1e-12


@dataclass(frozen=True)
class SnapResult:
    """The outcome of snapping the constants of one hall-of-fame entry.

    ``entry`` is the entry with the snapped constants, the loss on the data
    with them, and standard errors that are 0 for snapped constants;
    ``exact`` holds, per constant slot, the exact sympy value the constant was
    snapped to, or None where it kept its fitted value.
    """

    entry: HallOfFameEntry
    exact: tuple[sympy.Expr | None, ...]

    @property
    def constants(self) -> np.ndarray:
        """Constants after snapping, shape (n_constants,)."""
        return self.entry.constants

    @property
    def loss(self) -> float:
        """Weighted mean squared error on the data, after snapping."""
        return self.entry.loss

    @property
    def constant_errors(self) -> np.ndarray:
        """Standard errors after snapping: 0 for snapped constants."""
        return self.entry.constant_errors

    @property
    def n_snapped(self) -> int:
        """How many constants were snapped."""
        return sum(value is not None for value in self.exact)


def exact_value(value: float) -> sympy.Expr | None:
    """The simple number (see `simple_constants`) whose float64 is ``value``
    exactly, with its sign; None for any other value.

    Snapped constants hold exactly such floats, so this gives them back their
    exact form; a fitted constant matches one only by chance (to the last bit).

    Examples
    --------
    >>> exact_value(float(1 / (2 * np.pi)))
    1/(2*pi)
    >>> exact_value(0.1591549) is None
    True
    """
    if not math.isfinite(value) or value == 0.0:
        return None
    values, exact, _ = simple_constants()
    matches = np.flatnonzero(values == abs(value))
    if matches.size == 0:
        return None
    number = exact[matches[0]]
    return -number if value < 0 else number


def _bits(number: int) -> float:
    return math.log2(number)


def _irrational_factors() -> list[tuple[sympy.Expr, float, int]]:
    """Factors a simple constant may carry: the factor, the cost of naming it,
    and the largest p and q of the multiples p/q it may take."""
    pi = sympy.pi
    # 4 pi / 3, 1 / (8 pi) and 4 pi^2 occur in laws; 7 sqrt(5) / 3 does not.
    factors = [
        (pi, 2.0, 8),
        (1 / pi, 3.0, 8),
        (pi**2, 3.0, 4),
        (sympy.sqrt(pi), 3.0, 4),
        (1 / sympy.sqrt(pi), 4.0, 4),
        (sympy.sqrt(2 * pi), 4.0, 4),
        (1 / sympy.sqrt(2 * pi), 4.0, 4),
    ]
    for number in (2, 3, 5, 6, 7, 10, 11):
        factors.append((sympy.sqrt(number), 2.0 + _bits(number), 2))
        factors.append((1 / sympy.sqrt(number), 3.0 + _bits(number), 2))
    return factors


def _fractions(max_numerator: int, max_denominator: int):
    """Reduced fractions p/q with their cost log2(p) + log2(q)."""
    for q in range(1, max_denominator + 1):
        for p in range(1, max_numerator + 1):
            if math.gcd(p, q) == 1:
                yield p, q, _bits(p) + _bits(q)


@cache
def simple_constants() -> tuple[np.ndarray, tuple[sympy.Expr, ...], np.ndarray]:
    """The positive candidate values, simplest first.

    A candidate is a fraction ``p/q`` (``q <= 12``, ``p <= 24``), an integer up
    to 100, or a multiple ``p/q`` of an irrational factor: of pi or 1/pi with
    ``p, q <= 8``; of pi^2, sqrt(pi), 1/sqrt(pi), sqrt(2 pi) or 1/sqrt(2 pi)
    with ``p, q <= 4``; of sqrt(n) or 1/sqrt(n), n in 2, 3, 5, 6, 7, 10, 11,
    with ``p, q <= 2``. Its cost, in bits, is ``log2(p) + log2(q)`` plus that
    of the factor: 2 for pi; 3 for 1/pi, pi^2 and sqrt(pi); 4 for the other
    roots of pi; ``2 + log2(n)`` for sqrt(n) and ``3 + log2(n)`` for its
    inverse. Values reached in two ways keep the lower cost.

    Returns
    -------
    values : ndarray of shape (n_candidates,)
        Float values, sorted by cost, then by value.
    exact : tuple of sympy.Expr
        The exact value of each candidate.
    costs : ndarray of shape (n_candidates,)

    Examples
    --------
    >>> values, exact, costs = simple_constants()
    >>> exact[:4]
    (1, 1/2, 2, 1/3)
    """
    best: dict[sympy.Expr, float] = {}

    def offer(expression: sympy.Expr, cost: float) -> None:
        if cost < best.get(expression, math.inf):
            best[expression] = cost

    for p, q, cost in _fractions(MAX_NUMERATOR, MAX_DENOMINATOR):
        offer(sympy.Rational(p, q), cost)
    for n in range(MAX_NUMERATOR + 1, MAX_INTEGER + 1):
        offer(sympy.Integer(n), _bits(n))
    for factor, factor_cost, max_multiple in _irrational_factors():
        for p, q, cost in _fractions(max_multiple, max_multiple):
            offer(sympy.Rational(p, q) * factor, cost + factor_cost)

    expressions = list(best)
    values = np.array([float(expression) for expression in expressions])
    costs = np.array([best[expression] for expression in expressions])
    order = np.lexsort((values, costs))
    return values[order], tuple(expressions[i] for i in order), costs[order]


class _LossOnData:
    """``program_loss`` of one program on the data, for trial constants."""

    def __init__(self, entry: HallOfFameEntry, data: SearchData) -> None:
        # Copies with the exact types the kernel is compiled for (C-contiguous,
        # writable int64): a read-only array would compile a second version.
        self.opcodes = np.array(entry.opcodes, dtype=np.int64)
        self.arguments = np.array(entry.arguments, dtype=np.int64)
        self.length = int(self.opcodes.shape[0])
        self.stack = np.empty((max(self.length, 1), ROW_BLOCK))
        self.data = data

    def __call__(self, constants: np.ndarray) -> float:
        return float(
            program_loss(
                self.opcodes,
                self.arguments,
                self.length,
                constants,
                self.data.XT,
                self.data.y,
                self.data.weights,
                self.stack,
            )
        )


def _rounding_loss(data: SearchData) -> float:
    """(ROUNDING_RTOL * rms(y))**2, the loss of a perfect fit in float64."""
    if data.weights.size:
        mean_square = np.average(data.y**2, weights=data.weights)
    else:
        mean_square = np.mean(data.y**2)
    return max(float(ROUNDING_RTOL**2 * mean_square), np.finfo(np.float64).tiny)


def _loss_limit(
    reference_loss: float, n_snapped: int, n_rows: int, n_constants: int, alpha: float
) -> float:
    """Largest accepted loss: L0 * (1 + q * F(1 - alpha; q, n - k) / (n - k))."""
    spare = n_rows - n_constants
    if spare < 1:
        # No rows left to measure the noise: only snaps that cost nothing.
        return reference_loss
    # fdtri is the quantile of the F distribution, without scipy.stats' import.
    critical = scipy.special.fdtri(n_snapped, spare, 1.0 - alpha)
    return reference_loss * (1.0 + n_snapped * critical / spare)


def _known_errors(entry: HallOfFameEntry, constants, data: SearchData) -> np.ndarray:
    """The entry's standard errors, computed on ``data`` where not known."""
    errors = np.asarray(entry.constant_errors, dtype=np.float64)
    if errors.shape == constants.shape and np.isfinite(errors).all():
        return errors.copy()
    opcodes = np.array(entry.opcodes, dtype=np.int64)
    arguments = np.array(entry.arguments, dtype=np.int64)
    computed = standard_errors(opcodes, arguments, constants.copy(), data)
    if errors.shape != constants.shape:
        return computed
    return np.where(np.isfinite(errors), errors, computed)


def _candidates(
    value: float,
    error: float,
    largest_other: float,
    n_sigma: float,
    rtol: float,
    zero_rtol: float,
    max_candidates: int,
) -> list[tuple[float, sympy.Expr]]:
    """Simple values within reach of ``value``, simplest first, signed."""
    half_width = rtol * abs(value)
    if np.isfinite(error):
        half_width = max(half_width, n_sigma * error)

    found: list[tuple[float, sympy.Expr]] = []
    if abs(value) <= half_width or abs(value) <= zero_rtol * largest_other:
        found.append((0.0, sympy.Integer(0)))

    values, exact, _ = simple_constants()
    near = np.flatnonzero(np.abs(values - abs(value)) <= half_width)
    for index in near[: max(max_candidates - len(found), 0)]:
        if value < 0:
            found.append((-values[index], -exact[index]))
        else:
            found.append((values[index], exact[index]))
    return found


def snap_constants(
    entry: HallOfFameEntry,
    data: SearchData,
    significance: float = 0.05,
    n_sigma: float = 3.0,
    rtol: float = 1e-6,
    zero_rtol: float = 1e-6,
    max_candidates: int = 32,
) -> SnapResult:
    """Replace fitted constants by simple exact values where the data allow.

    Constants are taken one at a time, the best determined first (smallest
    relative standard error), the others kept at their current values. For
    each, the candidates of `simple_constants` (with the constant's sign)
    within ``max(n_sigma * standard_error, rtol * |constant|)`` of it are
    tried, simplest first, and the first whose loss passes the F-test of the
    module docstring, against the loss of the entry as given, is kept. 0 is
    tried first when it is in that range or when the constant is below
    ``zero_rtol`` times the largest other constant.

    Parameters
    ----------
    entry : HallOfFameEntry
        The program and its fitted constants. Its ``constant_errors`` are used
        where finite; the others are computed on ``data``.
    data : SearchData
        The rows to judge the snaps on: ``XT`` (C-contiguous float64, shape
        (n_features, n_rows)), ``y`` and ``weights`` (empty for unit weights).
    significance : float, default=0.05
        Level of the F-test: a snap is refused when its loss increase would
        arise by chance less often than this, were the snapped value true.
    n_sigma : float, default=3.0
        Half-width of the search range, in standard errors.
    rtol : float, default=1e-6
        Smallest half-width of the search range, relative to the constant;
        the only one where the standard error is unknown. It covers constants
        that were rounded rather than refitted.
    zero_rtol : float, default=1e-6
        Constants below this fraction of the largest other constant may snap
        to 0.
    max_candidates : int, default=32
        Most candidate values tried per constant.

    Returns
    -------
    SnapResult
        The snapped entry (constants, loss on ``data``, standard errors) and
        the exact value of each snapped constant. Constants that were not
        snapped keep their value and the standard error of the full fit, which
        bounds the one they would have with the snapped constants held fixed.

    Examples
    --------
    >>> import numpy as np
    >>> from lawfinder import Expression
    >>> from lawfinder.search.island import SearchData
    >>> from lawfinder.search.result import HallOfFameEntry
    >>> x = np.linspace(1.0, 2.0, 50)
    >>> data = SearchData(x.reshape(1, -1).copy(), x / np.pi, np.empty(0), 1.0)
    >>> law = Expression.from_string("0.3183099 * x0")
    >>> entry = HallOfFameEntry(law.opcodes, law.arguments, law.constants, 3, 0.0)
    >>> snap_constants(entry, data).exact
    (1/pi,)
    """
    if not 0.0 < significance < 1.0:
        raise ValueError(f"significance must be in (0, 1), got {significance!r}")

    loss_of = _LossOnData(entry, data)
    fitted = np.array(entry.constants, dtype=np.float64)
    n_constants = fitted.shape[0]
    fitted_loss = loss_of(fitted)
    exact: list[sympy.Expr | None] = [None] * n_constants
    if n_constants == 0 or not np.isfinite(fitted_loss):
        errors = np.full(n_constants, np.nan)
        snapped = replace(entry, constants=fitted, loss=fitted_loss)
        return SnapResult(replace(snapped, constant_errors=errors), tuple(exact))

    errors = _known_errors(entry, fitted, data)
    reference_loss = max(fitted_loss, _rounding_loss(data))
    n_rows = int(data.y.shape[0])

    magnitudes = np.abs(fitted)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_errors = np.where(np.isfinite(errors), errors / magnitudes, np.inf)
    # A stable sort keeps slot order among constants of unknown error.
    order = np.argsort(np.nan_to_num(relative_errors, nan=np.inf), kind="stable")

    constants = fitted.copy()
    loss = fitted_loss
    n_snapped = 0
    for slot in order:
        others = np.delete(magnitudes, slot)
        largest_other = float(others.max()) if others.size else 0.0
        candidates = _candidates(
            fitted[slot],
            errors[slot],
            largest_other,
            n_sigma,
            rtol,
            zero_rtol,
            max_candidates,
        )
        # Tested jointly with the earlier snaps, so small increases cannot add up.
        limit = _loss_limit(
            reference_loss, n_snapped + 1, n_rows, n_constants, significance
        )
        for value, exact_value in candidates:
            trial = constants.copy()
            trial[slot] = value
            trial_loss = loss_of(trial)
            if trial_loss <= limit:
                constants, loss = trial, trial_loss
                exact[slot] = exact_value
                errors[slot] = 0.0
                n_snapped += 1
                break

    snapped = replace(entry, constants=constants, loss=loss, constant_errors=errors)
    return SnapResult(snapped, tuple(exact))


def exact_sympy(
    entry: HallOfFameEntry,
    snapped: SnapResult | Sequence[sympy.Expr | None],
    variable_names: Sequence[str] | None = None,
) -> sympy.Expr:
    """The entry as a sympy expression, with snapped constants exact.

    Parameters
    ----------
    entry : HallOfFameEntry
        The program; constants that were not snapped keep their float value.
    snapped : SnapResult or sequence of (sympy.Expr or None)
        The exact value of each constant slot, None where not snapped, as in
        ``SnapResult.exact``.
    variable_names : sequence of str, optional
        Name of each feature; ``x0, x1, ...`` when None.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import numpy as np
    >>> from lawfinder import Expression
    >>> law = Expression.from_string("0.5 * x * 3.1415927", ["x"])
    >>> entry = HallOfFameEntry(law.opcodes, law.arguments, law.constants, 5, 0.0)
    >>> exact_sympy(entry, [sympy.Rational(1, 2), sympy.pi], ["x"])
    pi*x/2
    """
    exact = snapped.exact if isinstance(snapped, SnapResult) else tuple(snapped)
    if len(exact) != len(entry.constants):
        raise ValueError(
            f"got {len(exact)} exact values for {len(entry.constants)} constants"
        )
    expression, values = to_sympy(
        entry.opcodes,
        entry.arguments,
        entry.constants,
        variable_names,
        constant_symbols=True,
    )
    replacements = {
        symbol: sympy.Float(value) if exact_value is None else exact_value
        for (symbol, value), exact_value in zip(values.items(), exact, strict=True)
    }
    # xreplace rebuilds each node, so numbers that meet are combined.
    return expression.xreplace(replacements)
