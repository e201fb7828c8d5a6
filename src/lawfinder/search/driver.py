"""The search driver: a short pipeline of named steps.

validate -> prepare data -> start islands -> (run cycles -> collect the hall of
fame -> migrate -> report) until a stop -> finish.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..operators import BY_OPCODE, CONSTANT, VARIABLE
from .checkpoint import (
    SearchSnapshot,
    copy_hall_of_fame,
    copy_snapshot,
    data_fingerprint,
)
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
# Without a timeout, a deadline that a busy machine does not reach, so that a
# fit with a fixed seed is reproducible; it only guards against sympy hanging.
SIMPLIFY_SECONDS_UNTIMED = 30.0
SIMPLIFY_RESERVE = 0.05
SIMPLIFY_LEAST_SECONDS = 0.5

# A last cycle shorter than this fraction of a whole one is not worth starting.
SHORTEST_CYCLE = 0.05
# With a timeout, the first cycle is this fraction of a whole one.
FIRST_CYCLE = 0.1


@dataclass
class _Clock:
    """Wall time of this run and of the runs it continues, and time per step."""

    before: float = 0.0
    start: float = field(default_factory=time.perf_counter)
    timings: dict = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds of the whole search, earlier runs included."""
        return self.before + self.this_run()

    def this_run(self) -> float:
        """Seconds since this run started: what its timeout counts."""
        return time.perf_counter() - self.start

    def add(self, step: str, since: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - since


@dataclass
class _Search:
    """What a running search changes, and the counts it started from."""

    islands: list[Island]
    hall_of_fame: HallOfFame
    data: SearchData  # the rows the islands see
    rows: np.ndarray  # which rows those are; empty for all
    rng: np.random.Generator
    seed: int
    fingerprint: str
    clock: _Clock
    iteration: int = 0
    extra_evals: int = 0
    first_iteration: int = 0
    first_evals: int = 0

    @property
    def n_evals(self) -> int:
        return int(sum(island.n_evals for island in self.islands) + self.extra_evals)

    def snapshot(self, hall_of_fame: HallOfFame | None = None) -> SearchSnapshot:
        """The search now; it shares the arrays of the running search."""
        return SearchSnapshot(
            islands=self.islands,
            hall_of_fame=self.hall_of_fame if hall_of_fame is None else hall_of_fame,
            iteration=self.iteration,
            extra_evals=self.extra_evals,
            elapsed=self.clock.elapsed(),
            rng=self.rng,
            seed=self.seed,
            rows=self.rows,
            data_fingerprint=self.fingerprint,
            timings=self.clock.timings,
        )


def run_search(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    options: SearchOptions,
    callbacks: Sequence = (),
    executor=None,
    units=None,
    initial_state: SearchSnapshot | None = None,
    checkpoint: Callable[[SearchSnapshot], object] | None = None,
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
    initial_state : SearchSnapshot, optional
        A search to continue, such as the ``state`` of an earlier result: its
        islands, hall of fame, counters and random generators replace a fresh
        start (it is copied, not changed). The stopping rules count from it
        (``niterations`` more iterations, ``timeout`` more seconds,
        ``max_evals`` more evaluations) and the counts reported continue its
        own. On other data than its own, every program is refitted first. Its
        islands must match ``populations``, ``population_size`` and
        ``maxsize``, and use only the allowed operators and features.
    checkpoint : callable, optional
        Called with a `SearchSnapshot` after every iteration, for example to
        save it; the snapshot shares the search's arrays, so it is valid only
        during the call.

    Returns
    -------
    SearchResult
        With ``state``, the search as it ended, to continue it later.
    """
    settings = CycleSettings.from_options(options)
    if units is not None:
        settings = settings.with_units(*units)
    fingerprint = data_fingerprint(X, y, weights)
    if initial_state is None:
        clock = _Clock()
        seed = options.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**32)
        rng = np.random.default_rng(seed)
        rows = None
    else:
        check_continuable(initial_state, options, settings, X.shape[1])
        initial_state = copy_snapshot(initial_state)
        clock = _Clock(before=initial_state.elapsed, timings=initial_state.timings)
        seed, rng = initial_state.seed, initial_state.rng
        same_data = initial_state.data_fingerprint == fingerprint
        rows = initial_state.rows if same_data else None
    full_data, search_data, rows = _prepare_data(
        X, y, weights, options.max_rows, rng, rows
    )

    own_executor = executor is None
    if own_executor:
        executor = ThreadExecutor(options.n_jobs)
    try:
        since = time.perf_counter()
        if initial_state is None:
            islands, hall_of_fame, extra_evals = _start(
                settings, search_data, options, rng
            )
            first_iteration = 0
        else:
            islands, hall_of_fame, extra_evals = _resume(
                initial_state, settings, search_data, same_data
            )
            first_iteration = initial_state.iteration
        search = _Search(
            islands,
            hall_of_fame,
            search_data,
            rows,
            rng,
            seed,
            fingerprint,
            clock,
            iteration=first_iteration,
            extra_evals=extra_evals,
            first_iteration=first_iteration,
        )
        search.first_evals = search.n_evals
        clock.add("start_islands", since)
        stopped_by = _run_iterations(
            search, settings, options, callbacks, executor, checkpoint
        )
    finally:
        if own_executor:
            executor.close()

    # The state to continue from keeps the hall of fame as the islands saw it.
    hall_of_fame = search.hall_of_fame
    kept = copy_hall_of_fame(hall_of_fame)
    since = time.perf_counter()
    try:
        search.extra_evals += _finish(hall_of_fame, search_data, full_data)
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    clock.add("finish", since)
    entries = hall_of_fame.entries(full_data)
    if options.simplify and stopped_by != "interrupt":
        since = time.perf_counter()
        entries = _simplify(entries, full_data, settings, options, clock)
        clock.add("simplify", since)
    logger.info(
        "search stopped by %s after %d iterations", stopped_by, search.iteration
    )
    return SearchResult(
        hall_of_fame=entries,
        n_evals=search.n_evals,
        n_iterations=search.iteration,
        elapsed=clock.elapsed(),
        stopped_by=stopped_by,
        timings=clock.timings,
        seed=seed,
        state=search.snapshot(hall_of_fame=kept),
    )


def _start(settings, data, options, rng):
    """Fresh islands, fitted and scored, a hall of fame of their best, and the
    evaluations that hall of fame took."""
    compiling = ParallelCompile.start()
    islands = [
        start_island(settings, data, options.population_size, rng)
        for _ in range(options.populations)
    ]
    compiling.finish()
    for island in islands:
        fit_island(island, data, settings)
    hall_of_fame = HallOfFame(settings.maxsize, settings.maxsize)
    return islands, hall_of_fame, _collect(hall_of_fame, islands, data)


def _resume(state: SearchSnapshot, settings, data, same_data: bool):
    """The islands and hall of fame of ``state``, rescored on other data, and
    the evaluations outside the islands."""
    islands, hall_of_fame = state.islands, state.hall_of_fame
    extra_evals = state.extra_evals
    for island in islands:
        island.penalties = _penalties(island, settings)
    if not same_data:
        for island in islands:
            fit_island(island, data, settings)
        extra_evals += hall_of_fame.refit(
            hall_of_fame.occupied(), data, HALL_OF_FAME_ITERATIONS
        )
        extra_evals += _collect(hall_of_fame, islands, data)
    return islands, hall_of_fame, extra_evals


def _penalties(island: Island, settings: CycleSettings) -> np.ndarray:
    """The units penalty of every member under ``settings``."""
    if not (settings.target_units.shape[0] and settings.unit_penalty):
        return np.zeros(island.size)
    return np.array(
        [
            settings.penalty(
                island.opcodes[member], island.arguments[member], island.lengths[member]
            )
            for member in range(island.size)
        ]
    )


def check_continuable(
    state: SearchSnapshot, options: SearchOptions, settings, n_features: int
) -> None:
    """Raise ValueError naming each way ``state`` does not fit these options."""
    problems = []
    if len(state.islands) != options.populations:
        problems.append(
            f"it has {len(state.islands)} islands, not populations="
            f"{options.populations}"
        )
    sizes = sorted({island.size for island in state.islands})
    if sizes != [options.population_size]:
        problems.append(
            f"its islands have {', '.join(map(str, sizes))} members, not "
            f"population_size={options.population_size}"
        )
    capacities = {island.opcodes.shape[1] for island in state.islands}
    capacities.add(state.hall_of_fame.opcodes.shape[1])
    capacities.add(state.hall_of_fame.opcodes.shape[0] - 1)
    if capacities != {options.maxsize}:
        problems.append(
            f"its programs have room for {max(capacities)} nodes, not "
            f"maxsize={options.maxsize}"
        )
    if problems:
        _refuse(problems)

    allowed = np.concatenate(
        [[VARIABLE, CONSTANT], settings.binary_ops, settings.unary_ops]
    )
    used_opcodes, used_features = [], []
    for population in [*state.islands, state.hall_of_fame]:
        nodes = np.arange(population.opcodes.shape[1]) < population.lengths[:, None]
        opcodes = population.opcodes[nodes]
        used_opcodes.append(opcodes)
        used_features.append(population.arguments[nodes][opcodes == VARIABLE])
    unknown = np.setdiff1d(np.concatenate(used_opcodes), allowed)
    if unknown.size:
        names = sorted(BY_OPCODE[code].name for code in unknown.tolist())
        problems.append(f"its programs use operators not allowed here: {names}")
    features = np.concatenate(used_features)
    if features.size and features.max() >= n_features:
        problems.append(
            f"its programs use feature {int(features.max())}, but the data have "
            f"{n_features} features"
        )
    if problems:
        _refuse(problems)


def _refuse(problems: list[str]):
    raise ValueError(
        "cannot continue this search state: "
        + "; ".join(problems)
        + ". Continue with the settings it was made with, or start afresh."
    )


def _prepare_data(X, y, weights, max_rows, rng, rows=None):
    """The full data, the rows the islands see (a random subset if large),
    and which rows those are (empty for all); ``rows`` keeps an earlier choice."""
    weights = np.empty(0) if weights is None else np.ascontiguousarray(weights, float)
    full = as_search_data(X, y, weights)
    if rows is None:
        if X.shape[0] <= max_rows:
            return full, full, np.empty(0, dtype=np.int64)
        rows = np.sort(rng.choice(X.shape[0], size=max_rows, replace=False))
    if rows.size == 0:
        return full, full, rows
    subset_weights = weights[rows] if weights.size else weights
    return full, as_search_data(X[rows], y[rows], subset_weights), rows


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
    search: _Search, settings, options, callbacks, executor, checkpoint
):
    """Evolve, collect and migrate until a stopping rule fires; returns why."""
    deadline = _search_deadline(options)
    pace = None  # seconds per step of a cycle, measured on each iteration
    clock, data = search.clock, search.data
    while True:
        stopped_by = _stop_reason(search, options, deadline)
        if stopped_by:
            return stopped_by
        first = search.iteration == search.first_iteration
        cycle = _cycle_before(deadline, clock, pace, settings, first=first)
        if cycle is None:
            return "timeout"
        try:
            since = time.perf_counter()
            search.islands[:] = executor.map(evolve_island, search.islands, data, cycle)
            clock.add("evolve", since)
            pace = (time.perf_counter() - since) / cycle.cycle_steps
            since = time.perf_counter()
            search.extra_evals += _collect(search.hall_of_fame, search.islands, data)
            _migrate(
                search.islands,
                search.hall_of_fame,
                options.migration_fraction,
                search.rng,
                settings,
            )
            clock.add("hall_of_fame", since)
            search.iteration += 1
            stop = _report(callbacks, search, options)
            if checkpoint is not None:
                checkpoint(search.snapshot())
        except KeyboardInterrupt:
            logger.warning("interrupted: keeping the hall of fame found so far")
            return "interrupt"
        if stop:
            return "callback"


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
    steps = (deadline - clock.this_run()) / pace
    if steps >= settings.cycle_steps:
        return settings
    steps /= 2
    shortest = SHORTEST_CYCLE * settings.cycle_steps
    if steps < shortest:
        if not first:
            return None
        steps = shortest
    return dataclasses.replace(settings, cycle_steps=max(1, int(steps)))


def _stop_reason(search: _Search, options, deadline) -> str:
    """Why the search stops now, or "" to go on; counts are of this run."""
    if (
        options.niterations is not None
        and search.iteration - search.first_iteration >= options.niterations
    ):
        return "niterations"
    if deadline is not None and search.clock.this_run() >= deadline:
        return "timeout"
    if (
        options.max_evals is not None
        and search.n_evals - search.first_evals >= options.max_evals
    ):
        return "max_evals"
    if (
        options.loss_threshold is not None
        and np.min(search.hall_of_fame.losses) <= options.loss_threshold
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


def _report(callbacks, search: _Search, options) -> bool:
    """Hand a snapshot to every callback; True when one asks to stop.

    Counts and limits are of the whole search, earlier runs included.
    """
    if not callbacks:
        return False
    clock = search.clock
    this_run = clock.this_run()
    n_evals = search.n_evals
    state = SearchState(
        iteration=search.iteration,
        niterations=(
            None
            if options.niterations is None
            else search.first_iteration + options.niterations
        ),
        elapsed=clock.elapsed(),
        timeout=None if options.timeout is None else clock.before + options.timeout,
        n_evals=n_evals,
        evals_per_second=(n_evals - search.first_evals) / this_run
        if this_run > 0
        else 0.0,
        hall_of_fame=search.hall_of_fame.entries(),
    )
    stop = False
    for callback in callbacks:
        on_iteration = getattr(callback, "on_iteration", callback)
        stop = bool(on_iteration(state)) or stop
    return stop


def _simplify(entries, data, settings, options, clock):
    """The hall of fame with sympy's simpler forms of the front's equations."""
    seconds = SIMPLIFY_SECONDS_UNTIMED
    if options.timeout is not None:
        seconds = SIMPLIFY_SECONDS
        left = options.timeout - clock.this_run()
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
