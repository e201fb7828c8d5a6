"""The Feynman benchmark's data and its exactness criterion."""

import numpy as np
import pytest
import sympy

from lawfinder.bench.feynman import (
    _parse_selection,
    add_noise,
    is_symbolic_solution,
    load_equations,
    round_constants,
)


def test_thirty_equations_with_ranges():
    equations = load_equations()
    assert len(equations) == 30
    assert equations[0].name == "I.6.2"
    for equation in equations:
        assert len(equation.variables) == len(equation.lows) == len(equation.highs)
        assert all(
            low <= high for low, high in zip(equation.lows, equation.highs, strict=True)
        )


def test_samples_lie_in_range_and_follow_the_formula():
    equation = next(e for e in load_equations() if e.name == "I.14.3")  # m*g*z
    X, y = equation.sample(500, np.random.default_rng(0))
    assert X.shape == (500, 3)
    for column, (low, high) in enumerate(
        zip(equation.lows, equation.highs, strict=True)
    ):
        assert low <= X[:, column].min() and X[:, column].max() <= high
    np.testing.assert_allclose(y, X[:, 0] * X[:, 1] * X[:, 2])


def test_noise_scales_with_rms_of_target():
    rng = np.random.default_rng(1)
    y = np.full(100_000, 3.0)
    noisy = add_noise(y, 0.1, rng)
    assert np.std(noisy - y) == pytest.approx(0.3, rel=0.02)
    assert add_noise(y, 0.0, rng) is y


def test_rounding_of_constants():
    x = sympy.Symbol("x")
    rounded = round_constants(sympy.Float(1.23456) * x + sympy.Float(5e-5))
    assert rounded == sympy.Rational(247, 200) * x


@pytest.mark.parametrize(
    "model_text, exact",
    [
        ("0.15915494 * h * omega", True),  # h / (2 pi) with a rounded constant
        ("h * omega / (2 * pi) + 2.5", True),  # differs by a constant
        ("h * omega", True),  # a constant ratio
        ("h * omega + 0.1 * omega", False),
        ("h ** 2 * omega", False),
    ],
)
def test_srbench_criterion(model_text, exact):
    equation = next(e for e in load_equations() if e.name == "I.34.27")
    symbols = {name: sympy.Symbol(name) for name in equation.variables}
    symbols["pi"] = sympy.pi
    model = sympy.sympify(model_text, locals=symbols)
    assert is_symbolic_solution(model, equation.to_sympy(), timeout=30) is exact


def test_srbench_criterion_treats_a_rounded_one_as_one():
    # 1 - v^2/c^2 and 1.0 - v^2/c^2 are the same law once constants are rounded.
    equation = next(e for e in load_equations() if e.name == "I.10.7")
    m_0, v, c = sympy.symbols("m_0 v c")
    model = m_0 / sympy.sqrt(v / (sympy.Float(2.7e-35) - c**2 / v) + sympy.Float(1))
    assert is_symbolic_solution(model, equation.to_sympy(), timeout=30) is True
    off = m_0 / sympy.sqrt(v / (sympy.Float(2.7e-35) - c**2 / v) + sympy.Float(1.01))
    assert is_symbolic_solution(off, equation.to_sympy(), timeout=30) is False


def test_srbench_criterion_uses_the_positive_sampling_ranges():
    # Equal on the sampled (positive) domain, which sympy sees only when the
    # variables are declared positive: sqrt(exp(u)) == exp(u / 2).
    equation = next(e for e in load_equations() if e.name == "I.6.2")
    sigma, theta = sympy.symbols("sigma theta")
    model = sympy.Float(0.39894228) / (
        sigma * sympy.sqrt(sympy.exp(theta**2 / sigma**2))
    )
    assert is_symbolic_solution(model, equation.to_sympy(), timeout=30) is True
    wrong = sympy.Float(0.39894228) / (sigma * sympy.sqrt(sympy.exp(theta / sigma)))
    assert is_symbolic_solution(wrong, equation.to_sympy(), timeout=30) is False


def test_equation_selection():
    assert _parse_selection("1-3,5", 30) == [0, 1, 2, 4]
    with pytest.raises(ValueError, match="within 1-30"):
        _parse_selection("0-3", 30)
    with pytest.raises(ValueError, match="numbers and ranges"):
        _parse_selection("a", 30)
