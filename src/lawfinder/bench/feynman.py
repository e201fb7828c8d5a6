"""Recovery of the Feynman equations, judged by the SRBench criterion.

The equations and sampling ranges are 30 equations of the Feynman Symbolic
Regression Database (Udrescu and Tegmark, "AI Feynman", Science Advances,
2020), shipped as ``lawfinder/data/feynman_public.csv``. The criterion is the
one of SRBench (La Cava et al., 2021): after rounding the model's constants
to 3 decimals (and those below 1e-4 to 0), ``true - model`` simplifies to a
constant or ``model / true`` to a non-zero constant; only models with test
R^2 > 0.5 are checked.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import parse_expr

from ..runfiles import atomic_write_text

SETS = ("public",)

# Seconds sympy may spend on the check of a final model, and on each check of a
# progress report when looking for the time of the first exact model.
CHECK_SECONDS = 30.0
PROGRESS_CHECK_SECONDS = 10.0
PROGRESS_CHECKS = 20


@dataclass(frozen=True)
class Equation:
    """One benchmark equation: its formula and the range of each variable."""

    name: str
    output: str
    formula: str
    variables: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]

    def symbols(self) -> dict[str, sympy.Symbol]:
        """One real symbol per variable, declared positive where its range is:
        the formula is only ever evaluated there, and sympy needs to know it to
        see, for example, that ``sqrt(exp(x))`` is ``exp(x/2)``."""
        return {
            name: sympy.Symbol(name, real=True, positive=True if low > 0 else None)
            for name, low in zip(self.variables, self.lows, strict=True)
        }

    def to_sympy(self) -> sympy.Expr:
        """The true formula; the shipped text is trusted data, not user input."""
        local = {
            **self.symbols(),
            "pi": sympy.pi,
            "exp": sympy.exp,
            "sqrt": sympy.sqrt,
            "ln": sympy.log,
            "log": sympy.log,
            "sin": sympy.sin,
            "cos": sympy.cos,
            "tan": sympy.tan,
            "tanh": sympy.tanh,
            "arcsin": sympy.asin,
            "arccos": sympy.acos,
        }
        return parse_expr(self.formula, local_dict=local)

    def sample(
        self, n_rows: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw each variable uniformly in its range and evaluate the formula."""
        X = np.column_stack(
            [
                rng.uniform(low, high, n_rows)
                for low, high in zip(self.lows, self.highs, strict=True)
            ]
        )
        function = sympy.lambdify(
            [self.symbols()[name] for name in self.variables], self.to_sympy(), "numpy"
        )
        y = np.asarray(function(*X.T), dtype=float) * np.ones(n_rows)
        return X, y


def load_equations() -> list[Equation]:
    """The 30 public Feynman equations, in the file's order."""
    path = resources.files("lawfinder") / "data" / "feynman_public.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file)
    equations = []
    for _, row in table.iterrows():
        count = int(row["n_variables"])
        equations.append(
            Equation(
                name=row["name"],
                output=row["output"],
                formula=row["formula"],
                variables=tuple(row[f"v{i}_name"] for i in range(1, count + 1)),
                lows=tuple(float(row[f"v{i}_low"]) for i in range(1, count + 1)),
                highs=tuple(float(row[f"v{i}_high"]) for i in range(1, count + 1)),
            )
        )
    return equations


UNIT_BASIS = ("m", "s", "kg", "T", "V")


def load_units() -> dict[str, tuple[float, ...]]:
    """Exponents of metre, second, kilogram, kelvin and volt of every variable
    name of the equations, from ``lawfinder/data/feynman_units.csv`` (the units
    table of the same database)."""
    path = resources.files("lawfinder") / "data" / "feynman_units.csv"
    with resources.as_file(path) as file:
        table = pd.read_csv(file)
    return {
        row["variable"]: tuple(float(row[unit]) for unit in UNIT_BASIS)
        for _, row in table.iterrows()
    }


def units_of(equation: Equation) -> tuple[list, tuple]:
    """``(X_units, y_units)`` of an equation as exponent vectors."""
    table = load_units()
    missing = [
        name for name in (*equation.variables, equation.output) if name not in table
    ]
    if missing:
        raise ValueError(f"no units for {missing} of equation {equation.name}")
    return [table[name] for name in equation.variables], table[equation.output]


def code_version() -> str:
    """lawfinder's version, with the git commit when run from a checkout."""
    import subprocess

    from .. import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


def method_version(method: str) -> str:
    """The version of the code a method ran, recorded with each result."""
    from importlib.metadata import PackageNotFoundError, version

    if method.startswith("lawfinder"):
        return code_version()
    package = {"operon": "pyoperon"}.get(method, method)
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return "unknown"


def add_noise(y: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """SRBench's target noise: ``y + N(0, sigma * rms(y))``."""
    if sigma == 0:
        return y
    return y + rng.normal(0.0, sigma * np.sqrt(np.mean(y**2)), y.shape)


def round_constants(expression: sympy.Expr) -> sympy.Expr:
    """Round floats to 3 decimals, and those below 1e-4 in size to 0.

    A rounded constant is an exact decimal, so it becomes an exact rational:
    sympy cancels ``1 - x`` against ``1.0 - x`` only when both are exact.
    """
    replacements = {}
    for number in expression.atoms(sympy.Float):
        value = float(number)
        replacements[number] = (
            0 if abs(value) < 1e-4 else sympy.Rational(f"{round(value, 3):.3f}")
        )
    return expression.xreplace(replacements)


def _is_symbolic_solution(model: sympy.Expr, true: sympy.Expr) -> bool:
    by_name = {symbol.name: symbol for symbol in true.free_symbols}
    model = model.xreplace(
        {s: by_name[s.name] for s in model.free_symbols if s.name in by_name}
    )
    model = round_constants(model)
    difference = sympy.simplify(true - model)
    if not difference.free_symbols:
        return True
    ratio = sympy.simplify(model / true)
    return not ratio.free_symbols and ratio != 0


def _judge(queue, model, true):
    queue.put(_is_symbolic_solution(model, true))


def is_symbolic_solution(model: sympy.Expr, true: sympy.Expr, timeout: float = 30.0):
    """SRBench's exactness test, with simplification limited to ``timeout`` seconds.

    Returns True, False, or None when sympy ran out of time.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_judge, args=(queue, model, true), daemon=True)
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return None
    return queue.get() if not queue.empty() else None


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    residual = np.sum((y_true - y_pred) ** 2)
    total = np.sum((y_true - np.mean(y_true)) ** 2)
    return float(1.0 - residual / total) if total > 0 else float("nan")


def _parse_selection(text: str, count: int) -> list[int]:
    """'1-7,9' -> [0, ..., 6, 8] (1-based, inclusive ranges)."""
    chosen: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(
                f"--equations takes numbers and ranges such as 1-7,9; got {text!r}"
            ) from None
        if not 1 <= low <= high <= count:
            raise ValueError(f"--equations must lie within 1-{count}; got {part!r}")
        chosen.extend(range(low - 1, high))
    return chosen


@dataclass(frozen=True)
class Task:
    """One fit of the benchmark: a method on an equation, seed and noise level."""

    method: str
    equation: str
    seed: int
    noise: float
    n: int
    timeout: float
    jobs: int

    def key(self) -> tuple:
        return (
            self.method,
            self.equation,
            self.seed,
            self.noise,
            self.n,
            self.timeout,
            self.jobs,
        )


def sample_task(equation: Equation, task: Task):
    """Training rows with noise on the target, and noise-free test rows."""
    rng = np.random.default_rng(task.seed)
    X, y = equation.sample(task.n, rng)
    X_test, y_test = equation.sample(task.n, rng)
    return X, add_noise(y, task.noise, rng), X_test, y_test


def _fit_in_child(queue, task: Task, equation: Equation) -> None:
    from .methods import fit_method

    try:
        X, y, X_test, y_test = sample_task(equation, task)
        outcome = fit_method(
            task.method,
            X,
            y,
            X_test,
            equation.variables,
            task.timeout,
            task.jobs,
            task.seed,
            units=units_of(equation) if task.method == "lawfinder-units" else None,
        )
        queue.put({"outcome": outcome, "r2": r2_score(y_test, outcome.predictions)})
    except BaseException as error:  # reported in the results, not lost
        queue.put({"error": f"{type(error).__name__}: {error}"})


def fit_in_process(task: Task, equation: Equation) -> dict:
    """Run one fit in a fresh process; a crash or hang is reported, not raised."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_fit_in_child, args=(queue, task, equation))
    process.start()
    # Generous: a fit may overrun its budget to finish an iteration.
    limit = 3 * task.timeout + 120.0
    try:
        answer = queue.get(timeout=limit)
    except Exception:
        answer = {"error": f"no answer within {limit:.0f} s"}
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    return answer


def model_of(text: str, equation: Equation) -> sympy.Expr:
    """A method's model text as sympy, its variables the equation's symbols."""
    from sympy.parsing.sympy_parser import (
        convert_xor,
        parse_expr,
        standard_transformations,
    )

    from .methods import SYMPY_FUNCTIONS

    local = {**SYMPY_FUNCTIONS, **equation.symbols(), "pi": sympy.pi}
    return parse_expr(
        text, local_dict=local, transformations=(*standard_transformations, convert_xor)
    )


def judge(
    task: Task, equation: Equation, answer: dict, check_seconds: float = CHECK_SECONDS
) -> dict:
    """The result row of one fit: exactness, test R^2 and times."""
    row = dict(
        zip(
            ("method", "equation", "seed", "noise", "n", "timeout", "jobs"),
            task.key(),
            strict=True,
        )
    )
    if "error" in answer:
        return {
            **row,
            "exact": False,
            "r2": None,
            "seconds": None,
            "first_hit_seconds": None,
            "model": None,
            "error": answer["error"],
        }

    outcome = answer["outcome"]
    true = equation.to_sympy()
    r2 = answer["r2"]
    exact = None
    try:
        model = model_of(outcome.model, equation)
    except Exception as error:
        return {
            **row,
            "exact": False,
            "r2": r2,
            "seconds": outcome.seconds,
            "first_hit_seconds": None,
            "model": outcome.model,
            "error": f"model not readable by sympy: {error}",
        }
    if r2 is not None and np.isfinite(r2) and r2 > 0.5:
        exact = is_symbolic_solution(model, true, check_seconds)
    else:
        exact = False
    return {
        **row,
        "exact": exact,
        "r2": r2,
        "seconds": outcome.seconds,
        "first_hit_seconds": _first_hit(outcome, equation, true) if exact else None,
        "model": outcome.model,
        "n_evals": outcome.n_evals,
    }


def _first_hit(outcome, equation: Equation, true: sympy.Expr) -> float:
    """When the method first held an exact model, from its progress reports;
    the end of the fit when it reports none that is exact (or none at all).

    Only reports that fit within twice the loss of the last one are checked:
    an exact model fits about as well as the exact model the fit ended with.
    """
    if not outcome.progress:
        return float(outcome.seconds)
    last_loss = outcome.progress[-1][2]
    candidates = [
        (elapsed, text)
        for elapsed, text, loss in outcome.progress
        if loss <= 2.0 * last_loss + 1e-300
    ]
    for elapsed, text in candidates[:PROGRESS_CHECKS]:
        try:
            model = model_of(text, equation)
        except Exception:
            continue
        if is_symbolic_solution(model, true, PROGRESS_CHECK_SECONDS):
            return float(elapsed)
    return float(outcome.seconds)


def _parse_numbers(text: str, kind, option: str) -> list:
    """'0,0.01' -> [0.0, 0.01]; for integers also ranges: '1-3,7' -> [1, 2, 3, 7]."""
    values = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            if dash and kind is int and first:
                values.extend(range(int(first), int(last) + 1))
            else:
                values.append(kind(part))
        except ValueError:
            example = "1-5,9" if kind is int else "0,0.001,0.01"
            raise ValueError(
                f"{option} takes comma-separated numbers such as {example}; "
                f"got {text!r}"
            ) from None
    return values


def read_results(path: Path) -> list[dict]:
    """Rows of a results file; a last line cut short by a crash is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _append_row(path: Path, row: dict) -> None:
    with open(path, "a") as file:
        file.write(json.dumps(row) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _row_key(row: dict) -> tuple:
    return tuple(
        row[name]
        for name in ("method", "equation", "seed", "noise", "n", "timeout", "jobs")
    )


def markdown_table(rows: list[dict]) -> str:
    """Exact recoveries per method and noise level, then per equation."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return "No results yet.\n"
    frame["exact"] = frame["exact"].fillna(False).astype(bool)
    methods = list(dict.fromkeys(frame["method"]))
    lines = [
        "| Method | Noise | Exact | Fits | Median test R^2 | Median time to exact |",
        "| ------ | ----- | ----- | ---- | --------------- | -------------------- |",
    ]
    for (method, noise), group in frame.groupby(["method", "noise"], sort=False):
        hits = group["first_hit_seconds"].dropna()
        r2 = pd.to_numeric(group["r2"], errors="coerce").dropna()
        lines.append(
            f"| {method} | {noise:g} | {int(group['exact'].sum())} | {len(group)} "
            f"| {r2.median():.4f} | "
            + (f"{hits.median():.1f} s" if len(hits) else "-")
            + " |"
        )

    lines += ["", "| Equation | Noise | " + " | ".join(methods) + " |"]
    lines.append("| -------- | ----- | " + " | ".join("---" for _ in methods) + " |")
    by_equation = frame.groupby(["equation", "noise"], sort=False)
    for (equation, noise), group in by_equation:
        cells = []
        for method in methods:
            runs = group[group["method"] == method]
            cells.append(f"{int(runs['exact'].sum())}/{len(runs)}" if len(runs) else "")
        lines.append(f"| {equation} | {noise:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _parser():
    import argparse

    from .methods import METHODS

    parser = argparse.ArgumentParser(
        prog="lawfinder bench feynman",
        description="Recovery of the Feynman equations by lawfinder and its peers, "
        "judged by the SRBench criterion. Each fit runs in its own process with "
        "the same time budget and number of cores.",
    )
    parser.add_argument(
        "--set",
        default="public",
        choices=SETS,
        help="which equations (default public: 30 equations)",
    )
    parser.add_argument(
        "--equations",
        default=None,
        help="1-based numbers and ranges within the set, e.g. 1-7 (default all)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per fit (default 60)"
    )
    parser.add_argument(
        "--noise",
        default="0",
        help="comma-separated noise levels sigma, e.g. 0,0.001,0.01,0.1 (default 0)",
    )
    parser.add_argument(
        "--seeds",
        default="1",
        help="comma-separated seeds and ranges, e.g. 1-5 (default 1)",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=2000,
        help="training rows (default 2000); as many test rows",
    )
    parser.add_argument(
        "--methods",
        default="lawfinder",
        help=f"comma-separated, from {','.join(METHODS)} "
        "(default lawfinder; the others need lawfinder[bench])",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="cores per fit, for every method (default 2)",
    )
    parser.add_argument(
        "--output",
        default=None,
        help="folder for results.jsonl and results.md; a run "
        "into a folder with results resumes where it stopped",
    )
    parser.add_argument(
        "--simplify-timeout",
        type=float,
        default=CHECK_SECONDS,
        help=f"seconds allowed for sympy's exactness check (default {CHECK_SECONDS:g})",
    )
    return parser


def _tasks(args, equations) -> list[Task]:
    from .methods import METHODS, check_available

    chosen = (
        _parse_selection(args.equations, len(equations))
        if args.equations
        else list(range(len(equations)))
    )
    seeds = _parse_numbers(args.seeds, int, "--seeds")
    noises = _parse_numbers(args.noise, float, "--noise")
    if any(not 0 <= noise < 10 for noise in noises):
        raise ValueError(f"--noise levels must lie in [0, 10); got {args.noise!r}")
    methods = [name.strip() for name in args.methods.split(",") if name.strip()]
    unknown = [name for name in methods if name not in METHODS]
    if unknown or not methods:
        raise ValueError(
            f"--methods: unknown {unknown or args.methods!r}; allowed: "
            f"{', '.join(METHODS)}"
        )
    for method in methods:
        check_available(method)
    if args.timeout <= 0 or args.n < 10 or args.jobs < 1:
        raise ValueError("--timeout must be > 0, --n at least 10, --jobs at least 1")
    return [
        Task(
            method, equations[index].name, seed, noise, args.n, args.timeout, args.jobs
        )
        for noise in noises
        for index in chosen
        for seed in seeds
        for method in methods
    ]


def _compile_lawfinder() -> None:
    """Fill numba's cache before timing, so that no fit pays for compiling."""
    from ..estimator import SymbolicRegressor

    print("compiling lawfinder's kernels once, before any fit is timed", flush=True)
    rng = np.random.default_rng(0)
    for n_features in (2, 3):
        X = rng.uniform(1.0, 2.0, size=(100, n_features))
        y = X[:, 0] * np.exp(-X[:, 1]) + np.sin(X[:, -1])
        SymbolicRegressor(niterations=1, populations=2, random_state=0).fit(X, y)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one line per fit and a summary table."""
    parser = _parser()
    args = parser.parse_args(argv)
    equations = {equation.name: equation for equation in load_equations()}
    try:
        tasks = _tasks(args, list(equations.values()))
    except (ValueError, ImportError) as error:
        parser.error(str(error))

    rows: list[dict] = []
    results = markdown = None
    if args.output:
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        results, markdown = folder / "results.jsonl", folder / "results.md"
        rows = read_results(results)
        done = {_row_key(row) for row in rows}
        remaining = [task for task in tasks if task.key() not in done]
        if len(remaining) < len(tasks):
            print(
                f"resuming: {len(tasks) - len(remaining)} of {len(tasks)} fits "
                f"are already in {results}",
                flush=True,
            )
        tasks = remaining

    if any(task.method.startswith("lawfinder") for task in tasks):
        _compile_lawfinder()
    versions = {task.method: method_version(task.method) for task in tasks}
    for task in tasks:
        equation = equations[task.equation]
        answer = fit_in_process(task, equation)
        row = judge(task, equation, answer, args.simplify_timeout)
        row["version"] = versions[task.method]
        rows.append(row)
        if results is not None:
            _append_row(results, row)
            atomic_write_text(markdown, markdown_table(rows))
        seconds = "-" if row["seconds"] is None else f"{row['seconds']:.0f}s"
        r2 = "-" if row["r2"] is None else f"{row['r2']:.6f}"
        print(
            f"{task.method:9s} {task.equation:10s} seed={task.seed} "
            f"noise={task.noise:g} exact={row['exact']!s:5s} R2={r2} {seconds}  "
            f"{row.get('error') or row['model']}",
            flush=True,
        )
    print(markdown_table(rows), end="")
    return 0
