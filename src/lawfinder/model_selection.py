"""Choosing the answer: the Pareto front of the hall of fame and its scores.

The front keeps, for each complexity, an equation only if it fits better than
every simpler one. The score of an equation is how fast the log of the loss
falls per unit of complexity from its simpler neighbour on the front: a large
score marks the point where extra complexity stops paying for itself. The
description length (AI Feynman's rule) counts the bits needed to name the
equation and to send what it leaves unexplained: the shortest wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .search.result import HallOfFameEntry

MODEL_SELECTIONS = ("best", "accuracy", "score", "mdl")

# Default data precision for 'mdl': this fraction of the target's RMS, about
# the digits a table of measured or simulated values carries.
RELATIVE_PRECISION = 1e-6

# 'best' considers only equations whose loss is within this factor of the lowest.
BEST_LOSS_FACTOR = 1.5

# Keeps log(loss) finite for an exact fit (loss 0).
TINY_LOSS = np.finfo(np.float64).tiny


def pareto_front(
    entries: Sequence[HallOfFameEntry], loss_floor: float = 0.0, rtol: float = 0.0
) -> list[HallOfFameEntry]:
    """Keep the entries that fit strictly better than every simpler entry.

    Parameters
    ----------
    entries : sequence of HallOfFameEntry
        Hall-of-fame entries in any order. Entries with a non-finite loss are
        dropped; of two entries with equal complexity the lower loss is kept.
    loss_floor : float, default=0.0
        Losses below this count as equal to it, so an entry that only improves
        on a simpler one below the floor (rounding noise) is dropped.
    rtol : float, default=0.0
        Smallest relative improvement that counts: an entry is kept only if its
        loss is below ``(1 - rtol)`` times that of the last entry kept.

    Returns
    -------
    list of HallOfFameEntry
        The front, sorted by increasing complexity and so by decreasing loss.

    Examples
    --------
    >>> import numpy as np
    >>> from lawfinder.search.result import HallOfFameEntry
    >>> def entry(complexity, loss):
    ...     empty = np.empty(0)
    ...     return HallOfFameEntry(empty, empty, empty, complexity, loss)
    >>> front = pareto_front([entry(1, 4.0), entry(3, 5.0), entry(5, 1.0)])
    >>> [e.complexity for e in front]
    [1, 5]
    """
    finite = [entry for entry in entries if np.isfinite(entry.loss)]
    ordered = sorted(finite, key=lambda entry: (entry.complexity, entry.loss))

    front: list[HallOfFameEntry] = []
    for entry in ordered:
        loss = max(entry.loss, loss_floor)
        if not front or loss < (1.0 - rtol) * max(front[-1].loss, loss_floor):
            front.append(entry)
    return front


def scores(losses, complexities, loss_floor: float = TINY_LOSS) -> np.ndarray:
    """Score each equation of a front by ``-d log(loss) / d complexity``.

    The score of entry ``i`` is
    ``-(log(loss[i]) - log(loss[i - 1])) / (complexity[i] - complexity[i - 1])``
    and the first entry scores 0.

    Parameters
    ----------
    losses : array-like of shape (n_equations,)
        Losses of the front, ordered by increasing complexity.
    complexities : array-like of shape (n_equations,)
        Strictly increasing complexities.
    loss_floor : float, default=smallest normal float64
        Losses below this are raised to it, so an exact fit scores finitely and
        differences below the floor (rounding noise) score 0.

    Returns
    -------
    ndarray of shape (n_equations,)

    Examples
    --------
    >>> scores([1.0, np.exp(-2.0)], [1, 2])
    array([0., 2.])
    """
    losses = np.asarray(losses, dtype=np.float64)
    complexities = np.asarray(complexities, dtype=np.float64)
    if losses.shape != complexities.shape or losses.ndim != 1:
        raise ValueError(
            "losses and complexities must be 1-D and of equal length, got shapes "
            f"{losses.shape} and {complexities.shape}"
        )
    if losses.size == 0:
        return np.empty(0)
    if np.any(np.diff(complexities) <= 0):
        raise ValueError(
            "complexities must increase strictly along the front, got "
            f"{complexities.tolist()}"
        )

    log_losses = np.log(np.maximum(losses, loss_floor))
    result = np.zeros(losses.shape)
    result[1:] = -np.diff(log_losses) / np.diff(complexities)
    return result


def data_precision(y, relative: float = RELATIVE_PRECISION) -> float:
    """The default precision of a target: ``relative * sqrt(mean(y**2))``.

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Target values.
    relative : float, default=1e-6
        Precision relative to the RMS of ``y``.

    Returns
    -------
    float
        Positive; the smallest normal float64 when ``y`` is all zeros.

    Examples
    --------
    >>> data_precision([3.0, -3.0], relative=0.01)
    0.03
    """
    y = np.asarray(y, dtype=np.float64)
    rms = float(np.sqrt(np.mean(y**2))) if y.size else 0.0
    return max(relative * rms, TINY_LOSS)


def description_lengths(
    losses, complexities, n_symbols: int, epsilon: float, weight: float = 1.0
) -> np.ndarray:
    """Description length in bits of each equation, after AI Feynman.

    ``L = log2(rank) + weight * log2(max(1, sqrt(loss) / epsilon))``. The rank
    of an equation is its place in a list of all postfix programs ordered by
    length, over an alphabet of ``n_symbols`` symbols; there are
    ``n_symbols ** complexity`` programs of a given length, so
    ``log2(rank) ~ complexity * log2(n_symbols)``, the bits that name the
    equation. The second term is the bits that send its RMS error to
    precision ``epsilon``; an error below the precision costs nothing. It is
    one number, not one per row as in AI Feynman, so the naming term weighs
    more; ``weight`` near the number of rows comes closer to a code per row.

    Parameters
    ----------
    losses : array-like of shape (n_equations,)
        Mean squared errors.
    complexities : array-like of shape (n_equations,)
        Complexities, as node counts.
    n_symbols : int
        Size of the alphabet: operators, variables, and 1 for constants.
    epsilon : float
        Precision of the data, in units of the target, positive; see
        `data_precision`.
    weight : float, default=1.0
        Weight of the error term against the naming term.

    Returns
    -------
    ndarray of shape (n_equations,)

    Examples
    --------
    >>> description_lengths([1e-4, 0.0], [3, 5], n_symbols=4, epsilon=1e-3)
    array([ 9.32192809, 10.        ])
    """
    losses = np.asarray(losses, dtype=np.float64)
    complexities = np.asarray(complexities, dtype=np.float64)
    if losses.shape != complexities.shape or losses.ndim != 1:
        raise ValueError(
            "losses and complexities must be 1-D and of equal length, got shapes "
            f"{losses.shape} and {complexities.shape}"
        )
    if not n_symbols >= 1:
        raise ValueError(f"n_symbols must be at least 1, got {n_symbols!r}")
    if not (epsilon > 0 and np.isfinite(epsilon)):
        raise ValueError(f"epsilon must be positive and finite, got {epsilon!r}")

    naming = complexities * np.log2(n_symbols)
    with np.errstate(invalid="ignore"):
        # A negative loss is impossible; nan keeps such an entry out of the choice.
        error = np.log2(np.maximum(1.0, np.sqrt(losses) / epsilon))
    return naming + weight * error


def select(
    front,
    model_selection: str = "best",
    loss_floor: float = TINY_LOSS,
    *,
    n_symbols: int | None = None,
    epsilon: float | None = None,
    y=None,
    mdl_weight: float = 1.0,
) -> int:
    """Choose one equation of a Pareto front and return its position.

    Parameters
    ----------
    front : sequence of HallOfFameEntry or pandas.DataFrame
        The front sorted by increasing complexity, as entries or as a table with
        ``loss`` and ``complexity`` columns.
    model_selection : {"best", "accuracy", "score", "mdl"}, default="best"
        ``"accuracy"`` picks the lowest loss; ``"score"`` the highest score;
        ``"best"`` the highest score among equations whose loss is within
        1.5 times the lowest loss; ``"mdl"`` the shortest description length
        (see `description_lengths`). Ties go to the simpler equation.
    loss_floor : float, default=smallest normal float64
        Losses below this count as equal to it (see `scores`); not used by
        ``"mdl"``, whose precision ``epsilon`` plays that part.
    n_symbols : int, optional
        For ``"mdl"``, required: the size of the alphabet of programs.
    epsilon : float, optional
        For ``"mdl"``: the precision of the data. When None, it is
        ``data_precision(y)``, so ``y`` is needed.
    y : array-like of shape (n_rows,), optional
        For ``"mdl"`` without ``epsilon``: the target.
    mdl_weight : float, default=1.0
        For ``"mdl"``: weight of the error term.

    Returns
    -------
    int
        Position of the chosen equation in ``front``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"complexity": [1, 3, 5], "loss": [1.0, 1e-3, 9e-4]})
    >>> select(table, "best"), select(table, "accuracy")
    (1, 2)
    >>> exact = pd.DataFrame({"complexity": [1, 3, 7], "loss": [1.0, 1e-14, 0.0]})
    >>> select(exact, "mdl", n_symbols=8, epsilon=1e-6), select(exact, "accuracy")
    (1, 2)
    """
    if model_selection not in MODEL_SELECTIONS:
        raise ValueError(
            f"model_selection={model_selection!r} is not known; allowed values: "
            f"{', '.join(repr(name) for name in MODEL_SELECTIONS)}"
        )

    if isinstance(front, pd.DataFrame):
        losses = front["loss"].to_numpy(dtype=np.float64)
        complexities = front["complexity"].to_numpy(dtype=np.float64)
    else:
        losses = np.array([entry.loss for entry in front], dtype=np.float64)
        complexities = np.array([entry.complexity for entry in front], dtype=float)
    if losses.size == 0:
        raise ValueError("the Pareto front is empty: there is no equation to select")

    if model_selection == "mdl":
        if n_symbols is None:
            raise ValueError(
                "model_selection='mdl' needs n_symbols, the number of operators "
                "and variables plus 1 for constants"
            )
        if epsilon is None:
            if y is None:
                raise ValueError(
                    "model_selection='mdl' needs the data precision: pass "
                    "epsilon, or y to use data_precision(y)"
                )
            epsilon = data_precision(y)
        lengths = description_lengths(
            losses, complexities, n_symbols, epsilon, mdl_weight
        )
        return int(np.argmin(np.where(np.isnan(lengths), np.inf, lengths)))

    floored = np.maximum(losses, loss_floor)
    front_scores = scores(losses, complexities, loss_floor)

    # np.argmin and np.argmax return the first of equal values: the simplest.
    if model_selection == "accuracy":
        return int(np.argmin(floored))
    if model_selection == "score":
        return int(np.argmax(front_scores))
    close = floored <= BEST_LOSS_FACTOR * floored.min()
    return int(np.argmax(np.where(close, front_scores, -np.inf)))
