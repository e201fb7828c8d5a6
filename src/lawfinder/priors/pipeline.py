"""The physics priors around the evolutionary search.

A fit goes through these steps, each of which a user can switch off through
``strategies``:

1. ``"units"``: with units for X and y, dimensional analysis writes
   ``y = (a monomial in X with the units of y) * f(dimensionless groups)`` and
   the rest of the pipeline looks for ``f`` over the groups;
2. ``"brute_force"``: a problem of one or two variables is enumerated, every
   program up to a length, cheapest first, beside the evolutionary search;
3. ``"structure"``: on three or more variables, a smooth surrogate of the data
   is tested for separability (``f = g(a) * h(b)`` or ``g(a) + h(b)``) and
   for symmetries (``f`` sees two variables only through their difference,
   sum, product or ratio); the smaller problems are solved in turn and their
   formulas recombined;
4. ``"transforms"``: when ``log(y)``, ``1/y``, ``y**2``, ... is much closer
   to a polynomial in X than y is, the transformed target is solved as a
   smaller problem and its formulas are transformed back;
5. the evolutionary search, always, with the time that is left;
6. ``"snap"``: constants of the final front close to simple numbers
   (integers, small fractions, multiples of pi, ...) are set to them when the
   fit does not get measurably worse.

Every formula that comes out of a step is rewritten in the original variables
and its constants refitted on the original data before it enters the hall of
fame, so the data, not the step, decides what is kept.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import sympy

from ..model_selection import pareto_front
from ..operators import OPERATORS
from ..printing import to_sympy
from ..search.candidates import entry_from_sympy, merge_entries
from ..search.driver import FINAL_ITERATIONS, as_search_data, run_search
from ..search.island import CycleSettings
from ..search.options import SearchOptions
from ..search.result import SearchResult

logger = logging.getLogger("lawfinder")

STRATEGIES = ("units", "brute_force", "structure", "transforms", "snap")

# Operators that a formula rewritten in the original variables may need for
# its prefactor, even when the search itself was not given them.
MONOMIAL_OPERATORS = ("mul", "div", "square", "cube", "sqrt", "inv", "pow")

# Brute force is tried on problems of at most this many variables, for at
# most this share of the time (or this many seconds without a timeout).
BRUTE_FORCE_VARIABLES = 2
BRUTE_FORCE_SHARE = 0.15
BRUTE_FORCE_SECONDS = 10.0
BRUTE_FORCE_LENGTH = 8
# Without a timeout, enumeration stops at a length instead of a time, so that
# a fit with a fixed seed is reproducible: length 7 takes about 2 seconds.
BRUTE_FORCE_LENGTH_UNTIMED = 7

# Structure is tested on problems of at least this many variables, to this
# depth of sub-problems, with a surrogate at least this accurate; each
# sub-problem gets this share of the time left.
STRUCTURE_VARIABLES = 3
STRUCTURE_DEPTH = 2
SURROGATE_R2 = 0.9999
SUB_PROBLEM_SHARE = 0.2
# With a timeout, structure is tested only with at least this many seconds
# left: the surrogate takes a few seconds, and each smaller problem needs
# time of its own.
STRUCTURE_LEAST_SECONDS = 8.0

# A transform of y is tried when a quadratic polynomial in X fits the
# transformed target at most this fraction as badly as y itself, and y is
# not already that close to a polynomial.
TRANSFORM_GAIN = 0.5
TRANSFORM_LEAST_ERROR = 1e-6
# With one or two variables, each transform is enumerated by brute force for
# at most this long (or this share of the timeout if less); without a
# timeout, up to a length.
TRANSFORM_BRUTE_FORCE_SECONDS = 1.0
TRANSFORM_BRUTE_FORCE_SHARE = 0.02
TRANSFORM_BRUTE_FORCE_LENGTH_UNTIMED = 6

# The operator that undoes each transform of y, which the search must allow.
TRANSFORM_INVERSES = {
    "square": "sqrt",
    "sqrt": "square",
    "log": "exp",
    "exp": "log",
    "inverse": "inv",
}

# Share of the timeout kept for rewriting, refitting and snapping the result.
FINISH_SHARE = 0.03


@dataclass(frozen=True)
class Units:
    """The units of a problem: ``D`` (dimensions x features) and ``d_y``."""

    D: np.ndarray
    d_y: np.ndarray


def check_strategies(strategies) -> frozenset[str]:
    """The strategies as a set; None means all of them."""
    if strategies is None:
        return frozenset(STRATEGIES)
    if isinstance(strategies, str):
        strategies = [strategies]
    chosen = frozenset(strategies)
    unknown = sorted(chosen - set(STRATEGIES))
    if unknown:
        raise ValueError(
            f"unknown strategies {unknown}; allowed: {', '.join(STRATEGIES)} "
            "(or None for all of them)"
        )
    return chosen


def solve(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    options: SearchOptions,
    variable_names: Sequence[str],
    strategies: frozenset[str],
    units: Units | None = None,
    callbacks: Sequence = (),
    report=None,
    target_name: str = "y",
    main_search: Mapping | None = None,
) -> SearchResult:
    """Find formulas for ``y`` from ``X`` with the chosen priors.

    Parameters
    ----------
    X, y, weights : ndarray
        Validated data.
    options : SearchOptions
        Settings of the evolutionary search; its ``timeout`` bounds the whole.
    variable_names : sequence of str
    strategies : frozenset of str
        Steps to take, from `STRATEGIES`.
    units : Units, optional
        Units of the features and the target, for ``"units"``.
    callbacks : sequence
        Passed to the main evolutionary search.
    report : callable, optional
        Called with one line of text for each thing a step finds.
    target_name : str, default="y"
        Name of the target in those lines.
    main_search : mapping, optional
        More keyword arguments of `run_search` for the main evolutionary
        search only, such as ``initial_state`` and ``checkpoint``.

    Returns
    -------
    SearchResult
        With hall-of-fame entries over the original variables.
    """
    start = time.perf_counter()
    names = list(variable_names)
    say = report or (lambda text: None)
    full = as_search_data(X, y, _no_weights(weights))

    if "units" in strategies and units is not None:
        reduced = _reduce_by_units(X, y, units, names, say, target_name)
        if reduced is not None and reduced[0].n_groups == 0:
            # y is the prefactor times a constant: nothing is left to search.
            reduction = reduced[0]
            entries = _expanded_constant(reduction, reduced[2], names, options, full)
            result = run_search(
                X,
                y,
                weights,
                _remaining(options, start),
                callbacks,
                units=_penalised(units),
                **(main_search or {}),
            )
            result = replace(
                result, hall_of_fame=merge_entries(result.hall_of_fame, entries)
            )
            return _finish(result, full, names, strategies, say, start)
        if reduced is not None:
            reduction, X_groups, y_reduced = reduced
            group_names = reduction.group_names(names)
            inner = _solve_plain(
                X_groups,
                y_reduced,
                weights,
                options,
                group_names,
                strategies,
                callbacks,
                say,
                start,
                main_search=main_search,
            )
            entries = _expanded(
                inner.hall_of_fame, reduction, group_names, names, options, full
            )
            result = replace(inner, hall_of_fame=entries)
            return _finish(result, full, names, strategies, say, start)

    # Without the reduction the search sees the original variables, and
    # candidates whose units do not match are penalised.
    result = _solve_plain(
        X,
        y,
        weights,
        options,
        names,
        strategies,
        callbacks,
        say,
        start,
        units=units,
        main_search=main_search,
    )
    return _finish(result, full, names, strategies, say, start)


def _penalised(units: Units | None):
    """Units as run_search takes them, for its units penalty."""
    if units is None:
        return None
    return np.asarray(units.D, dtype=float).T, np.asarray(units.d_y, dtype=float)


def _reduce_by_units(X, y, units: Units, names, say, target_name):
    from .units import dimensional_analysis

    try:
        reduction = dimensional_analysis(units.D, units.d_y, names)
        X_groups, y_reduced = reduction.transform(X, y)
    except ValueError as error:
        say(f"units: not used ({error})")
        return None
    say(f"units: {reduction.describe(names, target_name)}")
    return reduction, X_groups, y_reduced


def _expanded_constant(reduction, y_reduced, names, options, full):
    settings = CycleSettings.from_options(options)
    allowed = _allowed_opcodes(options, MONOMIAL_OPERATORS)
    outer = reduction.expand(sympy.Float(float(np.mean(y_reduced))), names)
    candidate = entry_from_sympy(
        outer, names, allowed, settings.complexity_of, full, FINAL_ITERATIONS
    )
    return [] if candidate is None else [candidate]


def _expanded(entries, reduction, group_names, names, options, full):
    """Entries over the groups, rewritten over the original variables."""
    settings = CycleSettings.from_options(options)
    allowed = _allowed_opcodes(options, MONOMIAL_OPERATORS)
    expanded = []
    for entry in entries:
        inner = to_sympy(entry.opcodes, entry.arguments, entry.constants, group_names)
        outer = reduction.expand(inner, names)
        candidate = entry_from_sympy(
            outer, names, allowed, settings.complexity_of, full, FINAL_ITERATIONS
        )
        if candidate is not None:
            expanded.append(candidate)
    return merge_entries(expanded)


def _solve_plain(
    X,
    y,
    weights,
    options,
    names,
    strategies,
    callbacks,
    say,
    start,
    depth=0,
    units=None,
    main_search=None,
):
    """Structure tests first, then evolution with brute force alongside it,
    each where it applies; with ``units``, evolution penalises candidates
    whose units do not match."""
    data = as_search_data(X, y, _no_weights(weights))
    parts, part_evals = [], 0
    if (
        "structure" in strategies
        and depth < STRUCTURE_DEPTH
        and X.shape[1] >= STRUCTURE_VARIABLES
        and weights is None
        and _seconds_left(options, start) >= STRUCTURE_LEAST_SECONDS
    ):
        parts, part_evals = _structure(
            X, y, options, names, strategies, say, start, depth, data
        )
        if parts and min(entry.loss for entry in parts) <= _exact_loss(data):
            say("structure: the recombined formula is exact; evolution is skipped")
            return _without_evolution(parts, part_evals, "structure", options, start)

    if (
        "transforms" in strategies
        and depth < STRUCTURE_DEPTH
        and X.shape[1] > BRUTE_FORCE_VARIABLES
        and weights is None
        and _seconds_left(options, start) >= STRUCTURE_LEAST_SECONDS
    ):
        found, found_evals = _transformed(
            X, y, options, names, strategies, say, start, depth, data
        )
        parts, part_evals = parts + found, part_evals + found_evals
        if found and min(entry.loss for entry in found) <= _exact_loss(data):
            say("transforms: the formula transformed back is exact; no evolution")
            return _without_evolution(parts, part_evals, "transform", options, start)

    alongside = []
    if "brute_force" in strategies and X.shape[1] <= BRUTE_FORCE_VARIABLES:
        transforms = (
            _usable_transforms(X, y, options) if "transforms" in strategies else []
        )
        alongside.append(_BruteForceAlongside(data, options, names, transforms))

    remaining = _remaining(options, start)
    result = run_search(
        X,
        y,
        weights,
        remaining,
        (*alongside, *callbacks),
        units=_penalised(units),
        **(main_search or {}),
    )
    result = replace(
        result,
        hall_of_fame=merge_entries(result.hall_of_fame, parts),
        n_evals=result.n_evals + part_evals,
    )
    if not alongside:
        return result

    brute = alongside[0]
    found = brute.finish(wait=result.stopped_by != "interrupt")
    if found:
        best = min(found, key=lambda entry: entry.loss)
        say(
            f"brute force: {len(found)} equations, best loss {best.loss:.3g} "
            f"at complexity {best.complexity}"
        )
    if brute.exact_from == "transform":
        best = min(found, key=lambda entry: entry.loss)
        say(f"transforms: exact at complexity {best.complexity}")
    entries = merge_entries(result.hall_of_fame, found)
    stopped_by = f"exact fit ({brute.exact_from})" if brute.exact else result.stopped_by
    return replace(
        result,
        hall_of_fame=entries,
        stopped_by=stopped_by,
        n_evals=result.n_evals + brute.n_scored,
    )


def _without_evolution(entries, n_evals, source, options, start) -> SearchResult:
    """The result of a problem that a prior solved exactly before evolution."""
    return SearchResult(
        hall_of_fame=merge_entries(entries),
        n_evals=n_evals,
        n_iterations=0,
        elapsed=time.perf_counter() - start,
        stopped_by=f"exact fit ({source})",
        seed=options.random_state,
    )


def _structure(X, y, options, names, strategies, say, start, depth, data):
    """Candidates from a separation or a symmetry of a smooth surrogate, and
    the evaluations spent on the smaller problems."""
    from threadpoolctl import threadpool_limits

    from . import structure

    seed = options.random_state
    # One BLAS thread: the Gaussian process's many small solves slow down
    # badly when threads compete for the cores.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", structure.SurrogateAccuracyWarning)
        try:
            surrogate = structure.fit_surrogate(X, y, random_state=seed)
        except ValueError as error:
            say(f"structure: no surrogate ({error})")
            return [], 0
        if not surrogate.r2 >= SURROGATE_R2:
            say(f"structure: surrogate too rough to test (R^2 {surrogate.r2:.4f})")
            return [], 0
        found = structure.multiplicative_separations(surrogate, X, random_state=seed)
        found += structure.additive_separations(surrogate, X, random_state=seed)
        symmetric = structure.symmetries(surrogate, X, random_state=seed)
        separation = min(found, key=lambda item: item.error, default=None)
        symmetry = symmetric[0] if symmetric else None
        pieces = (
            structure.separation_data(separation, surrogate, X, y)
            if separation is not None
            else None
        )

    sub_options = _sub_options(options, start)
    settings = CycleSettings.from_options(options)
    allowed = _allowed_opcodes(options, MONOMIAL_OPERATORS)
    candidates = []
    n_evals = 0
    if pieces is not None:
        say(f"structure: {separation.describe(names)}")
        solved = [
            _solve_plain(
                X_part,
                y_part,
                None,
                sub_options,
                [names[k] for k in columns],
                strategies,
                (),
                say,
                time.perf_counter(),
                depth + 1,
            )
            for X_part, y_part, columns in (
                (pieces.X_first, pieces.y_first, separation.first),
                (pieces.X_second, pieces.y_second, separation.second),
            )
        ]
        parts = [
            _most_accurate(result, [names[k] for k in columns])
            for result, columns in zip(
                solved, (separation.first, separation.second), strict=True
            )
        ]
        constant = sympy.Float(pieces.constant)
        for first in parts[0]:
            for second in parts[1]:
                if separation.kind == "additive":
                    joined = first + second - constant
                else:
                    joined = first * second / constant
                candidates.append(joined)
    if symmetry is not None:
        say(f"structure: {symmetry.describe(names)}")
        i, j = symmetry.pair
        new_name = _fresh_name(names)
        sub_names = [new_name if k == i else name for k, name in enumerate(names)]
        del sub_names[j]
        result = _solve_plain(
            structure.symmetry_data(symmetry, X),
            y,
            None,
            sub_options,
            sub_names,
            strategies,
            (),
            say,
            time.perf_counter(),
            depth + 1,
        )
        n_evals += result.n_evals
        pair = _symmetry_sympy(symmetry, names)
        for expression in _most_accurate(result, sub_names):
            candidates.append(expression.xreplace({sympy.Symbol(new_name): pair}))

    entries = []
    for expression in candidates:
        entry = entry_from_sympy(
            expression, names, allowed, settings.complexity_of, data, FINAL_ITERATIONS
        )
        if entry is not None and entry.complexity <= options.maxsize:
            entries.append(entry)
    return entries, n_evals


def _usable_transforms(X, y, options) -> list:
    """Transforms of ``y`` defined on it whose inverse the search may use."""
    from . import structure

    operators = set(options.unary_operators) | set(MONOMIAL_OPERATORS)
    return [
        transform
        for transform in structure.transforms(y, X)
        if TRANSFORM_INVERSES[transform.name] in operators
    ]


def _transformed(X, y, options, names, strategies, say, start, depth, data):
    """Candidates from a transform of ``y`` that is much closer to a
    polynomial in ``X`` than ``y`` is, solved as a smaller problem, and the
    evaluations spent on it. (Problems of one or two variables enumerate
    every transform beside the search instead: see _BruteForceAlongside.)"""
    from . import structure

    baseline = structure.polynomial_error(X, y)
    simpler = [
        transform
        for transform in _usable_transforms(X, y, options)
        if transform.error <= TRANSFORM_GAIN * baseline
    ]
    if not baseline > TRANSFORM_LEAST_ERROR or not simpler:
        return [], 0
    transform = simpler[0]
    say(f"{transform.describe()}, against {baseline:.2g} for y")
    result = _solve_plain(
        X,
        transform.function(y),
        None,
        _sub_options(options, start),
        names,
        strategies - {"transforms"},
        (),
        say,
        time.perf_counter(),
        depth + 1,
    )

    settings = CycleSettings.from_options(options)
    allowed = _allowed_opcodes(options, MONOMIAL_OPERATORS)
    entries = []
    for inner in _most_accurate_entries(result.hall_of_fame, names):
        entry = entry_from_sympy(
            _transformed_back(transform.name, inner),
            names,
            allowed,
            settings.complexity_of,
            data,
            FINAL_ITERATIONS,
        )
        if entry is not None and entry.complexity <= options.maxsize:
            entries.append(entry)
    return entries, result.n_evals


def _brute_forced(X, target, options, counts) -> list:
    """The equations brute force finds for ``target`` in a short time; the
    programs it scores are added to ``counts["n_scored"]``."""
    from .brute_force import brute_force

    if not np.all(np.isfinite(target)):
        return []
    settings = CycleSettings.from_options(options)
    if options.timeout is None:
        seconds, length = None, TRANSFORM_BRUTE_FORCE_LENGTH_UNTIMED
    else:
        seconds = min(
            TRANSFORM_BRUTE_FORCE_SECONDS,
            TRANSFORM_BRUTE_FORCE_SHARE * options.timeout,
        )
        length = BRUTE_FORCE_LENGTH
    entries = brute_force(
        as_search_data(X, target, np.empty(0)),
        settings.binary_ops,
        settings.unary_ops,
        settings.complexity_of,
        max_length=length,
        time_limit=seconds,
        counts=counts,
    )
    return [entry for entry in entries if entry.complexity <= options.maxsize]


def _transformed_back(name: str, inner: sympy.Expr) -> sympy.Expr:
    """``y`` from a formula ``inner`` for the transformed target."""
    return {
        "square": lambda g: sympy.sqrt(g),
        "sqrt": lambda g: g**2,
        "log": sympy.exp,
        "exp": sympy.log,
        "inverse": lambda g: 1 / g,
    }[name](inner)


def _most_accurate(result, names, count=3) -> list:
    """The ``count`` lowest-loss equations of a result's front, as sympy."""
    return _most_accurate_entries(result.hall_of_fame, names, count)


def _most_accurate_entries(hall_of_fame, names, count=3) -> list:
    """The ``count`` lowest-loss equations of a hall of fame's front, as sympy."""
    front = pareto_front(hall_of_fame)
    chosen = sorted(front, key=lambda entry: entry.loss)[:count]
    return [
        _plain_symbols(to_sympy(e.opcodes, e.arguments, e.constants, names))
        for e in chosen
    ]


def _plain_symbols(expression):
    """Symbols without assumptions, so that pieces from sub-problems combine."""
    return expression.xreplace(
        {symbol: sympy.Symbol(symbol.name) for symbol in expression.free_symbols}
    )


def _symmetry_sympy(symmetry, names):
    i, j = symmetry.pair
    a, b = sympy.Symbol(names[i]), sympy.Symbol(names[j])
    return {"difference": a - b, "sum": a + b, "product": a * b, "ratio": a / b}[
        symmetry.kind
    ]


def _fresh_name(names) -> str:
    index = 0
    while f"u{index}" in names:
        index += 1
    return f"u{index}"


def _seconds_left(options: SearchOptions, start: float) -> float:
    """Seconds left of the timeout; infinite without one."""
    if options.timeout is None:
        return float("inf")
    return options.timeout - (time.perf_counter() - start)


def _sub_options(options: SearchOptions, start: float) -> SearchOptions:
    """Settings of a sub-problem: a share of the time or of the iterations."""
    if options.timeout is not None:
        spent = time.perf_counter() - start
        share = max((options.timeout - spent) * SUB_PROBLEM_SHARE, 1.0)
        return replace(options, timeout=share)
    # Without a time limit, a quarter of the iterations on a quarter of the
    # islands: the parts are smaller problems than the whole.
    iterations = max(1, (options.niterations or 4) // 4)
    populations = max(2, options.populations // 4)
    return replace(options, niterations=iterations, populations=populations)


class _BruteForceAlongside:
    """Brute force in a thread beside the evolutionary search: on ``y``, then,
    with ``transforms``, on each transform of ``y``, its equations transformed
    back and refitted on ``y``.

    It starts after the first iteration, once the search's kernels are
    compiled (compiling needs the interpreter, running does not), and an
    exact fit stops the search.
    """

    def __init__(self, data, options: SearchOptions, names, transforms=()) -> None:
        self.data = data
        self.options = options
        self.names = list(names)
        self.transforms = list(transforms)
        if options.timeout is None:
            self.seconds, self.length = None, BRUTE_FORCE_LENGTH_UNTIMED
        else:
            self.seconds = min(BRUTE_FORCE_SECONDS, BRUTE_FORCE_SHARE * options.timeout)
            self.length = BRUTE_FORCE_LENGTH
        self.thread: threading.Thread | None = None
        self.entries: list = []
        self.exact_from = ""  # "brute force" or "transform" once exact
        self.n_scored = 0
        self.error: BaseException | None = None

    @property
    def exact(self) -> bool:
        return bool(self.exact_from)

    def on_iteration(self, state) -> bool:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self.exact

    def _run(self) -> None:
        from .brute_force import brute_force

        settings = CycleSettings.from_options(self.options)
        counts = {"n_scored": 0}
        try:
            entries = brute_force(
                self.data,
                settings.binary_ops,
                settings.unary_ops,
                settings.complexity_of,
                max_length=self.length,
                time_limit=self.seconds,
                counts=counts,
            )
            self._add(entries, "brute force")
            for transform in self.transforms:
                if self.exact:
                    break
                target = transform.function(self.data.y)
                found = _brute_forced(self.data.XT.T, target, self.options, counts)
                self._add(self._transformed_back(transform, found), "transform")
        except Exception as error:  # reported by finish(), never lost silently
            self.error = error
        finally:
            self.n_scored = counts["n_scored"]

    def _add(self, entries, source: str) -> None:
        kept = [e for e in entries if e.complexity <= self.options.maxsize]
        # A new list, not an append: the search thread reads it meanwhile.
        self.entries = self.entries + kept
        exact = _exact_loss(self.data)
        if not self.exact_from and any(entry.loss <= exact for entry in kept):
            self.exact_from = source

    def _transformed_back(self, transform, hall_of_fame) -> list:
        settings = CycleSettings.from_options(self.options)
        allowed = _allowed_opcodes(self.options, MONOMIAL_OPERATORS)
        entries = []
        for inner in _most_accurate_entries(hall_of_fame, self.names):
            entry = entry_from_sympy(
                _transformed_back(transform.name, inner),
                self.names,
                allowed,
                settings.complexity_of,
                self.data,
                FINAL_ITERATIONS,
            )
            if entry is not None:
                entries.append(entry)
        return entries

    def finish(self, wait: bool = True) -> list:
        """Wait for the enumeration (it keeps its own time limit); without
        ``wait``, take what it has finished."""
        if self.thread is None and wait:
            self._run()
        elif self.thread is not None and wait:
            self.thread.join()
        if self.error is not None:
            logger.warning("brute force failed: %s", self.error)
        return self.entries


def _exact_loss(data) -> float:
    """A loss this small is rounding error: the formula is exact."""
    return float(np.finfo(np.float64).eps * np.mean(data.y**2))


def _remaining(options: SearchOptions, start: float) -> SearchOptions:
    """The options with the timeout cut by the time already spent, and by
    FINISH_SHARE of it for the steps after the search."""
    if options.timeout is None:
        return options
    spent = time.perf_counter() - start
    left = max(options.timeout * (1 - FINISH_SHARE) - spent, 1.0)
    return replace(options, timeout=left)


def _finish(result, full, names, strategies, say, start):
    if "snap" not in strategies:
        return result
    from .constants import snap_constants

    snapped = []
    for entry in result.hall_of_fame:
        outcome = snap_constants(entry, full)
        snapped.append(outcome.entry if outcome.n_snapped else entry)
    count = sum(
        1
        for old, new in zip(result.hall_of_fame, snapped, strict=True)
        if old is not new
    )
    if count:
        say(f"constants: snapped to simple values in {count} equations")
    return replace(result, hall_of_fame=snapped)


def _allowed_opcodes(options: SearchOptions, extra: Sequence[str] = ()) -> np.ndarray:
    names = set(options.binary_operators) | set(options.unary_operators) | set(extra)
    return np.array(sorted(OPERATORS[name].opcode for name in names), dtype=np.int64)


def _no_weights(weights) -> np.ndarray:
    return np.empty(0) if weights is None else np.ascontiguousarray(weights, float)
