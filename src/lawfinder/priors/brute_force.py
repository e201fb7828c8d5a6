"""Brute force for small problems: try every short program, cheapest first.

After AI Feynman: every postfix program up to a length, over a small set of
symbols (the variables, one constant leaf, a few operators), is written out by
``kernels.enumerate.next_programs`` and judged by its best affine fit
``y ~ slope * f + intercept``, whose loss has a closed form. That screening
runs on a few dozen rows; the best programs of each length then meet all the
rows.

A program's own constants are screened at a few trial values (every
combination, the best kept). Survivors are refitted on all rows as ordinary
programs: ``f``, ``slope * f``, ``f + intercept`` and ``slope * f +
intercept``, where the operators allow, each with all its constants (those of
``f`` together with the slope and intercept) fitted jointly by
Levenberg-Marquardt through ``search.island.refit_members``, started from the
screening's values. Fitting jointly, not ``f``'s constants first, lets the
slope and intercept follow as the constants inside ``f`` move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..kernels.enumerate import AFFINE, EQUIVALENT, affine_losses, next_programs
from ..operators import (
    ADD,
    BY_OPCODE,
    CONSTANT,
    MUL,
    N_OPCODES,
    OPERATORS,
    VARIABLE,
    resolve_operator,
)
from ..search.hall_of_fame import standard_errors
from ..search.island import SearchData, refit_members
from ..search.result import HallOfFameEntry

logger = logging.getLogger("lawfinder")

DEFAULT_BINARY_OPERATORS = ("add", "sub", "mul", "div")
DEFAULT_UNARY_OPERATORS = ("neg", "square", "sqrt", "exp", "log", "sin", "cos", "inv")

# Values each constant takes while screening; with two constants every pair is
# tried, so each value added costs much. The final fit moves them freely.
DEFAULT_TRIAL_VALUES = (1.0, -1.0, 2.0, 0.5)

SCREEN_ROWS = 64
BATCH_SIZE = 4096
REFIT_ITERATIONS = 30

# A loss below this fraction of the variance of y is an exact fit (a relative
# error of 1e-7): the formula is found, longer programs are not tried.
EXACT_LOSS = 1e-14

# Screening losses this close are taken for the same function written twice
# (x0 and sqrt(square(x0)) on positive rows), so only one of them survives.
SAME_LOSS = 1e-9

# Ways to wrap a program f: the nodes appended after f, each an opcode and
# what a new constant starts from (0: no constant, 1: slope, 2: intercept).
_SLOPE = 1
_INTERCEPT = 2
_WRAPPERS = (
    (),
    ((CONSTANT, _SLOPE), (MUL, 0)),
    ((CONSTANT, _INTERCEPT), (ADD, 0)),
    ((CONSTANT, _SLOPE), (MUL, 0), (CONSTANT, _INTERCEPT), (ADD, 0)),
)


def _opcodes_of(operators, arity: int) -> np.ndarray:
    """Opcodes of operators given by name or opcode, checked for arity."""
    opcodes = []
    for operator in operators:
        if isinstance(operator, str):
            opcodes.append(resolve_operator(operator, arity=arity).opcode)
            continue
        code = int(operator)
        if code not in BY_OPCODE or BY_OPCODE[code].arity != arity:
            allowed = sorted(
                op.opcode for op in OPERATORS.values() if op.arity == arity
            )
            raise ValueError(
                f"{code!r} is not the opcode of an operator of arity {arity}; "
                f"allowed: {allowed}"
            )
        opcodes.append(code)
    return np.array(opcodes, dtype=np.int64)


def symbol_set(
    n_features: int,
    binary_ops: Sequence,
    unary_ops: Sequence,
    constant: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The symbols programs are spelled with, in enumeration order.

    Parameters
    ----------
    n_features : int
        Number of variables ``x0 .. x{n_features-1}``, one leaf each.
    binary_ops, unary_ops : sequence of str or int
        Operator names (or aliases) or opcodes.
    constant : bool, default True
        Whether one constant leaf is a symbol.

    Returns
    -------
    symbol_opcodes, symbol_arguments : ndarray of int64, shape (n_symbols,)
        Leaves first (variables, then the constant), then the unary and the
        binary operators in the order given.

    Examples
    --------
    >>> opcodes, arguments = symbol_set(2, ["add"], ["neg"])
    >>> opcodes.tolist(), arguments.tolist()
    ([0, 0, 1, 7, 2], [0, 1, 0, 0, 0])
    """
    if n_features < 1:
        raise ValueError(f"n_features must be at least 1, got {n_features!r}")
    leaves = [VARIABLE] * n_features + [CONSTANT] * bool(constant)
    operators = np.concatenate([_opcodes_of(unary_ops, 1), _opcodes_of(binary_ops, 2)])
    opcodes = np.concatenate([np.array(leaves, dtype=np.int64), operators])
    arguments = np.zeros(opcodes.shape[0], dtype=np.int64)
    arguments[:n_features] = np.arange(n_features)
    return opcodes, arguments


def enumerate_programs(
    n_features: int,
    binary_ops: Sequence,
    unary_ops: Sequence,
    length: int,
    max_constants: int = 2,
    prune: int = AFFINE,
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every program of ``length`` nodes over a symbol set, in batches.

    Parameters
    ----------
    n_features : int
        Number of variables.
    binary_ops, unary_ops : sequence of str or int
        Operator names or opcodes.
    length : int
        Number of nodes of every program.
    max_constants : int, default 2
        Most constant leaves per program; 0 leaves the constant out.
    prune : {0, 1, 2}, default ``AFFINE``
        ``NO_PRUNING``, ``EQUIVALENT`` or ``AFFINE`` from
        :mod:`lawfinder.kernels.enumerate`, whose docstring lists what each
        level skips.
    batch_size : int, default 4096
        Most programs per batch.

    Yields
    ------
    opcodes, arguments : ndarray of int64, shape (n_programs, length)
        Postfix programs in lexicographic order of their symbols (see
        `symbol_set`); constant slots count from 0 in postfix order.

    Examples
    --------
    >>> batches = enumerate_programs(1, ["add"], ["neg"], 3, max_constants=0)
    >>> [opcodes.tolist() for opcodes, arguments in batches]
    [[[0, 0, 2]]]
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length!r}")
    if max_constants < 0:
        raise ValueError(f"max_constants must be >= 0, got {max_constants!r}")
    symbol_opcodes, symbol_arguments = symbol_set(
        n_features, binary_ops, unary_ops, constant=max_constants > 0
    )
    cursor = np.zeros(length + 1, dtype=np.int64)
    opcodes = np.zeros((batch_size, length), dtype=np.int64)
    arguments = np.zeros((batch_size, length), dtype=np.int64)
    while True:
        n = next_programs(
            symbol_opcodes,
            symbol_arguments,
            length,
            max_constants,
            prune,
            cursor,
            opcodes,
            arguments,
        )
        if n == 0:
            return
        yield opcodes[:n].copy(), arguments[:n].copy()


@dataclass
class _Pool:
    """The best programs of one length by screening loss.

    Programs without constants that score the same are taken for one function
    written twice and only the first stays. Programs with constants all stay:
    at the trial values exp(c * x0) and exp(c - x0) may score the same, but
    only the first reaches exp(-1.3 * x0) once its constant is fitted.
    """

    size: int
    opcodes: np.ndarray
    arguments: np.ndarray
    constants: np.ndarray
    losses: np.ndarray
    exact: float

    @classmethod
    def empty(cls, size: int, length: int, exact: float) -> _Pool:
        return cls(
            size=size,
            opcodes=np.zeros((0, length), dtype=np.int64),
            arguments=np.zeros((0, length), dtype=np.int64),
            constants=np.zeros((0, length)),
            losses=np.zeros(0),
            exact=exact,
        )

    def add(self, opcodes, arguments, constants, losses) -> None:
        """Merge a batch, keeping the ``size`` best; on ties, those first."""
        full = self.losses.shape[0] == self.size
        if full and not np.any(losses < self.losses[-1]):
            return
        chosen = np.flatnonzero(np.isfinite(losses))
        if chosen.shape[0] > 4 * self.size:
            nearest = np.argpartition(losses[chosen], 4 * self.size)
            chosen = np.sort(chosen[nearest[: 4 * self.size]])
        merged_opcodes = np.concatenate([self.opcodes, opcodes[chosen]])
        merged = np.concatenate([self.losses, losses[chosen]])

        order = np.argsort(merged, kind="stable")
        ordered = merged[order]
        fixed = np.flatnonzero(~np.any(merged_opcodes[order] == CONSTANT, axis=1))
        repeated = np.diff(ordered[fixed]) <= SAME_LOSS * ordered[fixed[1:]]
        kept = np.ones(order.shape[0], dtype=bool)
        kept[fixed[1:][repeated]] = False
        # Exact fits all stay: after wrapping, one may be simpler than another.
        kept |= ordered <= self.exact
        keep = order[kept][: self.size]

        self.opcodes = merged_opcodes[keep]
        self.arguments = np.concatenate([self.arguments, arguments[chosen]])[keep]
        self.constants = np.concatenate([self.constants, constants[chosen]])[keep]
        self.losses = merged[keep]


@dataclass
class _Candidates:
    """Wrapped survivors laid out like an island, for ``refit_members``."""

    opcodes: np.ndarray
    arguments: np.ndarray
    constants: np.ndarray
    lengths: np.ndarray
    losses: np.ndarray


def _wrapped(pool: _Pool, data: SearchData, binary_ops: np.ndarray) -> _Candidates:
    """Each survivor as ``f``, ``a * f``, ``f + b`` and ``a * f + b``, where the
    operators allow; a program without variables only as itself."""
    n_survivors, length = pool.opcodes.shape
    slopes = np.zeros(n_survivors)
    intercepts = np.zeros(n_survivors)
    affine_losses(
        pool.opcodes,
        pool.arguments,
        n_survivors,
        pool.constants,
        np.empty(0),
        data.XT,
        data.y,
        data.weights,
        np.zeros(n_survivors),
        slopes,
        intercepts,
    )
    wrappers = [
        wrapper
        for wrapper in _WRAPPERS
        if all(code == CONSTANT or code in binary_ops for code, _ in wrapper)
    ]

    variables = np.any(pool.opcodes == VARIABLE, axis=1)
    n_rows = int(np.sum(np.where(variables, len(wrappers), 1)))
    candidates = _Candidates(
        opcodes=np.zeros((n_rows, length + 4), dtype=np.int64),
        arguments=np.zeros((n_rows, length + 4), dtype=np.int64),
        constants=np.zeros((n_rows, length + 4)),
        lengths=np.zeros(n_rows, dtype=np.int64),
        losses=np.full(n_rows, np.inf),
    )
    row = 0
    for i in range(n_survivors):
        n_constants = int(np.count_nonzero(pool.opcodes[i] == CONSTANT))
        for wrapper in wrappers if variables[i] else wrappers[:1]:
            candidates.opcodes[row, :length] = pool.opcodes[i]
            candidates.arguments[row, :length] = pool.arguments[i]
            candidates.constants[row, :n_constants] = pool.constants[i, :n_constants]
            slot = n_constants
            for k, (code, start) in enumerate(wrapper, start=length):
                candidates.opcodes[row, k] = code
                if code == CONSTANT:
                    candidates.arguments[row, k] = slot
                    value = slopes[i] if start == _SLOPE else intercepts[i]
                    candidates.constants[row, slot] = value
                    slot += 1
            candidates.lengths[row] = length + len(wrapper)
            row += 1
    return candidates


def _kernel_ready(data: SearchData) -> SearchData:
    """The data as C-contiguous, writable float64 arrays: the kernels are
    compiled for those, and any other layout would compile them again."""
    arrays = [
        np.require(array, dtype=np.float64, requirements=["C", "W"])
        for array in (data.XT, data.y, data.weights)
    ]
    return SearchData(*arrays, loss_scale=float(data.loss_scale))


def _screening_data(data: SearchData, n_rows: int) -> SearchData:
    """A fixed random subset of the rows (all of them if few)."""
    total = data.y.shape[0]
    if total <= n_rows:
        return data
    rows = np.sort(np.random.default_rng(0).choice(total, n_rows, replace=False))
    weights = data.weights[rows] if data.weights.shape[0] else data.weights
    return SearchData(
        XT=np.ascontiguousarray(data.XT[:, rows]),
        y=np.ascontiguousarray(data.y[rows]),
        weights=np.ascontiguousarray(weights),
        loss_scale=data.loss_scale,
    )


def _screen_length(
    length, symbols, max_constants, prune, trial_values, screening, pool, deadline
) -> tuple[int, bool]:
    """Screen every program of one length into ``pool``; returns how many were
    scored, and whether the deadline cut the enumeration short."""
    cursor = np.zeros(length + 1, dtype=np.int64)
    opcodes = np.zeros((BATCH_SIZE, length), dtype=np.int64)
    arguments = np.zeros((BATCH_SIZE, length), dtype=np.int64)
    constants = np.zeros((BATCH_SIZE, length))
    losses = np.zeros(BATCH_SIZE)
    slopes = np.zeros(BATCH_SIZE)
    intercepts = np.zeros(BATCH_SIZE)
    n_scored = 0
    while True:
        n = next_programs(
            *symbols, length, max_constants, prune, cursor, opcodes, arguments
        )
        if n == 0:
            return n_scored, False
        affine_losses(
            opcodes,
            arguments,
            n,
            constants,
            trial_values,
            screening.XT,
            screening.y,
            screening.weights,
            losses,
            slopes,
            intercepts,
        )
        pool.add(opcodes[:n], arguments[:n], constants[:n], losses[:n])
        n_scored += n
        if time.perf_counter() > deadline:
            return n_scored, True


def brute_force(
    data: SearchData,
    binary_ops: Sequence = DEFAULT_BINARY_OPERATORS,
    unary_ops: Sequence = DEFAULT_UNARY_OPERATORS,
    complexity_of: np.ndarray | None = None,
    max_length: int = 7,
    time_limit: float | None = 10.0,
    top_k: int = 32,
    max_constants: int = 2,
    trial_values: Sequence[float] = DEFAULT_TRIAL_VALUES,
    counts: dict | None = None,
) -> list[HallOfFameEntry]:
    """Try every program up to ``max_length`` nodes; the best per complexity.

    Lengths 1, 2, ... are enumerated in turn (see `enumerate_programs`, pruned
    at the ``AFFINE`` level, or ``EQUIVALENT`` unless ``add`` and ``mul`` are
    both allowed). Each program is scored by the loss of its best affine fit
    ``slope * f + intercept`` on 64 fixed random rows, its constants at every
    combination of ``trial_values``. The ``top_k`` best of each length
    (programs without constants that score alike count once) are refitted on
    all rows, as ``f`` and wrapped in ``slope * f``, ``f + intercept`` and
    ``slope * f + intercept``, all constants fitted together. The search stops
    after the length in which an exact fit appears (loss below 1e-14 times the
    variance of ``y``), at ``max_length``, or at ``time_limit``.

    It scores about half a million programs per second on one core (0.4 to
    0.65 million measured on a busy core) at lengths 7 to 9, with 2
    variables, the default operators (8 unary, 4 binary) and up to 2
    constants; 1 million without constants, since a program with constants
    is evaluated at each combination of trial values. The 1.0 million
    programs of length 7 take about 2 seconds, the 10.4 million of length 8
    about 20 and the 110 million of length 9 about 200.

    Parameters
    ----------
    data : SearchData
        The rows (``XT`` of shape (n_features, n_rows), C-contiguous), ``y``,
        ``weights`` (length 0 for unit weights) and ``loss_scale``.
    binary_ops, unary_ops : sequence of str or int
        Operator names or opcodes. Wrappers that need ``mul`` or ``add`` are
        only built when those are among ``binary_ops``.
    complexity_of : ndarray of int, shape (N_OPCODES,), optional
        Complexity of each opcode; 1 each by default.
    max_length : int, default 7
        Most nodes of an enumerated program, before any wrapper.
    time_limit : float or None, default 10.0
        Seconds of wall time for the whole call, compiling included (the first
        call in a new environment compiles the kernels, several seconds);
        None for no limit. The survivors found so far are refitted when it
        runs out, which may take a little longer.
    top_k : int, default 32
        Survivors per length.
    max_constants : int, default 2
        Most constant leaves in an enumerated program.
    trial_values : sequence of float, default (1, -1, 2, 0.5)
        Values tried for each constant while screening.
    counts : dict, optional
        Receives ``"n_scored"``: the number of programs scored (each on the
        screening rows), added to what it holds.

    Returns
    -------
    list of HallOfFameEntry
        The best program of each complexity found, by ascending complexity,
        with its loss on ``data`` and the standard errors of its constants.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(1.0, 2.0, 50)
    >>> data = SearchData(
    ...     XT=x.reshape(1, -1), y=3 * x**2 + 1, weights=np.empty(0),
    ...     loss_scale=float(np.var(3 * x**2 + 1)))
    >>> entries = brute_force(data, max_length=3, time_limit=60)
    >>> best = min(entries, key=lambda entry: entry.loss)
    >>> best.complexity, bool(best.loss < 1e-20)
    (6, True)
    """
    started = time.perf_counter()
    _check_limits(max_length, time_limit, top_k, max_constants, trial_values)
    data = _kernel_ready(data)
    binary_opcodes = _opcodes_of(binary_ops, 2)
    if complexity_of is None:
        complexity_of = np.ones(N_OPCODES, dtype=np.int64)
    complexity_of = np.asarray(complexity_of, dtype=np.int64)
    trial_values = np.array(trial_values, dtype=np.float64)

    deadline = np.inf if time_limit is None else started + time_limit
    symbols = symbol_set(
        data.XT.shape[0], binary_opcodes, unary_ops, constant=max_constants > 0
    )
    # Without both wrappers a root "f + c" or "f * c" is not redundant.
    wrappers_allowed = ADD in binary_opcodes and MUL in binary_opcodes
    prune = AFFINE if wrappers_allowed else EQUIVALENT
    screening = _screening_data(data, SCREEN_ROWS)
    exact = EXACT_LOSS * data.loss_scale
    best: dict[int, tuple] = {}
    refit_seconds = 0.0
    for length in range(1, max_length + 1):
        pool = _Pool.empty(top_k, length, exact)
        since = time.perf_counter()
        n_scored, cut_short = _screen_length(
            length,
            symbols,
            max_constants,
            prune,
            trial_values,
            screening,
            pool,
            deadline - refit_seconds,
        )
        if counts is not None:
            counts["n_scored"] = counts.get("n_scored", 0) + n_scored
        screened = time.perf_counter()
        found = _refit(pool, data, binary_opcodes, complexity_of, best)
        refit_seconds = time.perf_counter() - screened
        logger.info(
            "brute force: %d programs of length %d scored in %.2f s, refitted "
            "in %.2f s",
            n_scored,
            length,
            screened - since,
            refit_seconds,
        )
        if found <= exact:
            logger.info("brute force: exact fit at length %d", length)
            break
        if cut_short or time.perf_counter() + refit_seconds >= deadline:
            logger.info("brute force: time limit reached at length %d", length)
            break
    return _entries(best, data)


def _check_limits(max_length, time_limit, top_k, max_constants, trial_values):
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be > 0 seconds or None, got {time_limit!r}")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k!r}")
    if max_constants < 0:
        raise ValueError(f"max_constants must be >= 0, got {max_constants!r}")
    if max_constants > 0 and len(trial_values) == 0:
        raise ValueError(
            "trial_values must hold at least one value when constants are allowed"
        )


def _refit(pool, data, binary_opcodes, complexity_of, best) -> float:
    """Fit the wrapped survivors on all rows and keep the best of each
    complexity in ``best``; returns the lowest loss."""
    if pool.losses.shape[0] == 0:
        return np.inf
    candidates = _wrapped(pool, data, binary_opcodes)
    members = np.arange(candidates.lengths.shape[0], dtype=np.int64)
    refit_members(candidates, members, data, REFIT_ITERATIONS)
    for i in np.flatnonzero(np.isfinite(candidates.losses)).tolist():
        length = int(candidates.lengths[i])
        opcodes = candidates.opcodes[i, :length]
        complexity = int(complexity_of[opcodes].sum())
        loss = float(candidates.losses[i])
        if complexity not in best or loss < best[complexity][0]:
            n_constants = int(np.count_nonzero(opcodes == CONSTANT))
            best[complexity] = (
                loss,
                opcodes.copy(),
                candidates.arguments[i, :length].copy(),
                candidates.constants[i, :n_constants].copy(),
            )
    return float(np.min(candidates.losses))


def _entries(best: dict, data: SearchData) -> list[HallOfFameEntry]:
    entries = []
    for complexity in sorted(best):
        loss, opcodes, arguments, constants = best[complexity]
        errors = np.empty(0)
        if constants.shape[0]:
            errors = standard_errors(opcodes, arguments, constants, data)
        entries.append(
            HallOfFameEntry(
                opcodes=opcodes,
                arguments=arguments,
                constants=constants,
                complexity=complexity,
                loss=loss,
                constant_errors=errors,
            )
        )
    return entries
