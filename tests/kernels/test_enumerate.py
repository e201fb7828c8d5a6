"""Enumeration of programs and their affine scores, against plain Python.

The reference enumerator walks every valid postfix string by recursion and
applies the pruning rules to parsed trees; the kernel must give the same
programs in the same order. Separately, pruning must lose no function: every
constant-free program, pruned or not, computes what some kept program of at
most its length computes (exactly, or up to an affine map at ``AFFINE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lawfinder.kernels.enumerate import (
    AFFINE,
    EQUIVALENT,
    NO_PRUNING,
    affine_losses,
    next_programs,
)
from lawfinder.operators import ARITY, CONSTANT, OPERATORS, VARIABLE
from reference import evaluate_reference
from strategies import programs

ADD, SUB, MUL, DIV = (OPERATORS[n].opcode for n in ("add", "sub", "mul", "div"))
NEG, INV = OPERATORS["neg"].opcode, OPERATORS["inv"].opcode
SIGN_SYMMETRIC = {
    OPERATORS[name].opcode
    for name in ("neg", "square", "cube", "sin", "cos", "tan", "tanh", "abs", "inv")
}
NO_WEIGHTS = np.empty(0)


def symbols(n_features, unary, binary, constant=True):
    """Symbol arrays: variables, the constant leaf, then the operators."""
    opcodes = [VARIABLE] * n_features + [CONSTANT] * constant
    opcodes += [OPERATORS[name].opcode for name in (*unary, *binary)]
    arguments = list(range(n_features)) + [0] * (len(opcodes) - n_features)
    return np.array(opcodes, dtype=np.int64), np.array(arguments, dtype=np.int64)


def kernel_programs(symbol_arrays, length, max_constants, prune, batch_size=1000):
    """All programs from the kernel, as rows of opcodes and of arguments."""
    cursor = np.zeros(length + 1, dtype=np.int64)
    opcodes = np.zeros((batch_size, length), dtype=np.int64)
    arguments = np.zeros((batch_size, length), dtype=np.int64)
    found_opcodes, found_arguments = [], []
    while True:
        n = next_programs(
            *symbol_arrays, length, max_constants, prune, cursor, opcodes, arguments
        )
        if n == 0:
            break
        found_opcodes.append(opcodes[:n].copy())
        found_arguments.append(arguments[:n].copy())
    if not found_opcodes:
        return np.zeros((0, length), np.int64), np.zeros((0, length), np.int64)
    return np.concatenate(found_opcodes), np.concatenate(found_arguments)


# ---------------------------------------------------------------------------
# The plain-Python reference
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A parsed subtree: its opcode, operands, and symbol indices in postfix."""

    opcode: int
    operands: tuple
    spelling: tuple

    def only_constants(self) -> bool:
        if not self.operands:
            return self.opcode == CONSTANT
        return all(operand.only_constants() for operand in self.operands)

    def has_constant(self) -> bool:
        return CONSTANT in (self.opcode, *(o.opcode for o in self.walk()))

    def walk(self):
        for operand in self.operands:
            yield operand
            yield from operand.walk()


def valid_spellings(n_symbols, arities, length):
    """Every symbol sequence that is a valid postfix program, lexicographically."""

    def extend(prefix, height):
        if len(prefix) == length:
            if height == 1:
                yield tuple(prefix)
            return
        for symbol in range(n_symbols):
            if arities[symbol] <= height:
                yield from extend(prefix + [symbol], height + 1 - arities[symbol])

    yield from extend([], 0)


def parse(spelling, symbol_opcodes):
    stack = []
    for position, symbol in enumerate(spelling):
        opcode = int(symbol_opcodes[symbol])
        arity = int(ARITY[opcode])
        operands = tuple(stack[len(stack) - arity :])
        del stack[len(stack) - arity :]
        start = position - sum(len(o.spelling) for o in operands)
        stack.append(Node(opcode, operands, tuple(spelling[start : position + 1])))
    (root,) = stack
    return root


def sort_key(node):
    return (len(node.spelling), node.spelling)


def redundant(node, prune, present, at_root):
    """The pruning rules of the module docstring, on one node of a tree."""
    if not node.operands:
        return False
    if all(operand.only_constants() for operand in node.operands):
        return True
    op = node.opcode
    root_affine = at_root and prune >= AFFINE
    if len(node.operands) == 1:
        inner = node.operands[0].opcode
        if inner == NEG and op in SIGN_SYMMETRIC:
            return True
        if op == INV and inner == INV:
            return True
        return root_affine and op == NEG

    left, right = node.operands
    signs = NEG in (left.opcode, right.opcode)
    if signs and (op in (MUL, DIV) or (op == ADD and SUB in present)):
        return True
    if signs and op == SUB and ADD in present:
        return True
    if op == MUL and INV in (left.opcode, right.opcode) and DIV in present:
        return True
    if op == DIV and right.opcode == INV and MUL in present:
        return True
    right_first = sort_key(right) < sort_key(left)
    if op in (ADD, MUL) and right_first:
        return True
    if op in (SUB, DIV) and left.spelling == right.spelling:
        if not left.has_constant() and CONSTANT in present:
            return True
    if root_affine:
        if op == SUB and right_first:
            return True
        if op in (ADD, SUB, MUL) and (left.only_constants() or right.only_constants()):
            return True
        if op == DIV and right.only_constants():
            return True
    return False


def reference_programs(symbol_arrays, length, max_constants, prune):
    """The kernel's output, computed the slow and plain way."""
    symbol_opcodes, symbol_arguments = symbol_arrays
    arities = [int(ARITY[code]) for code in symbol_opcodes]
    present = {int(code) for code in symbol_opcodes}
    if max_constants == 0:
        present.discard(CONSTANT)
    rows_opcodes, rows_arguments = [], []
    for spelling in valid_spellings(len(symbol_opcodes), arities, length):
        opcodes = [int(symbol_opcodes[s]) for s in spelling]
        if opcodes.count(CONSTANT) > max_constants:
            continue
        if prune:
            root = parse(spelling, symbol_opcodes)
            nodes = [root, *root.walk()]
            if any(redundant(n, prune, present, n is root) for n in nodes):
                continue
        arguments = [int(symbol_arguments[s]) for s in spelling]
        slots = np.cumsum([code == CONSTANT for code in opcodes]) - 1
        arguments = [
            int(slot) if code == CONSTANT else argument
            for code, argument, slot in zip(opcodes, arguments, slots, strict=True)
        ]
        rows_opcodes.append(opcodes)
        rows_arguments.append(arguments)
    shape = (len(rows_opcodes), length)
    return (
        np.array(rows_opcodes, dtype=np.int64).reshape(shape),
        np.array(rows_arguments, dtype=np.int64).reshape(shape),
    )


# ---------------------------------------------------------------------------
# Enumeration
# ---------------------------------------------------------------------------

SYMBOL_SETS = {
    "one variable": symbols(1, ["neg", "inv", "sqrt"], ["add", "sub", "mul", "div"]),
    "two variables": symbols(2, ["neg", "square", "inv"], ["add", "sub", "mul", "div"]),
    "no add": symbols(2, ["neg", "inv", "sin"], ["sub", "mul", "pow"]),
    "only binary": symbols(2, [], ["add", "div"]),
    "only unary": symbols(1, ["neg", "exp", "cos"], []),
}


@pytest.mark.parametrize("prune", [NO_PRUNING, EQUIVALENT, AFFINE])
@pytest.mark.parametrize("name", list(SYMBOL_SETS))
@pytest.mark.parametrize("max_constants", [0, 1, 2])
def test_programs_match_the_reference(name, prune, max_constants):
    symbol_arrays = SYMBOL_SETS[name]
    for length in range(1, 6):
        expected = reference_programs(symbol_arrays, length, max_constants, prune)
        found = kernel_programs(symbol_arrays, length, max_constants, prune)
        assert found[0].shape == expected[0].shape, f"length {length}"
        np.testing.assert_array_equal(found[0], expected[0])
        np.testing.assert_array_equal(found[1], expected[1])


def test_unpruned_counts_are_the_number_of_postfix_strings():
    # Counted by a recursion on the stack height: 2 leaves push, 2 unary
    # operators keep the height, 2 binary ones lower it.
    symbol_arrays = symbols(2, ["neg", "sqrt"], ["add", "mul"], constant=False)
    for length in range(1, 9):
        counts = {0: 1}
        for _ in range(length):
            after = {}
            for height, count in counts.items():
                after[height + 1] = after.get(height + 1, 0) + 2 * count
                if height >= 1:
                    after[height] = after.get(height, 0) + 2 * count
                if height >= 2:
                    after[height - 1] = after.get(height - 1, 0) + 2 * count
            counts = after
        found = kernel_programs(symbol_arrays, length, 0, NO_PRUNING, batch_size=4096)
        assert found[0].shape[0] == counts.get(1, 0)


@pytest.mark.parametrize("batch_size", [1, 2, 7, 100, 100_000])
def test_batches_resume_where_they_stopped(batch_size):
    symbol_arrays = SYMBOL_SETS["two variables"]
    whole = kernel_programs(symbol_arrays, 5, 2, AFFINE, batch_size=100_000)
    pieces = kernel_programs(symbol_arrays, 5, 2, AFFINE, batch_size=batch_size)
    np.testing.assert_array_equal(pieces[0], whole[0])
    np.testing.assert_array_equal(pieces[1], whole[1])


def test_exhausted_cursor_writes_nothing():
    symbol_arrays = SYMBOL_SETS["two variables"]
    cursor = np.zeros(4, dtype=np.int64)
    opcodes = np.zeros((10_000, 3), dtype=np.int64)
    arguments = np.zeros((10_000, 3), dtype=np.int64)
    first = next_programs(*symbol_arrays, 3, 2, AFFINE, cursor, opcodes, arguments)
    assert 0 < first < opcodes.shape[0]
    assert next_programs(*symbol_arrays, 3, 2, AFFINE, cursor, opcodes, arguments) == 0


@pytest.mark.parametrize("length", [5, 6])
def test_every_program_is_valid_distinct_and_of_the_length(length):
    unary = ["neg", "square", "sqrt", "exp", "log", "sin", "cos", "inv"]
    symbol_arrays = symbols(2, unary, ["add", "sub", "mul", "div"])
    opcodes, arguments = kernel_programs(symbol_arrays, length, 2, AFFINE, 50_000)
    assert opcodes.shape[0] > 5_000

    heights = np.cumsum(1 - ARITY[opcodes], axis=1)
    assert heights.min() >= 1, "the stack underflows"
    assert np.all(heights[:, -1] == 1), "more than one value is left"
    is_constant = opcodes == CONSTANT
    assert is_constant.sum(axis=1).max() <= 2
    slots = np.cumsum(is_constant, axis=1) - 1
    np.testing.assert_array_equal(arguments[is_constant], slots[is_constant])
    is_variable = opcodes == VARIABLE
    assert set(arguments[is_variable].tolist()) == {0, 1}
    assert np.all(arguments[~is_constant & ~is_variable] == 0)
    rows = np.concatenate([opcodes, arguments], axis=1)
    assert np.unique(rows, axis=0).shape[0] == rows.shape[0]


def normalized(values, affine):
    """Where a program is finite, and its values there (standardised and with
    the sign fixed if ``affine``); None for a constant or nowhere finite.

    Values of order 1e-16 are a cancellation, x - inv(inv(x)), so 0.
    """
    finite = np.isfinite(values)
    kept = values[finite]
    if kept.size == 0 or np.ptp(kept) <= 1e-9 * max(np.abs(kept).max(), 1e-3):
        return None
    if affine:
        kept = (kept - kept.mean()) / kept.std()
        # A slope may be negative.
        if kept[np.argmax(np.abs(kept) > 1e-6)] < 0:
            kept = -kept
    return finite, kept


def key_of(finite, kept):
    return finite.tobytes(), (np.round(kept, 6) + 0.0).tobytes()


@pytest.mark.parametrize("prune", [EQUIVALENT, AFFINE])
def test_pruning_keeps_every_function(prune):
    unary = ["neg", "inv", "square", "sin", "cos", "abs"]
    symbol_arrays = symbols(2, unary, ["add", "sub", "mul", "div"], constant=False)
    X = np.random.default_rng(3).uniform(0.3, 2.0, size=(12, 2))
    kept_functions = {}
    n_pruned = 0
    with np.errstate(all="ignore"):
        for length in range(1, 6):
            kept = kernel_programs(symbol_arrays, length, 0, prune)
            for opcodes, arguments in zip(*kept, strict=True):
                values = evaluate_reference(opcodes, arguments, [], X)
                function = normalized(values, prune == AFFINE)
                if function is not None:
                    kept_functions.setdefault(key_of(*function), function)
            everything = reference_programs(symbol_arrays, length, 0, NO_PRUNING)
            n_pruned += everything[0].shape[0] - kept[0].shape[0]
            for opcodes, arguments in zip(*everything, strict=True):
                values = evaluate_reference(opcodes, arguments, [], X)
                function = normalized(values, prune == AFFINE)
                if function is None or key_of(*function) in kept_functions:
                    continue
                finite, wanted = function
                assert any(
                    np.array_equal(finite, other_finite)
                    and np.allclose(wanted, other, rtol=1e-9, atol=1e-9)
                    for other_finite, other in kept_functions.values()
                ), f"no kept program computes {opcodes.tolist()} {arguments.tolist()}"
    assert n_pruned > 1000


# ---------------------------------------------------------------------------
# Affine scores
# ---------------------------------------------------------------------------


def lstsq_fit(values, y, weights):
    """Loss, slope and intercept of the weighted least-squares line, by numpy.

    The column of values is standardised first: values spanning many orders of
    magnitude would otherwise make lstsq drop the column of ones.
    """
    w = np.ones_like(y) if weights.size == 0 else weights
    mean, scale = values.mean(), values.std()
    standard = (values - mean) / scale
    design = np.column_stack([standard, np.ones_like(values)]) * np.sqrt(w)[:, None]
    (slope, intercept), *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
    slope, intercept = slope / scale, intercept - slope * mean / scale
    residuals = y - slope * values - intercept
    return np.sum(w * residuals**2) / np.sum(w), slope, intercept


def affine(opcodes, arguments, constants, trial_values, XT, y, weights):
    """``affine_losses`` on one program; its loss, slope, intercept, constants."""
    length = opcodes.shape[0]
    padded = np.zeros((1, length))
    padded[0, : constants.shape[0]] = constants
    out = [np.zeros(1) for _ in range(3)]
    affine_losses(
        opcodes.reshape(1, -1).copy(),
        arguments.reshape(1, -1).copy(),
        1,
        padded,
        trial_values,
        XT,
        y,
        weights,
        *out,
    )
    return out[0][0], out[1][0], out[2][0], padded[0]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    program=programs(n_features=2, max_size=9),
    n_rows=st.sampled_from([5, 64, 300]),
    weighted=st.booleans(),
)
def test_affine_losses_match_lstsq(program, n_rows, weighted):
    opcodes, arguments, constants = program
    rng = np.random.default_rng(n_rows)
    X = rng.uniform(0.2, 2.5, size=(n_rows, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + rng.normal(size=n_rows)
    weights = rng.uniform(0.1, 2.0, size=n_rows) if weighted else NO_WEIGHTS
    with np.errstate(all="ignore"):
        values = evaluate_reference(opcodes, arguments, constants, X)
    XT = np.ascontiguousarray(X.T)
    loss, slope, intercept, _ = affine(
        opcodes, arguments, constants, np.empty(0), XT, y, weights
    )

    if not np.all(np.isfinite(values)):
        assert loss == np.inf
        return
    # Squares of values beyond 1e+-150 overflow or underflow (documented).
    assume(1e-100 < np.abs(values).max() < 1e100)
    assume(np.ptp(values) > 1e-6 * np.abs(values).max())
    expected, expected_slope, expected_intercept = lstsq_fit(values, y, weights)
    assert loss == pytest.approx(expected, rel=1e-8)
    prediction = slope * values + intercept
    expected_prediction = expected_slope * values + expected_intercept
    np.testing.assert_allclose(prediction, expected_prediction, atol=1e-8 * np.std(y))


def test_affine_losses_of_a_constant_program_is_the_variance():
    XT = np.random.default_rng(0).uniform(1.0, 2.0, size=(1, 50))
    y = 2.0 * XT[0] + 1.0
    # sin^2 + cos^2 is 1 up to rounding: no slope may be fitted to the noise.
    opcodes = np.array([VARIABLE, OPERATORS["sin"].opcode, OPERATORS["square"].opcode])
    opcodes = np.concatenate([opcodes, [VARIABLE, OPERATORS["cos"].opcode]])
    opcodes = np.concatenate([opcodes, [OPERATORS["square"].opcode, ADD]])
    arguments = np.zeros(7, dtype=np.int64)
    loss, slope, intercept, _ = affine(
        opcodes, arguments, np.empty(0), np.empty(0), XT, y, NO_WEIGHTS
    )
    assert slope == 0.0
    assert intercept == pytest.approx(np.mean(y))
    assert loss == pytest.approx(np.var(y))


def test_affine_losses_try_every_combination_of_trial_values():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2.0, size=(40, 2))
    y = 3.0 * (np.exp(-2.0 * X[:, 0]) + 0.5 * X[:, 1]) + 1.0
    trial_values = np.array([1.0, -1.0, 2.0, -2.0, 0.5])
    # exp(c0 * x0) + c1 * x1
    opcodes = np.array(
        [VARIABLE, CONSTANT, MUL, OPERATORS["exp"].opcode, CONSTANT, VARIABLE, MUL, ADD]
    )
    arguments = np.array([0, 0, 0, 0, 1, 1, 0, 0])
    loss, _, _, best = affine(
        opcodes, arguments, np.zeros(2), trial_values, X.T.copy(), y, NO_WEIGHTS
    )

    grid = []
    for c0 in trial_values:
        for c1 in trial_values:
            values = evaluate_reference(opcodes, arguments, [c0, c1], X)
            grid.append((lstsq_fit(values, y, NO_WEIGHTS)[0], c0, c1))
    expected = min(grid)
    assert loss == pytest.approx(expected[0], rel=1e-9, abs=1e-25)
    assert loss < 1e-25
    assert tuple(best[:2]) == (expected[1], expected[2]) == (-2.0, 0.5)
