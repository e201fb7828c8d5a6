"""The units penalty: candidates that combine units inconsistently score worse
during the search."""

from __future__ import annotations

import numpy as np
import pytest

from lawfinder import Expression
from lawfinder.kernels.evolve import units_penalty
from lawfinder.kernels.units import unit_stack
from lawfinder.search.driver import run_search
from lawfinder.search.island import CycleSettings
from lawfinder.search.options import SearchOptions

# Force = mass * acceleration, over (m, s, kg); the third feature is a length.
FEATURE_UNITS = np.array([[0.0, 0.0, 1.0], [1.0, -2.0, 0.0], [1.0, 0.0, 0.0]])
TARGET_UNITS = np.array([1.0, -2.0, 1.0])


def penalty_of(text: str, penalty: float, target=TARGET_UNITS) -> float:
    program = Expression.from_string(text, ["m", "a", "h"])
    opcodes = np.array(program.opcodes)
    arguments = np.array(program.arguments)
    return units_penalty(
        opcodes,
        arguments,
        len(opcodes),
        FEATURE_UNITS,
        target,
        penalty,
        unit_stack(len(opcodes), FEATURE_UNITS.shape[1]),
    )


@pytest.mark.parametrize(
    ("text", "violations"),
    [
        ("m * a", 0),
        ("2.5 * m * a", 0),
        ("m * a + h", 1),  # newtons plus metres
        ("m + a", 2),  # a sum of different units, then not a force
        ("exp(m) * a", 2),  # exp of a mass; the product is not a force
    ],
)
def test_the_penalty_counts_violations(text, violations):
    assert penalty_of(text, 0.5) == pytest.approx(0.5 * violations)


def test_no_units_or_no_penalty_means_no_penalty():
    assert penalty_of("m + a", 0.0) == 0.0
    settings = CycleSettings.from_options(SearchOptions())
    program = Expression.from_string("m + a", ["m", "a"])
    assert settings.penalty(program.opcodes, program.arguments, 3) == 0.0
    with_units = settings.with_units(FEATURE_UNITS, TARGET_UNITS)
    assert with_units.penalty(program.opcodes, program.arguments, 3) == 0.2


def test_unit_penalty_must_not_be_negative():
    with pytest.raises(ValueError, match="unit_penalty must be >= 0"):
        SearchOptions(unit_penalty=-1.0)


def _consistent_share(penalty: float) -> float:
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 3.0, size=(200, 3))
    y = X[:, 0] * X[:, 1] * (1.0 + 0.3 * np.sin(3.0 * X[:, 2]))
    options = SearchOptions(
        niterations=4,
        populations=2,
        population_size=24,
        unit_penalty=penalty,
        simplify=False,
        random_state=1,
    )
    result = run_search(X, y, None, options, units=(FEATURE_UNITS, TARGET_UNITS))
    consistent = [
        penalty_of(
            str(Expression(e.opcodes, e.arguments, e.constants, ["m", "a", "h"])),
            1.0,
        )
        == 0.0
        for e in result.hall_of_fame
    ]
    return float(np.mean(consistent))


def test_the_search_prefers_consistent_units_when_penalised():
    # The law is consistent (the constant 3 carries 1/m); on the way to it,
    # without the penalty, the search keeps whatever sums and functions fit.
    assert _consistent_share(1.0) > _consistent_share(0.0)
