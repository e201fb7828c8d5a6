"""Running the Feynman benchmark: fits in their own processes, results files,
resuming, the summary table and the peers' model texts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import sympy

import lawfinder
from lawfinder.bench.feynman import (
    UNIT_BASIS,
    Task,
    _parse_numbers,
    judge,
    load_equations,
    markdown_table,
    model_of,
    read_results,
    units_of,
)
from lawfinder.bench.methods import FitOutcome, _gplearn_to_sympy_text, fit_method
from lawfinder.priors.units import units_matrix

COMMAND = [sys.executable, "-m", "lawfinder", "bench", "feynman"]
EQUATIONS = {equation.name: equation for equation in load_equations()}


def run_bench(*arguments, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_numbers_and_ranges():
    assert _parse_numbers("1-3,7", int, "--seeds") == [1, 2, 3, 7]
    assert _parse_numbers("0,0.001,0.1", float, "--noise") == [0.0, 0.001, 0.1]
    with pytest.raises(ValueError, match="--noise takes comma-separated numbers"):
        _parse_numbers("0,a", float, "--noise")


def test_a_run_writes_results_and_resumes_where_it_stopped(tmp_path):
    # I.34.27, (h / (2 pi)) * omega: two variables, found within seconds.
    arguments = ["--equations", "6", "--seeds", "1", "--timeout", "3", "--jobs", "1"]
    methods = ["--methods", "lawfinder,lawfinder-units"]
    first = run_bench(*arguments, *methods, "--output", tmp_path)
    assert first.returncode == 0, first.stderr

    rows = read_results(tmp_path / "results.jsonl")
    assert [row["method"] for row in rows] == ["lawfinder", "lawfinder-units"]
    for row in rows:
        assert (row["equation"], row["seed"], row["noise"]) == ("I.34.27", 1, 0.0)
        assert row["r2"] > 0.99, row
        assert isinstance(row["exact"], bool)
        assert row["seconds"] < 3 + 10  # the kernels were compiled before timing
        assert row["version"].startswith(lawfinder.__version__)
    table = (tmp_path / "results.md").read_text()
    assert "| lawfinder | 0 |" in table and "| I.34.27 | 0 |" in table
    assert "| lawfinder-units | 0 |" in table

    again = run_bench(*arguments, "--methods", "lawfinder", "--output", tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming: 1 of 1 fits" in again.stdout
    assert len(read_results(tmp_path / "results.jsonl")) == 2


def test_every_equation_has_units_that_give_its_output():
    for equation in EQUATIONS.values():
        X_units, y_units = units_of(equation)
        D, d_y = units_matrix(X_units, y_units, len(equation.variables))
        # Base dimensions that no variable uses are left out.
        assert D.shape[0] <= len(UNIT_BASIS)
        assert D.shape[1] == len(equation.variables)
        # The units of y are a product of powers of the variables' units.
        exponents, *_ = np.linalg.lstsq(D, d_y, rcond=None)
        assert np.allclose(D @ exponents, d_y), equation.name


def test_a_line_torn_by_a_crash_is_skipped(tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text(
        '{"method": "lawfinder", "seed": 1}\n{"method": "lawfinder", "equa'
    )
    assert read_results(results) == [{"method": "lawfinder", "seed": 1}]


def test_unknown_method_is_a_clear_error():
    result = run_bench("--methods", "lawfinder,pysr")
    assert result.returncode == 2
    assert "unknown ['pysr']" in result.stderr
    assert "lawfinder, lawfinder-units, operon, gplearn" in result.stderr


def test_summary_table_counts_exact_fits_per_method_and_noise():
    rows = [
        {
            "method": "lawfinder",
            "equation": "I.6.2",
            "noise": 0.0,
            "exact": True,
            "r2": 1.0,
            "first_hit_seconds": 4.0,
        },
        {
            "method": "lawfinder",
            "equation": "I.9.18",
            "noise": 0.0,
            "exact": False,
            "r2": 0.9,
            "first_hit_seconds": None,
        },
        {
            "method": "gplearn",
            "equation": "I.6.2",
            "noise": 0.0,
            "exact": None,
            "r2": None,
            "first_hit_seconds": None,
        },
    ]
    table = markdown_table(rows)
    assert "| lawfinder | 0 | 1 | 2 | 0.9500 | 4.0 s |" in table
    assert "| gplearn | 0 | 0 | 1 |" in table
    assert "| I.6.2 | 0 | 1/1 | 0/1 |" in table
    assert "| I.9.18 | 0 | 0/1 |  |" in table


def test_judge_finds_the_first_exact_report_in_the_progress():
    equation = EQUATIONS["I.34.27"]
    task = Task("lawfinder", "I.34.27", 1, 0.0, 100, 5.0, 1)
    outcome = FitOutcome(
        model="0.159155*h*omega",
        predictions=np.zeros(3),
        seconds=5.0,
        progress=[
            (0.5, "h + omega", 1.0),
            (1.5, "0.16*h*omega + 0.01*h", 1e-9),  # close, but not the law
            (2.5, "0.1591549*h*omega", 1e-20),
            (4.0, "0.159155*h*omega", 1e-20),
        ],
    )
    row = judge(task, equation, {"outcome": outcome, "r2": 1.0})
    assert row["exact"] is True
    assert row["first_hit_seconds"] == 2.5


def test_judge_reports_a_failed_fit():
    task = Task("operon", "I.34.27", 1, 0.0, 100, 5.0, 1)
    row = judge(task, EQUATIONS["I.34.27"], {"error": "RuntimeError: boom"})
    assert row["exact"] is False and row["error"] == "RuntimeError: boom"


def test_model_texts_of_the_peers_read_as_sympy():
    equation = EQUATIONS["I.34.27"]
    h, omega = equation.symbols()["h"], equation.symbols()["omega"]
    # Operon writes powers with ^ and squares as square().
    assert model_of("(h ^ 2) + square(omega)", equation) == h**2 + omega**2
    text = _gplearn_to_sympy_text("add(mul(X0, X1), div(X0, 2.0))", ["omega", "h"])
    assert sympy.simplify(model_of(text, equation) - (omega * h + omega / 2)) == 0


@pytest.mark.parametrize("method", ["operon", "gplearn"])
def test_a_peer_fits_within_its_budget(method):
    package = {"operon": "pyoperon", "gplearn": "gplearn"}[method]
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed (pip install 'lawfinder[bench]')")
    equation = EQUATIONS["I.34.27"]
    rng = np.random.default_rng(0)
    X, y = equation.sample(300, rng)
    X_test, _ = equation.sample(100, rng)

    outcome = fit_method(method, X, y, X_test, equation.variables, 2.0, 1, 0)

    assert outcome.seconds < 2.0 + 3.0
    assert outcome.predictions.shape == (100,)
    model = model_of(outcome.model, equation)
    assert model.free_symbols <= set(equation.symbols().values())
