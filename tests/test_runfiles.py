"""The run folder: atomic writes, and the content of hall_of_fame.csv and run.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lawfinder import SymbolicRegressor
from lawfinder.runfiles import (
    FORMAT_VERSION,
    HALL_OF_FAME_COLUMNS,
    HALL_OF_FAME_FILE,
    RUN_FILE,
    STATE_FILE,
    atomic_write_npz,
    atomic_write_text,
    read_hall_of_fame,
    write_run,
)


@pytest.fixture(scope="module")
def fitted():
    """A small real fit of y = x * z, shared by the tests that read its files."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.uniform(1, 3, 40), "z": rng.uniform(1, 3, 40)})
    y = X["x"] * X["z"]
    model = SymbolicRegressor(
        niterations=3,
        populations=2,
        population_size=16,
        maxsize=10,
        strategies=[],  # the plain search, which stops by niterations
        random_state=0,
    )
    return model.fit(X, y)


def test_atomic_write_creates_and_replaces(tmp_path):
    path = tmp_path / "notes.txt"

    atomic_write_text(path, "first\n")
    atomic_write_text(path, "second\n")

    assert path.read_text() == "second\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["notes.txt"]


def test_failed_atomic_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "notes.txt"
    atomic_write_text(path, "kept\n")

    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(path, "\u00e9", encoding="ascii")

    assert path.read_text() == "kept\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["notes.txt"]


def test_write_run_files_parse_back(fitted, tmp_path):
    folder = tmp_path / "run"

    paths = write_run(
        folder, fitted, extra={"data": {"path": "data.csv", "target": "y"}}
    )

    assert sorted(entry.name for entry in folder.iterdir()) == [
        HALL_OF_FAME_FILE,
        RUN_FILE,
        STATE_FILE,
    ]
    assert paths == {
        "hall_of_fame": folder / HALL_OF_FAME_FILE,
        "run": folder / RUN_FILE,
        "state": folder / STATE_FILE,
    }

    table = pd.read_csv(folder / HALL_OF_FAME_FILE)
    assert tuple(table.columns) == HALL_OF_FAME_COLUMNS
    assert len(table) == len(fitted.equations_)
    assert table["chosen"].sum() == 1
    chosen = table[table["chosen"]].iloc[0]
    assert chosen["equation"] == str(fitted.best_)
    np.testing.assert_array_equal(table["loss"], fitted.equations_["loss"])

    record = json.loads((folder / RUN_FILE).read_text())
    assert record["format_version"] == FORMAT_VERSION
    assert record["status"] == "finished"
    assert record["parameters"]["niterations"] == 3
    assert "callbacks" not in record["parameters"]
    assert record["random_state"] == 0
    assert record["variable_names"] == ["x", "z"]
    assert record["n_evals"] == fitted.n_evals_
    assert record["n_iterations"] == fitted.search_result_.n_iterations
    assert record["stopped_by"] == "niterations"
    assert set(record["versions"]) >= {"lawfinder", "numpy", "numba", "python"}
    assert record["chosen"]["equation"] == str(fitted.best_)
    assert record["data"] == {"path": "data.csv", "target": "y"}
    assert "created" in record


def test_write_run_replaces_an_earlier_run(fitted, tmp_path):
    write_run(tmp_path, fitted, parameters={"note": "first"})
    write_run(tmp_path, fitted, parameters={"note": "second", "timeout": np.inf})

    record = json.loads((tmp_path / RUN_FILE).read_text())
    # Standard JSON has no infinity: it is recorded as null.
    assert record["parameters"] == {"note": "second", "timeout": None}
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [
        HALL_OF_FAME_FILE,
        RUN_FILE,
        STATE_FILE,
    ]


def test_atomic_npz_round_trips_without_pickles_and_refuses_objects(tmp_path):
    path = tmp_path / "state.npz"
    atomic_write_npz(path, {"losses": np.array([0.5, np.inf]), "text": np.array("{}")})

    with np.load(path, allow_pickle=False) as arrays:
        np.testing.assert_array_equal(arrays["losses"], [0.5, np.inf])
        assert str(arrays["text"][()]) == "{}"
    with pytest.raises(TypeError, match="'bad' holds Python objects"):
        atomic_write_npz(path, {"bad": np.array([{}, None], dtype=object)})
    assert [entry.name for entry in tmp_path.iterdir()] == ["state.npz"]


def test_hall_of_fame_csv_keeps_every_constant_exactly(fitted, tmp_path):
    write_run(tmp_path, fitted)

    table = read_hall_of_fame(tmp_path)

    assert list(table["equation"]) == list(fitted.equations_["equation"])
    for text, expression in zip(
        table["equation"], fitted.equations_["expression"], strict=True
    ):
        names = list(fitted.variable_names_)
        parsed = type(expression).from_string(text, names)
        assert sorted(parsed.constants) == sorted(expression.constants)
