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

import multiprocessing
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import parse_expr


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


def run_one(equation: Equation, seed: int, args) -> dict:
    """Fit one equation with lawfinder's defaults and judge the chosen model."""
    import time

    from ..estimator import SymbolicRegressor

    rng = np.random.default_rng(seed)
    X, y = equation.sample(args.n, rng)
    X_test, y_test = equation.sample(args.n, rng)
    y_train = add_noise(y, args.noise, rng)
    model = SymbolicRegressor(
        niterations=None, timeout=args.timeout, n_jobs=args.jobs, random_state=seed
    )
    start = time.perf_counter()
    model.fit(X, y_train, variable_names=list(equation.variables))
    seconds = time.perf_counter() - start
    r2 = r2_score(y_test, model.predict(X_test))
    exact = bool(r2 > 0.5) and is_symbolic_solution(
        model.sympy(), equation.to_sympy(), args.simplify_timeout
    )
    return {
        "equation": equation.name,
        "seed": seed,
        "noise": args.noise,
        "exact": bool(exact),
        "r2": r2,
        "seconds": seconds,
        "evals": model.n_evals_,
        "model": str(model.best_.to_text(precision=6)),
        "model_full_precision": str(model.best_.to_text()),
    }


def main(argv: list[str] | None = None) -> int:
    """Print, for each equation and seed, whether the chosen model is exact."""
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="lawfinder bench feynman",
        description="Recovery of the public Feynman equations (SRBench criterion).",
    )
    parser.add_argument(
        "--equations",
        default="1-30",
        help="1-based numbers and ranges, e.g. 1-7 (default 1-30)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per fit (default 60)"
    )
    parser.add_argument("--seeds", default="1", help="comma-separated seeds")
    parser.add_argument("--n", type=int, default=2000, help="training rows")
    parser.add_argument(
        "--noise", type=float, default=0.0, help="noise level sigma (default 0)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="threads per fit")
    parser.add_argument(
        "--simplify-timeout",
        type=float,
        default=30.0,
        help="seconds allowed for sympy's check (default 30)",
    )
    parser.add_argument("--output", help="append JSON lines to this file")
    args = parser.parse_args(argv)
    equations = load_equations()
    try:
        chosen = _parse_selection(args.equations, len(equations))
        seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError as error:
        parser.error(str(error))

    exact = 0
    total = 0
    for index in chosen:
        for seed in seeds:
            row = run_one(equations[index], seed, args)
            exact += row["exact"]
            total += 1
            print(
                f"{row['equation']:10s} seed={seed} exact={row['exact']!s:5s} "
                f"R2={row['r2']:.6f} {row['seconds']:.0f}s  {row['model']}",
                flush=True,
            )
            if args.output:
                with open(args.output, "a") as file:
                    file.write(json.dumps(row) + "\n")
    print(f"exact: {exact} of {total}")
    return 0
