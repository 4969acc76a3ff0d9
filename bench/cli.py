"""``python -m bench``: run scenarios, print their tables, write ``docs/performance.md``."""

from __future__ import annotations

import shlex
import sys
import tempfile
from pathlib import Path

import click

from bench.database import BACKENDS, POSTGRES_URL
from bench.processes import BenchError
from bench.scales import SCALES
from bench.suite import ROOT, SCENARIOS, run_suite

DEFAULT_REPORT = ROOT / "docs" / "performance.md"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("scenarios", nargs=-1, required=True,
                type=click.Choice(["all", *SCENARIOS]))  # fmt: skip
@click.option("--scale", type=click.Choice(list(SCALES)), default="full", show_default=True,
              help="small: seconds, proves the suite runs; full: the measurement.")  # fmt: skip
@click.option("--backend", "backends", multiple=True, type=click.Choice(BACKENDS),
              help="Repeatable; default: sqlite and postgresql.")  # fmt: skip
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Report to write; default for 'all': {DEFAULT_REPORT.relative_to(ROOT)}, "
              "else none (tables are printed either way).")  # fmt: skip
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep configs, logs and SQLite files here (default: a temporary directory, "
              "removed afterwards).")  # fmt: skip
@click.option("--postgres-url", envvar="FEEDAMP_BENCH_POSTGRES_URL", default=POSTGRES_URL,
              show_default=True, help="Where scratch databases may be created.")  # fmt: skip
def bench(
    scenarios: tuple[str, ...],
    scale: str,
    backends: tuple[str, ...],
    output: Path | None,
    workdir: Path | None,
    postgres_url: str,
) -> None:
    """Run benchmark SCENARIOS (or 'all') against the sandbox, each in its own processes."""
    names = list(SCENARIOS) if "all" in scenarios else list(dict.fromkeys(scenarios))
    if output is None and "all" in scenarios:
        output = DEFAULT_REPORT
    command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="feedamp-bench-") as temporary:
        directory = workdir or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            run_suite(
                names,
                SCALES[scale],
                list(backends or BACKENDS),
                workdir=directory,
                postgres_url=postgres_url,
                command=command,
                output=output,
                progress=click.echo,
            )
        except BenchError as error:
            raise click.ClickException(f"{error}\n(files: {directory})") from None


def main() -> int:
    try:
        bench.main(prog_name="python -m bench", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        return 1
    return 0
