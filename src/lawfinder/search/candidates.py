"""Candidate equations from outside the evolutionary search.

Rewrites of the front, formulas recombined from sub-problems and those found
by brute force all enter the hall of fame the same way: as programs over the
original variables whose constants are refitted on the data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sympy

from .._config import ROW_BLOCK
from ..kernels.fitting import count_constants, fit_constants, make_scratch
from ..operators import CONSTANT, VARIABLE
from ..parsing import from_sympy
from .hall_of_fame import standard_errors
from .island import SearchData
from .result import HallOfFameEntry


def entry_from_sympy(
    expression: sympy.Expr,
    names: list[str],
    allowed_opcodes,
    complexity_of: np.ndarray,
    data: SearchData,
    iterations: int,
) -> HallOfFameEntry | None:
    """A sympy expression over ``names`` as a hall-of-fame entry with its
    constants refitted on ``data``; None if it is not a program of the allowed
    operators (``allowed_opcodes``; variables and constants always are) or
    does not give a finite loss."""
    allowed = set(np.asarray(allowed_opcodes).tolist()) | {VARIABLE, CONSTANT}
    try:
        opcodes, arguments, constants = from_sympy(expression, names)
    except (ValueError, TypeError):
        return None
    if not set(opcodes.tolist()) <= allowed or not np.all(np.isfinite(constants)):
        return None

    length = opcodes.shape[0]
    n_constants = count_constants(opcodes, length)
    constants = np.ascontiguousarray(constants[:n_constants], dtype=np.float64)
    padded = np.zeros(max(length, 1))
    padded[:n_constants] = constants
    scratch = make_scratch(length, length)
    loss, _ = fit_constants(
        opcodes,
        arguments,
        length,
        padded,
        data.XT,
        data.y,
        data.weights,
        int(iterations),
        *scratch,
        np.empty((length, ROW_BLOCK)),
    )
    if not np.isfinite(loss):
        return None
    constants = padded[:n_constants].copy()
    return HallOfFameEntry(
        opcodes=opcodes,
        arguments=arguments,
        constants=constants,
        complexity=int(complexity_of[opcodes].sum()),
        loss=float(loss),
        constant_errors=standard_errors(opcodes, arguments, constants, data),
    )


def merge_entries(*groups: Iterable[HallOfFameEntry]) -> list[HallOfFameEntry]:
    """The best entry of each complexity among all groups, simplest first."""
    best: dict[int, HallOfFameEntry] = {}
    for group in groups:
        for entry in group:
            held = best.get(entry.complexity)
            if held is None or entry.loss < held.loss:
                best[entry.complexity] = entry
    return [best[complexity] for complexity in sorted(best)]
