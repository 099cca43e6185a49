"""Memory settings for commands that churn through large numpy temporaries (``digicomp analyze``, ``progress``).

A pilot analysis allocates and frees hundreds of arrays of 5–50 MB (persons × items, observed responses ×
categories). With glibc's defaults every such array is a fresh ``mmap`` returned to the system when freed, so the
next one page-faults its memory in again; and numpy advises the kernel to back arrays of 4 MB and more with huge
pages, which, with the common ``transparent_hugepage/defrag = madvise`` setting, makes those faults compact memory
synchronously. On the 300-item × 20,000-person pilot that was 2.4–3.6 s of system time out of ~9 s of CPU (and
more wall-clock time on a busy machine); with freed memory kept for reuse and no huge-page advice it is ~0.3 s.

:func:`keep_freed_memory` changes only this process, and nothing a user set explicitly (``MALLOC_*`` or
``NUMPY_MADVISE_HUGEPAGE`` in the environment win). Results are unaffected; only where memory comes from changes.
"""

from __future__ import annotations

import os
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory() -> bool:
    """Keep freed heap memory for reuse and skip numpy's huge-page advice; True when glibc took the settings."""
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        if "numpy" in sys.modules:
            try:
                sys.modules["numpy"]._core.multiarray._set_madvise_hugepage(False)
            except AttributeError:  # another numpy layout: the advice stays, only slower
                pass
        else:
            os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # arrays up to 32 MB (glibc's largest mmap threshold) from the heap; freed memory kept, not trimmed
    return all(
        mallopt(option, value) == 1
        for option, value in ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20))
    )
