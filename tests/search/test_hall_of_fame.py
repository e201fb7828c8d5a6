"""The hall of fame: best program per complexity, its entries and their errors.

Islands are built by hand from known programs, so which member must win at
each complexity is known in advance; standard errors are compared with those
of ``scipy.optimize.curve_fit`` and of ordinary least squares.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

from lawfinder.kernels.evaluate import program_loss
from lawfinder.model_selection import pareto_front
from lawfinder.search.hall_of_fame import HallOfFame, standard_errors
from lawfinder.search.island import Island, SearchData
from reference import evaluate_reference
from strategies import program

MAXSIZE = 9
NO_WEIGHTS = np.empty(0)


def island_of(programs, losses, capacity=MAXSIZE) -> Island:
    """An island holding the given programs; complexity is the node count."""
    size = len(programs)
    island = Island(
        opcodes=np.zeros((size, capacity), dtype=np.int64),
        arguments=np.zeros((size, capacity), dtype=np.int64),
        constants=np.zeros((size, capacity)),
        lengths=np.zeros(size, dtype=np.int64),
        losses=np.asarray(losses, dtype=float),
        complexities=np.zeros(size, dtype=np.int64),
        births=np.arange(size, dtype=np.int64),
        state=np.ones(4, dtype=np.uint64),
        rng=np.random.default_rng(0),
    )
    for member, (opcodes, arguments, constants) in enumerate(programs):
        island.opcodes[member, : opcodes.size] = opcodes
        island.arguments[member, : opcodes.size] = arguments
        island.constants[member, : constants.size] = constants
        island.lengths[member] = opcodes.size
        island.complexities[member] = opcodes.size
    return island


def search_data(X, y, weights=NO_WEIGHTS) -> SearchData:
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    return SearchData(np.ascontiguousarray(X.T), np.asarray(y, float), weights, 1.0)


def loss_of(opcodes, arguments, constants, data) -> float:
    return program_loss(
        opcodes,
        arguments,
        opcodes.size,
        constants,
        data.XT,
        data.y,
        data.weights,
        np.empty((opcodes.size, 256)),
    )


# Programs of complexity 1, 3 and 5, two of each, told apart by constants.
LEAF_A = program("x0")
LEAF_B = program(2.0)
SUM_A = program("x0", 1.0, "add")
SUM_B = program("x0", 2.0, "mul")
LINE_A = program("x0", 3.0, "mul", 1.0, "add")
LINE_B = program("x0", 2.0, "mul", 0.5, "sub")


def test_update_keeps_the_best_member_of_each_complexity():
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    island = island_of(
        [LEAF_A, SUM_A, LEAF_B, LINE_A, SUM_B, LINE_B], [4.0, 3.0, 5.0, 2.0, 1.5, 0.5]
    )

    changed = hall_of_fame.update(island)

    np.testing.assert_array_equal(np.sort(changed), [1, 3, 5])
    np.testing.assert_array_equal(hall_of_fame.occupied(), [1, 3, 5])
    np.testing.assert_array_equal(hall_of_fame.losses[[1, 3, 5]], [4.0, 1.5, 0.5])
    entries = hall_of_fame.entries()
    for entry, (opcodes, arguments, constants) in zip(
        entries, [LEAF_A, SUM_B, LINE_B], strict=True
    ):
        np.testing.assert_array_equal(entry.opcodes, opcodes)
        np.testing.assert_array_equal(entry.arguments, arguments)
        np.testing.assert_array_equal(entry.constants, constants)


def test_update_replaces_only_strictly_better_programs():
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    hall_of_fame.update(island_of([LEAF_A, SUM_A, LINE_A], [4.0, 3.0, 2.0]))

    # Equal at complexity 1, worse at 3, better at 5.
    changed = hall_of_fame.update(island_of([LEAF_B, SUM_B, LINE_B], [4.0, 3.5, 1.0]))

    np.testing.assert_array_equal(changed, [5])
    np.testing.assert_array_equal(hall_of_fame.losses[[1, 3, 5]], [4.0, 3.0, 1.0])
    first, second, third = hall_of_fame.entries()
    np.testing.assert_array_equal(first.opcodes, LEAF_A[0])
    np.testing.assert_array_equal(second.constants, SUM_A[2])
    np.testing.assert_array_equal(third.constants, LINE_B[2])


def test_update_ignores_members_with_infinite_loss():
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    changed = hall_of_fame.update(island_of([LEAF_A, SUM_A], [np.inf, 2.0]))

    np.testing.assert_array_equal(changed, [3])
    np.testing.assert_array_equal(hall_of_fame.occupied(), [3])
    assert [entry.complexity for entry in hall_of_fame.entries()] == [3]


def test_update_from_many_islands_is_the_minimum_per_complexity():
    rng = np.random.default_rng(7)
    pool = [LEAF_A, LEAF_B, SUM_A, SUM_B, LINE_A, LINE_B]
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    best = {}
    for _ in range(6):
        chosen = rng.integers(len(pool), size=5)
        losses = rng.uniform(0.0, 10.0, size=5)
        hall_of_fame.update(island_of([pool[i] for i in chosen], losses))
        for i, loss in zip(chosen, losses, strict=True):
            complexity = pool[i][0].size
            best[complexity] = min(best.get(complexity, np.inf), loss)

    assert list(hall_of_fame.occupied()) == sorted(best)
    for complexity, loss in best.items():
        assert hall_of_fame.losses[complexity] == loss


def test_entries_are_trimmed_copies():
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    hall_of_fame.update(island_of([LINE_A], [1.0]))
    (entry,) = hall_of_fame.entries()

    assert entry.complexity == 5
    assert entry.loss == 1.0
    assert entry.n_constants == 2
    assert entry.opcodes.shape == (5,)
    assert np.all(np.isnan(entry.constant_errors))
    assert entry.constant_errors.shape == (2,)

    entry.constants[:] = 99.0
    entry.opcodes[:] = 0
    (again,) = hall_of_fame.entries()
    np.testing.assert_array_equal(again.constants, LINE_A[2])
    np.testing.assert_array_equal(again.opcodes, LINE_A[0])


def test_refit_fits_only_the_given_slots():
    X = np.linspace(-1.0, 2.0, 50)
    y = 3.0 * X + 1.0
    data = search_data(X, y)
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    # Deliberately wrong constants; the losses are recomputed by the refit.
    hall_of_fame.update(island_of([SUM_B, LINE_B], [1e9, 1e9]))

    n_evaluations = hall_of_fame.refit(np.array([5]), data, 30)

    assert n_evaluations > 1
    assert hall_of_fame.losses[3] == 1e9
    np.testing.assert_array_equal(hall_of_fame.constants[3, :1], SUM_B[2])
    np.testing.assert_allclose(hall_of_fame.constants[5, :2], [3.0, -1.0], rtol=1e-8)
    assert hall_of_fame.losses[5] < 1e-20


def test_entries_on_the_pareto_front_improve_with_complexity():
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    hall_of_fame.update(
        island_of([LEAF_A, SUM_A, LINE_A, program("x0", "sin")], [4.0, 3.0, 3.5, 5.0])
    )
    entries = hall_of_fame.entries()
    front = pareto_front(entries)

    assert [entry.complexity for entry in entries] == [1, 2, 3, 5]
    assert [entry.complexity for entry in front] == [1, 3]
    for entry in entries:
        dominating = [
            kept
            for kept in front
            if kept.complexity <= entry.complexity and kept.loss <= entry.loss
        ]
        assert dominating, f"complexity {entry.complexity} is not dominated"


# ---------------------------------------------------------------------------
# standard_errors
# ---------------------------------------------------------------------------


def _line_data(weighted, n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 4.0, n_rows)
    y = 3.0 * x + 1.0 + 0.3 * rng.normal(size=n_rows)
    weights = rng.uniform(0.2, 3.0, size=n_rows) if weighted else NO_WEIGHTS
    return x, y, weights


@pytest.mark.parametrize("weighted", [False, True])
def test_standard_errors_of_a_line_match_least_squares(weighted):
    x, y, weights = _line_data(weighted)
    w = weights if weighted else np.ones_like(y)
    design = np.column_stack([x, np.ones_like(x)])
    normal = design.T @ (w[:, None] * design)
    constants = np.linalg.solve(normal, design.T @ (w * y))
    residual = y - design @ constants
    variance = np.sum(w * residual**2) / (y.size - 2)
    expected = np.sqrt(np.diag(np.linalg.inv(normal)) * variance)

    opcodes, arguments, _ = LINE_A
    errors = standard_errors(opcodes, arguments, constants, search_data(x, y, weights))
    np.testing.assert_allclose(errors, expected, rtol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_standard_errors_of_a_nonlinear_model_match_curve_fit(weighted):
    # c1 * exp(c0 * x0) + c2, fitted by scipy; errors from its covariance.
    opcodes, arguments, _ = program("x0", 0.5, "mul", "exp", 2.0, "mul", 1.0, "add")
    rng = np.random.default_rng(4)
    x = np.linspace(0.0, 2.0, 60)
    y = 2.0 * np.exp(0.7 * x) + 1.0 + 0.1 * rng.normal(size=60)
    weights = rng.uniform(0.5, 2.0, size=60) if weighted else NO_WEIGHTS

    def model(x, *constants):
        X = x[:, None]
        return evaluate_reference(opcodes, arguments, np.array(constants), X)

    sigma = 1.0 / np.sqrt(weights) if weighted else None
    fitted, covariance = curve_fit(
        model, x, y, p0=[0.5, 2.0, 1.0], sigma=sigma, xtol=1e-14, ftol=1e-14
    )

    errors = standard_errors(opcodes, arguments, fitted, search_data(x, y, weights))
    np.testing.assert_allclose(errors, np.sqrt(np.diag(covariance)), rtol=1e-4)


def test_standard_errors_are_nan_without_spare_rows():
    opcodes, arguments, _ = LINE_A
    errors = standard_errors(
        opcodes, arguments, np.array([3.0, 1.0]), search_data([0.0, 1.0], [1.0, 4.5])
    )
    assert errors.shape == (2,)
    assert np.all(np.isnan(errors))


def test_standard_errors_are_nan_when_constants_are_not_identifiable():
    # In c0 * c1 * x0 only the product is determined: J^T J is singular.
    opcodes, arguments, _ = program("x0", 2.0, "mul", 3.0, "mul")
    x, y, _ = _line_data(False)
    errors = standard_errors(
        opcodes, arguments, np.array([2.0, 3.0]), search_data(x, y)
    )
    assert np.all(np.isnan(errors))


def test_standard_errors_are_nan_when_the_output_is_not_finite():
    opcodes, arguments, _ = program("x0", 1.0, "sub", "log", 2.0, "mul")
    x, y, _ = _line_data(False)
    data = search_data(x, y)
    assert loss_of(opcodes, arguments, np.array([1.0, 2.0]), data) == np.inf

    errors = standard_errors(opcodes, arguments, np.array([1.0, 2.0]), data)
    assert np.all(np.isnan(errors))


def test_entries_with_data_carry_standard_errors():
    x, y, _ = _line_data(False)
    data = search_data(x, y)
    hall_of_fame = HallOfFame(MAXSIZE, MAXSIZE)
    hall_of_fame.update(island_of([LEAF_A, LINE_A], [10.0, 10.0]))
    hall_of_fame.refit(hall_of_fame.occupied(), data, 50)

    leaf, line = hall_of_fame.entries(data)

    assert leaf.constant_errors.shape == (0,)
    assert np.all(np.isfinite(line.constant_errors))
    expected = standard_errors(line.opcodes, line.arguments, line.constants, data)
    np.testing.assert_array_equal(line.constant_errors, expected)
    np.testing.assert_allclose(line.constants, [3.0, 1.0], atol=0.2)
    assert np.all(line.constant_errors < 0.2)
