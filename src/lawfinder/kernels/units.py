"""Check that a postfix program respects the units of its features and target.

Units are exponent vectors over the base dimensions. Each stack level holds
one such vector followed by a *kind*: ``FIXED`` (the units are known),
``FREE`` (a constant inside the subtree can take whatever units make the
parent consistent) or ``NUMBER`` (the subtree holds no variable at all, so it
is one number and, like a constant, can carry any units). How each operator
treats units is the ``units`` rule of its entry in the operator table.
"""

from __future__ import annotations

import numpy as np

from .._config import inlined_kernel, kernel
from ..operators import BY_OPCODE, CONSTANT, N_OPCODES, VARIABLE

FIXED = 0.0
FREE = 1.0
NUMBER = 2.0

SAME = 0
PRODUCT = 1
QUOTIENT = 2
POWER = 3
SCALE = 4
KEEP = 5
DIMENSIONLESS = 6
_RULE_CODES = {
    "same": SAME,
    "product": PRODUCT,
    "quotient": QUOTIENT,
    "power": POWER,
    "scale": SCALE,
    "keep": KEEP,
    "dimensionless": DIMENSIONLESS,
}

# Exponents are sums and multiples of small fractions (sqrt halves them), so
# equal units agree far closer than this.
TOLERANCE = 1e-9


def _rule_tables() -> tuple[np.ndarray, np.ndarray]:
    """The units rule and power of every opcode, read from the operator table."""
    rules = np.full(N_OPCODES, KEEP, dtype=np.int64)
    powers = np.ones(N_OPCODES, dtype=np.float64)
    for opcode, operator in BY_OPCODE.items():
        rules[opcode] = _RULE_CODES[operator.units]
        powers[opcode] = operator.units_power
    return rules, powers


UNIT_RULES, UNIT_POWERS = _rule_tables()


def unit_stack(capacity: int, n_dimensions: int) -> np.ndarray:
    """Scratch for :func:`unit_violations`: ``capacity`` levels of units and kind.

    Parameters
    ----------
    capacity : int
        At least the program's stack depth; its length will do.
    n_dimensions : int
        The number of base dimensions.

    Returns
    -------
    numpy.ndarray of shape (capacity, n_dimensions + 1)

    Examples
    --------
    >>> unit_stack(5, 3).shape
    (5, 4)
    """
    return np.empty((max(capacity, 1), n_dimensions + 1), dtype=np.float64)


@inlined_kernel
def _has_units(row, n_dims):
    """Is any exponent of ``row[:n_dims]`` non-zero?"""
    for d in range(n_dims):
        if abs(row[d]) > TOLERANCE:
            return True
    return False


@inlined_kernel
def _differ(row, other, n_dims):
    """Do ``row[:n_dims]`` and ``other[:n_dims]`` hold different units?"""
    for d in range(n_dims):
        if abs(row[d] - other[d]) > TOLERANCE:
            return True
    return False


@inlined_kernel
def _fill(row, value, n_dims):
    """Set the exponents ``row[:n_dims]`` to ``value``.

    Loops rather than slice assignment, which is slow for numba to compile.
    """
    for d in range(n_dims):
        row[d] = value


@kernel
def unit_violations(opcodes, arguments, length, feature_units, target_units, stack):
    """Count the places where a program combines units inconsistently.

    Each sum or difference of different units, dimensioned argument of exp,
    log, sin, ..., dimensioned exponent or base of a power whose exponent
    holds variables, and a result whose units are not the target's counts
    once. Constants take whatever units fit, so a product with a constant
    fits anything; a ``pow`` with a constant exponent may give its base any
    units, as the kernel does not see the exponent's value.

    Parameters
    ----------
    opcodes, arguments : numpy.ndarray of int64
        The program, in postfix order; only the first ``length`` nodes count.
    length : int
    feature_units : numpy.ndarray of shape (n_features, n_dims)
        Exponents of each feature's units.
    target_units : numpy.ndarray of shape (n_dims,)
    stack : numpy.ndarray of shape (capacity, n_dims + 1)
        Scratch, see :func:`unit_stack`.

    Returns
    -------
    int
        The number of violations; 0 for a consistent program.

    Examples
    --------
    ``x0 + x1`` with ``x0`` in metres, ``x1`` in seconds and ``y`` in metres:

    >>> from lawfinder.operators import ADD, VARIABLE
    >>> program = np.array([VARIABLE, VARIABLE, ADD]), np.array([0, 1, 0])
    >>> units = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> unit_violations(*program, 3, units, units[0], unit_stack(3, 2))
    1
    """
    n_dims = target_units.shape[0]
    kind = n_dims
    violations = 0
    top = -1
    for k in range(length):
        op = opcodes[k]
        if op == VARIABLE:
            top += 1
            for d in range(n_dims):
                stack[top, d] = feature_units[arguments[k], d]
            stack[top, kind] = FIXED
            continue
        if op == CONSTANT:
            top += 1
            _fill(stack[top], 0.0, n_dims)
            stack[top, kind] = NUMBER
            continue

        rule = UNIT_RULES[op]
        if rule == SCALE or rule == KEEP or rule == DIMENSIONLESS:
            operand = stack[top]
            if operand[kind] == FIXED and rule == SCALE:
                for d in range(n_dims):
                    operand[d] *= UNIT_POWERS[op]
            elif rule == DIMENSIONLESS and operand[kind] != NUMBER:
                if operand[kind] == FIXED and _has_units(operand, n_dims):
                    violations += 1
                _fill(operand, 0.0, n_dims)
                operand[kind] = FIXED
            continue

        top -= 1
        left = stack[top]
        right = stack[top + 1]
        if left[kind] == NUMBER and right[kind] == NUMBER:
            continue
        if rule == POWER:
            if right[kind] == NUMBER:
                # A constant exponent scales the base's units by a value
                # that the kernel does not see, so any units can result.
                if left[kind] != FIXED or _has_units(left, n_dims):
                    left[kind] = FREE
                continue
            if right[kind] == FIXED and _has_units(right, n_dims):
                violations += 1
            if left[kind] == FIXED and _has_units(left, n_dims):
                violations += 1
            _fill(left, 0.0, n_dims)
            left[kind] = FIXED
        elif rule == SAME:
            if left[kind] == FIXED and right[kind] == FIXED:
                if _differ(left, right, n_dims):
                    violations += 1
            elif right[kind] == FIXED:
                for d in range(n_dims + 1):
                    left[d] = right[d]
            elif left[kind] != FIXED:
                left[kind] = FREE
        elif left[kind] != FIXED or right[kind] != FIXED:
            left[kind] = FREE
        elif rule == PRODUCT:
            for d in range(n_dims):
                left[d] += right[d]
        else:
            for d in range(n_dims):
                left[d] -= right[d]

    if stack[0, kind] == FIXED and _differ(stack[0], target_units, n_dims):
        violations += 1
    return violations
