"""The search driver end to end: reproducibility, stopping rules, callbacks.

Every search here is small (two islands of a few dozen members, short
cycles) and seeded, so each test runs in well under a second once the
kernels are compiled, and its outcome is the same on every run.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from scipy.optimize import curve_fit

from lawfinder.kernels.evaluate import program_loss
from lawfinder.model_selection import pareto_front
from lawfinder.search.driver import run_search
from lawfinder.search.island import CycleSettings
from lawfinder.search.options import SearchOptions
from lawfinder.search.result import SearchResult
from reference import evaluate_reference, nesting_reference

SMALL = SearchOptions(
    binary_operators=("add", "sub", "mul"),
    unary_operators=(),
    maxsize=12,
    populations=2,
    population_size=24,
    niterations=5,
    cycle_steps=100,
    random_state=3,
)


def search(X, y, weights=None, callbacks=(), **changes) -> SearchResult:
    options = dataclasses.replace(SMALL, **changes)
    return run_search(X, y, weights, options, callbacks)


def product_law(n_rows=200, seed=0, noise=0.0):
    """y = 2.5 x0 x1 + 1 on x in [-2, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n_rows, 2))
    y = 2.5 * X[:, 0] * X[:, 1] + 1.0 + noise * rng.normal(size=n_rows)
    return X, y


def fresh_loss(entry, X, y, weights=None) -> float:
    length = entry.opcodes.shape[0]
    return program_loss(
        entry.opcodes,
        entry.arguments,
        length,
        entry.constants,
        np.ascontiguousarray(X.T),
        y,
        np.empty(0) if weights is None else weights,
        np.empty((length, 256)),
    )


def assert_same_hall_of_fame(first: SearchResult, second: SearchResult):
    assert len(first.hall_of_fame) == len(second.hall_of_fame) > 0
    for a, b in zip(first.hall_of_fame, second.hall_of_fame, strict=True):
        assert a.complexity == b.complexity
        assert a.loss == b.loss
        np.testing.assert_array_equal(a.opcodes, b.opcodes)
        np.testing.assert_array_equal(a.arguments, b.arguments)
        np.testing.assert_array_equal(a.constants, b.constants)
        np.testing.assert_array_equal(a.constant_errors, b.constant_errors)
    assert first.n_evals == second.n_evals
    assert first.n_iterations == second.n_iterations


class Recorder:
    """A callback object that keeps every state and can stop at an iteration."""

    def __init__(self, stop_at=None, raise_at=None):
        self.states = []
        self.stop_at = stop_at
        self.raise_at = raise_at

    def on_iteration(self, state):
        self.states.append(state)
        if state.iteration == self.raise_at:
            raise KeyboardInterrupt
        return state.iteration == self.stop_at


# ---------------------------------------------------------------------------
# Reproducibility and results
# ---------------------------------------------------------------------------


def test_same_random_state_gives_the_same_hall_of_fame():
    X, y = product_law(noise=0.1)
    assert_same_hall_of_fame(search(X, y), search(X, y))


def test_threads_give_the_same_hall_of_fame_as_one_thread():
    # Islands evolve independently within an iteration, so how they are
    # scheduled must not matter.
    X, y = product_law(noise=0.1)
    assert_same_hall_of_fame(search(X, y), search(X, y, n_jobs=2))


def test_another_random_state_gives_another_search():
    X, y = product_law(noise=0.1)
    first = search(X, y)
    second = search(X, y, random_state=4)
    assert first.seed == 3 and second.seed == 4
    assert [e.loss for e in first.hall_of_fame] != [e.loss for e in second.hall_of_fame]


def test_the_seed_of_an_unseeded_search_reproduces_it():
    X, y = product_law(noise=0.1)
    first = search(X, y, random_state=None)
    assert isinstance(first.seed, int)
    assert_same_hall_of_fame(first, search(X, y, random_state=first.seed))


def test_two_threads_find_a_product_law():
    X, y = product_law()
    result = search(X, y, n_jobs=2, populations=4, niterations=20)

    best = min(result.hall_of_fame, key=lambda entry: entry.loss)
    assert best.loss < 1e-20
    assert best.complexity <= 9
    X_new, y_new = product_law(n_rows=50, seed=1)
    prediction = evaluate_reference(best.opcodes, best.arguments, best.constants, X_new)
    np.testing.assert_allclose(prediction, y_new, rtol=1e-8, atol=1e-8)


def test_hall_of_fame_losses_are_losses_on_all_rows():
    # Islands see a sample of 150 rows; the final refit uses all 600.
    X, y = product_law(n_rows=600, noise=0.2)
    result = search(X, y, max_rows=150)

    assert len(result.hall_of_fame) > 3
    for entry in result.hall_of_fame:
        np.testing.assert_allclose(entry.loss, fresh_loss(entry, X, y), rtol=1e-12)
        assert entry.constant_errors.shape == entry.constants.shape
    assert set(result.timings) >= {"start_islands", "evolve", "finish"}


def test_hall_of_fame_is_sorted_by_complexity_within_the_limit():
    X, y = product_law(noise=0.1)
    result = search(X, y, maxsize=9)
    complexities = [entry.complexity for entry in result.hall_of_fame]

    assert complexities == sorted(set(complexities))
    assert max(complexities) <= 9
    for entry in result.hall_of_fame:
        assert entry.complexity == entry.opcodes.shape[0]
    front = pareto_front(result.hall_of_fame)
    assert front[-1].loss == min(entry.loss for entry in result.hall_of_fame)


# ---------------------------------------------------------------------------
# Stopping rules
# ---------------------------------------------------------------------------


def test_stops_after_niterations():
    X, y = product_law(noise=0.1)
    result = search(X, y, niterations=3)
    assert result.stopped_by == "niterations"
    assert result.n_iterations == 3


def test_stops_at_the_timeout():
    X, y = product_law(noise=0.1)
    result = search(X, y, niterations=None, timeout=0.3)

    assert result.stopped_by == "timeout"
    assert result.n_iterations > 0
    assert 0.3 <= result.elapsed < 10.0


def test_stops_after_max_evals():
    X, y = product_law(noise=0.1)
    recorder = Recorder()
    result = search(X, y, niterations=None, max_evals=5000, callbacks=[recorder])

    assert result.stopped_by == "max_evals"
    evaluations = [state.n_evals for state in recorder.states]
    assert evaluations[-1] >= 5000
    assert len(evaluations) == 1 or evaluations[-2] < 5000
    assert result.n_evals >= evaluations[-1]


def test_stops_at_the_loss_threshold():
    X, y = product_law()
    result = search(X, y, niterations=200, loss_threshold=1e-12)

    assert result.stopped_by == "loss_threshold"
    assert result.n_iterations < 200
    assert min(entry.loss for entry in result.hall_of_fame) <= 1e-12


def test_niterations_is_checked_before_the_other_rules():
    X, y = product_law(noise=0.1)
    result = search(X, y, niterations=2, timeout=1000.0, max_evals=10**9)
    assert result.stopped_by == "niterations"


def test_options_without_a_stopping_rule_are_refused():
    with pytest.raises(ValueError, match="niterations, timeout or max_evals"):
        dataclasses.replace(SMALL, niterations=None)


# ---------------------------------------------------------------------------
# Callbacks and interrupts
# ---------------------------------------------------------------------------


def test_callbacks_see_every_iteration():
    X, y = product_law(noise=0.1)
    recorder = Recorder()
    calls = []
    result = search(X, y, niterations=6, callbacks=[recorder, calls.append])

    states = recorder.states
    assert [state.iteration for state in states] == [1, 2, 3, 4, 5, 6]
    assert len(calls) == len(states)
    assert all(call is state for call, state in zip(calls, states, strict=True))
    assert result.n_iterations == 6
    for earlier, later in zip(states[:-1], states[1:], strict=True):
        assert later.n_evals > earlier.n_evals
        assert later.elapsed >= earlier.elapsed
        best_before = {e.complexity: e.loss for e in earlier.hall_of_fame}
        best_after = {e.complexity: e.loss for e in later.hall_of_fame}
        assert set(best_before) <= set(best_after)
        for complexity, loss in best_before.items():
            assert best_after[complexity] <= loss
    assert all(state.niterations == 6 for state in states)
    assert states[2].fraction_done == pytest.approx(0.5)
    assert states[-1].evals_per_second > 0


def test_a_callback_stops_the_search():
    X, y = product_law(noise=0.1)
    stopper = Recorder(stop_at=3)
    watcher = Recorder()
    result = search(X, y, niterations=50, callbacks=[stopper, watcher])

    assert result.stopped_by == "callback"
    assert result.n_iterations == 3
    # Every callback still sees the iteration on which another one stopped.
    assert len(watcher.states) == 3
    assert result.hall_of_fame


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_interrupt_from_a_callback_keeps_the_hall_of_fame(n_jobs):
    X, y = product_law(noise=0.1)
    threads_before = set(threading.enumerate())
    recorder = Recorder(raise_at=2)
    result = search(X, y, niterations=50, n_jobs=n_jobs, callbacks=[recorder])

    assert result.stopped_by == "interrupt"
    assert result.n_iterations == 2
    assert len(recorder.states) == 2
    assert len(result.hall_of_fame) >= len(recorder.states[-1].hall_of_fame) > 0
    for entry in result.hall_of_fame:
        np.testing.assert_allclose(entry.loss, fresh_loss(entry, X, y), rtol=1e-12)
    assert set(threading.enumerate()) <= threads_before


def test_an_error_in_a_callback_propagates_and_closes_the_threads():
    X, y = product_law(noise=0.1)
    threads_before = set(threading.enumerate())

    def broken(state):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        search(X, y, n_jobs=2, callbacks=[broken])
    assert set(threading.enumerate()) <= threads_before


# ---------------------------------------------------------------------------
# Weights and standard errors
# ---------------------------------------------------------------------------


def _line_with_outliers(n_rows=120):
    rng = np.random.default_rng(2)
    X = rng.uniform(0.0, 4.0, size=(n_rows, 1))
    y = 3.0 * X[:, 0] + 1.0
    outliers = np.zeros(n_rows, dtype=bool)
    outliers[::10] = True
    y[outliers] += 20.0
    return X, y, outliers


def test_zero_weights_on_outliers_recover_the_clean_law():
    X, y, outliers = _line_with_outliers()
    weights = np.where(outliers, 0.0, 1.0)
    line_options = {"binary_operators": ("add", "mul"), "maxsize": 7}

    weighted = search(X, y, weights, niterations=10, **line_options)
    unweighted = search(X, y, None, niterations=10, **line_options)

    best = min(weighted.hall_of_fame, key=lambda entry: entry.loss)
    assert best.loss < 1e-20
    prediction = evaluate_reference(best.opcodes, best.arguments, best.constants, X)
    np.testing.assert_allclose(prediction, 3.0 * X[:, 0] + 1.0, rtol=1e-8)
    assert min(entry.loss for entry in unweighted.hall_of_fame) > 1.0
    np.testing.assert_allclose(
        best.loss, fresh_loss(best, X, y, weights), rtol=1e-6, atol=1e-25
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_standard_errors_agree_with_curve_fit(weighted):
    rng = np.random.default_rng(5)
    X = rng.uniform(0.0, 4.0, size=(150, 1))
    y = 2.5 * X[:, 0] + 1.0 + 0.2 * rng.normal(size=150)
    weights = rng.uniform(0.3, 3.0, size=150) if weighted else None
    result = search(
        X, y, weights, binary_operators=("add", "mul"), maxsize=5, niterations=8
    )

    # The line c0 x0 + c1, written in whatever form the search found.
    lines = [e for e in result.hall_of_fame if e.n_constants == 2]
    assert lines
    line = min(lines, key=lambda entry: entry.loss)
    assert np.all(np.isfinite(line.constant_errors))

    def model(x, *constants):
        return evaluate_reference(line.opcodes, line.arguments, np.array(constants), X)

    sigma = None if weights is None else 1.0 / np.sqrt(weights)
    fitted, covariance = curve_fit(model, X[:, 0], y, p0=line.constants, sigma=sigma)
    np.testing.assert_allclose(line.constants, fitted, rtol=1e-6)
    np.testing.assert_allclose(
        line.constant_errors, np.sqrt(np.diag(covariance)), rtol=1e-4
    )
    assert np.all(line.constant_errors < 0.1)


# ---------------------------------------------------------------------------
# A single island
# ---------------------------------------------------------------------------


def _overflowing_targets():
    # Squared residuals near 1e320 overflow: every program has an infinite loss.
    X = np.random.default_rng(0).uniform(1.0, 2.0, size=(50, 1))
    return X, 1e160 * X[:, 0]


def test_a_single_island_takes_migrants_from_the_hall_of_fame():
    X, y = product_law(noise=0.1)
    result = search(X, y, populations=1, niterations=4)
    assert result.stopped_by == "niterations"
    assert result.hall_of_fame


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_search_without_any_finite_loss_returns_an_empty_hall_of_fame():
    X, y = _overflowing_targets()
    result = search(X, y, populations=2, niterations=2)
    assert result.stopped_by == "niterations"
    assert result.hall_of_fame == []


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_single_island_without_any_finite_loss_returns_an_empty_hall_of_fame():
    X, y = _overflowing_targets()
    result = search(X, y, populations=1, niterations=2)
    assert result.stopped_by == "niterations"
    assert result.hall_of_fame == []


@pytest.mark.parametrize("allow_nesting", [False, True])
def test_nesting_of_dimensionless_functions_follows_the_option(allow_nesting):
    # sin(exp(x0)) needs one function inside another: only allowed on request.
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 2.0, size=(200, 1))
    y = np.sin(np.exp(X[:, 0]))
    flags = CycleSettings.from_options(SMALL).no_nesting

    result = search(
        X,
        y,
        unary_operators=("sin", "exp"),
        allow_nesting=allow_nesting,
        niterations=20,
    )

    nested = [nesting_reference(e.opcodes, flags) for e in result.hall_of_fame]
    assert any(nested) == allow_nesting
    if allow_nesting:
        best = min(result.hall_of_fame, key=lambda entry: entry.loss)
        assert best.loss < 1e-20
