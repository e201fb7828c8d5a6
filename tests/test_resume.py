"""Saving and resuming: run folders reloaded, searches continued, real crashes.

The command-line tests run ``lawfinder fit`` as a real subprocess, kill it
with real signals and resume it from the files it left.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from lawfinder import SymbolicRegressor
from lawfinder.runfiles import (
    FORMAT_VERSION,
    HALL_OF_FAME_FILE,
    RUN_FILE,
    STATE_FILE,
    CheckpointWriter,
    RunFileError,
    read_run_record,
    read_state,
)
from lawfinder.search.driver import run_search
from lawfinder.search.options import SearchOptions

COMMAND = [sys.executable, "-m", "lawfinder"]
# Rich must not think it writes to a terminal.
ENVIRONMENT = {
    **{
        key: value
        for key, value in os.environ.items()
        if key not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    },
    "COLUMNS": "200",
}
# Plain evolution (the priors could end the fit at once), saved every iteration.
SMALL_SEARCH = [
    "--jobs",
    "1",
    "--seed",
    "0",
    "--maxsize",
    "12",
    "--strategies",
    "none",
    "--checkpoint-every",
    "0",
]
SMALL_ESTIMATOR = {
    "populations": 2,
    "population_size": 16,
    "maxsize": 10,
    "strategies": [],
    "random_state": 0,
}


@pytest.fixture(scope="module")
def table():
    """y = x * z + sin(z): the plain search needs a few iterations for it."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.uniform(1, 3, 40), "z": rng.uniform(1, 3, 40)})
    return X, X["x"] * X["z"] + np.sin(X["z"])


@pytest.fixture(scope="module")
def finished_run(table, tmp_path_factory):
    """A fitted estimator and the run folder its checkpoints went to."""
    X, y = table
    folder = tmp_path_factory.mktemp("finished") / "run"
    model = SymbolicRegressor(
        niterations=3, checkpoint_folder=str(folder), **SMALL_ESTIMATOR
    )
    return model.fit(X, y), folder


@pytest.fixture
def data_file(tmp_path):
    rng = np.random.default_rng(1)
    m = rng.uniform(1, 5, 50)
    a = rng.uniform(1, 5, 50)
    path = tmp_path / "force.csv"
    pd.DataFrame({"m": m, "a": a, "F": m * a + np.sin(a)}).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------------
# from_run
# ---------------------------------------------------------------------------


def test_from_run_predicts_as_the_original(finished_run):
    model, folder = finished_run
    assert sorted(entry.name for entry in folder.iterdir()) == [
        HALL_OF_FAME_FILE,
        RUN_FILE,
        STATE_FILE,
    ]

    loaded = SymbolicRegressor.from_run(folder)

    assert loaded.get_params() == model.get_params()
    assert loaded.best_index_ == model.best_index_
    assert list(loaded.equations_["equation"]) == list(model.equations_["equation"])
    assert loaded.sympy() == model.sympy()
    rng = np.random.default_rng(5)
    X_new = pd.DataFrame({"x": rng.uniform(0, 4, 30), "z": rng.uniform(0, 4, 30)})
    for index in range(len(model.equations_)):
        np.testing.assert_allclose(
            loaded.predict(X_new, index=index),
            model.predict(X_new, index=index),
            rtol=1e-12,
            atol=1e-12,
        )
    result = loaded.search_result_
    assert result.n_iterations == model.search_result_.n_iterations
    assert result.n_evals == model.n_evals_
    assert result.state.iteration == 3
    # The standard errors come back with the constants.
    assert list(loaded.equations_["constants"]) == list(model.equations_["constants"])
    for old, new in zip(
        model.equations_["expression"], loaded.equations_["expression"], strict=True
    ):
        np.testing.assert_array_equal(new.constant_errors, old.constant_errors)
    assert any(
        np.isfinite(e.constant_errors).any() for e in model.equations_["expression"]
    )


def test_a_run_loaded_from_its_folder_continues_with_warm_start(finished_run, table):
    model, folder = finished_run
    X, y = table
    loaded = SymbolicRegressor.from_run(folder)
    loaded.set_params(warm_start=True, niterations=2, checkpoint_folder=None)

    loaded.fit(X, y)

    assert loaded.search_result_.n_iterations == 5
    assert loaded.n_evals_ > model.n_evals_


# ---------------------------------------------------------------------------
# Unreadable run files
# ---------------------------------------------------------------------------


def _copy_of_run(folder, tmp_path, change):
    """A copy of a run folder with its run.json rewritten by ``change``."""
    copy = tmp_path / "copy"
    copy.mkdir()
    for entry in folder.iterdir():
        (copy / entry.name).write_bytes(entry.read_bytes())
    text = (folder / RUN_FILE).read_text()
    (copy / RUN_FILE).write_text(change(text))
    return copy


def _with(**entries):
    def change(text):
        record = json.loads(text)
        for key, value in entries.items():
            if value is None:
                del record[key]
            else:
                record[key] = value
        return json.dumps(record)

    return change


@pytest.mark.parametrize(
    "change, fragments",
    [
        (_with(format_version=FORMAT_VERSION + 1), ["newer than", "upgrade"]),
        (_with(format_version=None), ["format_version None", "an integer"]),
        (_with(format_version="1"), ["format_version '1'"]),
        (_with(data_sha256=None, budget=None), ["lacks data_sha256, budget"]),
        (lambda text: text[: len(text) // 2], ["is not valid JSON"]),
        (lambda text: "[1, 2]", ["holds a JSON list"]),
    ],
)
def test_an_unreadable_run_json_is_refused_by_name(
    finished_run, tmp_path, change, fragments
):
    _, folder = finished_run
    copy = _copy_of_run(folder, tmp_path, change)

    with pytest.raises(RunFileError) as error:
        SymbolicRegressor.from_run(copy)

    message = str(error.value)
    assert str(copy / RUN_FILE) in message
    for fragment in fragments:
        assert fragment in message


def test_unknown_parameters_and_missing_files_are_named(finished_run, tmp_path):
    _, folder = finished_run

    def add_parameter(text):
        record = json.loads(text)
        record["parameters"]["crossover_rate"] = 0.5
        return json.dumps(record)

    with pytest.raises(RunFileError, match="'crossover_rate'"):
        SymbolicRegressor.from_run(_copy_of_run(folder, tmp_path, add_parameter))
    with pytest.raises(FileNotFoundError, match="no run.json in"):
        SymbolicRegressor.from_run(tmp_path / "nowhere")


def test_a_truncated_state_is_refused_by_name(finished_run, tmp_path):
    _, folder = finished_run
    copy = _copy_of_run(folder, tmp_path, lambda text: text)
    state = (copy / STATE_FILE).read_bytes()
    (copy / STATE_FILE).write_bytes(state[: len(state) // 2])

    with pytest.raises(RunFileError, match="search_state.npz is not a search state"):
        SymbolicRegressor.from_run(copy)


def test_resume_of_a_corrupt_run_is_bad_input(finished_run, data_file, tmp_path):
    _, folder = finished_run
    copy = _copy_of_run(folder, tmp_path, lambda text: "{")

    result = _run_cli(
        "fit", data_file, "--target", "F", "--output", copy, "--resume", cwd=tmp_path
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot resume: ")
    assert "is not valid JSON" in result.stderr


# ---------------------------------------------------------------------------
# The command line: crash, resume, SIGTERM
# ---------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="no SIGKILL")
def test_a_killed_fit_resumes_from_its_last_checkpoint(data_file, tmp_path):
    output = tmp_path / "run"
    process = _start_fit(data_file, output, "--niterations", "6")
    try:
        checkpoint = _wait_for_checkpoint(output, process)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()

    # What the crash left is readable.
    record = read_run_record(output)
    assert record["status"] == "running"
    assert read_state(output).iteration >= checkpoint["n_iterations"] >= 1

    other_data = tmp_path / "other.csv"
    changed = pd.read_csv(data_file)
    changed.loc[0, "F"] += 1e-9
    changed.to_csv(other_data, index=False)
    refused = _run_cli(
        "fit", other_data, "--target", "F", "--output", output, "--resume", cwd=tmp_path
    )
    assert refused.returncode == 2, refused.stderr
    assert "SHA-256" in refused.stderr

    resumed = _run_cli(
        "fit",
        data_file,
        "--target",
        "F",
        "--output",
        output,
        "--resume",
        "--checkpoint-every",
        "0",
        cwd=tmp_path,
    )

    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming the run" in resumed.stdout
    final = json.loads((output / RUN_FILE).read_text())
    assert final["status"] == "finished"
    assert final["stopped_by"] == "niterations"
    assert final["n_iterations"] == 6
    resumed_from = final["resumed_from"]["n_iterations"]
    assert resumed_from >= checkpoint["n_iterations"]
    assert final["n_evals"] > final["resumed_from"]["n_evals"] >= checkpoint["n_evals"]
    # The resumed part ran only the iterations left.
    assert final["parameters"]["niterations"] == 6 - resumed_from
    assert pd.read_csv(output / HALL_OF_FAME_FILE)["chosen"].sum() == 1


@pytest.mark.skipif(os.name == "nt", reason="no SIGTERM")
def test_sigterm_stops_the_fit_cleanly_with_its_files_and_plots(data_file, tmp_path):
    output = tmp_path / "run"
    process = _start_fit(
        data_file, output, "--niterations", "100000", "--timeout", "300"
    )
    try:
        _wait_for_checkpoint(output, process)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=120)
    finally:
        process.kill()
        process.wait()
    stderr = process.stderr.read()

    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    record = json.loads((output / RUN_FILE).read_text())
    assert record["status"] == "finished"
    assert record["stopped_by"] == "interrupt"
    assert record["n_iterations"] >= 1
    assert pd.read_csv(output / HALL_OF_FAME_FILE)["chosen"].sum() == 1
    assert read_state(output).iteration == record["n_iterations"]
    assert sorted(entry.name for entry in output.iterdir()) == [
        "fit.png",
        HALL_OF_FAME_FILE,
        "pareto.png",
        RUN_FILE,
        STATE_FILE,
    ]
    for name in ("pareto.png", "fit.png"):
        assert (output / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------
# Continuing a search
# ---------------------------------------------------------------------------


def test_warm_start_continues_the_previous_fit(table):
    X, y = table
    model = SymbolicRegressor(niterations=2, **SMALL_ESTIMATOR).fit(X, y)
    first = model.search_result_
    seen = []

    model.set_params(warm_start=True, niterations=3, callbacks=[seen.append])
    model.fit(X, y)

    assert [state.iteration for state in seen] == [3, 4, 5]
    assert seen[0].n_evals > first.n_evals
    assert model.search_result_.n_iterations == 5
    assert model.n_evals_ > first.n_evals
    # Without warm_start a fit starts afresh.
    model.set_params(warm_start=False, niterations=2, callbacks=None).fit(X, y)
    assert model.search_result_.n_iterations == 2


def test_a_search_continued_from_its_files_matches_one_never_stopped(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2.0, 2.0, size=(150, 2))
    y = 2.5 * X[:, 0] * X[:, 1] + 1.0 + 0.1 * rng.normal(size=150)
    options = SearchOptions(
        binary_operators=("add", "sub", "mul"),
        unary_operators=(),
        maxsize=12,
        populations=2,
        population_size=24,
        niterations=3,
        cycle_steps=100,
        random_state=3,
        simplify=False,
    )
    writer = CheckpointWriter(tmp_path, seconds=0.0, record={})

    run_search(X, y, None, options, checkpoint=writer)
    continued = run_search(X, y, None, options, initial_state=read_state(tmp_path))
    straight = run_search(X, y, None, dataclasses.replace(options, niterations=6))

    assert writer.n_written == 3
    assert continued.n_iterations == straight.n_iterations == 6
    assert continued.n_evals == straight.n_evals
    assert len(continued.hall_of_fame) == len(straight.hall_of_fame) > 0
    for a, b in zip(continued.hall_of_fame, straight.hall_of_fame, strict=True):
        assert a.complexity == b.complexity
        assert a.loss == b.loss
        np.testing.assert_array_equal(a.opcodes, b.opcodes)
        np.testing.assert_array_equal(a.constants, b.constants)


def test_a_state_that_does_not_fit_the_options_is_refused(finished_run, table):
    model, _ = finished_run
    X, y = table

    with pytest.raises(ValueError, match="it has 2 islands, not populations=3"):
        run_search(
            X.to_numpy(),
            y.to_numpy(),
            None,
            SearchOptions(populations=3, population_size=16, maxsize=10),
            initial_state=model.search_result_.state,
        )


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _run_cli(*arguments, cwd, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *map(str, arguments)],
        cwd=cwd,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _start_fit(data_file, output, *arguments) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *COMMAND,
            "fit",
            str(data_file),
            "--target",
            "F",
            "--output",
            str(output),
            *arguments,
            *SMALL_SEARCH,
        ],
        cwd=output.parent,
        env=ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_checkpoint(folder, process, seconds=240.0) -> dict:
    """The run.json of the first checkpoint, once one is on disk."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the fit ended before a checkpoint: {process.stderr.read()}")
        try:
            record = json.loads((folder / RUN_FILE).read_text())
        except FileNotFoundError:
            time.sleep(0.05)
            continue
        if record["status"] == "running":
            return record
    pytest.fail(f"no checkpoint in {folder} within {seconds} s")
