"""The configuration: a TOML file overlaid by ``FEEDAMP_SYNC_*`` environment variables.

It is parsed once at start into an immutable value. Every problem is reported with the dotted
key it concerns (``jobs.orders_interval: ...``) so an operator can fix the file without
reading code; :func:`load_settings` raises :class:`ConfigError` (exit 78) on any of them. The
environment is held to the same standard as the file: a ``FEEDAMP_SYNC_*`` variable that sets
no key is refused with the closest one, as a misspelt key in the file is, rather than ignored.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import os
import stat
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feedamp_sync.core.events import EVENT_TYPES, unknown_types
from feedamp_sync.errors import ConfigError

ENV_PREFIX: Final = "FEEDAMP_SYNC_"
CONFIG_PATH_ENV: Final = "FEEDAMP_SYNC_CONFIG"
NOT_SETTINGS: Final = frozenset({CONFIG_PATH_ENV})
"""``FEEDAMP_SYNC_*`` variables read on purpose that are not configuration keys."""
SUPPORTED_DATABASES: Final = ("sqlite", "postgresql", "mysql", "mariadb")

ORDER_NUMBER_FIELDS: Final = frozenset(
    {"id", "account", "feedamp_id", "mp_order_number", "marketplace"}
)
REFUND_NUMBER_FIELDS: Final = frozenset(
    {"id", "database", "nonce", "account", "order_id", "mp_line_number"}
)
RETURN_NUMBER_FIELDS: Final = frozenset(
    {"id", "database", "nonce", "account", "return_id", "mp_return_number"}
)
DEFAULT_REFUND_TEMPLATE: Final = "RF{database}-{id}-{nonce}"
"""The database's identity and the message id say where a refund number came from; the
nonce, five random characters drawn once per number, keeps a restored backup or a copied
database (same identity, same ids) from ever rendering it again."""

Seconds = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_template(template: str, allowed: frozenset[str]) -> str:
    """Refuse a number template that names unknown fields or does not format."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from exc
    if not names:
        raise ValueError("must contain at least one field, e.g. {id}")
    unknown = sorted(n for n in names if n.split(".")[0].split("[")[0] not in allowed)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    sample = {name: 1 if name == "id" else "x" for name in allowed}
    try:
        template.format(**sample)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ValueError(
            f"does not format ({exc}); {{id}} is an integer, the rest are text"
        ) from exc
    return template


class DatabaseSettings(_Section):
    url: str = "sqlite:///feedamp-sync.db"
    pool_size: int = Field(default=10, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a database URL (e.g. sqlite:///feedamp-sync.db)") from exc
        if url.get_backend_name() not in SUPPORTED_DATABASES:
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}; use one of {SUPPORTED_DATABASES}"
            )
        return value


class ApiPaths(_Section):
    """Paths the published docs leave open; the defaults follow docs/feedamp-api.md."""

    get_token: str = "/api/v1/get_token"
    new_orders: str = "/api/v1/orders/new"
    order: str = "/api/v1/orders/{order_id}"
    confirm: str = "/api/v1/orders/{order_id}/confirm"
    fulfill: str = "/api/v1/orders/{order_id}/fulfill"
    refund: str = "/api/v1/orders/{order_id}/refund"
    returns: str = "/api/v1/returns"
    return_: str = Field(default="/api/v1/returns/{return_id}", alias="return")
    authorize_return: str = "/api/v1/returns/{return_id}/authorize"
    refund_return: str = "/api/v1/returns/{return_id}/refund"

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("*")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value


class AccountSettings(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    base_url: str = "https://api.feedamp.feedonomics.com"
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    password_file: Path | None = None
    client_id: int = Field(gt=0)
    paths: ApiPaths = ApiPaths()
    token_max_age_seconds: Seconds | None = None
    include_raw: bool = False
    """Ask FeedAMP for the marketplace's raw data with each order (stored with the order)."""
    marketplace_fulfilled: bool | None = None
    """The new-orders poll lists only (true) or no (false) marketplace-fulfilled orders;
    unset: all of them."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("must be an http(s) URL such as https://api.feedamp.feedonomics.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_password_source(self) -> AccountSettings:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give either password or password_file, not both")
        return self

    def secret_password(self, environ: Mapping[str, str]) -> SecretStr:
        """The password, from the config, its file or the systemd credentials directory."""
        if self.password is not None:
            return self.password
        candidates: list[Path] = []
        if self.password_file is not None:
            candidates.append(self.password_file)
        elif creds := environ.get("CREDENTIALS_DIRECTORY"):
            candidates += [Path(creds) / f"password-{self.name}", Path(creds) / "password"]
        for path in candidates:
            try:
                text = path.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ConfigError(
                    f"accounts.{self.name}.password_file: cannot read {path}: {exc.strerror}"
                ) from exc
            if not text:
                raise ConfigError(f"accounts.{self.name}.password_file: {path} is empty")
            return SecretStr(text)
        if candidates:
            raise ConfigError(
                f"accounts.{self.name}.password_file: no such file: "
                + ", ".join(str(p) for p in candidates)
            )
        raise ConfigError(
            f"accounts.{self.name}: no password; set password_file (recommended), a systemd "
            "credential, or password"
        )


class JobSettings(_Section):
    orders_interval: Seconds = 60
    returns_interval: Seconds = 300
    outbox_interval: Seconds = 5
    returns_overlap_seconds: Seconds = 900
    """How far before the previous poll's start a returns poll looks for refreshed returns."""
    poll_concurrency: int = Field(default=8, ge=1, le=64)
    """Threads that run the accounts' polls: passes beyond this wait for a free one, so the
    daemon's threads do not grow with its accounts."""


class ConfirmSettings(_Section):
    enabled: bool = True
    cp_order_number_template: str = "FA{feedamp_id}"

    @field_validator("cp_order_number_template")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value, ORDER_NUMBER_FIELDS)


class OutboxSettings(_Section):
    concurrency: int = Field(default=8, ge=1, le=256)
    lease_seconds: Seconds = 60
    max_attempts: int = Field(default=12, ge=1, le=1000)
    batch_size: int = Field(default=100, ge=1, le=1000)
    backoff_base_seconds: Seconds = 2
    backoff_max_seconds: Seconds = 3600
    cp_refund_number_template: str = DEFAULT_REFUND_TEMPLATE
    merchant_return_number_template: str = "{mp_return_number}"
    listen: bool = True
    """PostgreSQL only: wake the outbox job when a message is queued (LISTEN/NOTIFY); the
    interval stays as the fallback."""

    @field_validator("cp_refund_number_template")
    @classmethod
    def _refund_template(cls, value: str) -> str:
        return _check_template(value, REFUND_NUMBER_FIELDS)

    @field_validator("merchant_return_number_template")
    @classmethod
    def _return_template(cls, value: str) -> str:
        return _check_template(value, RETURN_NUMBER_FIELDS)


class RefreshSettings(_Section):
    """Re-reading stored orders that are not final yet, on a request budget of their own."""

    enabled: bool = True
    every_seconds: Seconds = 3600
    """An open order's copy is re-read once it is older than this."""
    max_age_days: Annotated[float, Field(gt=0, le=3650)] = 60
    """Orders purchased (else first stored) longer ago than this are no longer re-read."""
    rate_per_second: Annotated[float, Field(gt=0, le=1000)] = 1.0
    """GET order requests a second for refreshing, per account, beside ``api.rate_per_second``."""


class ApiSettings(_Section):
    list_rate_per_second: Seconds = 2.0
    rate_per_second: Seconds = 5.0
    timeout_seconds: Seconds = 30
    connect_timeout_seconds: Seconds = 10
    page_size: int = Field(default=200, ge=50, le=200)
    get_attempts: int = Field(default=5, ge=1, le=20)


class HealthSettings(_Section):
    """The optional HTTP listener for ``/healthz``, ``/readyz`` and ``/metrics``."""

    enabled: bool = False
    listen: str = "127.0.0.1:9464"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        listen_address(value)
        return value

    @property
    def address(self) -> tuple[str, int]:
        return listen_address(self.listen)


class RetentionSettings(_Section):
    """How long finished outbox messages and their attempts are kept (see ``retention``)."""

    enabled: bool = True
    """Prune on a schedule in the daemon (and in ``run --once``); ``db prune`` works either way."""
    keep_days: int = Field(default=30, ge=1, le=36_500)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Rows deleted per transaction: each batch holds its locks this briefly."""
    interval_seconds: Seconds = 3600


WEBHOOK_SECRET_PREFIX: Final = "whsec_"
WEBHOOK_SECRET_BYTES: Final = (24, 64)
"""The Standard Webhooks secret's length once decoded: at least 24 bytes, at most 64."""


def webhook_secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64), else ValueError
    (whose message never repeats the secret)."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError(f"must start with {WEBHOOK_SECRET_PREFIX!r} (Standard Webhooks)")
    try:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"must be {WEBHOOK_SECRET_PREFIX!r} followed by base64") from None
    low, high = WEBHOOK_SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"must decode to {low} to {high} bytes, got {len(key)}")
    return key


class SinkSettings(_Section):
    """A webhook the event log is delivered to (see the README's "Events")."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,48}$")
    url: str
    secret: SecretStr | None = None
    secret_file: Path | None = None
    types: tuple[str, ...] = ()
    """The event types delivered; empty: every type."""
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10
    rate_per_second: Annotated[float, Field(gt=0, le=1000)] = 5.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme, _, rest = value.partition("://")
        if scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
            raise ValueError("must be an http:// or https:// URL with a host")
        if any(c.isspace() for c in value):
            raise ValueError("must not contain spaces")
        return value

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = unknown_types(value)
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {list(EVENT_TYPES)}")
        return value

    @field_validator("secret")
    @classmethod
    def _secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            webhook_secret_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _one_secret_source(self) -> SinkSettings:
        if self.secret is not None and self.secret_file is not None:
            raise ValueError("give either secret or secret_file, not both")
        return self

    @property
    def lane(self) -> str:
        """The outbox ``account`` of this sink's messages: its own lane and rate budget. The
        colon keeps it apart from every FeedAMP account name."""
        return f"webhook:{self.name}"

    def secret_key(self, environ: Mapping[str, str]) -> SecretStr:
        """The secret, from the config, its file or the systemd credential ``webhook-<name>``;
        ConfigError naming the key otherwise."""
        key = f"sinks.{self.name}.secret"
        if self.secret is not None:
            return self.secret
        if self.secret_file is not None:
            path = self.secret_file
        elif creds := environ.get("CREDENTIALS_DIRECTORY"):
            path = Path(creds) / f"webhook-{self.name}"
        else:
            raise ConfigError(f"{key}: no secret; set secret_file, a systemd credential or secret")
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{key}_file: cannot read {path}: {exc.strerror}") from exc
        try:
            webhook_secret_key(text)
        except ValueError as exc:
            raise ConfigError(f"{key}_file: {path}: {exc}") from exc
        return SecretStr(text)


def listen_address(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6) as a (host, port) pair, else ValueError."""
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464")
    return host, int(port)


class Settings(BaseSettings):
    """Everything the daemon reads at start; see config/feedamp-sync.example.toml."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    accounts_file: Path | None = None
    """More accounts, as ``[[accounts]]`` tables in a TOML file of their own; a relative path
    is the config file's directory's. :func:`load_settings` adds them to ``accounts``."""
    accounts: list[AccountSettings] = Field(default_factory=list, validate_default=True)
    jobs: JobSettings = JobSettings()
    confirm: ConfirmSettings = ConfirmSettings()
    outbox: OutboxSettings = OutboxSettings()
    api: ApiSettings = ApiSettings()
    refresh: RefreshSettings = RefreshSettings()
    health: HealthSettings = HealthSettings()
    retention: RetentionSettings = RetentionSettings()
    sinks: list[SinkSettings] = []

    @field_validator("sinks")
    @classmethod
    def _unique_sink_names(cls, value: list[SinkSettings]) -> list[SinkSettings]:
        names = [s.name for s in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"sink names must be unique; repeated: {duplicates}")
        return value

    @field_validator("accounts")
    @classmethod
    def _unique_names(
        cls, value: list[AccountSettings], info: ValidationInfo
    ) -> list[AccountSettings]:
        if not value and info.data.get("accounts_file") is None:
            raise PydanticCustomError(
                "no_account", "missing (required): give [[accounts]] tables or accounts_file"
            )
        names = [a.name for a in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"account names must be unique; repeated: {duplicates}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; the environment overrides them.
        return (env_settings, init_settings)

    def account(self, name: str) -> AccountSettings:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{key}: {_message(problem['type'], problem['msg'])}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _read_file(path: Path, what: str = "config file") -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{what} {path}: not valid TOML: {exc}") from exc
    if _holds_password(data) and path.stat().st_mode & stat.S_IROTH:
        raise ConfigError(
            f"{what} {path}: holds a password or secret and is readable by other users; "
            f"run 'chmod o-r {path}' or use password_file"
        )
    return data


def accounts_file_path(configured: Path, config_file: Path | None) -> Path:
    """Where ``accounts_file`` is: a relative path is taken from the config file's directory
    (the working directory without a config file), whether set in the file or the
    environment, so the two files can move together."""
    base = config_file.parent if config_file is not None else Path()
    return (base / configured).absolute()


def read_accounts_file(path: Path, inline: list[AccountSettings]) -> list[AccountSettings]:
    """The accounts of an accounts file, each checked as an inline one; a name must not be
    repeated in the file nor be an inline account's. Every problem names the file and the
    table (``accounts[3].client_id``, counted from 0 as inline accounts are)."""
    where = f"accounts_file {path}"
    data = _read_file(path, "accounts_file")
    if unknown := sorted(set(data) - {"accounts"}):
        raise ConfigError(
            f"{where}: unknown key(s) {unknown}; the file holds [[accounts]] tables only"
        )
    tables = data.get("accounts", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: accounts: must be [[accounts]] tables")
    problems: list[str] = []
    accounts: list[AccountSettings] = []
    seen = {account.name: "an inline account" for account in inline}
    for index, table in enumerate(tables):
        try:
            account = AccountSettings.model_validate(table)
        except ValidationError as exc:
            named = f" (account {table['name']!r})" if _named(table) else ""
            problems += [f"{key}{named}: {message}" for key, message in _problems(exc, index)]
            continue
        if account.name in seen:
            problems.append(
                f"accounts[{index}].name: {account.name!r} is already {seen[account.name]}"
            )
        seen.setdefault(account.name, f"accounts[{index}] of this file")
        accounts.append(account)
    if problems:
        raise ConfigError(
            "invalid configuration:\n  " + "\n  ".join(f"{where}: {p}" for p in problems)
        )
    return accounts


def _named(table: object) -> bool:
    return isinstance(table, dict) and isinstance(table.get("name"), str)


def _problems(error: ValidationError, index: int) -> list[tuple[str, str]]:
    """(key, message) of an account table's problems, keys as ``accounts[3].paths.confirm``."""
    found = []
    for problem in error.errors():
        key = "".join(f".{part}" for part in problem["loc"])
        found.append((f"accounts[{index}]{key}", _message(problem["type"], problem["msg"])))
    return found


def _message(kind: str, message: str) -> str:
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        return "unknown key"
    return message


def _holds_password(data: Mapping[str, Any]) -> bool:
    """Whether the file holds an account's password or a sink's secret."""
    return any(
        isinstance(entries, list) and any(isinstance(e, dict) and secret in e for e in entries)
        for section, secret in (("accounts", "password"), ("sinks", "secret"))
        if (entries := data.get(section)) is not None
    )


def setting_variables() -> list[str]:
    """Every variable that sets configuration: each section (as JSON), each key in a section,
    the accounts (a JSON list) and the accounts file."""
    names = []
    for name, field in Settings.model_fields.items():
        names.append(f"{ENV_PREFIX}{name.upper()}")
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names += [f"{ENV_PREFIX}{name.upper()}__{key.upper()}" for key in section.model_fields]
    return names


def json_variables() -> frozenset[str]:
    """The variables that hold JSON: each section and the account list (not a plain value
    such as the accounts file's path)."""
    return frozenset(
        f"{ENV_PREFIX}{name.upper()}"
        for name, field in Settings.model_fields.items()
        if field.annotation is not None
        and (
            getattr(field.annotation, "__origin__", None) is list
            or (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
        )
    )


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """What is wrong with the ``FEEDAMP_SYNC_*`` variables, one line each, named as set.

    Checked before pydantic-settings reads them: it ignores a variable that matches no key,
    and a section or account list that is not JSON stops it with its own exception, which
    names neither the variable nor the problem. Names match without regard to case, as
    pydantic-settings matches them.
    """
    known = setting_variables()
    whole = json_variables()
    problems = []
    for variable, value in sorted(environ.items()):
        name = variable.upper()
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        if name not in known:
            problems.append(f"{variable}: sets no configuration key; {_closest(name, known)}")
        elif name in whole:
            try:
                json.loads(value)
            except json.JSONDecodeError as exc:  # its message holds no part of the value
                problems.append(f"{variable}: not valid JSON ({exc})")
    return problems


def _with_accounts_file(settings: Settings, configured: Path, config_file: Path | None) -> Settings:
    """The settings with the accounts file's accounts after the inline ones."""
    path = accounts_file_path(configured, config_file)
    added = read_accounts_file(path, settings.accounts)
    if not settings.accounts and not added:
        raise ConfigError(
            f"invalid configuration:\n  accounts_file {path}: no [[accounts]] table, and no "
            "account in the configuration: give at least one"
        )
    return settings.model_copy(
        update={"accounts": [*settings.accounts, *added], "accounts_file": path}
    )


def _closest(name: str, known: list[str]) -> str:
    """A hint: the known variable nearest to ``name`` (compared without the shared prefix)."""
    keys = [variable.removeprefix(ENV_PREFIX) for variable in known]
    nearest = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), keys, n=1)
    if nearest:
        return f"did you mean {ENV_PREFIX}{nearest[0]}?"
    return (
        f"a key is {ENV_PREFIX} and its path in capitals with __ between levels, "
        f"e.g. {ENV_PREFIX}DATABASE__URL"
    )


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Parse and validate the configuration once; raise ConfigError naming every bad key."""
    env = os.environ if environ is None else environ
    if problems := environment_problems(env):
        raise ConfigError("invalid environment:\n  " + "\n  ".join(problems))
    if path is None and (configured := env.get(CONFIG_PATH_ENV)):
        path = Path(configured)
    data = _read_file(path) if path is not None else {}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if settings.accounts_file is not None:
        settings = _with_accounts_file(settings, settings.accounts_file, path)
    for account in settings.accounts:
        account.secret_password(env)  # fail at start, not at the first request
    for sink in settings.sinks:
        sink.secret_key(env)
    return settings
