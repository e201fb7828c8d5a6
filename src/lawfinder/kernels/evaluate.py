"""Evaluate postfix programs on data, row block by row block.

``XT`` is the data transposed, shape ``(n_features, n_rows)``, so that the
rows of one feature are contiguous. The stack holds one row block per level.
"""

from __future__ import annotations

import numpy as np

from .._config import ROW_BLOCK, kernel
from ..operators import (
    ABS,
    ADD,
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
from .elementary import cos_row, exp_row, log_row, sin_row


@kernel
def _evaluate_block(opcodes, arguments, length, constants, XT, start, n, stack, work):
    """Evaluate rows ``start:start+n``; the result is left in ``stack[0, :n]``.

    ``work`` is scratch of at least ``n`` floats for the elementary functions.
    """
    top = -1
    for k in range(length):
        op = opcodes[k]
        if op == VARIABLE:
            top += 1
            column = XT[arguments[k]]
            for i in range(n):
                stack[top, i] = column[start + i]
        elif op == CONSTANT:
            top += 1
            value = constants[arguments[k]]
            for i in range(n):
                stack[top, i] = value
        elif op == ADD:
            top -= 1
            for i in range(n):
                stack[top, i] = stack[top, i] + stack[top + 1, i]
        elif op == SUB:
            top -= 1
            for i in range(n):
                stack[top, i] = stack[top, i] - stack[top + 1, i]
        elif op == MUL:
            top -= 1
            for i in range(n):
                stack[top, i] = stack[top, i] * stack[top + 1, i]
        elif op == DIV:
            top -= 1
            for i in range(n):
                stack[top, i] = stack[top, i] / stack[top + 1, i]
        elif op == POW:
            top -= 1
            for i in range(n):
                stack[top, i] = stack[top, i] ** stack[top + 1, i]
        elif op == NEG:
            for i in range(n):
                stack[top, i] = -stack[top, i]
        elif op == SQUARE:
            for i in range(n):
                stack[top, i] = stack[top, i] * stack[top, i]
        elif op == CUBE:
            for i in range(n):
                a = stack[top, i]
                stack[top, i] = a * a * a
        elif op == SQRT:
            for i in range(n):
                stack[top, i] = np.sqrt(stack[top, i])
        elif op == EXP:
            exp_row(stack[top], n, work)
        elif op == LOG:
            log_row(stack[top], n, work)
        elif op == SIN:
            sin_row(stack[top], n, work)
        elif op == COS:
            cos_row(stack[top], n, work)
        elif op == TAN:
            for i in range(n):
                stack[top, i] = np.tan(stack[top, i])
        elif op == TANH:
            for i in range(n):
                stack[top, i] = np.tanh(stack[top, i])
        elif op == ABS:
            for i in range(n):
                stack[top, i] = np.abs(stack[top, i])
        elif op == INV:
            for i in range(n):
                stack[top, i] = 1.0 / stack[top, i]


@kernel
def apply_operator(op, left, right):
    """One operator on plain numbers: ``op(left, right)``, or ``op(left)``."""
    if op == ADD:
        return left + right
    if op == SUB:
        return left - right
    if op == MUL:
        return left * right
    if op == DIV:
        return left / right
    if op == POW:
        return left**right
    if op == NEG:
        return -left
    if op == SQUARE:
        return left * left
    if op == CUBE:
        return left * left * left
    if op == SQRT:
        return np.sqrt(left)
    if op == EXP:
        return np.exp(left)
    if op == LOG:
        return np.log(left)
    if op == SIN:
        return np.sin(left)
    if op == COS:
        return np.cos(left)
    if op == TAN:
        return np.tan(left)
    if op == TANH:
        return np.tanh(left)
    if op == ABS:
        return np.abs(left)
    if op == INV:
        return 1.0 / left
    return np.nan


@kernel
def stack_depth(opcodes, length):
    """Largest stack height a program needs."""
    top = 0
    deepest = 0
    for k in range(length):
        op = opcodes[k]
        if op == VARIABLE or op == CONSTANT:
            top += 1
        elif op <= POW:
            top -= 1
        if top > deepest:
            deepest = top
    return deepest


@kernel
def evaluate_program(opcodes, arguments, length, constants, XT, out):
    """Write the program's value on every row of ``XT`` into ``out``."""
    n_rows = XT.shape[1]
    stack = np.empty((stack_depth(opcodes, length), ROW_BLOCK))
    work = np.empty(ROW_BLOCK)
    for start in range(0, n_rows, ROW_BLOCK):
        n = min(ROW_BLOCK, n_rows - start)
        _evaluate_block(
            opcodes, arguments, length, constants, XT, start, n, stack, work
        )
        for i in range(n):
            out[start + i] = stack[0, i]


@kernel
def program_loss(opcodes, arguments, length, constants, XT, y, weights, stack):
    """Weighted mean squared error; ``inf`` when any output is not finite.

    ``stack`` is scratch space of shape ``(depth, ROW_BLOCK)``; ``weights`` of
    length 0 means unit weights.
    """
    n_rows = XT.shape[1]
    weighted = weights.shape[0] > 0
    total = 0.0
    weight_sum = 0.0
    work = np.empty(ROW_BLOCK)
    for start in range(0, n_rows, ROW_BLOCK):
        n = min(ROW_BLOCK, n_rows - start)
        _evaluate_block(
            opcodes, arguments, length, constants, XT, start, n, stack, work
        )
        block_total = 0.0
        for i in range(n):
            residual = stack[0, i] - y[start + i]
            if weighted:
                block_total += weights[start + i] * residual * residual
            else:
                block_total += residual * residual
        # A nan or inf anywhere makes the block sum non-finite: stop early.
        if not np.isfinite(block_total):
            return np.inf
        total += block_total
    if weighted:
        for i in range(n_rows):
            weight_sum += weights[i]
    else:
        weight_sum = n_rows
    return total / weight_sum


@kernel
def population_losses(opcodes, arguments, lengths, constants, XT, y, weights, out):
    """Loss of every program of a population (rows of the 2-D arrays)."""
    stack = np.empty((opcodes.shape[1], ROW_BLOCK))
    for p in range(opcodes.shape[0]):
        out[p] = program_loss(
            opcodes[p], arguments[p], lengths[p], constants[p], XT, y, weights, stack
        )


@kernel
def evaluate_population(opcodes, arguments, lengths, constants, XT, out):
    """Values of every program on every row: ``out`` has shape (n_programs, n_rows)."""
    for p in range(opcodes.shape[0]):
        evaluate_program(opcodes[p], arguments[p], lengths[p], constants[p], XT, out[p])
