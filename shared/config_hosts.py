"""`RUNWAY_HOSTS`, parsed and checked (docs/decisions.md, "Hosts"), and what every configuration parser shares: the
problem it raises and how it quotes a bad value. Part of `shared.config`, in a module of its own for its size."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType

from shared.naming import path_matcher_name

DEFAULT_ALIAS = "default"
DEFAULT_HOSTS: Mapping[str, tuple[str, ...]] = MappingProxyType({DEFAULT_ALIAS: ("*",)})
# Google's limit on the hosts of one host rule, which is what an alias becomes (docs/google-apis.md §9.1).
HOSTS_PER_HOST_RULE = 1000
# Aliases are `public-host` label values: label-value charset, at most 63.
_ALIAS = re.compile(r"[a-z0-9_-]{1,63}")
_HOST_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


class Problem(Exception):
    """What a parser found wrong with a value (`shared.config` names the variable)."""


def parse_hosts(raw: str) -> Mapping[str, tuple[str, ...]]:
    expected = 'expected a JSON object of alias to non-empty list of hosts, e.g. {"default":["*"]}'
    try:
        value = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except Problem:
        raise
    except (ValueError, RecursionError):
        raise Problem(f"not JSON; {expected}") from None
    if not isinstance(value, dict) or not value:
        raise Problem(expected)
    owner_of: dict[str, str] = {}
    name_owner: dict[str, str] = {}
    hosts: dict[str, tuple[str, ...]] = {}
    for alias, alias_hosts in value.items():
        if not _ALIAS.fullmatch(alias):
            raise Problem(f"alias {show(alias)} is not a label value: expected 1-63 of [a-z0-9_-]")
        if not isinstance(alias_hosts, list) or not alias_hosts:
            raise Problem(f"alias {alias!r} must map to a non-empty list of hosts")
        if len(alias_hosts) > HOSTS_PER_HOST_RULE:
            raise Problem(f"alias {alias!r} has {len(alias_hosts)} hosts; Google's limit is {HOSTS_PER_HOST_RULE}")
        for host in alias_hosts:
            if not isinstance(host, str) or not _is_host(host):
                raise Problem(
                    f"host {show(host)} of alias {alias!r} is not a host rule: expected a lowercase hostname with "
                    "an optional :port, '*' alone, or '*' first followed by '.' or '-'"
                )
            if host in owner_of:
                where = "twice" if owner_of[host] == alias else f"in aliases {owner_of[host]!r} and {alias!r}"
                raise Problem(f"host {host!r} is listed {where}; a host belongs to one alias")
            owner_of[host] = alias
            # `a.com` and `a.com:443` are different patterns to Google (docs/decisions.md, "Hosts").
            name = host.partition(":")[0]
            other = name_owner.setdefault(name, alias)
            if other != alias:
                raise Problem(
                    f"host {name!r} is in aliases {other!r} and {alias!r} (with different ports): where a request "
                    "goes would depend on whether its client sends the port; keep every port of a host in one alias"
                )
        hosts[alias] = tuple(alias_hosts)
    if DEFAULT_ALIAS not in hosts:
        raise Problem(f"no {DEFAULT_ALIAS!r} alias; services without a public-host label use it")
    matcher_of: dict[str, str] = {}
    for alias in hosts:
        matcher = path_matcher_name(alias)
        if matcher in matcher_of:
            raise Problem(
                f"aliases {matcher_of[matcher]!r} and {alias!r} both become path matcher {matcher!r}; rename one"
            )
        matcher_of[matcher] = alias
    return MappingProxyType(hosts)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise Problem(f"key {show(repeated[0])} appears more than once (JSON would silently keep the last)")
    return dict(pairs)


def _is_host(host: str) -> bool:
    """Compute host-rule syntax (docs/google-apis.md §3.3): hostname[:port]; `*` only first, then `.` or `-`."""
    name, sep, port = host.partition(":")
    if sep and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536 and port[0] != "0"):
        return False
    if name == "*":
        return True
    if name.startswith("*"):
        if len(name) < 3 or name[1] not in ".-":
            return False
        name = name[2:]
    if len(name) > 253:
        return False
    return all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"
