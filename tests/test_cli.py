"""The command line, run as a real subprocess on real CSV files."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import lawfinder
from lawfinder import SymbolicRegressor
from lawfinder.cli import SHOWN_DEFAULTS
from lawfinder.runfiles import (
    HALL_OF_FAME_COLUMNS,
    HALL_OF_FAME_FILE,
    RUN_FILE,
    STATE_FILE,
)
from lawfinder.search.options import DEFAULT_BINARY_OPERATORS, DEFAULT_UNARY_OPERATORS

# Settings that make rich think it writes to a terminal would hide the plain
# progress lines these tests read.
_TERMINAL_VARIABLES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
ENVIRONMENT = {
    **{k: v for k, v in os.environ.items() if k not in _TERMINAL_VARIABLES},
    "COLUMNS": "200",
}
COMMAND = [sys.executable, "-m", "lawfinder"]
SMALL_SEARCH = ["--jobs", "1", "--seed", "0", "--maxsize", "12"]


def run_cli(*arguments, cwd, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *map(str, arguments)],
        cwd=cwd,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def data_file(tmp_path):
    """A CSV file with a law (F = m * a), a distractor and a text column."""
    rng = np.random.default_rng(1)
    m = rng.uniform(1, 5, 50)
    a = rng.uniform(1, 5, 50)
    table = pd.DataFrame(
        {
            "m": m,
            "a": a,
            "noise": rng.normal(size=50),
            "label": [f"sample{i}" for i in range(50)],
            "F": m * a,
        }
    )
    path = tmp_path / "force.csv"
    table.to_csv(path, index=False)
    return path


def assert_bad_input(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.strip() == f"lawfinder {lawfinder.__version__}"


def test_missing_target_names_it_and_lists_columns(data_file, tmp_path):
    result = run_cli("fit", data_file, "--target", "force", cwd=tmp_path)

    assert_bad_input(result, "'force'", "available columns: m, a, noise, label, F")
    assert list(tmp_path.glob("lawfinder_run_*")) == []


def test_missing_feature_is_named(data_file, tmp_path):
    result = run_cli(
        "fit", data_file, "--target", "F", "--features", "m,mass", cwd=tmp_path
    )

    assert_bad_input(result, "'mass'", "available columns")


def test_non_numeric_feature_is_named(data_file, tmp_path):
    result = run_cli(
        "fit", data_file, "--target", "F", "--features", "m,label", cwd=tmp_path
    )

    assert_bad_input(result, "'label'", "not numeric", "'sample0'")


def test_missing_file(tmp_path):
    result = run_cli("fit", tmp_path / "nowhere.csv", "--target", "y", cwd=tmp_path)

    assert_bad_input(result, "no such file")


def test_unknown_operator_is_a_usage_error(data_file, tmp_path):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--unary-operators",
        "sqrt,cosh",
        cwd=tmp_path,
    )

    assert result.returncode == 2
    assert "'cosh'" in result.stderr
    assert "Traceback" not in result.stderr


def test_fit_writes_both_files_in_a_new_run_folder(data_file, tmp_path):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--niterations",
        "3",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    # The text column is left out of the default features, with a note.
    assert "label" in result.stderr
    [folder] = tmp_path.glob("lawfinder_run_*")
    assert "Pareto front" in result.stdout

    table = pd.read_csv(folder / HALL_OF_FAME_FILE)
    assert tuple(table.columns) == HALL_OF_FAME_COLUMNS
    assert table["chosen"].sum() == 1
    assert table["complexity"].is_monotonic_increasing
    chosen_equation = table.loc[table["chosen"], "equation"].iloc[0]
    assert f"F = {chosen_equation}" in result.stdout.replace("\n", " ")

    record = json.loads((folder / RUN_FILE).read_text())
    assert record["parameters"]["niterations"] == 3
    assert record["parameters"]["random_state"] == 0
    assert record["parameters"]["allow_nesting"] is False
    # The priors may find F = m * a before the last iteration.
    assert record["stopped_by"] in ("niterations", "exact fit (structure)")
    assert record["n_iterations"] <= 3
    assert record["variable_names"] == ["m", "a", "noise"]
    assert record["data"]["target"] == "F"
    assert record["data"]["n_rows"] == 50
    assert record["n_evals"] > 0


@pytest.mark.skipif(os.name == "nt", reason="SIGINT cannot be sent to a process")
def test_interrupted_fit_still_writes_valid_files(data_file, tmp_path):
    output = tmp_path / "interrupted"
    process = subprocess.Popen(
        [
            *COMMAND,
            "fit",
            str(data_file),
            "--target",
            "F",
            "--features",
            "m,a",
            "--niterations",
            "100000",
            "--timeout",
            "300",
            # Brute force would find F = m * a at once and end the fit.
            "--strategies",
            "none",
            "--output",
            str(output),
            *SMALL_SEARCH,
        ],
        cwd=tmp_path,
        env=ENVIRONMENT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = _lines_of(process.stdout)
    try:
        # The first progress line says the search is past its first iteration.
        _wait_for(lines, "iteration ", seconds=240)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=120)
    finally:
        process.kill()
        process.wait()
    stderr = process.stderr.read()

    assert returncode == 0, stderr
    table = pd.read_csv(output / HALL_OF_FAME_FILE)
    assert table["chosen"].sum() == 1
    record = json.loads((output / RUN_FILE).read_text())
    assert record["stopped_by"] == "interrupt"
    assert record["n_iterations"] >= 1
    assert sorted(entry.name for entry in output.iterdir()) == [
        "fit.png",
        HALL_OF_FAME_FILE,
        "pareto.png",
        RUN_FILE,
        STATE_FILE,
    ]


def test_demo_finds_keplers_law(tmp_path):
    result = run_cli("demo", "--timeout", "20", cwd=tmp_path, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "Matches Kepler's third law" in result.stdout
    # The demo leaves no files behind.
    assert list(tmp_path.iterdir()) == []


def test_defaults_quoted_in_the_help_are_the_search_defaults():
    parameters = SymbolicRegressor().get_params()

    assert SHOWN_DEFAULTS["niterations"] == parameters["niterations"]
    assert SHOWN_DEFAULTS["maxsize"] == parameters["maxsize"]
    assert SHOWN_DEFAULTS["n_jobs"] == parameters["n_jobs"]
    assert SHOWN_DEFAULTS["binary_operators"] == DEFAULT_BINARY_OPERATORS
    assert SHOWN_DEFAULTS["unary_operators"] == DEFAULT_UNARY_OPERATORS


def _lines_of(stream) -> queue.Queue:
    """Lines of ``stream`` as they arrive, read by a background thread."""
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, fragment: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        seen.append(line)
        if fragment in line:
            return
    pytest.fail(f"no line with {fragment!r} within {seconds} s; got {seen!r}")


def test_allow_nesting_reaches_the_search(data_file, tmp_path):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--niterations",
        "1",
        "--allow-nesting",
        "--output",
        tmp_path / "run",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert record["parameters"]["allow_nesting"] is True


def test_no_simplify_reaches_the_search(data_file, tmp_path):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--niterations",
        "1",
        "--no-simplify",
        "--output",
        tmp_path / "run",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert record["parameters"]["simplify"] is False
    assert "simplify" not in record["timings"]


def test_units_inline_and_from_a_file_reach_dimensional_analysis(data_file, tmp_path):
    inline = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--features",
        "m,a",
        "--units",
        "m=kg,a=m/s^2,F=kg*m/s^2",
        "--niterations",
        "1",
        "--output",
        tmp_path / "inline",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )
    assert inline.returncode == 0, inline.stderr
    assert "units: F = a*m * constant" in inline.stdout

    units_file = tmp_path / "units.txt"
    units_file.write_text("# name, unit\nm, kg\na: m/s^2\nF, N\n")
    from_file = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--features",
        "m,a",
        "--units",
        units_file,
        "--niterations",
        "1",
        "--output",
        tmp_path / "file",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )
    assert from_file.returncode == 0, from_file.stderr
    assert "units: F = a*m * constant" in from_file.stdout


@pytest.mark.parametrize(
    "units, message",
    [
        ("m=kg,a=m/s^2", "--units lacks the units of ['F']"),
        ("m=kg,a=m/s^2,F=s", "cannot be made from the units of X"),
        ("m=kg,a=furlongs_per_blink,F=N", "unknown unit"),
        ("m:kg", "--units takes name=unit pairs"),
    ],
)
def test_bad_units_on_the_command_line(data_file, tmp_path, units, message):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--features",
        "m,a",
        "--units",
        units,
        "--niterations",
        "1",
        "--output",
        tmp_path / "run",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


def test_strategies_reach_the_search(data_file, tmp_path):
    result = run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--niterations",
        "1",
        "--strategies",
        "none",
        "--unit-penalty",
        "0.5",
        "--output",
        tmp_path / "run",
        *SMALL_SEARCH,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "run" / RUN_FILE).read_text())
    assert record["parameters"]["strategies"] == []
    assert record["parameters"]["unit_penalty"] == 0.5

    negative = run_cli(
        "fit", data_file, "--target", "F", "--unit-penalty", "-1", cwd=tmp_path
    )
    assert negative.returncode == 2
    assert "must be a number >= 0" in negative.stderr

    bad = run_cli(
        "fit", data_file, "--target", "F", "--strategies", "magic", cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "unknown strategies ['magic']" in bad.stderr
