"""Fixtures shared by the whole suite: a fresh, empty database per test, on every backend.

Every test that asks for ``database_url`` (directly, or through ``engine`` or
``unmigrated_engine``) runs once per backend: ``sqlite`` (a file in ``tmp_path``),
``postgresql`` and ``mariadb`` (a ``feedamp_test_<hex>`` database created on the server for
the test and dropped after it). ``engine`` is migrated with Alembic, never ``create_all``, so
every test also exercises the migrations.

- Servers: ``FEEDAMP_TEST_POSTGRES_URL`` and ``FEEDAMP_TEST_MARIADB_URL`` override the local
  defaults. An unreachable server skips its tests, or fails them when ``CI`` is set.
- Fewer backends while developing: ``pytest --backend sqlite --backend postgresql`` or
  ``FEEDAMP_TEST_BACKENDS=sqlite,postgresql``.
- A test that only makes sense on some backends: ``@pytest.mark.backends("sqlite")``.
- Many cases reading the same stored data: ``module_database_url``, one database per backend
  shared by the module's tests.
- Server databases are created one test ahead and dropped after the test, both on a
  background thread (``Server``): the ~0.5 s a PostgreSQL ``CREATE DATABASE`` takes overlaps
  the test before. Each test still gets a database no test has used, migrated by its own
  ``migrate.upgrade`` call (Alembic is never run off the main thread).
- A database that does not answer, on each backend: ``unreachable_database_url``.
- Child processes (daemons, CLI runs, the benchmark's) keep their compiled bytecode in
  ``BYTECODE_CACHE`` when ``PYTHONDONTWRITEBYTECODE`` is set, so each start does not
  compile every module again; see :func:`cache_child_bytecode`.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal, cast

import pytest
import structlog
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for

BACKENDS: Final = ("sqlite", "postgresql", "mariadb")
BACKENDS_ENV: Final = "FEEDAMP_TEST_BACKENDS"
SERVER_DEFAULTS: Final = {
    "postgresql": (
        "FEEDAMP_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("FEEDAMP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
}
CONNECT_TIMEOUT_SECONDS: Final = "5"
UNKNOWN_THREAD: Final = 1094
"""MariaDB's error for ``KILL`` of a session that has already ended."""
DISCARD_PORT: Final = 9
"""A port nothing listens on here, so a connection to it is refused at once."""
DATABASE_FIXTURES: Final = ("database_url", "module_database_url", "unreachable_database_url")
"""The fixtures that make a test run once per backend."""
BYTECODE_CACHE: Final = Path(tempfile.gettempdir()) / "feedamp-test-pycache"
"""Where child processes keep compiled bytecode: outside the tree and the venv."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=BACKENDS,
        dest="backends",
        help=f"run database tests on this backend only (repeatable; default: ${BACKENDS_ENV}, "
        "else all)",
    )
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="leave out the tests that use no database (for a run per backend beside another "
        "run that has them)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run this database test only on the named backends"
    )
    _selected_backends(config)  # a typo in the selection stops the run at once
    cache_child_bytecode()


def cache_child_bytecode() -> None:
    """Let child processes write and reuse ``.pyc`` files under ``BYTECODE_CACHE``.

    With ``PYTHONDONTWRITEBYTECODE`` set and no ``.pyc`` in the tree or the venv, every
    ``python -m feedamp_sync`` compiles ~600 modules first: 2 to 3 s of CPU per start, and the
    suite starts dozens of processes. ``PYTHONPYCACHEPREFIX`` keeps the files out of the tree
    (as bench/processes.py does); Python still checks each against its source's mtime and
    size, so a module edited during the run is compiled again. Only the environment children
    inherit changes; this process's flags are fixed at its start.
    """
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = [n for n in DATABASE_FIXTURES if n in metafunc.fixturenames]
    if not names:
        return
    backends = _selected_backends(metafunc.config)
    if (marker := metafunc.definition.get_closest_marker("backends")) is not None:
        backends = [b for b in backends if b in marker.args]
    for name in names:
        scope: Literal["module", "function"] = (
            "module" if name == "module_database_url" else "function"
        )
        metafunc.parametrize(name, backends, indirect=True, ids=backends, scope=scope)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("database_tests_only"):
        return
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        on_a_backend = params is not None and any(n in params.params for n in DATABASE_FIXTURES)
        (kept if on_a_backend else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def _selected_backends(config: pytest.Config) -> list[str]:
    chosen: list[str] | None = config.getoption("backends")
    if chosen is None:
        chosen = [b.strip() for b in os.environ.get(BACKENDS_ENV, "").split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        raise pytest.UsageError(f"{BACKENDS_ENV}: unknown backend(s) {unknown}; use {BACKENDS}")
    return [b for b in BACKENDS if b in chosen] if chosen else list(BACKENDS)


class Server:
    """A database server on which each test gets a database of its own.

    One worker thread does the server's slow DDL out of the tests' way: it creates the
    database the next test will get while the current one runs, and drops each database
    once its test is done. A failed background drop is reported when the session ends.
    """

    def __init__(self, backend: str) -> None:
        env_var, default = SERVER_DEFAULTS[backend]
        url = make_url(os.environ.get(env_var, default))
        if "connect_timeout" not in url.query:
            url = url.update_query_dict({"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        self.backend = backend
        self.url: URL = url
        self._env_var = env_var
        self._admin: Engine | None = None
        self._unreachable: str | None = None
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"feedamp-test-{backend}")
        self._next: Future[str] | None = None
        self._drops: list[Future[None]] = []

    @contextmanager
    def database(self) -> Iterator[str]:
        """An empty database no test has used: yield its URL, then drop it with any
        connection left (in the background)."""
        admin = self._admin_engine()
        ready = self._next if self._next is not None else self._worker.submit(self._create, admin)
        self._next = self._worker.submit(self._create, admin)  # for the next test
        name = ready.result()
        try:
            yield self.url.set(database=name).render_as_string(hide_password=False)
        finally:
            self._drops.append(self._worker.submit(self._drop_database, admin, name))

    def dispose(self) -> list[str]:
        """Drop the database prepared for no test, wait for every drop, disconnect; returns
        the drops that failed."""
        if self._next is not None and self._admin is not None:
            admin, spare = self._admin, self._next
            self._drops.append(
                self._worker.submit(lambda: self._drop_database(admin, spare.result()))
            )
        self._worker.shutdown(wait=True)
        if self._admin is not None:
            self._admin.dispose()
        return [f"{self.backend}: {drop.exception()}" for drop in self._drops if drop.exception()]

    def _create(self, admin: Engine) -> str:
        name = f"feedamp_test_{secrets.token_hex(6)}"
        with admin.connect() as connection:
            connection.exec_driver_sql(self._create_sql(name))
        return name

    def _drop_database(self, admin: Engine, name: str) -> None:
        with admin.connect() as connection:
            self._drop(connection, name)

    def _create_sql(self, name: str) -> str:
        if self.backend == "postgresql":
            return f'CREATE DATABASE "{name}"'
        # latin1 is upstream MariaDB's default: the tables must bring utf8mb4 themselves.
        return f"CREATE DATABASE `{name}` CHARACTER SET latin1"

    def _drop(self, connection: Connection, name: str) -> None:
        if self.backend == "postgresql":
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        # MariaDB has no FORCE: end the sessions a test left open, or DROP would wait on them.
        sessions = connection.execute(
            text("SELECT id FROM information_schema.processlist WHERE db = :name"),
            {"name": name},
        ).scalars()
        for session in sessions:
            try:
                connection.exec_driver_sql(f"KILL {int(session)}")
            except OperationalError as exc:
                if exc.orig is None or exc.orig.args[0] != UNKNOWN_THREAD:
                    raise  # else the session ended on its own since it was listed
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")

    def _admin_engine(self) -> Engine:
        if self._admin is None and self._unreachable is None:
            engine = create_engine_for(self.url.render_as_string(hide_password=False), pool_size=1)
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            try:
                with engine.connect():
                    pass
            except OperationalError as exc:
                engine.dispose()
                self._unreachable = (
                    f"{self.backend} server unreachable at "
                    f"{self.url.render_as_string(hide_password=True)} ({exc.orig}); "
                    f"start it or point {self._env_var} at one"
                )
            else:
                self._admin = engine
        if self._admin is None:
            message = cast(str, self._unreachable)
            if os.environ.get("CI"):
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        return self._admin


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, Server]]:
    """The PostgreSQL and MariaDB servers, connected to on first use."""
    found = {backend: Server(backend) for backend in SERVER_DEFAULTS}
    yield found
    failed = [failure for server in found.values() for failure in server.dispose()]
    assert failed == [], f"test databases not dropped: {failed}"


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, servers: dict[str, Server]
) -> Iterator[str]:
    """The URL of a fresh, empty database on the backend this test instance runs on."""
    backend = cast(str, request.param)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedamp.db'}"
        return
    with servers[backend].database() as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    servers: dict[str, Server],
) -> Iterator[str]:
    """Like ``database_url``, but one database per backend shared by a module's tests: for
    many cases that only read the same stored data (e.g. a corpus of refused inputs)."""
    backend = cast(str, request.param)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module-db') / 'feedamp.db'}"
        return
    with servers[backend].database() as url:
        yield url


@pytest.fixture
def unreachable_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL on this test instance's backend at which no database answers: a SQLite file in a
    directory that does not exist, or a server port on this machine that nothing listens on."""
    backend = cast(str, request.param)
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'missing' / 'feedamp.db'}"
    url = make_url(SERVER_DEFAULTS[backend][1]).set(host="127.0.0.1", port=DISCARD_PORT)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def unmigrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database, with no tables at all."""
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database, migrated to head with Alembic."""
    engine = create_engine_for(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def isolated_logging() -> Iterator[None]:
    """Each test starts from structlog's defaults: a test that runs the CLI in-process
    configures logging onto its captured output, which is closed once the test ends."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)
