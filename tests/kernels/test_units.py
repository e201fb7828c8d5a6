"""The units check against a recursive reference and against physics.

The reference walks the tree by recursion with exact fractions, reading each
operator's rule from the operator table. The physical check needs no
reference: a program that passes the check must scale correctly when the
units change, ``f(X * s**D) = f(X) * s**d_y``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lawfinder.kernels.units import unit_stack, unit_violations
from lawfinder.operators import ARITY, BY_OPCODE, CONSTANT, N_OPCODES, VARIABLE
from lawfinder.priors.units import count_unit_violations, units_matrix
from reference import assert_matches_reference, evaluate_reference, random_features
from strategies import program, programs

N_FEATURES = 3
PADDING = 5
# Different weights keep different units apart in the scaling test.
WEIGHTS = np.array([1.0, 5.0])

# Mass, acceleration and a dimensionless number; the target is a force.
MASS, ACCELERATION, NUMBER = "x0", "x1", "x2"
D, D_Y = units_matrix(["kg", "m/s^2", "1"], "N")


def reference_violations(opcodes, arguments, feature_units, target_units):
    """Violations counted by recursion on the tree, with exact exponents.

    A node is ("fixed", units), ("free", None) when a constant in it can take
    any units, or ("number", None) when it holds no variable.
    """

    def exact(row):
        return tuple(Fraction(float(entry)).limit_denominator(10**6) for entry in row)

    def dimensionless(units):
        return all(entry == 0 for entry in units)

    def walk(end):
        """(start of the subtree ending at ``end``, its node, its violations)"""
        opcode = int(opcodes[end])
        if opcode == VARIABLE:
            return end, ("fixed", exact(feature_units[arguments[end]])), 0
        if opcode == CONSTANT:
            return end, ("number", None), 0
        operator = BY_OPCODE[opcode]
        rule = operator.units
        if operator.arity == 1:
            start, (kind, units), count = walk(end - 1)
            if rule == "scale" and kind == "fixed":
                power = Fraction(operator.units_power)
                return start, ("fixed", tuple(power * e for e in units)), count
            if rule == "dimensionless" and kind != "number":
                if kind == "fixed" and not dimensionless(units):
                    count += 1
                return start, ("fixed", exact(np.zeros(len(target_units)))), count
            return start, (kind, units), count

        right_start, right, right_count = walk(end - 1)
        start, left, left_count = walk(right_start - 1)
        count = left_count + right_count
        zero = exact(np.zeros(len(target_units)))
        if left[0] == "number" and right[0] == "number":
            return start, left, count
        if rule == "power":
            if right[0] == "number":
                if left[0] == "fixed" and dimensionless(left[1]):
                    return start, left, count
                return start, ("free", None), count
            for kind, units in (left, right):
                count += kind == "fixed" and not dimensionless(units)
            return start, ("fixed", zero), count
        if rule == "same":
            if left[0] == "fixed" and right[0] == "fixed":
                return start, left, count + (left[1] != right[1])
            fixed = [node for node in (left, right) if node[0] == "fixed"]
            return start, fixed[0] if fixed else ("free", None), count
        if left[0] != "fixed" or right[0] != "fixed":
            return start, ("free", None), count
        sign = 1 if rule == "product" else -1
        units = tuple(a + sign * b for a, b in zip(left[1], right[1], strict=True))
        return start, ("fixed", units), count

    start, (kind, units), count = walk(len(opcodes) - 1)
    assert start == 0, "malformed program"
    return count + (kind == "fixed" and units != exact(target_units))


def result_units(opcodes, arguments, feature_units):
    """Units of a program without constants, where every node is fixed."""
    stack = []
    for opcode, argument in zip(opcodes, arguments, strict=True):
        if opcode == VARIABLE:
            stack.append(np.array(feature_units[argument], dtype=float))
            continue
        operator = BY_OPCODE[int(opcode)]
        operands = [stack.pop() for _ in range(operator.arity)][::-1]
        first, rule = operands[0], operator.units
        if rule == "product":
            first = first + operands[1]
        elif rule == "quotient":
            first = first - operands[1]
        elif rule == "scale":
            first = first * operator.units_power
        elif rule in ("power", "dimensionless"):
            first = 0.0 * first
        stack.append(first)
    return stack[0]


def kernel_violations(opcodes, arguments, feature_units, target_units, padding=0):
    """Run the kernel on a copy of the program padded with junk nodes."""
    rng = np.random.default_rng(0)
    length = len(opcodes)
    opcodes = np.concatenate([opcodes, rng.integers(0, N_OPCODES, padding)])
    arguments = np.concatenate([arguments, rng.integers(0, 1000, padding)])
    stack = unit_stack(length, len(target_units))
    return unit_violations(
        opcodes.astype(np.int64),
        arguments.astype(np.int64),
        length,
        np.ascontiguousarray(feature_units, dtype=np.float64),
        np.ascontiguousarray(target_units, dtype=np.float64),
        stack,
    )


def violations_of(*nodes, target=D_Y):
    opcodes, arguments, _ = program(*nodes)
    return kernel_violations(opcodes, arguments, D.T, target)


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ((MASS, ACCELERATION, "mul"), 0),  # F = m a
        ((1.0, MASS, "mul", ACCELERATION, "mul"), 0),  # F = c m a
        ((MASS, 2.0, "mul", ACCELERATION, "mul"), 0),
        ((MASS, ACCELERATION, "add"), 2),  # m + a is no sum, and no force
        ((MASS, ACCELERATION, "mul", MASS, ACCELERATION, "mul", "sub"), 0),
        ((MASS, ACCELERATION, "mul", NUMBER, "exp", "mul"), 0),
        ((MASS, "exp"), 2),  # exp(m) has a dimensioned argument, and no force
        ((MASS, "exp", MASS, "mul", ACCELERATION, "mul"), 1),
        ((MASS, 1.0, "mul", "exp", MASS, "mul", ACCELERATION, "mul"), 0),
        ((MASS, "square", "sqrt", ACCELERATION, "mul"), 0),
        ((MASS, "inv", "inv", ACCELERATION, "abs", "neg", "mul"), 0),
        ((MASS, ACCELERATION, "div"), 1),
        ((MASS, 2.0, "pow", ACCELERATION, "mul"), 0),  # the exponent may scale
        ((MASS, NUMBER, "pow"), 2),  # a variable power of a mass
        ((NUMBER, MASS, "pow", MASS, "mul", ACCELERATION, "mul"), 1),
        ((1.0, MASS, "add", ACCELERATION, "mul"), 0),  # the constant is a mass
        ((1.0, 2.0, "add", "exp"), 0),  # a number can take any units
        ((NUMBER,), 1),
        ((2.0,), 0),
    ],
)
def test_hand_written_programs(nodes, expected):
    assert violations_of(*nodes) == expected


def test_no_dimensions_means_no_violations():
    opcodes, arguments, _ = program(MASS, "exp", ACCELERATION, "add")
    no_units = np.zeros((3, 0))
    assert kernel_violations(opcodes, arguments, no_units, np.zeros(0)) == 0


def test_rules_come_from_the_operator_table():
    """Every operator has a rule the kernel and the reference know."""
    known = {"same", "product", "quotient", "power", "scale", "keep", "dimensionless"}
    for operator in BY_OPCODE.values():
        assert operator.units in known
        assert (operator.units in {"same", "product", "quotient", "power"}) == (
            ARITY[operator.opcode] == 2
        )


@st.composite
def unit_rows(draw, n_rows, n_dims):
    """Small integer exponents, often zero, sometimes halves."""
    exponent = st.sampled_from([0.0, 0.0, 1.0, -1.0, 2.0, 0.5, -2.0])
    rows = draw(
        st.lists(
            st.lists(exponent, min_size=n_dims, max_size=n_dims),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    return np.array(rows, dtype=np.float64).reshape(n_rows, n_dims)


@given(data=st.data(), program_=programs(n_features=N_FEATURES))
def test_kernel_matches_recursive_reference(data, program_):
    opcodes, arguments, _ = program_
    n_dims = data.draw(st.integers(0, 3))
    feature_units = data.draw(unit_rows(N_FEATURES, n_dims))
    if data.draw(st.booleans()):
        target_units = data.draw(unit_rows(1, n_dims))[0]
    else:
        # Many programs have the units of x0, so the root often passes.
        target_units = feature_units[0]

    expected = reference_violations(opcodes, arguments, feature_units, target_units)
    found = kernel_violations(
        opcodes, arguments, feature_units, target_units, padding=PADDING
    )
    assert found == expected


def without_constants(opcodes, arguments, variable):
    """The program with every constant replaced by the feature ``variable``."""
    opcodes, arguments = opcodes.copy(), arguments.copy()
    arguments[opcodes == CONSTANT] = variable
    opcodes[opcodes == CONSTANT] = VARIABLE
    return opcodes, arguments


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data(), program_=programs(n_features=N_FEATURES, max_size=15))
def test_consistent_programs_scale_with_the_units(data, program_):
    """Change units: base dimension k by the factor 2**WEIGHTS[k], so feature i
    by 2**(WEIGHTS @ units[i]); a consistent program scales by the target's
    factor. Powers of two keep the scaled data exact."""
    n_dims = len(WEIGHTS)
    feature_units = np.vstack(
        [data.draw(unit_rows(N_FEATURES, n_dims)), np.zeros((1, n_dims))]
    )
    opcodes, arguments = without_constants(*program_[:2], variable=N_FEATURES)
    target_units = result_units(opcodes, arguments, feature_units)
    assume(kernel_violations(opcodes, arguments, feature_units, target_units) == 0)

    X = random_features(64, N_FEATURES + 1, seed=1)
    scales = 2.0 ** (feature_units @ WEIGHTS)
    no_constants = np.zeros(0)
    with np.errstate(all="ignore"):
        expected = evaluate_reference(opcodes, arguments, no_constants, X)
        expected = expected * 2.0 ** (target_units @ WEIGHTS)
    assert_matches_reference(
        expected,
        opcodes,
        arguments,
        no_constants,
        X * scales,
        compare_non_finite=False,
    )


def test_inconsistent_programs_are_caught_by_scaling():
    """m + a does not scale with the units, and the check says so."""
    opcodes, arguments, constants = program(MASS, ACCELERATION, "add")
    X = np.array([[1.0, 3.0, 0.5]])
    scaled = X * 2.0 ** D.sum(axis=0)
    before = evaluate_reference(opcodes, arguments, constants, X)
    after = evaluate_reference(opcodes, arguments, constants, scaled)
    assert not np.allclose(after, before * 2.0 ** D.sum(axis=0)[0])
    assert count_unit_violations(opcodes, arguments, D.T, D.T[0]) == 1


def test_wrapper_checks_its_input():
    opcodes, arguments, _ = program(MASS, ACCELERATION, "mul")
    with pytest.raises(
        ValueError, match=r"feature_units must have shape \(n_features, 3\)"
    ):
        count_unit_violations(opcodes, arguments, D.T[:, :2], D_Y)
    with pytest.raises(ValueError, match=r"uses features \[0, 5\] but feature_units"):
        count_unit_violations(opcodes, [0, 5, 0], D.T, D_Y)
    with pytest.raises(ValueError, match="non-empty and of equal length"):
        count_unit_violations(opcodes, [0, 1], D.T, D_Y)
