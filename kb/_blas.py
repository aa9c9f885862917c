"""One thread for the linear algebra numpy hands to OpenBLAS, in the ``kb`` command.

Imported by :mod:`kb.cli` before anything loads numpy, which reads the setting once, when it
loads. kb's arrays are small (the weights' accelerated iteration multiplies matrices of a few
rows by 3 x claims), and for them OpenBLAS's threads cost more than they save: on the dense
10,000-claim base the iteration took 0.48 s of CPU with two threads and 0.26 s with one. The
numbers are the same to far below kb.weigh's tolerance (they differed by at most 1.1e-11 from
two threads'), and every output the same bytes. A value set in the environment is kept.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
