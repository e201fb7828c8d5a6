"""What a search hands back: hall-of-fame entries, progress state, final result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .checkpoint import SearchSnapshot


@dataclass
class HallOfFameEntry:
    """The best program found at one complexity.

    ``loss`` is the weighted mean squared error on the data the search saw;
    ``constant_errors`` are the standard errors of ``constants`` from the
    covariance of the last constant fit (nan where it could not be computed).
    """

    opcodes: np.ndarray
    arguments: np.ndarray
    constants: np.ndarray
    complexity: int
    loss: float
    constant_errors: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def n_constants(self) -> int:
        return int(self.constants.shape[0])


@dataclass
class SearchState:
    """A snapshot handed to callbacks after every iteration.

    A callback object has a method ``on_iteration(state)``; returning ``True``
    stops the search after the current iteration.
    """

    iteration: int
    niterations: int | None
    elapsed: float
    timeout: float | None
    n_evals: int
    evals_per_second: float
    hall_of_fame: list[HallOfFameEntry]

    @property
    def fraction_done(self) -> float | None:
        """Progress in [0, 1] by iterations or time, whichever is further."""
        fractions = []
        if self.niterations:
            fractions.append(self.iteration / self.niterations)
        if self.timeout:
            fractions.append(self.elapsed / self.timeout)
        return min(1.0, max(fractions)) if fractions else None


@dataclass
class SearchResult:
    """The outcome of a whole search."""

    hall_of_fame: list[HallOfFameEntry]
    n_evals: int
    n_iterations: int
    elapsed: float
    stopped_by: str
    timings: dict = field(default_factory=dict)
    seed: int | None = None
    # The islands and hall of fame as the search left them, to continue it
    # (see run_search's initial_state); None where no evolution ran.
    state: SearchSnapshot | None = None
