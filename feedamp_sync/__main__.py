"""``python -m feedamp_sync`` is the same program as ``feedamp-sync``."""

import sys

from feedamp_sync.cli import main

sys.exit(main())
