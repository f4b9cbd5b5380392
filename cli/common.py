"""What every command shares: the configuration from the environment, and its error (exit 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import click

from shared.config import Config, ConfigError


class ConfigProblem(click.ClickException):
    """A usage or configuration error: exit 2, like click's own usage errors."""

    exit_code = 2


def load(overrides: Mapping[str, str | None]) -> Config:
    """The configuration from the environment, with command-line options taking precedence."""
    env = dict(os.environ)
    env.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Config.from_env(env)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc


def check_scope(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A `--scope` value, checked by `RUNWAY_SCOPE`'s own parser (organizations/N, folders/N, project ids)."""
    if value is None or not value.strip():
        return None
    try:
        Config.from_env({"RUNWAY_SCOPE": value})
    except ConfigError as exc:
        raise click.BadParameter("; ".join(why for _, why in exc.problems)) from None
    return value.strip()


def plural(count: int, noun: str) -> str:
    """`1 service`, `2 services`, `3 policies`."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"
