"""``python -m bench``: the benchmark command line."""

import sys

from bench.cli import main

sys.exit(main())
