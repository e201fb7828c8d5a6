"""Settings shared by the whole test suite.

This file sits in ``tests/`` without an ``__init__.py``, so pytest puts
``tests/`` on ``sys.path`` and every test module, in any subfolder, can import
the shared helpers ``reference`` and ``strategies``.
"""

from __future__ import annotations

from hypothesis import settings

# The first example of a property test may compile numba kernels, which takes
# seconds; a per-example deadline would fail on it.
settings.register_profile("lawfinder", deadline=None)
settings.load_profile("lawfinder")
