"""The search driver: a short pipeline of named steps.

validate -> prepare data -> start islands -> (run cycles -> collect the hall of
fame -> migrate -> report) until a stop -> finish.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .compiling import ParallelCompile
from .executors import ThreadExecutor
from .hall_of_fame import HallOfFame
from .island import (
    CycleSettings,
    Island,
    SearchData,
    evolve_island,
    fit_island,
    start_island,
)
from .options import SearchOptions
from .result import SearchResult, SearchState
from .simplify import simplify_front

logger = logging.getLogger("lawfinder")

# The hall of fame is refitted harder than the islands: it is what users get.
HALL_OF_FAME_ITERATIONS = 50
FINAL_ITERATIONS = 200

# Time allowed for sympy's rewrites of the front: at most this many seconds.
# With a timeout, evolution stops early by this fraction of it (or by
# SIMPLIFY_SECONDS if less) and the rewrites get what is left, at least
# SIMPLIFY_LEAST_SECONDS.
SIMPLIFY_SECONDS = 5.0
SIMPLIFY_RESERVE = 0.05
SIMPLIFY_LEAST_SECONDS = 0.5

# A last cycle shorter than this fraction of a whole one is not worth starting.
SHORTEST_CYCLE = 0.05
# With a timeout, the first cycle is this fraction of a whole one.
FIRST_CYCLE = 0.1


@dataclass
class _Clock:
    """Wall time since the start, and time spent in each step."""

    start: float = field(default_factory=time.perf_counter)
    timings: dict = field(default_factory=dict)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def add(self, step: str, since: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - since


def run_search(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    options: SearchOptions,
    callbacks: Sequence = (),
    executor=None,
    units=None,
) -> SearchResult:
    """Search for programs that fit ``y`` from ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Finite float64 data, already validated.
    y : ndarray of shape (n_rows,)
    weights : ndarray of shape (n_rows,) or None
    options : SearchOptions
    callbacks : sequence of objects with ``on_iteration(state)``
        Called after every iteration; a ``True`` return stops the search.
    executor : ThreadExecutor, DaskExecutor or None
        Where islands run; by default threads, ``options.n_jobs`` of them.
    units : tuple of ndarray, optional
        ``(feature_units, target_units)``: exponents of the base dimensions of
        each feature (n_features x n_dims) and of the target. Candidates that
        combine units inconsistently are penalised by ``options.unit_penalty``
        for each violation.

    Returns
    -------
    SearchResult
    """
    clock = _Clock()
    seed = options.random_state
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    settings = CycleSettings.from_options(options)
    if units is not None:
        settings = settings.with_units(*units)
    full_data, search_data = _prepare_data(X, y, weights, options.max_rows, rng)

    own_executor = executor is None
    if own_executor:
        executor = ThreadExecutor(options.n_jobs)
    try:
        since = time.perf_counter()
        compiling = ParallelCompile.start()
        islands = [
            start_island(settings, search_data, options.population_size, rng)
            for _ in range(options.populations)
        ]
        compiling.finish()
        for island in islands:
            fit_island(island, search_data, settings)
        clock.add("start_islands", since)
        hall_of_fame = HallOfFame(settings.maxsize, settings.maxsize)
        extra_evals = _collect(hall_of_fame, islands, search_data)

        iteration, stopped_by, extra_evals = _run_iterations(
            islands,
            hall_of_fame,
            search_data,
            settings,
            options,
            callbacks,
            executor,
            rng,
            clock,
            extra_evals,
        )
    finally:
        if own_executor:
            executor.close()

    since = time.perf_counter()
    try:
        extra_evals += _finish(hall_of_fame, search_data, full_data)
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    clock.add("finish", since)
    entries = hall_of_fame.entries(full_data)
    if options.simplify and stopped_by != "interrupt":
        since = time.perf_counter()
        entries = _simplify(entries, full_data, settings, options, clock)
        clock.add("simplify", since)
    n_evals = sum(island.n_evals for island in islands) + extra_evals
    logger.info("search stopped by %s after %d iterations", stopped_by, iteration)
    return SearchResult(
        hall_of_fame=entries,
        n_evals=int(n_evals),
        n_iterations=iteration,
        elapsed=clock.elapsed(),
        stopped_by=stopped_by,
        timings=clock.timings,
        seed=seed,
    )


def _prepare_data(X, y, weights, max_rows, rng) -> tuple[SearchData, SearchData]:
    """The full data, and the rows the islands see (a random subset if large)."""
    weights = np.empty(0) if weights is None else np.ascontiguousarray(weights, float)
    full = as_search_data(X, y, weights)
    if X.shape[0] <= max_rows:
        return full, full
    rows = np.sort(rng.choice(X.shape[0], size=max_rows, replace=False))
    subset_weights = weights[rows] if weights.size else weights
    return full, as_search_data(X[rows], y[rows], subset_weights)


def as_search_data(X, y, weights) -> SearchData:
    """Data as the kernels take it: ``X`` transposed, contiguous float64."""
    XT = np.ascontiguousarray(X.T, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if weights.size:
        mean = np.average(y, weights=weights)
        variance = np.average((y - mean) ** 2, weights=weights)
    else:
        variance = float(np.var(y))
    # A constant target has no variance to normalise by; any scale works.
    loss_scale = variance if variance > 0 else 1.0
    return SearchData(XT=XT, y=y, weights=weights, loss_scale=float(loss_scale))


def _run_iterations(
    islands,
    hall_of_fame,
    data,
    settings,
    options,
    callbacks,
    executor,
    rng,
    clock,
    extra_evals,
):
    """Evolve, collect and migrate until a stopping rule fires."""
    iteration = 0
    deadline = _search_deadline(options)
    pace = None  # seconds per step of a cycle, measured on each iteration
    while True:
        stopped_by = _stop_reason(
            iteration, islands, hall_of_fame, options, clock, extra_evals, deadline
        )
        if stopped_by:
            return iteration, stopped_by, extra_evals
        cycle = _cycle_before(deadline, clock, pace, settings, first=iteration == 0)
        if cycle is None:
            return iteration, "timeout", extra_evals
        try:
            since = time.perf_counter()
            islands[:] = executor.map(evolve_island, islands, data, cycle)
            clock.add("evolve", since)
            pace = (time.perf_counter() - since) / cycle.cycle_steps
            since = time.perf_counter()
            extra_evals += _collect(hall_of_fame, islands, data)
            _migrate(islands, hall_of_fame, options.migration_fraction, rng, settings)
            clock.add("hall_of_fame", since)
            iteration += 1
            stop = _report(
                callbacks,
                iteration,
                islands,
                hall_of_fame,
                options,
                clock,
                extra_evals,
            )
        except KeyboardInterrupt:
            logger.warning("interrupted: keeping the hall of fame found so far")
            return iteration, "interrupt", extra_evals
        if stop:
            return iteration, "callback", extra_evals


def _search_deadline(options) -> float | None:
    """Seconds after the start at which evolution ends, leaving time to finish."""
    if options.timeout is None:
        return None
    if not options.simplify:
        return options.timeout
    return options.timeout - min(SIMPLIFY_SECONDS, SIMPLIFY_RESERVE * options.timeout)


def _cycle_before(deadline, clock, pace, settings, first=False):
    """The settings of the next iteration, shortened near the deadline.

    With a deadline, the first cycle is FIRST_CYCLE of a whole one: it
    measures ``pace``, the seconds per step of a cycle, so that a short
    timeout is kept from the start. A whole cycle that would not end before
    the deadline at that pace is cut to half the steps that would: programs
    grow over a search, and so does the time a step takes. None when too
    little time is left for a useful cycle (the first always runs).
    """
    if deadline is None:
        return settings
    if pace is None:
        steps = max(1, int(FIRST_CYCLE * settings.cycle_steps))
        return dataclasses.replace(settings, cycle_steps=steps)
    steps = (deadline - clock.elapsed()) / pace
    if steps >= settings.cycle_steps:
        return settings
    steps /= 2
    shortest = SHORTEST_CYCLE * settings.cycle_steps
    if steps < shortest:
        if not first:
            return None
        steps = shortest
    return dataclasses.replace(settings, cycle_steps=max(1, int(steps)))


def _stop_reason(
    iteration, islands, hall_of_fame, options, clock, extra_evals, deadline
):
    if options.niterations is not None and iteration >= options.niterations:
        return "niterations"
    if deadline is not None and clock.elapsed() >= deadline:
        return "timeout"
    n_evals = sum(island.n_evals for island in islands) + extra_evals
    if options.max_evals is not None and n_evals >= options.max_evals:
        return "max_evals"
    if (
        options.loss_threshold is not None
        and np.min(hall_of_fame.losses) <= options.loss_threshold
    ):
        return "loss_threshold"
    return ""


def _collect(hall_of_fame: HallOfFame, islands: list[Island], data) -> int:
    """Merge every island's best members into the hall of fame and refit them."""
    changed = [hall_of_fame.update(island) for island in islands]
    slots = np.unique(np.concatenate(changed)) if changed else np.empty(0, int)
    if slots.size == 0:
        return 0
    return hall_of_fame.refit(slots, data, HALL_OF_FAME_ITERATIONS)


def _migrate(islands: list[Island], hall_of_fame, fraction, rng, settings) -> None:
    """Replace a few random members of each island by hall-of-fame programs
    and by the best members of the other islands."""
    occupied = hall_of_fame.occupied()
    for target_index, target in enumerate(islands):
        n_migrants = max(1, int(round(fraction * target.size)))
        slots = rng.choice(target.size, size=n_migrants, replace=False)
        for slot in slots:
            if occupied.size and (len(islands) == 1 or rng.random() < 0.5):
                complexity = rng.choice(occupied)
                _copy_member(target, slot, hall_of_fame, complexity, complexity)
                target.penalties[slot] = settings.penalty(
                    target.opcodes[slot], target.arguments[slot], target.lengths[slot]
                )
                continue
            if len(islands) == 1:
                return
            donor_index = rng.integers(len(islands) - 1)
            donor_index += donor_index >= target_index
            donor = islands[donor_index]
            member = int(np.argmin(donor.losses))
            _copy_member(target, slot, donor, member, donor.complexities[member])
            target.penalties[slot] = donor.penalties[member]


def _copy_member(target: Island, slot, source, index, complexity) -> None:
    target.opcodes[slot] = source.opcodes[index]
    target.arguments[slot] = source.arguments[index]
    target.constants[slot] = source.constants[index]
    target.lengths[slot] = source.lengths[index]
    target.losses[slot] = source.losses[index]
    target.complexities[slot] = complexity


def _report(callbacks, iteration, islands, hall_of_fame, options, clock, extra_evals):
    """Hand a snapshot to every callback; True when one asks to stop."""
    if not callbacks:
        return False
    elapsed = clock.elapsed()
    n_evals = sum(island.n_evals for island in islands) + extra_evals
    state = SearchState(
        iteration=iteration,
        niterations=options.niterations,
        elapsed=elapsed,
        timeout=options.timeout,
        n_evals=int(n_evals),
        evals_per_second=n_evals / elapsed if elapsed > 0 else 0.0,
        hall_of_fame=hall_of_fame.entries(),
    )
    stop = False
    for callback in callbacks:
        on_iteration = getattr(callback, "on_iteration", callback)
        stop = bool(on_iteration(state)) or stop
    return stop


def _simplify(entries, data, settings, options, clock):
    """The hall of fame with sympy's simpler forms of the front's equations."""
    seconds = SIMPLIFY_SECONDS
    if options.timeout is not None:
        left = options.timeout - clock.elapsed()
        seconds = min(seconds, max(left, SIMPLIFY_LEAST_SECONDS))
    allowed = np.concatenate([settings.binary_ops, settings.unary_ops])
    try:
        return simplify_front(
            entries, data, allowed, settings.complexity_of, seconds, FINAL_ITERATIONS
        )
    except KeyboardInterrupt:
        return entries


def _finish(hall_of_fame: HallOfFame, search_data, full_data) -> int:
    """Refit every hall-of-fame program on all rows; returns evaluations used."""
    slots = hall_of_fame.occupied()
    if full_data is not search_data:
        hall_of_fame.losses[slots] = np.inf
    return hall_of_fame.refit(slots, full_data, FINAL_ITERATIONS)
