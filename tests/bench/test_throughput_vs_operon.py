"""pyoperon's evaluator timed on lawfinder's programs, after a value check."""

import importlib.util

import pytest

from lawfinder.bench.throughput import operon_rows

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyoperon") is None,
    reason="pyoperon is not installed (pip install 'lawfinder[bench]')",
)


def test_operon_gives_the_same_values_on_arithmetic_programs():
    rows = operon_rows(n_programs=60, repeats=1)
    arithmetic = [row for row in rows if row["mix"] == "arithmetic"]
    assert {row["rows"] for row in arithmetic} == {200, 10_000}
    for row in arithmetic:
        assert row["agreement"] == 1.0
        assert row["evals_per_s"] > 0 and row["node_rows_per_s"] > 0
