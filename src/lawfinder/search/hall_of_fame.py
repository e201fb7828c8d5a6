"""The hall of fame: the best program found at each complexity."""

from __future__ import annotations

import numpy as np

from ..kernels.fitting import count_constants, make_scratch, normal_equations
from .island import Island, SearchData, refit_members
from .result import HallOfFameEntry


class HallOfFame:
    """Best program per complexity ``1..maxsize``, stored like an island."""

    def __init__(self, maxsize: int, capacity: int) -> None:
        size = maxsize + 1
        self.opcodes = np.zeros((size, capacity), dtype=np.int64)
        self.arguments = np.zeros((size, capacity), dtype=np.int64)
        self.constants = np.zeros((size, capacity))
        self.lengths = np.ones(size, dtype=np.int64)
        self.losses = np.full(size, np.inf)

    def update(self, island: Island) -> np.ndarray:
        """Take the island's best member of each complexity where it is better.

        Returns the complexities that changed.
        """
        order = np.lexsort((island.losses, island.complexities))
        complexities = island.complexities[order]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = complexities[1:] != complexities[:-1]
        best = order[first]
        better = island.losses[best] < self.losses[island.complexities[best]]
        best = best[better]
        slots = island.complexities[best]
        self.opcodes[slots] = island.opcodes[best]
        self.arguments[slots] = island.arguments[best]
        self.constants[slots] = island.constants[best]
        self.lengths[slots] = island.lengths[best]
        self.losses[slots] = island.losses[best]
        return slots

    def refit(self, slots: np.ndarray, data: SearchData, iterations: int) -> int:
        """Refit the constants of the given slots; returns evaluations used."""
        return refit_members(self, slots, data, iterations)

    def occupied(self) -> np.ndarray:
        """Complexities holding a program with a finite loss, ascending."""
        return np.flatnonzero(np.isfinite(self.losses))

    def entries(self, data: SearchData | None = None) -> list[HallOfFameEntry]:
        """Copies of the occupied slots; with ``data``, also standard errors."""
        entries = []
        for complexity in self.occupied():
            length = self.lengths[complexity]
            opcodes = self.opcodes[complexity, :length].copy()
            arguments = self.arguments[complexity, :length].copy()
            n_constants = count_constants(opcodes, length)
            constants = self.constants[complexity, :n_constants].copy()
            errors = np.full(n_constants, np.nan)
            if data is not None and n_constants:
                errors = standard_errors(opcodes, arguments, constants, data)
            entries.append(
                HallOfFameEntry(
                    opcodes=opcodes,
                    arguments=arguments,
                    constants=constants,
                    complexity=int(complexity),
                    loss=float(self.losses[complexity]),
                    constant_errors=errors,
                )
            )
        return entries


def standard_errors(
    opcodes: np.ndarray,
    arguments: np.ndarray,
    constants: np.ndarray,
    data: SearchData,
) -> np.ndarray:
    """Standard errors of fitted constants: sqrt(diag(s^2 (J^T W J)^-1)).

    ``s^2`` is the weighted residual sum of squares over ``n - k``, so the
    errors follow from the scatter of the data; nan where ``J^T W J`` is
    singular or there are no spare rows.
    """
    n_constants = constants.shape[0]
    length = opcodes.shape[0]
    values, derivatives, active, factor = make_scratch(length, n_constants)
    jtj = np.empty((n_constants, n_constants))
    jtr = np.empty(n_constants)
    loss = normal_equations(
        opcodes,
        arguments,
        length,
        constants,
        n_constants,
        data.XT,
        data.y,
        data.weights,
        jtj,
        jtr,
        values,
        derivatives,
        active,
        factor,
    )
    n_rows = data.y.shape[0]
    if not np.isfinite(loss) or n_rows <= n_constants:
        return np.full(n_constants, np.nan)
    weight_sum = data.weights.sum() if data.weights.size else n_rows
    residual_variance = loss * weight_sum / (n_rows - n_constants)
    try:
        covariance = np.linalg.inv(jtj) * residual_variance
    except np.linalg.LinAlgError:
        return np.full(n_constants, np.nan)
    variances = np.diag(covariance)
    with np.errstate(invalid="ignore"):
        return np.where(variances >= 0, np.sqrt(variances), np.nan)
