"""Validated, immutable settings of one search."""

from __future__ import annotations

from dataclasses import dataclass

from ..operators import resolve_operator

DEFAULT_BINARY_OPERATORS = ("add", "sub", "mul", "div")
DEFAULT_UNARY_OPERATORS = ("neg", "square", "sqrt", "exp", "log", "sin", "cos")


@dataclass(frozen=True)
class SearchOptions:
    """Everything the search needs to know besides the data.

    Operator names are resolved and checked when the options are made; see
    ``lawfinder.SymbolicRegressor`` for the meaning of each field.
    """

    binary_operators: tuple[str, ...] = DEFAULT_BINARY_OPERATORS
    unary_operators: tuple[str, ...] = DEFAULT_UNARY_OPERATORS
    maxsize: int = 30
    maxdepth: int | None = None
    allow_nesting: bool = False
    populations: int = 16
    population_size: int = 32
    niterations: int | None = 100
    timeout: float | None = None
    max_evals: int | None = None
    loss_threshold: float | None = None
    parsimony: float = 0.0
    alpha: float = 0.1
    adaptive_parsimony_scaling: float = 20.0
    n_jobs: int = 1
    random_state: int | None = None
    cycle_steps: int = 5000
    tournament_size: int = 12
    tournament_probability: float = 0.9
    crossover_probability: float = 0.05
    optimize_fraction: float = 0.15
    optimize_probability: float = 0.3
    optimizer_iterations: int = 12
    migration_fraction: float = 0.05
    max_rows: int = 500
    simplify: bool = True
    unit_penalty: float = 0.1

    def __post_init__(self) -> None:
        binary = tuple(resolve_operator(n, arity=2).name for n in self.binary_operators)
        unary = tuple(resolve_operator(n, arity=1).name for n in self.unary_operators)
        if not binary:
            raise ValueError("binary_operators must name at least one operator")
        object.__setattr__(self, "binary_operators", binary)
        object.__setattr__(self, "unary_operators", unary)
        _check_positive_int("maxsize", self.maxsize, minimum=3)
        _check_positive_int("populations", self.populations)
        _check_positive_int("population_size", self.population_size, minimum=8)
        _check_positive_int("n_jobs", self.n_jobs)
        if self.maxdepth is not None:
            _check_positive_int("maxdepth", self.maxdepth, minimum=2)
        if self.niterations is not None:
            _check_positive_int("niterations", self.niterations)
        if self.max_evals is not None:
            _check_positive_int("max_evals", self.max_evals)
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(
                f"timeout must be a positive number of seconds, got {self.timeout!r}"
            )
        if self.niterations is None and self.timeout is None and self.max_evals is None:
            raise ValueError("set at least one of niterations, timeout or max_evals")
        if not self.parsimony >= 0:
            raise ValueError(f"parsimony must be >= 0, got {self.parsimony!r}")
        if not self.unit_penalty >= 0:
            raise ValueError(f"unit_penalty must be >= 0, got {self.unit_penalty!r}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")


def _check_positive_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
