"""Evolution cycles on an island: invariants, determinism and progress.

After any cycle every member must be a well-formed program within the size
and depth limits, its stored loss and complexity must be those of a fresh
evaluation, and the birth counters must say that each step replaced the
oldest member. The islands are built by the kernels themselves, the way
``lawfinder.search.island`` builds them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lawfinder._config import ROW_BLOCK
from lawfinder.kernels.evaluate import population_losses, program_loss
from lawfinder.kernels.evolve import evolve_cycle, random_population
from lawfinder.kernels.random import new_state
from lawfinder.operators import ARITY, CONSTANT, OPERATORS, VARIABLE
from lawfinder.search.island import CycleSettings, Island, refit_members
from lawfinder.search.options import SearchOptions
from reference import nesting_reference

N_FEATURES = 2
NO_WEIGHTS = np.empty(0)


@dataclasses.dataclass
class Problem:
    XT: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    loss_scale: float


def make_problem(n_rows=120, weighted=False, seed=0) -> Problem:
    """y = 2.5 x0 x1 + 1 with a little noise, x in [-2, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n_rows, N_FEATURES))
    y = 2.5 * X[:, 0] * X[:, 1] + 1.0 + 0.01 * rng.normal(size=n_rows)
    weights = rng.uniform(0.5, 2.0, n_rows) if weighted else NO_WEIGHTS
    return Problem(np.ascontiguousarray(X.T), y, weights, float(np.var(y)))


def make_settings(**changes) -> CycleSettings:
    """Cycle settings from search options; ``changes`` override single fields."""
    option_names = {field.name for field in dataclasses.fields(SearchOptions)}
    options = SearchOptions(
        **{name: value for name, value in changes.items() if name in option_names}
    )
    settings = CycleSettings.from_options(options)
    overrides = {k: v for k, v in changes.items() if k not in option_names}
    return dataclasses.replace(settings, **overrides)


def new_island(settings, problem, population_size=24, seed=0) -> Island:
    """A random population with its losses, as ``start_island`` makes one."""
    capacity = settings.maxsize
    rng = np.random.default_rng(seed)
    island = Island(
        opcodes=np.zeros((population_size, capacity), dtype=np.int64),
        arguments=np.zeros((population_size, capacity), dtype=np.int64),
        constants=np.zeros((population_size, capacity)),
        lengths=np.zeros(population_size, dtype=np.int64),
        losses=np.zeros(population_size),
        complexities=np.zeros(population_size, dtype=np.int64),
        births=np.arange(population_size, dtype=np.int64),
        state=new_state(rng),
        rng=rng,
        next_birth=population_size,
    )
    random_population(
        island.opcodes,
        island.arguments,
        island.constants,
        island.lengths,
        island.complexities,
        problem.XT.shape[0],
        settings.binary_ops,
        settings.unary_ops,
        settings.complexity_of,
        settings.no_nesting,
        settings.maxsize,
        settings.maxdepth,
        min(settings.maxsize, 7),
        island.state,
    )
    population_losses(
        island.opcodes,
        island.arguments,
        island.lengths,
        island.constants,
        problem.XT,
        problem.y,
        problem.weights,
        island.losses,
    )
    return island


def run_cycle(island, problem, settings, n_steps=None) -> int:
    """One call of ``evolve_cycle``; returns the evaluations it reports."""
    n_evaluations, island.next_birth = evolve_cycle(
        island.opcodes,
        island.arguments,
        island.constants,
        island.lengths,
        island.losses,
        island.complexities,
        island.births,
        island.penalties,
        problem.XT,
        problem.y,
        problem.weights,
        problem.loss_scale,
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
        settings.cycle_steps if n_steps is None else n_steps,
        island.next_birth,
        island.state,
    )
    return n_evaluations


def refit(island, problem, members, iterations=12) -> int:
    return refit_members(island, members, problem, iterations)


def fresh_loss(island, member, problem) -> float:
    length = island.lengths[member]
    return program_loss(
        island.opcodes[member],
        island.arguments[member],
        length,
        island.constants[member],
        problem.XT,
        problem.y,
        problem.weights,
        np.empty((length, ROW_BLOCK)),
    )


def tree_depth(opcodes) -> int:
    """Depth of a postfix tree, a leaf having depth 1."""
    depths = []
    for opcode in opcodes:
        arity = int(ARITY[opcode])
        children = [depths.pop() for _ in range(arity)]
        depths.append(1 + max(children, default=0))
    return depths[-1]


def assert_valid_member(island, member, settings, n_features=N_FEATURES):
    """Well formed, allowed operators, within limits; slots numbered in order."""
    length = int(island.lengths[member])
    opcodes = island.opcodes[member, :length]
    arguments = island.arguments[member, :length]
    allowed = {VARIABLE, CONSTANT, *settings.binary_ops, *settings.unary_ops}

    assert 1 <= length <= island.opcodes.shape[1]
    height = 0
    next_slot = 0
    for opcode, argument in zip(opcodes, arguments, strict=True):
        assert opcode in allowed, f"member {member}: opcode {opcode} not allowed"
        arity = int(ARITY[opcode])
        assert height >= arity, f"member {member}: stack underflow"
        height += 1 - arity
        if opcode == VARIABLE:
            assert 0 <= argument < n_features
        elif opcode == CONSTANT:
            assert argument == next_slot
            next_slot += 1
    assert height == 1, f"member {member} leaves {height} values on the stack"

    complexity = int(settings.complexity_of[opcodes].sum())
    assert island.complexities[member] == complexity
    assert complexity <= settings.maxsize
    assert tree_depth(opcodes) <= settings.maxdepth
    assert not nesting_reference(opcodes, settings.no_nesting)


def assert_losses_are_fresh(island, problem):
    for member in range(island.size):
        expected = fresh_loss(island, member, problem)
        if np.isfinite(expected):
            np.testing.assert_allclose(island.losses[member], expected, rtol=1e-12)
        else:
            assert island.losses[member] == np.inf


def copy_island(island) -> Island:
    return dataclasses.replace(
        island,
        **{
            field.name: getattr(island, field.name).copy()
            for field in dataclasses.fields(island)
            if isinstance(getattr(island, field.name), np.ndarray)
        },
    )


def assert_same_island(first, second):
    for name in ("opcodes", "arguments", "constants", "lengths"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    for name in ("losses", "complexities", "births", "state"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert first.next_birth == second.next_birth


# ---------------------------------------------------------------------------
# random_population
# ---------------------------------------------------------------------------


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    maxsize=st.integers(3, 20),
    maxdepth=st.integers(2, 8),
    unary=st.sampled_from([(), ("sin",), ("sin", "exp", "square")]),
)
def test_random_population_members_are_valid(seed, maxsize, maxdepth, unary):
    settings = make_settings(maxsize=maxsize, maxdepth=maxdepth, unary_operators=unary)
    problem = make_problem(n_rows=20)
    island = new_island(settings, problem, population_size=16, seed=seed)

    for member in range(island.size):
        assert_valid_member(island, member, settings)
        assert island.lengths[member] <= min(maxsize, 7)
    assert_losses_are_fresh(island, problem)


def test_random_population_is_determined_by_the_state():
    settings = make_settings(maxsize=12)
    problem = make_problem(n_rows=20)
    first = new_island(settings, problem, seed=5)
    second = new_island(settings, problem, seed=5)
    other = new_island(settings, problem, seed=6)

    assert_same_island(first, second)
    assert not np.array_equal(first.opcodes, other.opcodes)


def test_random_population_respects_costly_operators():
    # sin costs 4: the limit is on complexity, not on the number of nodes.
    settings = make_settings(maxsize=6, unary_operators=("sin",))
    complexity_of = settings.complexity_of.copy()
    complexity_of[OPERATORS["sin"].opcode] = 4
    settings = dataclasses.replace(settings, complexity_of=complexity_of)
    island = new_island(settings, make_problem(n_rows=20), population_size=200)

    for member in range(island.size):
        assert_valid_member(island, member, settings)
    assert np.any(island.opcodes == OPERATORS["sin"].opcode)


# ---------------------------------------------------------------------------
# evolve_cycle
# ---------------------------------------------------------------------------


@st.composite
def cycle_cases(draw):
    """Settings, a problem and an island small enough for many examples."""
    maxsize = draw(st.integers(5, 20))
    settings = make_settings(
        maxsize=maxsize,
        maxdepth=draw(st.one_of(st.none(), st.integers(3, maxsize))),
        binary_operators=draw(st.sampled_from([("add", "mul"), ("add", "sub", "div")])),
        unary_operators=draw(
            st.sampled_from([(), ("sin",), ("exp", "log", "sqrt"), ("exp", "cos")])
        ),
        allow_nesting=draw(st.booleans()),
        crossover_probability=draw(st.sampled_from([0.0, 0.3])),
        optimize_probability=draw(st.sampled_from([0.0, 0.5])),
        tournament_size=draw(st.integers(1, 8)),
        parsimony=draw(st.sampled_from([0.0, 0.01])),
    )
    problem = make_problem(n_rows=40, weighted=draw(st.booleans()))
    seed = draw(st.integers(0, 2**32 - 1))
    island = new_island(settings, problem, draw(st.integers(8, 24)), seed)
    n_steps = draw(st.integers(1, 80))
    return settings, problem, island, n_steps


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(cycle_cases())
def test_members_stay_valid_and_their_losses_fresh_after_a_cycle(case):
    settings, problem, island, n_steps = case
    run_cycle(island, problem, settings, n_steps)

    for member in range(island.size):
        assert_valid_member(island, member, settings)
    assert_losses_are_fresh(island, problem)
    assert not np.any(np.isnan(island.losses))


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(cycle_cases())
def test_each_new_member_replaces_the_oldest(case):
    # Every birth number is used once, by the member that replaced the oldest
    # one; a rejected child gives the oldest slot a copy of its parent.
    settings, problem, island, n_steps = case
    births_before = island.births.copy()
    first_birth = island.next_birth
    n_evaluations = run_cycle(island, problem, settings, n_steps)

    n_births = island.next_birth - first_birth
    assert n_births >= 0
    if settings.crossover_probability == 0.0:
        assert n_births == n_steps
    else:
        assert n_births <= 2 * n_steps
    newest = np.arange(first_birth, island.next_birth)
    expected = np.sort(np.concatenate([births_before, newest]))[-island.size :]
    np.testing.assert_array_equal(np.sort(island.births), expected)

    assert n_evaluations >= 0
    if settings.optimize_probability == 0.0:
        assert n_evaluations <= 2 * n_steps
    if settings.crossover_probability == 0.0 and settings.optimize_probability == 0.0:
        assert n_evaluations <= n_steps


def test_same_state_gives_the_same_island():
    settings = make_settings(
        maxsize=15, crossover_probability=0.2, optimize_probability=0.3
    )
    problem = make_problem(weighted=True)
    island = new_island(settings, problem, seed=11)
    twin = copy_island(island)

    evaluations = [run_cycle(island, problem, settings, 300) for _ in range(3)]
    twin_evaluations = [run_cycle(twin, problem, settings, 300) for _ in range(3)]

    assert evaluations == twin_evaluations
    assert_same_island(island, twin)


def test_another_state_gives_another_island():
    settings = make_settings(maxsize=15)
    problem = make_problem()
    island = new_island(settings, problem, seed=11)
    twin = copy_island(island)
    twin.state[:] = new_state(np.random.default_rng(99))

    run_cycle(island, problem, settings, 200)
    run_cycle(twin, problem, settings, 200)
    assert not np.array_equal(island.opcodes, twin.opcodes)


def test_cycles_improve_the_island_on_a_simple_problem():
    settings = make_settings(
        maxsize=15, binary_operators=("add", "sub", "mul"), unary_operators=("sin",)
    )
    problem = make_problem()
    island = new_island(settings, problem, population_size=30, seed=0)
    start_best = island.losses.min()
    start_median = np.median(island.losses)

    n_evaluations = 0
    best = []
    for _ in range(15):
        n_evaluations += run_cycle(island, problem, settings, 200)
        best.append(island.losses.min())

    assert n_evaluations > 15 * 100
    assert min(best) <= start_best
    # Ageing may retire the best member, but the island as a whole moves on.
    assert best[-1] < 0.1 * start_best
    assert np.median(island.losses) < 0.1 * start_median


def test_strict_acceptance_rejects_every_worse_child():
    # Only "add a node" mutations, huge parsimony and a tiny alpha: every child
    # is worse and is rejected, so an island of single leaves stays one.
    settings = make_settings(
        maxsize=10,
        parsimony=1e6,
        crossover_probability=0.0,
        optimize_probability=0.0,
        alpha=1e-9,
        mutation_weights=np.array([0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0]),
    )
    problem = make_problem(n_rows=30)
    island = new_island(settings, problem, population_size=12, seed=3)
    island.lengths[:] = 1
    island.opcodes[:, 0] = VARIABLE
    island.arguments[:, 0] = 0
    island.complexities[:] = 1
    population_losses(
        island.opcodes,
        island.arguments,
        island.lengths,
        island.constants,
        problem.XT,
        problem.y,
        problem.weights,
        island.losses,
    )

    run_cycle(island, problem, settings, 100)
    np.testing.assert_array_equal(island.complexities, 1)
    assert_losses_are_fresh(island, problem)


# ---------------------------------------------------------------------------
# refit_members: fit_constants over chosen members
# ---------------------------------------------------------------------------


def test_refit_members_refits_only_the_chosen_members():
    settings = make_settings(maxsize=12)
    problem = make_problem(weighted=True)
    island = new_island(settings, problem, population_size=20, seed=2)
    before = copy_island(island)
    chosen = np.array([0, 3, 7, 19])

    n_evaluations = refit(island, problem, chosen)

    assert n_evaluations >= chosen.size
    others = np.setdiff1d(np.arange(island.size), chosen)
    np.testing.assert_array_equal(island.constants[others], before.constants[others])
    np.testing.assert_array_equal(island.losses[others], before.losses[others])
    np.testing.assert_array_equal(island.opcodes, before.opcodes)
    finite = np.isfinite(before.losses[chosen])
    assert np.all(island.losses[chosen][finite] <= before.losses[chosen][finite])
    assert_losses_are_fresh(island, problem)


def test_refit_members_finds_the_constants_of_a_linear_law():
    settings = make_settings(maxsize=12)
    problem = make_problem()
    island = new_island(settings, problem, population_size=8)
    # c0 * x0 * x1 + c1, started from (1, 0).
    nodes = [(VARIABLE, 0), (VARIABLE, 1), (OPERATORS["mul"].opcode, 0)]
    nodes += [(CONSTANT, 0), (OPERATORS["mul"].opcode, 0), (CONSTANT, 1)]
    nodes += [(OPERATORS["add"].opcode, 0)]
    island.opcodes[4, :7] = [opcode for opcode, _ in nodes]
    island.arguments[4, :7] = [argument for _, argument in nodes]
    island.constants[4, :2] = [1.0, 0.0]
    island.lengths[4] = 7

    assert refit(island, problem, [4], iterations=20) > 1
    np.testing.assert_allclose(island.constants[4, :2], [2.5, 1.0], atol=0.01)
    assert island.losses[4] < 2e-4
    np.testing.assert_allclose(island.losses[4], fresh_loss(island, 4, problem))


@pytest.mark.parametrize("iterations", [0, 1])
def test_refit_members_with_few_iterations_still_sets_the_loss(iterations):
    settings = make_settings(maxsize=12)
    problem = make_problem()
    island = new_island(settings, problem, population_size=10, seed=4)
    island.losses[:] = -1.0

    n_evaluations = refit(island, problem, np.arange(10), iterations=iterations)
    assert n_evaluations >= 10
    assert_losses_are_fresh(island, problem)
