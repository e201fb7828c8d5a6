"""Brute-force search: known small laws are found exactly, in little time.

The kernels are compiled (or loaded) once by a module fixture, so the time
limits below measure the search, not the compiler.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from lawfinder.expression import Expression
from lawfinder.kernels.enumerate import AFFINE, EQUIVALENT
from lawfinder.operators import ADD, N_OPCODES, OPERATORS, VARIABLE
from lawfinder.priors.brute_force import (
    DEFAULT_UNARY_OPERATORS,
    brute_force,
    enumerate_programs,
    symbol_set,
)
from lawfinder.search.island import SearchData

NAMES = ["x0", "x1"]


def search_data(X, y, weights=None) -> SearchData:
    weights = np.empty(0) if weights is None else np.asarray(weights, dtype=float)
    if weights.size:
        mean = np.average(y, weights=weights)
        variance = np.average((y - mean) ** 2, weights=weights)
    else:
        variance = np.var(y)
    # As the search driver does: a constant target has no variance to scale by.
    variance = variance if variance > 0 else 1.0
    return SearchData(
        XT=np.ascontiguousarray(X.T),
        y=np.ascontiguousarray(y, dtype=float),
        weights=weights,
        loss_scale=float(variance),
    )


def features(n_rows=200, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 3.0, size=(n_rows, 2))


@pytest.fixture(scope="module", autouse=True)
def compiled():
    X = features(20)
    brute_force(search_data(X, X[:, 0] + 1.0), max_length=2, time_limit=None)


def best_entry(entries):
    return min(entries, key=lambda entry: (entry.loss, entry.complexity))


def check_entry(entry, X, y, weights=None):
    """The entry is an ordinary program whose loss is its error on the data."""
    expression = Expression(entry.opcodes, entry.arguments, entry.constants, NAMES)
    residuals = expression.evaluate(X) - y
    w = np.ones_like(y) if weights is None else weights
    assert entry.loss == pytest.approx(
        np.sum(w * residuals**2) / np.sum(w), rel=1e-6, abs=1e-25
    )
    assert entry.constant_errors.shape == entry.constants.shape
    return expression


LAWS = [
    # (name, law, exact complexity of the simplest program found)
    ("3 x0^2 + 1", lambda X: 3.0 * X[:, 0] ** 2 + 1.0, 6),
    ("exp(-x0) / x0", lambda X: np.exp(-X[:, 0]) / X[:, 0], 5),
    ("x0 x1", lambda X: X[:, 0] * X[:, 1], 3),
    ("sqrt(x0 / x1)", lambda X: np.sqrt(X[:, 0] / X[:, 1]), 4),
    # A constant inside: exp(x0 * c0) * c1 + c2, c0 fitted from a trial value.
    ("2.5 exp(-1.3 x0) + 0.7", lambda X: 2.5 * np.exp(-1.3 * X[:, 0]) + 0.7, 8),
]


@pytest.mark.parametrize("name, law, complexity", LAWS, ids=[law[0] for law in LAWS])
def test_known_laws_are_found_exactly(name, law, complexity):
    X = features()
    y = law(X)
    data = search_data(X, y)
    started = time.perf_counter()
    entries = brute_force(data, max_length=7, time_limit=5.0)
    elapsed = time.perf_counter() - started

    exact = [entry for entry in entries if entry.loss < 1e-20 * data.loss_scale]
    assert exact, f"{name} not found in {elapsed:.1f} s"
    simplest = min(exact, key=lambda entry: entry.complexity)
    assert simplest.complexity == complexity
    check_entry(simplest, X, y)
    # The search stops after the length of the first exact fit.
    assert max(entry.complexity for entry in entries) <= complexity + 4
    assert elapsed < 5.0
    for entry in entries:
        check_entry(entry, X, y)


def test_entries_are_the_best_of_each_complexity_and_ascending():
    X = features()
    y = np.tanh(X[:, 0]) * X[:, 1] ** 1.5 + 0.1 * X[:, 0]
    entries = brute_force(search_data(X, y), max_length=5, time_limit=10.0)
    complexities = [entry.complexity for entry in entries]
    assert complexities == sorted(set(complexities))
    assert len(entries) >= 5
    for entry in entries:
        check_entry(entry, X, y)
    # No exact fit exists, so every length up to 5 was tried: the wrappers
    # around length-5 programs reach complexity 9.
    assert complexities[-1] == 9


def test_respects_the_time_limit():
    X = features(500, seed=1)
    y = np.random.default_rng(2).normal(size=500)
    started = time.perf_counter()
    entries = brute_force(search_data(X, y), max_length=12, time_limit=1.0)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.5
    assert entries, "the survivors of the lengths tried are returned"


def test_weights_of_zero_silence_rows():
    X = features(300, seed=3)
    y = X[:, 0] * X[:, 1]
    weights = np.ones(300)
    weights[::3] = 0.0
    y[::3] = 1e3  # garbage where the weight is 0
    entries = brute_force(search_data(X, y, weights), max_length=4, time_limit=5.0)
    best = best_entry(entries)
    assert best.loss < 1e-20
    assert best.complexity == 3
    check_entry(best, X, y, weights)


def test_complexities_follow_complexity_of_and_the_operators_allowed():
    X = features()
    y = 3.0 * X[:, 0] ** 2 + 1.0
    complexity_of = np.ones(N_OPCODES, dtype=np.int64)
    complexity_of[OPERATORS["square"].opcode] = 3
    entries = brute_force(
        search_data(X, y),
        binary_ops=["mul", "sub"],
        unary_ops=["square", "neg"],
        complexity_of=complexity_of,
        max_length=5,
        time_limit=5.0,
    )
    for entry in entries:
        assert entry.complexity == int(complexity_of[entry.opcodes].sum())
        assert ADD not in entry.opcodes.tolist()
    # Without "add" there is no wrapper f + b, so root constants are kept:
    # c0 * square(x0) - c1, or slope * (square(x0) - c0), complexity 1 + 3 + 4.
    best = best_entry(entries)
    assert best.loss < 1e-20 * np.var(y)
    assert best.complexity == 8


def test_a_constant_target_is_fitted_by_one_constant():
    X = features(50)
    entries = brute_force(search_data(X, np.full(50, 2.5)), max_length=3)
    assert entries[0].complexity == 1
    assert entries[0].constants.tolist() == pytest.approx([2.5])
    assert entries[0].loss < 1e-25


def test_bad_arguments_are_refused():
    data = search_data(features(10), np.arange(10.0))
    with pytest.raises(ValueError, match="max_length"):
        brute_force(data, max_length=0)
    with pytest.raises(ValueError, match="time_limit"):
        brute_force(data, time_limit=0.0)
    with pytest.raises(ValueError, match="top_k"):
        brute_force(data, top_k=0)
    with pytest.raises(ValueError, match="not unary"):
        brute_force(data, unary_ops=["add"])
    with pytest.raises(ValueError, match="arity 2"):
        brute_force(data, binary_ops=[OPERATORS["neg"].opcode])


def test_symbol_set_puts_leaves_first():
    opcodes, arguments = symbol_set(3, ["mul", "add"], DEFAULT_UNARY_OPERATORS)
    assert opcodes[:4].tolist() == [VARIABLE] * 3 + [1]
    assert arguments[:3].tolist() == [0, 1, 2]
    assert opcodes[-2:].tolist() == [OPERATORS["mul"].opcode, ADD]
    assert len(opcodes) == 4 + len(DEFAULT_UNARY_OPERATORS) + 2


def test_enumerate_programs_batches_and_levels():
    one_batch = list(
        enumerate_programs(2, ["add", "mul"], ["neg"], 4, batch_size=10**6)
    )
    small = list(enumerate_programs(2, ["add", "mul"], ["neg"], 4, batch_size=3))
    assert len(one_batch) == 1 and len(small) > 1
    np.testing.assert_array_equal(
        np.concatenate([b[0] for b in small]), one_batch[0][0]
    )
    # Affine pruning drops at least the root negations kept by EQUIVALENT.
    equivalent = np.concatenate(
        [b[0] for b in enumerate_programs(2, ["add"], ["neg"], 4, prune=EQUIVALENT)]
    )
    affine = np.concatenate(
        [b[0] for b in enumerate_programs(2, ["add"], ["neg"], 4, prune=AFFINE)]
    )
    assert len(affine) < len(equivalent)
    assert (equivalent[:, -1] == OPERATORS["neg"].opcode).any()
    assert not (affine[:, -1] == OPERATORS["neg"].opcode).any()
