"""Exact derivatives with respect to the constants, and Levenberg-Marquardt.

Derivatives are propagated in forward mode alongside the values: the stack
holds, per level, the values of a row block and their derivatives with respect
to the constants of that subtree. Constant slots are numbered in postfix order,
so those constants are a contiguous range of slots (``slots[level]``).
"""

from __future__ import annotations

import numpy as np

from .._config import ROW_BLOCK, inlined_kernel, kernel
from ..operators import (
    ABS,
    ADD,
    ARITY,
    CONSTANT,
    COS,
    CUBE,
    DIV,
    EXP,
    INV,
    LOG,
    MUL,
    NEG,
    POW,
    SIN,
    SQRT,
    SQUARE,
    SUB,
    TAN,
    TANH,
    VARIABLE,
)
from .elementary import exp_row, log_row, sincos_row
from .evaluate import program_loss


@inlined_kernel
def _scale_derivatives(derivatives, slots, top, factor, n):
    """Chain rule for a unary node: d(f(a)) = f'(a) da, with f'(a) in ``factor``."""
    for j in range(slots[top, 0], slots[top, 1]):
        for i in range(n):
            derivatives[top, j, i] *= factor[i]


@inlined_kernel
def _combine_derivatives(derivatives, slots, a, b, factor, n):
    """Chain rule for a binary node: d = f_a da + f_b db, f_a, f_b in ``factor``.

    The operands hold disjoint, adjacent ranges of constant slots, so each
    derivative row is scaled once and none is added to another.
    """
    for j in range(slots[a, 0], slots[a, 1]):
        for i in range(n):
            derivatives[a, j, i] *= factor[0, i]
    for j in range(slots[b, 0], slots[b, 1]):
        for i in range(n):
            derivatives[a, j, i] = factor[1, i] * derivatives[b, j, i]
    if slots[a, 0] == slots[a, 1]:
        slots[a, 0] = slots[b, 0]
        slots[a, 1] = slots[b, 1]
    elif slots[b, 0] < slots[b, 1]:
        slots[a, 1] = slots[b, 1]


@kernel
def _binary_with_derivative(op, values, a, b, factor, n):
    """Apply a binary operator to levels ``a`` and ``b``; partials into ``factor``."""
    # One loop per operator, so that each loop is free of branches.
    if op == ADD:
        for i in range(n):
            values[a, i] = values[a, i] + values[b, i]
            factor[0, i] = 1.0
            factor[1, i] = 1.0
    elif op == SUB:
        for i in range(n):
            values[a, i] = values[a, i] - values[b, i]
            factor[0, i] = 1.0
            factor[1, i] = -1.0
    elif op == MUL:
        for i in range(n):
            left = values[a, i]
            right = values[b, i]
            values[a, i] = left * right
            factor[0, i] = right
            factor[1, i] = left
    elif op == DIV:
        for i in range(n):
            right = values[b, i]
            result = values[a, i] / right
            values[a, i] = result
            factor[0, i] = 1.0 / right
            factor[1, i] = -result / right
    elif op == POW:
        for i in range(n):
            left = values[a, i]
            right = values[b, i]
            result = left**right
            values[a, i] = result
            factor[0, i] = right * left ** (right - 1.0)
            # a^b log(a) tends to 0 as a -> 0 for b > 0; 0 * -inf would be nan.
            factor[1, i] = 0.0 if result == 0.0 else result * np.log(left)
    else:
        for i in range(n):
            values[a, i] = np.nan


@kernel
def _unary_with_derivative(op, values, top, factor, n):
    """Apply a unary operator to level ``top``; its derivative into ``factor[0]``."""
    if op == NEG:
        for i in range(n):
            values[top, i] = -values[top, i]
            factor[0, i] = -1.0
    elif op == SQUARE:
        for i in range(n):
            x = values[top, i]
            values[top, i] = x * x
            factor[0, i] = 2.0 * x
    elif op == CUBE:
        for i in range(n):
            x = values[top, i]
            values[top, i] = x * x * x
            factor[0, i] = 3.0 * x * x
    elif op == SQRT:
        for i in range(n):
            result = np.sqrt(values[top, i])
            values[top, i] = result
            factor[0, i] = 0.5 / result
    elif op == EXP:
        exp_row(values[top], n, factor[1])
        for i in range(n):
            factor[0, i] = values[top, i]
    elif op == LOG:
        for i in range(n):
            factor[0, i] = 1.0 / values[top, i]
        log_row(values[top], n, factor[1])
    elif op == SIN:
        sincos_row(values[top], n, factor[1], factor[0])
        for i in range(n):
            values[top, i] = factor[1, i]
    elif op == COS:
        sincos_row(values[top], n, factor[0], factor[1])
        for i in range(n):
            values[top, i] = factor[1, i]
            factor[0, i] = -factor[0, i]
    elif op == TAN:
        for i in range(n):
            result = np.tan(values[top, i])
            values[top, i] = result
            factor[0, i] = 1.0 + result * result
    elif op == TANH:
        for i in range(n):
            result = np.tanh(values[top, i])
            values[top, i] = result
            factor[0, i] = 1.0 - result * result
    elif op == ABS:
        for i in range(n):
            x = values[top, i]
            values[top, i] = np.abs(x)
            factor[0, i] = np.sign(x)
    elif op == INV:
        for i in range(n):
            result = 1.0 / values[top, i]
            values[top, i] = result
            factor[0, i] = -result * result
    else:
        for i in range(n):
            values[top, i] = np.nan
            factor[0, i] = np.nan


@kernel
def _jacobian_block(
    opcodes,
    arguments,
    length,
    constants,
    XT,
    start,
    n,
    values,
    derivatives,
    slots,
    factor,
):
    """Values and derivatives of rows ``start:start+n``, left at stack level 0.

    Constant slots are numbered in postfix order, so the constants of a
    subtree are a range ``slots[level] = [first, stop)``; a level holds
    derivative rows for that range only. ``factor`` is scratch of shape
    ``(2, ROW_BLOCK)`` for the partials of one node.
    """
    top = np.int64(-1)  # not a literal: see variation.START
    for k in range(length):
        op = opcodes[k]
        if op == VARIABLE:
            top += 1
            column = XT[arguments[k]]
            for i in range(n):
                values[top, i] = column[start + i]
            slots[top, 0] = 0
            slots[top, 1] = 0
        elif op == CONSTANT:
            top += 1
            slot = arguments[k]
            value = constants[slot]
            for i in range(n):
                values[top, i] = value
                derivatives[top, slot, i] = 1.0
            slots[top, 0] = slot
            slots[top, 1] = slot + 1
        elif ARITY[op] == 2:
            top -= 1
            _binary_with_derivative(op, values, top, top + 1, factor, n)
            _combine_derivatives(derivatives, slots, top, top + 1, factor, n)
        else:
            _unary_with_derivative(op, values, top, factor, n)
            _scale_derivatives(derivatives, slots, top, factor[0], n)


@kernel
def count_constants(opcodes, length):
    """Number of constant nodes (and so of constant slots) of a program."""
    count = 0
    for k in range(length):
        if opcodes[k] == CONSTANT:
            count += 1
    return count


@kernel
def make_scratch(capacity, max_constants):
    """Scratch arrays for ``normal_equations``: values, derivatives, slot
    ranges, factor."""
    values = np.empty((capacity, ROW_BLOCK))
    derivatives = np.empty((capacity, max(max_constants, 1), ROW_BLOCK))
    slots = np.zeros((capacity, 2), dtype=np.int64)
    factor = np.empty((2, ROW_BLOCK))
    return values, derivatives, slots, factor


@kernel
def normal_equations(
    opcodes,
    arguments,
    length,
    constants,
    n_constants,
    XT,
    y,
    weights,
    jtj,
    jtr,
    values,
    derivatives,
    slots,
    factor,
):
    """Fill ``jtj = J^T W J`` and ``jtr = J^T W r`` and return the loss.

    ``r = f - y``; the loss is the weighted mean squared error, or ``inf``
    when any value or derivative is not finite.
    """
    n_rows = XT.shape[1]
    weighted = weights.shape[0] > 0
    jtj[:n_constants, :n_constants] = 0.0
    jtr[:n_constants] = 0.0
    total = 0.0
    for start in range(0, n_rows, ROW_BLOCK):
        n = min(ROW_BLOCK, n_rows - start)
        _jacobian_block(
            opcodes,
            arguments,
            length,
            constants,
            XT,
            start,
            n,
            values,
            derivatives,
            slots,
            factor,
        )
        for i in range(n):
            residual = values[0, i] - y[start + i]
            w = weights[start + i] if weighted else 1.0
            total += w * residual * residual
            factor[0, i] = w * residual
        # The root's range is every slot, unless the program has no constant.
        if slots[0, 0] == slots[0, 1]:
            continue
        for j in range(n_constants):
            s = 0.0
            for i in range(n):
                s += derivatives[0, j, i] * factor[0, i]
            jtr[j] += s
            for m in range(j + 1):
                s = 0.0
                for i in range(n):
                    if weighted:
                        s += (
                            weights[start + i]
                            * derivatives[0, j, i]
                            * derivatives[0, m, i]
                        )
                    else:
                        s += derivatives[0, j, i] * derivatives[0, m, i]
                jtj[j, m] += s
    for j in range(n_constants):
        for m in range(j):
            jtj[m, j] = jtj[j, m]
    weight_sum = 0.0
    if weighted:
        for i in range(n_rows):
            weight_sum += weights[i]
    else:
        weight_sum = n_rows
    loss = total / weight_sum
    if not np.isfinite(loss):
        return np.inf
    for j in range(n_constants):
        if not np.isfinite(jtr[j]) or not np.isfinite(jtj[j, j]):
            return np.inf
    return loss


@inlined_kernel
def _solve_damped(jtj, jtr, n_constants, damping, step, work):
    """Solve ``(J^T J + damping * diag(J^T J)) step = -J^T r`` by Cholesky.

    Returns False when the damped matrix is not positive definite.
    """
    for j in range(n_constants):
        for m in range(n_constants):
            work[j, m] = jtj[j, m]
        work[j, j] += damping * jtj[j, j] + 1e-12 * (1.0 + jtj[j, j])
    for j in range(n_constants):
        for m in range(j + 1):
            s = work[j, m]
            for p in range(m):
                s -= work[j, p] * work[m, p]
            if j == m:
                if s <= 0.0 or not np.isfinite(s):
                    return False
                work[j, j] = np.sqrt(s)
            else:
                work[j, m] = s / work[m, m]
    for j in range(n_constants):
        s = -jtr[j]
        for p in range(j):
            s -= work[j, p] * step[p]
        step[j] = s / work[j, j]
    for j in range(n_constants - 1, -1, -1):
        s = step[j]
        for p in range(j + 1, n_constants):
            s -= work[p, j] * step[p]
        step[j] = s / work[j, j]
    return True


@kernel
def fit_constants(
    opcodes,
    arguments,
    length,
    constants,
    XT,
    y,
    weights,
    max_iterations,
    scratch_values,
    derivatives,
    slots,
    factor,
    loss_stack,
):
    """Fit a program's constants in place by Levenberg-Marquardt.

    Returns ``(loss, n_evaluations)``; each pass over the data, with or
    without derivatives, counts as one evaluation. The constants are only
    changed when the loss improves.
    """
    n_constants = count_constants(opcodes, length)
    if n_constants == 0:
        loss = program_loss(
            opcodes, arguments, length, constants, XT, y, weights, loss_stack
        )
        return loss, 1
    jtj = np.empty((n_constants, n_constants))
    jtr = np.empty(n_constants)
    work = np.empty((n_constants, n_constants))
    step = np.empty(n_constants)
    trial = constants.copy()
    loss = normal_equations(
        opcodes,
        arguments,
        length,
        constants,
        n_constants,
        XT,
        y,
        weights,
        jtj,
        jtr,
        scratch_values,
        derivatives,
        slots,
        factor,
    )
    n_evaluations = 1
    if not np.isfinite(loss):
        return loss, n_evaluations
    damping = 1e-3
    for _ in range(max_iterations):
        improved = False
        while damping < 1e8:
            if _solve_damped(jtj, jtr, n_constants, damping, step, work):
                for j in range(n_constants):
                    trial[j] = constants[j] + step[j]
                trial_loss = program_loss(
                    opcodes, arguments, length, trial, XT, y, weights, loss_stack
                )
                n_evaluations += 1
                if trial_loss < loss:
                    improved = True
                    break
            damping *= 10.0
        if not improved:
            break
        relative_gain = (loss - trial_loss) / max(loss, 1e-300)
        for j in range(n_constants):
            constants[j] = trial[j]
        damping = max(damping * 0.1, 1e-9)
        loss = normal_equations(
            opcodes,
            arguments,
            length,
            constants,
            n_constants,
            XT,
            y,
            weights,
            jtj,
            jtr,
            scratch_values,
            derivatives,
            slots,
            factor,
        )
        n_evaluations += 1
        if relative_gain < 1e-10 or loss == 0.0:
            break
    return loss, n_evaluations
