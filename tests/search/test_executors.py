"""Where islands run: threads in this process, or a real local Dask cluster.

The Dask tests start a ``distributed.LocalCluster`` of two worker processes
once for the module; islands really travel to the workers and back, so a
seeded search must come out exactly as it does in threads.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time

import numpy as np
import pytest

from lawfinder.search.driver import run_search
from lawfinder.search.executors import DaskExecutor, ThreadExecutor
from lawfinder.search.island import (
    CycleSettings,
    SearchData,
    evolve_island,
    fit_island,
    start_island,
)
from lawfinder.search.options import SearchOptions

distributed = pytest.importorskip("distributed")

OPTIONS = SearchOptions(
    binary_operators=("add", "sub", "mul"),
    unary_operators=(),
    maxsize=12,
    populations=4,
    population_size=24,
    niterations=20,
    cycle_steps=100,
    random_state=3,
)


def product_law(n_rows=200, seed=0):
    """y = 2.5 x0 x1 + 1 on x in [-2, 2]."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n_rows, 2))
    return X, 2.5 * X[:, 0] * X[:, 1] + 1.0


def islands_and_data(n_islands=3, seed=0):
    X, y = product_law()
    data = SearchData(np.ascontiguousarray(X.T), y, np.empty(0), float(np.var(y)))
    settings = CycleSettings.from_options(OPTIONS)
    rng = np.random.default_rng(seed)
    islands = [start_island(settings, data, 24, rng) for _ in range(n_islands)]
    for island in islands:
        fit_island(island, data, settings)
    return islands, data, settings


def copies(islands):
    """Independent copies, random generators included."""
    return [copy.deepcopy(island) for island in islands]


def assert_same_islands(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        for name in ("opcodes", "arguments", "constants", "lengths", "losses"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_array_equal(a.births, b.births)
        np.testing.assert_array_equal(a.state, b.state)
        assert a.next_birth == b.next_birth
        assert a.n_evals == b.n_evals


def assert_same_result(first, second):
    assert first.n_evals == second.n_evals
    assert first.stopped_by == second.stopped_by
    assert len(first.hall_of_fame) == len(second.hall_of_fame) > 0
    for a, b in zip(first.hall_of_fame, second.hall_of_fame, strict=True):
        assert (a.complexity, a.loss) == (b.complexity, b.loss)
        np.testing.assert_array_equal(a.opcodes, b.opcodes)
        np.testing.assert_array_equal(a.constants, b.constants)


# ---------------------------------------------------------------------------
# ThreadExecutor
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_thread_executor_returns_results_in_order(n_jobs):
    def late_for_small(value, offset, scale):
        time.sleep(0.01 * (5 - value))
        return scale * value + offset

    with ThreadExecutor(n_jobs) as executor:
        results = executor.map(late_for_small, range(5), 10, 2)
    assert results == [10, 12, 14, 16, 18]


def test_thread_executor_runs_tasks_at_the_same_time():
    # Both tasks must be inside the function at once to pass the barrier.
    barrier = threading.Barrier(2, timeout=20)

    def meet(index):
        barrier.wait()
        return threading.get_ident()

    with ThreadExecutor(2) as executor:
        identities = executor.map(meet, [0, 1])
    assert len(set(identities)) == 2
    assert threading.get_ident() not in identities


def test_thread_executor_with_one_job_runs_in_the_calling_thread():
    executor = ThreadExecutor(1)
    assert (
        executor.map(lambda _: threading.get_ident(), [0, 1])
        == [threading.get_ident()] * 2
    )
    executor.close()


def test_thread_executor_lets_running_tasks_finish_before_raising():
    finished = []

    def task(index):
        if index == 0:
            raise ValueError("island 0 failed")
        time.sleep(0.2)
        finished.append(index)
        return index

    with ThreadExecutor(2) as executor:
        with pytest.raises(ValueError, match="island 0 failed"):
            executor.map(task, [0, 1])
        assert finished == [1]


def test_thread_executor_refuses_work_once_closed():
    executor = ThreadExecutor(2)
    assert executor.map(abs, [-1, -2]) == [1, 2]
    executor.close()
    with pytest.raises(RuntimeError):
        executor.map(abs, [-1, -2])


def test_thread_executor_evolves_islands_like_a_loop():
    islands, data, settings = islands_and_data()
    expected = [evolve_island(island, data, settings) for island in copies(islands)]

    with ThreadExecutor(2) as executor:
        evolved = executor.map(evolve_island, copies(islands), data, settings)
    assert_same_islands(evolved, expected)


def test_run_search_leaves_a_given_executor_open():
    X, y = product_law()
    options = dataclasses.replace(OPTIONS, niterations=3)
    with ThreadExecutor(2) as executor:
        first = run_search(X, y, None, options, executor=executor)
        second = run_search(X, y, None, options, executor=executor)
    assert_same_result(first, second)
    assert_same_result(first, run_search(X, y, None, options))


# ---------------------------------------------------------------------------
# DaskExecutor on a real local cluster
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_executor_returns_results_in_order(client):
    with DaskExecutor(client) as executor:
        results = executor.map(np.add, [1.0, 2.0, 3.0, 4.0], 10.0)
    assert results == [11.0, 12.0, 13.0, 14.0]


def test_dask_executor_evolves_islands_on_two_workers(client):
    islands, data, settings = islands_and_data(n_islands=4)
    expected = [evolve_island(island, data, settings) for island in copies(islands)]

    with DaskExecutor(client) as executor:
        evolved = executor.map(evolve_island, copies(islands), data, settings)
        # A second cycle reuses the data already scattered to the workers.
        evolved = executor.map(evolve_island, evolved, data, settings)
    expected = [evolve_island(island, data, settings) for island in expected]

    assert_same_islands(evolved, expected)
    assert len(client.scheduler_info()["workers"]) == 2


def test_dask_search_matches_the_threaded_search(client):
    X, y = product_law()
    with DaskExecutor(client) as executor:
        on_dask = run_search(X, y, None, OPTIONS, executor=executor)
    in_threads = run_search(X, y, None, OPTIONS)

    assert_same_result(on_dask, in_threads)
    assert on_dask.stopped_by == "niterations"
    best = min(on_dask.hall_of_fame, key=lambda entry: entry.loss)
    assert best.loss < 1e-20
