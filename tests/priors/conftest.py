"""One BLAS thread for the surrogate tests: the Gaussian process makes many
small solves, which slow down badly when threads compete for the cores."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(limits=1):
        yield
