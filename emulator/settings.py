"""How an emulator is configured: at start (`Settings`) and, for the URL-map limits, at run time too."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import params
from .errors import ApiError

# The largest value any limit may be set to: far above Google's, low enough that no typo builds a huge map.
MAX_LIMIT = 100_000_000
# The longest audit delivery delay (seconds): production's is seconds; a test never waits ten minutes.
MAX_AUDIT_DELIVERY_DELAY_S = 600


@dataclass(frozen=True)
class UrlMapLimits:
    """Google's fixed limits on one URL map of a global external Application Load Balancer.

    From the Cloud Load Balancing quotas page ("URL maps"; these cannot be increased). The size is 64 KB there;
    another Google page gives 1 MB for Envoy-based load balancers (Public Preview), hence settable.
    """

    host_rules_and_path_matchers: int = 1000  # together
    path_rules_per_path_matcher: int = 1000  # path rules, or route rules
    hosts_per_host_rule: int = 1000
    predicates_per_path_matcher: int = 1000
    backends_per_url_map: int = 2500  # distinct backend services and buckets
    tests_per_url_map: int = 100
    bytes: int = 65536  # compact JSON of the map as the client sent it

    # The JSON names, as `/_emulator/settings` and `Settings(url_map_limits={...})` take them.
    KEYS: ClassVar[dict[str, str]] = {
        "hostRulesAndPathMatchers": "host_rules_and_path_matchers",
        "pathRulesPerPathMatcher": "path_rules_per_path_matcher",
        "hostsPerHostRule": "hosts_per_host_rule",
        "predicatesPerPathMatcher": "predicates_per_path_matcher",
        "backendsPerUrlMap": "backends_per_url_map",
        "testsPerUrlMap": "tests_per_url_map",
        "bytes": "bytes",
    }

    def __post_init__(self) -> None:
        for key, attribute in self.KEYS.items():
            try:
                params.integer(getattr(self, attribute), f"urlMapLimits.{key}", minimum=0, maximum=MAX_LIMIT)
            except ApiError as exc:
                raise ValueError(exc.message) from None

    def to_json(self) -> dict[str, int]:
        return {key: getattr(self, attribute) for key, attribute in self.KEYS.items()}

    def updated(self, body: Any) -> UrlMapLimits:
        """These limits with the keys of a (partial) JSON object changed; 400 naming any bad key or value."""
        body = params.mapping(body, "urlMapLimits", self.KEYS)
        changes = {
            self.KEYS[key]: params.integer(value, f"urlMapLimits.{key}", minimum=0, maximum=MAX_LIMIT)
            for key, value in body.items()
        }
        return dataclasses.replace(self, **changes)


@dataclass
class Settings:
    default_project: str = "runway-demo"
    default_region: str = "us-central1"
    # Eventarc retries a failed push with exponential backoff (production: 10 s to 600 s for 24 h,
    # docs/google-apis.md §2.3); the emulator keeps the shape but compresses the clock so tests stay fast.
    delivery_initial_backoff: float = 0.2
    delivery_max_backoff: float = 5.0
    delivery_max_attempts: int = 12
    delivery_timeout: float = 30.0
    # A `UrlMapLimits`, or the JSON keys of `POST /_emulator/settings` (`{"bytes": 1048576}`), the rest default.
    url_map_limits: UrlMapLimits | Mapping[str, Any] = field(default_factory=UrlMapLimits)
    # Seconds from an audit entry being written to its push to triggers (production: seconds, through Logging
    # and a Pub/Sub subscription). 0: queued at once. Settable at run time (`auditDeliveryDelay`).
    audit_delivery_delay: float = 0.0

    def __post_init__(self) -> None:
        try:
            self.audit_delivery_delay = audit_delivery_delay(self.audit_delivery_delay)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        if not isinstance(self.url_map_limits, UrlMapLimits):
            try:
                self.url_map_limits = UrlMapLimits().updated(self.url_map_limits)
            except ApiError as exc:
                raise ValueError(exc.message) from None

    @property
    def limits(self) -> UrlMapLimits:
        """`url_map_limits` as a `UrlMapLimits`, whichever form it was given in."""
        limits = self.url_map_limits
        return limits if isinstance(limits, UrlMapLimits) else UrlMapLimits().updated(limits)


def audit_delivery_delay(value: Any) -> float:
    """A delivery delay in seconds, 0 to 600; 400 naming `auditDeliveryDelay` otherwise."""
    return params.number(value, "auditDeliveryDelay", minimum=0, maximum=MAX_AUDIT_DELIVERY_DELAY_S)
