"""One module per scenario; each takes a :class:`bench.context.Bench` and returns results."""
