"""Islands: populations of programs and the cycle that evolves one of them.

An island is plain numpy arrays plus its random state, so it can be evolved
in a thread or sent to a Dask worker alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .._config import ROW_BLOCK
from ..kernels.evolve import evolve_cycle, random_population, units_penalty
from ..kernels.fitting import fit_constants, make_scratch
from ..kernels.random import new_state
from ..kernels.variation import N_MUTATIONS
from ..operators import N_OPCODES, OPERATORS
from .options import SearchOptions

# Relative frequency of each mutation kind, in the order of kernels.variation.
DEFAULT_MUTATION_WEIGHTS = (
    0.2,  # mutate a constant
    0.5,  # change an operator
    0.5,  # change a leaf
    0.1,  # swap operands
    0.8,  # add a node at a leaf
    1.5,  # insert a node anywhere
    1.5,  # delete a node
    0.3,  # replace a subtree
    0.05,  # fold constants
    0.01,  # start afresh
    0.2,  # regroup: (a o b) O c <-> a o (b O c)
)
assert len(DEFAULT_MUTATION_WEIGHTS) == N_MUTATIONS


@dataclass
class SearchData:
    """The rows the islands see (``XT`` transposed) and the loss scale."""

    XT: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    loss_scale: float


@dataclass(frozen=True)
class CycleSettings:
    """The options as the kernels take them: arrays and plain numbers."""

    binary_ops: np.ndarray
    unary_ops: np.ndarray
    complexity_of: np.ndarray
    no_nesting: np.ndarray
    maxsize: int
    maxdepth: int
    mutation_weights: np.ndarray
    crossover_probability: float
    tournament_size: int
    tournament_probability: float
    parsimony: float
    alpha: float
    adaptive_scaling: float
    optimize_probability: float
    optimize_fraction: float
    optimizer_iterations: int
    cycle_steps: int
    # Exponents of each feature's units (n_features x n_dims) and the target's;
    # no dimensions when the units are not known.
    feature_units: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    target_units: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unit_penalty: float = 0.0

    @classmethod
    def from_options(cls, options: SearchOptions) -> CycleSettings:
        complexity_of = np.ones(N_OPCODES, dtype=np.int64)
        for name in options.binary_operators + options.unary_operators:
            complexity_of[OPERATORS[name].opcode] = OPERATORS[name].complexity
        # Functions of a dimensionless argument (exp, log, sin, ...) may not nest.
        no_nesting = np.zeros(N_OPCODES, dtype=np.int64)
        if not options.allow_nesting:
            for operator in OPERATORS.values():
                no_nesting[operator.opcode] = operator.units == "dimensionless"
        return cls(
            binary_ops=np.array(
                [OPERATORS[n].opcode for n in options.binary_operators], dtype=np.int64
            ),
            unary_ops=np.array(
                [OPERATORS[n].opcode for n in options.unary_operators], dtype=np.int64
            ),
            complexity_of=complexity_of,
            no_nesting=no_nesting,
            maxsize=options.maxsize,
            maxdepth=options.maxdepth or options.maxsize,
            mutation_weights=np.array(DEFAULT_MUTATION_WEIGHTS, dtype=np.float64),
            crossover_probability=options.crossover_probability,
            tournament_size=min(options.tournament_size, options.population_size),
            tournament_probability=options.tournament_probability,
            parsimony=options.parsimony,
            alpha=options.alpha,
            adaptive_scaling=options.adaptive_parsimony_scaling,
            optimize_probability=options.optimize_probability,
            optimize_fraction=options.optimize_fraction,
            optimizer_iterations=options.optimizer_iterations,
            cycle_steps=options.cycle_steps,
            unit_penalty=options.unit_penalty,
        )

    def with_units(self, feature_units, target_units) -> CycleSettings:
        """These settings, with candidates penalised for inconsistent units.

        Parameters
        ----------
        feature_units : array-like of shape (n_features, n_dims)
        target_units : array-like of shape (n_dims,)
        """
        return replace(
            self,
            feature_units=np.ascontiguousarray(feature_units, dtype=np.float64),
            target_units=np.ascontiguousarray(target_units, dtype=np.float64),
        )

    def penalty(self, opcodes, arguments, length) -> float:
        """The units penalty of one program."""
        return float(
            units_penalty(
                opcodes,
                arguments,
                int(length),
                self.feature_units,
                self.target_units,
                self.unit_penalty,
                np.empty((max(int(length), 1), self.target_units.shape[0] + 1)),
            )
        )


@dataclass
class Island:
    """One population; row ``i`` of each 2-D array is member ``i``'s program."""

    opcodes: np.ndarray
    arguments: np.ndarray
    constants: np.ndarray
    lengths: np.ndarray
    losses: np.ndarray
    complexities: np.ndarray
    births: np.ndarray
    state: np.ndarray
    rng: np.random.Generator
    next_birth: int = 0
    n_evals: int = 0
    # Each member's units penalty (see CycleSettings.penalty); zeros if unset.
    penalties: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.penalties is None:
            self.penalties = np.zeros(self.size)

    @property
    def size(self) -> int:
        return self.opcodes.shape[0]


def start_island(
    settings: CycleSettings,
    data: SearchData,
    population_size: int,
    rng: np.random.Generator,
) -> Island:
    """A population of small random programs, not yet fitted or scored: see
    `fit_island`."""
    capacity = settings.maxsize
    island = Island(
        opcodes=np.zeros((population_size, capacity), dtype=np.int64),
        arguments=np.zeros((population_size, capacity), dtype=np.int64),
        constants=np.zeros((population_size, capacity)),
        lengths=np.zeros(population_size, dtype=np.int64),
        losses=np.full(population_size, np.inf),
        complexities=np.zeros(population_size, dtype=np.int64),
        births=np.arange(population_size, dtype=np.int64),
        state=new_state(rng),
        rng=np.random.default_rng(rng.integers(2**63)),
        next_birth=population_size,
    )
    random_population(
        island.opcodes,
        island.arguments,
        island.constants,
        island.lengths,
        island.complexities,
        data.XT.shape[0],
        settings.binary_ops,
        settings.unary_ops,
        settings.complexity_of,
        settings.no_nesting,
        settings.maxsize,
        settings.maxdepth,
        min(settings.maxsize, 7),
        island.state,
    )
    if settings.target_units.shape[0] and settings.unit_penalty:
        for member in range(population_size):
            island.penalties[member] = settings.penalty(
                island.opcodes[member], island.arguments[member], island.lengths[member]
            )
    return island


def fit_island(island: Island, data: SearchData, settings: CycleSettings) -> None:
    """Fit the constants of every member and set every loss."""
    everyone = np.arange(island.size, dtype=np.int64)
    island.n_evals += refit_members(
        island, everyone, data, settings.optimizer_iterations
    )


def evolve_island(island: Island, data: SearchData, settings: CycleSettings) -> Island:
    """Run one cycle on the island, then refit the constants of some members."""
    used, island.next_birth = evolve_cycle(
        island.opcodes,
        island.arguments,
        island.constants,
        island.lengths,
        island.losses,
        island.complexities,
        island.births,
        island.penalties,
        data.XT,
        data.y,
        data.weights,
        data.loss_scale,
        settings.feature_units,
        settings.target_units,
        settings.unit_penalty,
        settings.binary_ops,
        settings.unary_ops,
        settings.complexity_of,
        settings.no_nesting,
        settings.maxsize,
        settings.maxdepth,
        settings.mutation_weights,
        settings.crossover_probability,
        settings.tournament_size,
        settings.tournament_probability,
        settings.parsimony,
        settings.alpha,
        settings.adaptive_scaling,
        settings.optimize_probability,
        settings.optimizer_iterations,
        settings.cycle_steps,
        island.next_birth,
        island.state,
    )
    island.n_evals += used

    chosen = island.rng.random(island.size) < settings.optimize_fraction
    members = np.flatnonzero(chosen).astype(np.int64)
    island.n_evals += refit_members(
        island, members, data, settings.optimizer_iterations
    )
    return island


def refit_members(population, members, data: SearchData, iterations: int) -> int:
    """Refit the constants of the given members in place; returns evaluations used.

    ``population`` is an Island or a HallOfFame: anything with 2-D ``opcodes``,
    ``arguments`` and ``constants`` and 1-D ``lengths`` and ``losses``.
    """
    # A loop here rather than a kernel of its own: it reuses the fit_constants
    # that evolve_cycle compiles, which saves recompiling the fitting code.
    capacity = population.opcodes.shape[1]
    scratch = make_scratch(capacity, capacity)
    loss_stack = np.empty((capacity, ROW_BLOCK))
    iterations = int(iterations)
    n_evaluations = 0
    for member in np.asarray(members, dtype=np.int64).tolist():
        loss, used = fit_constants(
            population.opcodes[member],
            population.arguments[member],
            int(population.lengths[member]),
            population.constants[member],
            data.XT,
            data.y,
            data.weights,
            iterations,
            *scratch,
            loss_stack,
        )
        population.losses[member] = loss
        n_evaluations += used
    return n_evaluations
