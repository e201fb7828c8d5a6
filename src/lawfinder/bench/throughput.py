"""How fast the kernels evaluate programs, and how fast a whole search runs.

``lawfinder bench throughput`` prints, for a fixed mix of random programs of
5 to 25 nodes on 200 and 10,000 rows, candidate evaluations per second and
node evaluations per second (nodes x rows), on one core and on all cores;
then the candidate evaluations per second of a whole search on 200 rows.
With ``--vs operon`` it also times pyoperon's evaluator (float32, from the
``lawfinder[bench]`` extra) on the same programs, after checking that both
give the same values.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..kernels.evaluate import population_losses
from ..kernels.random import new_state
from ..kernels.variation import random_program
from ..operators import OPERATORS

ARITHMETIC = ("add", "sub", "mul", "div")
MIXED_UNARY = ("sqrt", "exp", "sin", "square")


def program_mix(
    n_programs: int, n_features: int, unary: tuple[str, ...], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fixed mix of random programs of 5 to 25 nodes: opcodes, arguments,
    lengths, constants."""
    binary_ops = np.array([OPERATORS[n].opcode for n in ARITHMETIC], dtype=np.int64)
    unary_ops = np.array([OPERATORS[n].opcode for n in unary], dtype=np.int64)
    rng = np.random.default_rng(seed)
    state = new_state(rng)
    capacity = 25
    opcodes = np.zeros((n_programs, capacity), dtype=np.int64)
    arguments = np.zeros((n_programs, capacity), dtype=np.int64)
    constants = np.zeros((n_programs, capacity))
    lengths = np.zeros(n_programs, dtype=np.int64)
    for p in range(n_programs):
        size = int(rng.integers(5, 26))
        lengths[p], _ = random_program(
            state,
            size,
            n_features,
            binary_ops,
            unary_ops,
            opcodes[p],
            arguments[p],
            constants[p],
            0,
            0,
        )
    return opcodes, arguments, lengths, constants


def _time_losses(programs, XT, y, n_threads: int, repeats: int) -> float:
    """Median seconds to compute every program's loss once, split over threads."""
    opcodes, arguments, lengths, constants = programs
    chunks = np.array_split(np.arange(opcodes.shape[0]), n_threads)
    out = np.empty(opcodes.shape[0])
    weights = np.empty(0)

    def run(chunk):
        population_losses(
            opcodes[chunk],
            arguments[chunk],
            lengths[chunk],
            constants[chunk],
            XT,
            y,
            weights,
            out[chunk],
        )

    times = []
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        list(pool.map(run, chunks))  # compile and warm up
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(run, chunks))
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def evaluation_rows(n_programs: int = 2000, repeats: int = 5) -> list[dict]:
    """Evaluation throughput for each mix, row count and core count."""
    rows = []
    cores = os.cpu_count() or 1
    rng = np.random.default_rng(1)
    for mix_name, unary in (("arithmetic", ()), ("with sqrt/exp/sin", MIXED_UNARY)):
        programs = program_mix(n_programs, 5, unary)
        nodes = int(programs[2].sum())
        for n_rows in (200, 10_000):
            XT = rng.uniform(1.0, 2.0, size=(5, n_rows))
            y = rng.normal(size=n_rows)
            count = n_programs if n_rows <= 1000 else max(1, n_programs // 20)
            subset = tuple(array[:count] for array in programs)
            subset_nodes = int(subset[2].sum()) if count < n_programs else nodes
            for n_threads in sorted({1, cores}):
                seconds = _time_losses(subset, XT, y, n_threads, repeats)
                rows.append(
                    {
                        "mix": mix_name,
                        "rows": n_rows,
                        "cores": n_threads,
                        "evals_per_s": count / seconds,
                        "node_rows_per_s": subset_nodes * n_rows / seconds,
                        "node_rows_per_s_per_core": subset_nodes
                        * n_rows
                        / seconds
                        / n_threads,
                    }
                )
    return rows


def _operon_trees(programs, n_features: int):
    """The programs as pyoperon trees, through lawfinder's infix text."""
    import pyoperon

    from ..printing import to_text

    opcodes, arguments, lengths, constants = programs
    names = [f"x{index}" for index in range(n_features)]
    dataset = pyoperon.Dataset(np.ones((2, n_features)))
    hashes = {f"x{v.Index}": v.Hash for v in dataset.Variables}
    trees = []
    for p in range(opcodes.shape[0]):
        length = lengths[p]
        text = to_text(opcodes[p, :length], arguments[p, :length], constants[p], names)
        trees.append(pyoperon.InfixParser.Parse(text, hashes))
    return trees


def operon_rows(n_programs: int = 2000, repeats: int = 5) -> list[dict]:
    """pyoperon's evaluation throughput on the mixes of `evaluation_rows`.

    Node-rows count lawfinder's nodes of each program, so that both engines
    are credited for the same work.
    """
    import pyoperon

    from ..kernels.evaluate import evaluate_population

    rows = []
    cores = os.cpu_count() or 1
    rng = np.random.default_rng(1)
    for mix_name, unary in (("arithmetic", ()), ("with sqrt/exp/sin", MIXED_UNARY)):
        programs = program_mix(n_programs, 5, unary)
        for n_rows in (200, 10_000):
            X = rng.uniform(1.0, 2.0, size=(n_rows, 5))
            count = n_programs if n_rows <= 1000 else max(1, n_programs // 20)
            subset = tuple(array[:count] for array in programs)
            nodes = int(subset[2].sum())
            trees = _operon_trees(subset, 5)
            dataset = pyoperon.Dataset(np.asfortranarray(X))
            span = pyoperon.Range(0, n_rows)
            result = np.zeros(count * n_rows, dtype=np.float32)

            expected = np.empty((count, n_rows))
            evaluate_population(
                *subset[:2], subset[2], subset[3], np.ascontiguousarray(X.T), expected
            )
            pyoperon.EvaluateTrees(trees, dataset, span, result, 1)
            agree = _agreement(expected, result.reshape(count, n_rows))

            for n_threads in sorted({1, cores}):
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    pyoperon.EvaluateTrees(trees, dataset, span, result, n_threads)
                    times.append(time.perf_counter() - start)
                seconds = float(np.median(times))
                rows.append(
                    {
                        "mix": mix_name,
                        "rows": n_rows,
                        "cores": n_threads,
                        "evals_per_s": count / seconds,
                        "node_rows_per_s": nodes * n_rows / seconds,
                        "node_rows_per_s_per_core": nodes
                        * n_rows
                        / seconds
                        / n_threads,
                        "agreement": agree,
                    }
                )
    return rows


def _agreement(expected: np.ndarray, found: np.ndarray) -> float:
    """Fraction of programs whose values agree to float32 precision."""
    finite = np.isfinite(expected)
    close = np.isclose(found, expected, rtol=1e-3, atol=1e-3) | ~finite
    return float(np.mean(np.all(close, axis=1)))


def search_rate(seconds: float = 10.0, n_jobs: int = 1, n_rows: int = 200) -> dict:
    """Candidate evaluations per second of a whole search (all steps)."""
    from ..search.driver import run_search
    from ..search.options import SearchOptions

    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 5.0, size=(n_rows, 3))
    y = X[:, 0] ** 2 * np.exp(-X[:, 1]) + np.sin(X[:, 2])
    options = SearchOptions(niterations=1, n_jobs=n_jobs, random_state=0)
    run_search(X, y, None, options)  # compile before timing
    options = SearchOptions(
        niterations=None, timeout=seconds, n_jobs=n_jobs, random_state=0
    )
    result = run_search(X, y, None, options)
    return {
        "cores": n_jobs,
        "rows": n_rows,
        "evals": result.n_evals,
        "seconds": result.elapsed,
        "evals_per_s": result.n_evals / result.elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the throughput tables."""
    parser = argparse.ArgumentParser(
        prog="lawfinder bench throughput", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--programs", type=int, default=2000, help="programs in the mix (default 2000)"
    )
    parser.add_argument(
        "--search-seconds",
        type=float,
        default=10.0,
        help="length of the whole-search measurement (default 10)",
    )
    parser.add_argument(
        "--vs",
        choices=("operon",),
        default=None,
        help="also time another engine's evaluator on the same programs "
        "(needs lawfinder[bench])",
    )
    args = parser.parse_args(argv)
    if args.programs < 1 or args.search_seconds <= 0:
        parser.error("--programs must be >= 1 and --search-seconds > 0")
    if args.vs == "operon":
        try:
            import pyoperon  # noqa: F401
        except ImportError:
            parser.error("--vs operon needs pyoperon: pip install 'lawfinder[bench]'")

    print(
        f"evaluation of {args.programs} programs of 5-25 nodes "
        "(median of 5 passes, float64)"
    )
    print(
        f"{'mix':20s} {'rows':>6s} {'cores':>5s} {'evals/s':>10s} "
        f"{'node-rows/s':>12s} {'per core':>10s}"
    )
    for row in evaluation_rows(args.programs):
        print(
            f"{row['mix']:20s} {row['rows']:6d} {row['cores']:5d} "
            f"{row['evals_per_s']:10.3g} {row['node_rows_per_s']:12.3g} "
            f"{row['node_rows_per_s_per_core']:10.3g}"
        )
    if args.vs == "operon":
        print()
        print("pyoperon's evaluator on the same programs (float32; node-rows count")
        print("lawfinder's nodes; 'agree' is the share of programs with equal values)")
        for row in operon_rows(args.programs):
            print(
                f"{row['mix']:20s} {row['rows']:6d} {row['cores']:5d} "
                f"{row['evals_per_s']:10.3g} {row['node_rows_per_s']:12.3g} "
                f"{row['node_rows_per_s_per_core']:10.3g}  "
                f"agree={row['agreement']:.3f}"
            )
    print()
    print(f"whole search, 200 rows, {args.search_seconds:g} s")
    cores = os.cpu_count() or 1
    for n_jobs in sorted({1, cores}):
        row = search_rate(args.search_seconds, n_jobs)
        print(
            f"  cores={row['cores']}  evals={row['evals']}  "
            f"evals/s={row['evals_per_s']:.3g}  "
            f"per core={row['evals_per_s'] / n_jobs:.3g}"
        )
    return 0
