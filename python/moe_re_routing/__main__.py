"""``python -m moe_re_routing``: see :mod:`moe_re_routing.cli`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
