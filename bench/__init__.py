"""The benchmark suite: the daemon against the sandbox, measured as real processes.

Not part of the unit tests (one smoke test only proves it still runs). Every scenario starts
the sandbox in a process of its own, so the daemon's CPU and memory are its own, runs
``feedamp-sync`` as a real process against it, and compares figures *within one run*, as
ratios: absolute times on a shared machine are noise. ``python -m bench all`` runs every
scenario and writes the tables into ``docs/performance.md``; see ``python -m bench --help``.
"""
