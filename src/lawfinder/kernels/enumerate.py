"""Enumerate every postfix program of one length, and score each by an affine fit.

Programs are spelled with a fixed list of symbols (variable leaves, one
constant leaf, unary and binary operators) and generated in lexicographic
order of their symbol indices by a depth-first odometer that resumes from a
cursor, so a long enumeration comes out in batches. A prefix is abandoned as
soon as no completion can be a valid program, or one that pruning keeps.

Pruning levels (``prune``):

``NO_PRUNING``
    Every valid program with at most ``max_constants`` constants.
``EQUIVALENT``
    Also skip programs equal, for every value of their constants, to a
    shorter program or to one of the same length that comes first:

    - an operator whose operands are all constant-only subtrees;
    - ``neg`` or ``inv`` of itself; an even or odd function (``square``,
      ``cube``, ``sin``, ``cos``, ``tan``, ``tanh``, ``abs``, ``inv``) of a
      ``neg``: the sign moves outside or goes;
    - ``a - a`` and ``a / a`` when ``a`` has no constant and constants are
      allowed: the constant leaf writes 0 and 1 (a program that has no room
      left for that constant is skipped with them);
    - ``a + b`` and ``a * b`` when ``b`` sorts before ``a`` (shorter first,
      then by symbol indices);
    - ``neg`` as an operand of ``+`` or ``*`` or ``/``, or as the left operand
      of ``-`` (when ``-`` and ``+`` are symbols): ``a + neg(b) = a - b``,
      ``neg(a) * b = neg(a * b)``, ``neg(a) - b = neg(a + b)``,
      ``a - neg(b) = a + b``;
    - ``inv`` as an operand of ``*`` or as the right operand of ``/`` (when
      ``/`` and ``*`` are symbols): ``a * inv(b) = a / b``,
      ``a / inv(b) = a * b``.
``AFFINE``
    Also skip programs whose best affine fit ``slope * f + intercept``
    equals that of a shorter program: a ``neg`` at the root, a root ``+``,
    ``-`` or ``*`` with a constant operand, a root ``/`` by a constant, and a
    root ``a - b`` when ``b`` sorts before ``a``.
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
    INV,
    MUL,
    NEG,
    SIN,
    SQUARE,
    SUB,
    TAN,
    TANH,
)
from .evaluate import _evaluate_block

NO_PRUNING = 0
EQUIVALENT = 1
AFFINE = 2

# Cursor flags, stored after the symbol indices of the last program written.
FRESH = 0
RUNNING = 1
EXHAUSTED = 2

# A program whose values vary by less than this, relative to their size, is a
# constant up to rounding (sin^2 + cos^2): its slope would only fit noise.
FLAT = 1e-24


@inlined_kernel
def _completable(arities, length):
    """``table[r, h]``: ``r`` more nodes can take a stack of height ``h`` to 1."""
    table = np.empty((length + 1, length + 2), dtype=np.int64)
    for remaining in range(length + 1):
        for height in range(length + 2):
            table[remaining, height] = 0
    table[0, 1] = 1
    for remaining in range(1, length + 1):
        for height in range(length + 1):
            for arity in arities:
                after = height + 1 - arity
                if height >= arity and after <= length and table[remaining - 1, after]:
                    table[remaining, height] = 1
    return table


@inlined_kernel
def _order(choice, a_begin, a_end, b_begin, b_end):
    """Compare subtrees ``choice[a_begin:a_end]`` and ``choice[b_begin:b_end]``:
    -1, 0 or 1; shorter first, then lexicographic."""
    a_length = a_end - a_begin
    b_length = b_end - b_begin
    if a_length != b_length:
        return -1 if a_length < b_length else 1
    for j in range(a_length):
        if choice[a_begin + j] != choice[b_begin + j]:
            return -1 if choice[a_begin + j] < choice[b_begin + j] else 1
    return 0


@inlined_kernel
def _pruned(op, k, last, prune, choice, symbol_opcodes, begin, flags, has_op):
    """Whether pruning drops operator ``op`` at position ``k`` (see module doc).

    ``flags[j]`` is 1 if the subtree ending at ``j`` holds a constant and 2 if
    it is nothing but constants; ``has_op[code]`` marks the symbols in use.
    """
    right = k - 1
    right_op = symbol_opcodes[choice[right]]
    at_root = prune >= AFFINE and k == last
    if ARITY[op] == 1:
        if flags[right] == 2:
            return True
        if right_op == NEG and (
            op == NEG
            or op == SQUARE
            or op == CUBE
            or op == SIN
            or op == COS
            or op == TAN
            or op == TANH
            or op == ABS
            or op == INV
        ):
            return True
        return (op == INV and right_op == INV) or (at_root and op == NEG)

    right_begin = begin[right]
    left = right_begin - 1
    left_begin = begin[left]
    left_op = symbol_opcodes[choice[left]]
    left_constant = flags[left] == 2
    right_constant = flags[right] == 2
    if left_constant and right_constant:
        return True
    neg_operand = left_op == NEG or right_op == NEG
    if neg_operand and (op == MUL or op == DIV or (op == ADD and has_op[SUB] == 1)):
        return True
    if neg_operand and op == SUB and has_op[ADD] == 1:
        return True
    if op == MUL and (left_op == INV or right_op == INV) and has_op[DIV] == 1:
        return True
    if op == DIV and right_op == INV and has_op[MUL] == 1:
        return True
    order = _order(choice, left_begin, right_begin, right_begin, k)
    if (op == ADD or op == MUL or (at_root and op == SUB)) and order > 0:
        return True
    if (
        (op == SUB or op == DIV)
        and order == 0
        and flags[right] == 0
        and has_op[CONSTANT] == 1
    ):
        return True
    if at_root and (left_constant or right_constant):
        return op == ADD or op == SUB or op == MUL or (op == DIV and right_constant)
    return False


@kernel
def next_programs(
    symbol_opcodes,
    symbol_arguments,
    length,
    max_constants,
    prune,
    cursor,
    opcodes,
    arguments,
):
    """Write the next programs of ``length`` nodes into the rows of ``opcodes``
    and ``arguments``; returns how many (0 once all are written).

    ``cursor`` has ``length + 1`` entries, all zero to start; it holds the
    symbol indices of the last program written and a flag. Constant leaves get
    slots ``0, 1, ...`` in postfix order.
    """
    n_symbols = symbol_opcodes.shape[0]
    last = length - 1
    if cursor[length] == EXHAUSTED:
        return 0

    # Work arrays are np.empty int64, filled by loops: np.zeros, np.full or
    # another dtype would each compile code of their own, slowing compiles.
    arities = np.empty(n_symbols, dtype=np.int64)
    has_op = np.empty(ARITY.shape[0], dtype=np.int64)
    for code in range(ARITY.shape[0]):
        has_op[code] = 0
    for s in range(n_symbols):
        arities[s] = ARITY[symbol_opcodes[s]]
        has_op[symbol_opcodes[s]] = 1
    if max_constants == 0:
        has_op[CONSTANT] = 0
    completable = _completable(arities, length)

    # Per position k: stack height and constants before node k, and of the
    # subtree ending at k its first node and its constant flags (see _pruned).
    height = np.empty(length + 1, dtype=np.int64)
    n_before = np.empty(length + 1, dtype=np.int64)
    height[0] = 0
    n_before[0] = 0
    begin = np.empty(length, dtype=np.int64)
    flags = np.empty(length, dtype=np.int64)
    # choice[k] + 1 is the next symbol to try at k; resuming replays the prefix.
    choice = np.empty(length, dtype=np.int64)
    for k in range(length):
        choice[k] = -1
    if cursor[length] == RUNNING:
        for k in range(last):
            choice[k] = cursor[k] - 1
        choice[last] = cursor[last]

    k = 0
    count = 0
    while count < opcodes.shape[0]:
        s = choice[k] + 1
        while s < n_symbols:
            op = symbol_opcodes[s]
            arity = arities[s]
            after = height[k] + 1 - arity
            if (
                height[k] >= arity
                and completable[last - k, after]
                and (op != CONSTANT or n_before[k] < max_constants)
                and (
                    prune == NO_PRUNING
                    or arity == 0
                    or not _pruned(
                        op, k, last, prune, choice, symbol_opcodes, begin, flags, has_op
                    )
                )
            ):
                break
            s += 1
        if s == n_symbols:
            choice[k] = -1
            if k == 0:
                cursor[length] = EXHAUSTED
                return count
            k -= 1
            continue

        choice[k] = s
        op = symbol_opcodes[s]
        arity = arities[s]
        height[k + 1] = height[k] + 1 - arity
        n_before[k + 1] = n_before[k] + (op == CONSTANT)
        if arity == 0:
            begin[k] = k
            flags[k] = 2 if op == CONSTANT else 0
        elif arity == 1:
            begin[k] = begin[k - 1]
            flags[k] = flags[k - 1]
        else:
            left = begin[k - 1] - 1
            begin[k] = begin[left]
            if flags[left] == 2 and flags[k - 1] == 2:
                flags[k] = 2
            elif flags[left] > 0 or flags[k - 1] > 0:
                flags[k] = 1
            else:
                flags[k] = 0
        if k < last:
            k += 1
            continue

        for j in range(length):
            code = symbol_opcodes[choice[j]]
            opcodes[count, j] = code
            arguments[count, j] = (
                n_before[j] if code == CONSTANT else symbol_arguments[choice[j]]
            )
        count += 1

    for j in range(length):
        cursor[j] = choice[j]
    cursor[length] = RUNNING
    return count


@inlined_kernel
def _affine_fit(values, y, weights, weight_sum, y_mean, y_spread):
    """``(loss, slope, intercept)`` of the weighted least-squares line
    ``y ~ slope * values + intercept``; loss is the weighted mean square."""
    n_rows = y.shape[0]
    weighted = weights.shape[0] > 0
    total = 0.0
    for i in range(n_rows):
        total += (weights[i] if weighted else 1.0) * values[i]
    if not np.isfinite(total):
        return np.inf, 0.0, y_mean
    mean = total / weight_sum

    # Centred sums, so that a large mean does not swamp the spread.
    spread = 0.0
    covariance = 0.0
    for i in range(n_rows):
        w = weights[i] if weighted else 1.0
        d = values[i] - mean
        spread += w * d * d
        covariance += w * d * (y[i] - y_mean)
    if not np.isfinite(spread) or not np.isfinite(covariance):
        return np.inf, 0.0, y_mean
    if spread <= FLAT * (spread + weight_sum * mean * mean):
        return y_spread / weight_sum, 0.0, y_mean

    slope = covariance / spread
    intercept = y_mean - slope * mean
    residuals = 0.0
    for i in range(n_rows):
        r = y[i] - slope * values[i] - intercept
        residuals += (weights[i] if weighted else 1.0) * r * r
    return residuals / weight_sum, slope, intercept


@kernel
def affine_losses(
    opcodes,
    arguments,
    n_programs,
    constants,
    trial_values,
    XT,
    y,
    weights,
    losses,
    slopes,
    intercepts,
):
    """Loss of the best affine fit ``y ~ slope * f + intercept`` of each program.

    All programs have ``opcodes.shape[1]`` nodes. With ``trial_values``
    empty, program ``p`` is evaluated with ``constants[p]``; otherwise every
    combination of trial values for its constants is tried and the best is
    written to ``constants[p]``. ``weights`` of length 0 means unit weights.
    Values beyond about 1e+-150 overflow or underflow the sums of squares:
    such a program counts as not finite, or as constant.
    """
    length = opcodes.shape[1]
    n_rows = XT.shape[1]
    n_trials = trial_values.shape[0]
    weighted = weights.shape[0] > 0
    stack = np.empty((length, ROW_BLOCK))
    work = np.empty(ROW_BLOCK)
    values = np.empty(n_rows)
    trial = np.empty(length)

    weight_sum = 0.0
    y_total = 0.0
    for i in range(n_rows):
        w = weights[i] if weighted else 1.0
        weight_sum += w
        y_total += w * y[i]
    y_mean = y_total / weight_sum
    y_spread = 0.0
    for i in range(n_rows):
        y_spread += (weights[i] if weighted else 1.0) * (y[i] - y_mean) ** 2

    for p in range(n_programs):
        n_constants = 0
        for j in range(length):
            if opcodes[p, j] == CONSTANT:
                n_constants += 1
        n_combinations = 1 if n_trials == 0 else n_trials**n_constants
        losses[p] = np.inf
        slopes[p] = 0.0
        intercepts[p] = y_mean
        for combination in range(n_combinations):
            # Loops, not slice copies: a slice copy compiles its shape-error
            # message, which takes seconds.
            if n_trials == 0:
                for j in range(length):
                    trial[j] = constants[p, j]
            else:
                code = combination
                for j in range(n_constants):
                    trial[j] = trial_values[code % n_trials]
                    code //= n_trials
            for start in range(0, n_rows, ROW_BLOCK):
                n = min(ROW_BLOCK, n_rows - start)
                _evaluate_block(
                    opcodes[p], arguments[p], length, trial, XT, start, n, stack, work
                )
                for i in range(n):
                    values[start + i] = stack[0, i]
            loss, slope, intercept = _affine_fit(
                values, y, weights, weight_sum, y_mean, y_spread
            )
            if loss < losses[p]:
                losses[p] = loss
                slopes[p] = slope
                intercepts[p] = intercept
                for j in range(length):
                    constants[p, j] = trial[j]
