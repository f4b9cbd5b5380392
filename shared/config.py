"""runway's configuration: the `RUNWAY_*` environment variables of docs/design.md §5, validated once per process.

Bad configuration fails loudly at the first invocation (docs/design.md §5): `Config.from_env` checks every
variable and raises one `ConfigError` listing every problem, each naming the variable, what was wrong and
what was expected. Unset and empty variables both mean "use the default" (deploy tools often render an
unset value as the empty string).

`ConfigError` is deliberately not one of `shared.errors`' permanent errors: an event handler that lets it
escape returns non-2xx, so Eventarc redelivers the events that arrived while the configuration was broken
once it is fixed, instead of acknowledging them unprocessed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import TypeVar
from urllib.parse import urlsplit

from shared.config_hosts import DEFAULT_ALIAS, DEFAULT_HOSTS, Problem, parse_hosts, show
from shared.model import PROJECT_ID, REGION, ServiceKey

# RUNWAY_HOSTS' defaults (shared.config_hosts) are importable from here with the others.
__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_HOSTS",
    "DEFAULT_OWNER_ID",
    "DEFAULT_URL_MAP_MAX_BYTES",
    "VARIABLES",
    "Config",
    "ConfigError",
    "Scope",
    "load_config",
]

_T = TypeVar("_T")

DEFAULT_OWNER_ID = "runway"
# The quotas page's 64 KB; Google's URL-map size page says 1 MB (Public Preview), hence configurable.
DEFAULT_URL_MAP_MAX_BYTES = 64 * 1024
MAX_URL_MAP_MAX_BYTES = 1024 * 1024
DEFAULT_REPEAT_FINDINGS = timedelta(hours=24)  # how often the sweep logs a finding still on the service

VARIABLES = (
    "RUNWAY_URL_MAP",
    "RUNWAY_PROJECT",
    "RUNWAY_HOSTS",
    "RUNWAY_SECURITY_POLICY",
    "RUNWAY_EXEMPT",
    "RUNWAY_OWNER_ID",
    "RUNWAY_REGIONS",
    "RUNWAY_DRY_RUN",
    "RUNWAY_API_ENDPOINT",
    "RUNWAY_STATUS",
    "RUNWAY_SCOPE",
    "RUNWAY_URL_MAP_MAX_BYTES",
    "RUNWAY_API_PRINCIPAL",
    "RUNWAY_REPEAT_FINDINGS",
    "RUNWAY_IDENTITY",
)

# Compute resource names (URL maps, security policies): RFC 1035 labels.
_COMPUTE_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
# Goes into the ownership marker of every object runway makes; short so names and markers stay readable.
_OWNER_ID = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,18}[a-z0-9])?")
_PROJECT = re.compile(PROJECT_ID)
_REGION = re.compile(REGION)
_GLOB_SEGMENT = re.compile(r"[a-z0-9*?\[\]!-]+")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_ON = frozenset({"on", *_TRUE})
_OFF = frozenset({"off", *_FALSE})
_DURATION = re.compile(r"(0|[1-9][0-9]{0,5})([dhms])?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
_PARENT = re.compile(r"(organizations|folders)/([1-9][0-9]{0,19})")


@dataclass(frozen=True)
class Scope:
    """What one installation covers (`RUNWAY_SCOPE`): an organization or folder and all below it, or projects."""

    parent: str | None = None  # organizations/N or folders/N
    projects: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.parent or ",".join(self.projects)


class ConfigError(ValueError):
    """The configuration is not valid. `problems` lists (variable, explanation) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        self.variables = tuple(dict.fromkeys(name for name, _ in problems))
        super().__init__("invalid runway configuration: " + "; ".join(f"{n}: {why}" for n, why in problems))


@dataclass(frozen=True)
class Config:
    """Validated configuration. Build it with `Config.from_env` or `load_config`."""

    url_map: str | None = None
    project: str | None = None
    hosts: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_HOSTS, hash=False)
    security_policy: str | None = None
    exempt: tuple[str, ...] = ()
    owner_id: str = DEFAULT_OWNER_ID
    regions: tuple[str, ...] = ()
    dry_run: bool = False
    api_endpoint: str | None = None
    status: bool = True
    scope: Scope | None = None
    url_map_max_bytes: int = DEFAULT_URL_MAP_MAX_BYTES
    api_principal: str | None = None  # emulator only: who runway's calls say they are
    repeat_findings: timedelta = DEFAULT_REPEAT_FINDINGS
    identity: str | None = None  # the function's own service account: events of its own writes need no work

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Validate every variable; raise one ConfigError naming each bad one."""
        problems: list[tuple[str, str]] = []

        def read(name: str, parse: Callable[[str], _T], default: _T) -> _T:
            raw = env.get(name)
            if raw is None or not raw.strip():
                return default
            try:
                return parse(raw.strip())
            except Problem as problem:
                problems.append((name, f"{show(raw)} is not valid: {problem}"))
                return default

        config = cls(
            url_map=read("RUNWAY_URL_MAP", _compute_name, None),
            project=read("RUNWAY_PROJECT", _project, None),
            hosts=read("RUNWAY_HOSTS", parse_hosts, DEFAULT_HOSTS),
            security_policy=read("RUNWAY_SECURITY_POLICY", _compute_name, None),
            exempt=read("RUNWAY_EXEMPT", _exempt, ()),
            owner_id=read("RUNWAY_OWNER_ID", _owner_id, DEFAULT_OWNER_ID),
            regions=read("RUNWAY_REGIONS", _regions, ()),
            dry_run=read("RUNWAY_DRY_RUN", _bool, False),
            api_endpoint=read("RUNWAY_API_ENDPOINT", _endpoint, None),
            status=read("RUNWAY_STATUS", _on_off, True),
            scope=read("RUNWAY_SCOPE", _scope, None),
            url_map_max_bytes=read("RUNWAY_URL_MAP_MAX_BYTES", _max_bytes, DEFAULT_URL_MAP_MAX_BYTES),
            api_principal=read("RUNWAY_API_PRINCIPAL", _email, None),
            repeat_findings=read("RUNWAY_REPEAT_FINDINGS", _duration, DEFAULT_REPEAT_FINDINGS),
            identity=read("RUNWAY_IDENTITY", _email, None),
        )
        if config.api_principal and not config.api_endpoint:
            problems.append(("RUNWAY_API_PRINCIPAL", "is for the emulator only: set RUNWAY_API_ENDPOINT too"))
        if problems:
            raise ConfigError(problems)
        return config

    def is_exempt(self, key: ServiceKey) -> bool:
        """Whether `RUNWAY_EXEMPT` exempts this service from ingress enforcement."""
        return any(fnmatchcase(key.path, pattern) for pattern in self.exempt)

    def require_url_map(self) -> str:
        """The URL map name; routes cannot work without one."""
        if not self.url_map:
            raise ConfigError([("RUNWAY_URL_MAP", "not set: expected the name of the shared global URL map")])
        return self.url_map

    def require_regions(self) -> tuple[str, ...]:
        """The regions a sweep covers; a sweep of nothing would silently do nothing."""
        if not self.regions:
            raise ConfigError([("RUNWAY_REGIONS", "not set: expected comma-separated regions to sweep")])
        return self.regions

    def require_project(self) -> str:
        """The project a sweep lists services in and whose load balancer it plans."""
        if not self.project:
            raise ConfigError([("RUNWAY_PROJECT", "not set: expected the project whose services the sweep lists")])
        return self.project

    def lb_project(self, key: ServiceKey) -> str:
        """The load balancer's project: `RUNWAY_PROJECT`, else the service's own."""
        return self.project or key.project

    @property
    def own_identity(self) -> str | None:
        """Who this function's calls are made as (`RUNWAY_IDENTITY`; on the emulator `RUNWAY_API_PRINCIPAL`)."""
        return self.identity or self.api_principal

    def effective_scope(self) -> Scope:
        """`RUNWAY_SCOPE`, else `RUNWAY_PROJECT` alone."""
        if self.scope is not None:
            return self.scope
        return Scope(projects=(self.require_project(),))


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """The configuration for this environment (default `os.environ`), validated once per distinct value set."""
    env = os.environ if env is None else env
    return _load(tuple((name, env.get(name)) for name in VARIABLES))


@functools.lru_cache(maxsize=16)
def _load(values: tuple[tuple[str, str | None], ...]) -> Config:
    # Errors are not cached by lru_cache, so a broken configuration is reported on every invocation.
    return Config.from_env({name: value for name, value in values if value is not None})


# Parsers: each returns the value or raises Problem with what was expected.


def _compute_name(raw: str) -> str:
    if not _COMPUTE_NAME.fullmatch(raw):
        raise Problem("expected a Compute resource name: 1-63 of [a-z0-9-], starting with a letter, not ending with -")
    return raw


def _project(raw: str) -> str:
    if not _PROJECT.fullmatch(raw):
        raise Problem("expected a project id: 6-30 of [a-z0-9-], starting with a letter, not ending with -")
    return raw


def _owner_id(raw: str) -> str:
    if not _OWNER_ID.fullmatch(raw):
        raise Problem("expected 1-20 of [a-z0-9-], not starting or ending with -")
    return raw


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Problem("expected one of true, false, 1, 0, yes, no")


def _duration(raw: str) -> timedelta:
    match = _DURATION.fullmatch(raw)
    if not match:
        raise Problem("expected a duration like 24h, 90m or 0 (every sweep)")
    amount, unit = int(match[1]), match[2] or "h"
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[unit]: amount})


def _email(raw: str) -> str:
    if not _EMAIL.fullmatch(raw):
        raise Problem("expected an email address, e.g. sync-routes@my-project.iam.gserviceaccount.com")
    return raw


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise Problem("expected on or off")


def _max_bytes(raw: str) -> int:
    expected = f"expected a number of bytes from 1024 to {MAX_URL_MAP_MAX_BYTES}"
    if not raw.isdigit():
        raise Problem(expected)
    value = int(raw)
    if not 1024 <= value <= MAX_URL_MAP_MAX_BYTES:
        raise Problem(expected)
    return value


def _scope(raw: str) -> Scope:
    if _PARENT.fullmatch(raw):
        return Scope(parent=raw)
    projects = [item.strip() for item in raw.split(",") if item.strip()]
    bad = [p for p in projects if not _PROJECT.fullmatch(p)]
    if bad or not projects:
        raise Problem(
            f"{show(bad[0]) if bad else 'nothing'} is not a project id; expected organizations/N, folders/N or "
            "comma-separated project ids"
        )
    return Scope(projects=tuple(dict.fromkeys(projects)))


def _regions(raw: str) -> tuple[str, ...]:
    regions = [item.strip() for item in raw.split(",") if item.strip()]
    bad = [region for region in regions if not _REGION.fullmatch(region)]
    if bad:
        raise Problem(f"{show(bad[0])} is not a region; expected comma-separated regions like us-central1")
    return tuple(dict.fromkeys(regions))  # a repeated region would only be swept twice


def _exempt(raw: str) -> tuple[str, ...]:
    patterns = [item.strip() for item in raw.split(",") if item.strip()]
    for pattern in patterns:
        segments = pattern.split("/")
        # Exactly three segments: a pattern like `proj/hello` would otherwise silently never match.
        if len(segments) != 3 or not all(_GLOB_SEGMENT.fullmatch(s) for s in segments):
            raise Problem(
                f"{show(pattern)} is not a PROJECT/REGION/SERVICE glob; expected comma-separated patterns of "
                "three /-separated parts of [a-z0-9-] and glob characters *?[]!, e.g. my-proj/*/legacy-*"
            )
    return tuple(patterns)


def _endpoint(raw: str) -> str:
    expected = "expected an http or https base URL like http://127.0.0.1:8900"
    try:
        parts = urlsplit(raw)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise Problem(expected) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise Problem(expected)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise Problem(f"{expected}, without user, query or fragment")
    return raw.rstrip("/")
