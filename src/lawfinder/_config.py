"""Numba settings shared by every kernel, kept in one place."""

from __future__ import annotations

import numba

# nogil lets islands run in threads; cache keeps later imports fast. fastmath
# is left off: its no-nan/no-inf flags would defeat the non-finite checks.
KERNEL_OPTIONS = {"nogil": True, "cache": True, "error_model": "numpy"}

kernel = numba.njit(**KERNEL_OPTIONS)

# A function with one call site is inlined into its caller before typing.
# Every compiled function is optimised and turned into machine code together
# with all that it calls, so deep chains of separate ones compile slowly.
inlined_kernel = numba.njit(inline="always", **KERNEL_OPTIONS)

# Rows are evaluated in blocks that fit in the first-level cache.
ROW_BLOCK = 256
