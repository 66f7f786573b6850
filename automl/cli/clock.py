"""When the command started: read before anything heavy is imported, so that
``--time-budget`` covers the whole command."""

from __future__ import annotations

import time

STARTED = time.time()
