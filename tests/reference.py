"""A slow, plainly correct evaluator of postfix programs, for checking kernels.

It walks the program with a Python list as the stack and applies each
operator's ``numpy`` definition from the operator table to whole columns.
"""

from __future__ import annotations

import numpy as np

from lawfinder.operators import ARITY, BY_OPCODE, CONSTANT, VARIABLE


def _walk(opcodes, arguments, constants, X, relative_step=0.0, seed=0):
    """Evaluate; each operator's result is scaled by 1 +- ``relative_step``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_rows, n_features), got {X.shape}")
    n_rows = X.shape[0]
    rng = np.random.default_rng(seed)
    stack = []
    for opcode, argument in zip(opcodes, arguments, strict=True):
        if opcode == VARIABLE:
            stack.append(X[:, argument].copy())
        elif opcode == CONSTANT:
            stack.append(np.full(n_rows, constants[argument], dtype=np.float64))
        else:
            operator = BY_OPCODE[int(opcode)]
            operands = stack[len(stack) - operator.arity :]
            del stack[len(stack) - operator.arity :]
            value = np.asarray(operator.numpy(*operands), dtype=np.float64)
            if relative_step:
                value = value * (1.0 + relative_step * rng.choice([-1.0, 1.0], n_rows))
            stack.append(value)
    if len(stack) != 1:
        raise ValueError(f"malformed program: {len(stack)} values left on the stack")
    return stack[0]


def evaluate_reference(opcodes, arguments, constants, X) -> np.ndarray:
    """Value of a postfix program on every row of ``X``, shape (n_rows, n_features)."""
    return _walk(opcodes, arguments, constants, X)


def assert_matches_reference(
    values,
    opcodes,
    arguments,
    constants,
    X,
    rtol: float = 1e-9,
    n_trials: int = 3,
    compare_non_finite: bool = True,
) -> None:
    """Assert that ``values`` agree with the reference on every row of ``X``.

    Two evaluators may round a transcendental function differently in the last
    ulp, and an ill-conditioned program (``sin(exp(40))``, a cancellation)
    magnifies that without bound. So each row's tolerance is ``rtol`` times
    the value plus how much the result would move if every operator erred by
    a relative ``rtol``. That second term is measured: every operator's result
    is scaled by ``1 +- 1e-12`` with random signs (``n_trials`` times), and
    the largest change is scaled up by ``rtol / 1e-12``. A chaotic row, whose
    result such a tiny change already scrambles, gets a tolerance far above
    its range and is in effect skipped. Rows where the perturbation changes
    whether the result is finite sit on the edge of a domain and are skipped.

    Where the reference is not finite, ``values`` must not be finite either;
    with ``compare_non_finite=False``, rows where either is not finite are
    skipped instead.
    """
    step = 1e-12
    values = np.asarray(values)
    program = (opcodes, arguments, constants, X)
    with np.errstate(all="ignore"):
        reference = _walk(*program)
        finite = np.isfinite(reference)
        edge = np.zeros(len(reference), dtype=bool)
        deviation = np.zeros(len(reference))
        for seed in range(n_trials):
            trial = _walk(*program, relative_step=step, seed=seed)
            edge |= np.isfinite(trial) != finite
            deviation = np.fmax(deviation, np.abs(trial - reference))
        tolerance = rtol * np.abs(reference) + rtol / step * deviation
        close = np.abs(values - reference) <= tolerance

    if compare_non_finite:
        wrong = ~edge & (np.isfinite(values) != finite)
        rows = np.flatnonzero(wrong)[:5]
        assert not wrong.any(), (
            f"finite where the reference is not, or the reverse, on rows {rows}: "
            f"values {values[rows]}, reference {reference[rows]}"
        )
    compared = ~edge & finite & np.isfinite(values)
    wrong = compared & ~close
    rows = np.flatnonzero(wrong)[:5]
    assert not wrong.any(), (
        f"values differ from the reference on rows {rows}: values {values[rows]}, "
        f"reference {reference[rows]}, tolerance {tolerance[rows]}"
    )


def random_features(n_rows: int, n_features: int, seed: int = 0) -> np.ndarray:
    """Test data: uniform on [-3, 3], with a few exact 0, 1 and -1 entries.

    The exact values reach the edges of the operators' domains (log 0, 1 / 0,
    sqrt of a negative number) on purpose.
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, size=(n_rows, n_features))
    special = rng.random(size=X.shape) < 0.05
    X[special] = rng.choice([0.0, 1.0, -1.0], size=int(special.sum()))
    return X


def nesting_reference(opcodes, flags) -> bool:
    """Does a flagged operator have a flagged operator below it? By recursion."""

    def walk(end):
        """(start of the subtree at ``end``, holds a flagged node, nested)"""
        opcode = int(opcodes[end])
        holds, nested, start = False, False, end
        for _ in range(int(ARITY[opcode])):
            start, operand_holds, operand_nested = walk(start - 1)
            holds, nested = holds or operand_holds, nested or operand_nested
        flagged = bool(flags[opcode])
        return start, holds or flagged, nested or (flagged and holds)

    return walk(len(opcodes) - 1)[2]
