"""Configuration: every variable of docs/design.md §5, good and bad, and the messages that name them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.config import DEFAULT_HOSTS, VARIABLES, Config, ConfigError, Scope, load_config
from shared.model import ServiceKey


def test_defaults() -> None:
    config = Config.from_env({})
    assert config == Config()
    assert config.url_map is None
    assert config.project is None
    assert dict(config.hosts) == {"default": ("*",)}
    assert config.security_policy is None
    assert config.exempt == ()
    assert config.owner_id == "runway"
    assert config.regions == ()
    assert config.dry_run is False
    assert config.api_endpoint is None
    assert config.status is True
    assert config.scope is None
    assert config.url_map_max_bytes == 65536


def test_variables_are_design_names() -> None:
    assert VARIABLES == (
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


GOOD = [
    pytest.param("RUNWAY_URL_MAP", "shared-lb", "url_map", "shared-lb", id="url-map"),
    pytest.param("RUNWAY_URL_MAP", "a" * 63, "url_map", "a" * 63, id="url-map-63"),
    pytest.param("RUNWAY_PROJECT", "lb-project-1", "project", "lb-project-1", id="project"),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*"],"shop":["shop.example.com","shop.example.com:8443"]}',
        "hosts",
        {"default": ("*",), "shop": ("shop.example.com", "shop.example.com:8443")},
        id="hosts",
    ),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*.example.com","*-dev.example.com","10.0.0.1"],"a_b-1":["x.io"]}',
        "hosts",
        {"default": ("*.example.com", "*-dev.example.com", "10.0.0.1"), "a_b-1": ("x.io",)},
        id="hosts-wildcards",
    ),
    pytest.param("RUNWAY_SECURITY_POLICY", "edge-policy", "security_policy", "edge-policy", id="security-policy"),
    pytest.param(
        "RUNWAY_EXEMPT",
        "legacy-proj/*/*, my-proj/us-*/admin-?, */*/[ab]-svc,",
        "exempt",
        ("legacy-proj/*/*", "my-proj/us-*/admin-?", "*/*/[ab]-svc"),
        id="exempt",
    ),
    pytest.param("RUNWAY_OWNER_ID", "team-a", "owner_id", "team-a", id="owner-id"),
    pytest.param("RUNWAY_OWNER_ID", "a" * 20, "owner_id", "a" * 20, id="owner-id-20"),
    pytest.param(
        "RUNWAY_REGIONS",
        "us-central1, europe-west1,us-central1",
        "regions",
        ("us-central1", "europe-west1"),
        id="regions-deduplicated",
    ),
    pytest.param("RUNWAY_DRY_RUN", "true", "dry_run", True, id="dry-run-true"),
    pytest.param("RUNWAY_DRY_RUN", "TRUE", "dry_run", True, id="dry-run-upper"),
    pytest.param("RUNWAY_DRY_RUN", "1", "dry_run", True, id="dry-run-1"),
    pytest.param("RUNWAY_DRY_RUN", "yes", "dry_run", True, id="dry-run-yes"),
    pytest.param("RUNWAY_DRY_RUN", "false", "dry_run", False, id="dry-run-false"),
    pytest.param("RUNWAY_DRY_RUN", " 0 ", "dry_run", False, id="dry-run-0-spaces"),
    pytest.param("RUNWAY_DRY_RUN", "No", "dry_run", False, id="dry-run-no"),
    pytest.param(
        "RUNWAY_API_ENDPOINT", "http://127.0.0.1:8900", "api_endpoint", "http://127.0.0.1:8900", id="endpoint-http"
    ),
    pytest.param(
        "RUNWAY_API_ENDPOINT",
        "https://emulator.internal/",
        "api_endpoint",
        "https://emulator.internal",
        id="endpoint-https-trailing-slash",
    ),
    pytest.param("RUNWAY_STATUS", "off", "status", False, id="status-off"),
    pytest.param("RUNWAY_REPEAT_FINDINGS", "90m", "repeat_findings", timedelta(minutes=90), id="repeat-90m"),
    pytest.param("RUNWAY_REPEAT_FINDINGS", "2d", "repeat_findings", timedelta(days=2), id="repeat-2d"),
    pytest.param("RUNWAY_REPEAT_FINDINGS", "0", "repeat_findings", timedelta(0), id="repeat-every-sweep"),
    pytest.param("RUNWAY_STATUS", "ON", "status", True, id="status-on"),
    pytest.param("RUNWAY_URL_MAP_MAX_BYTES", "1048576", "url_map_max_bytes", 1048576, id="max-bytes-1mb"),
    pytest.param("RUNWAY_SCOPE", "organizations/123456", "scope", Scope(parent="organizations/123456"), id="scope-org"),
    pytest.param("RUNWAY_SCOPE", "folders/42", "scope", Scope(parent="folders/42"), id="scope-folder"),
    pytest.param(
        "RUNWAY_SCOPE", "proj-a1, proj-b2,proj-a1", "scope", Scope(projects=("proj-a1", "proj-b2")), id="scope-projects"
    ),
    pytest.param("RUNWAY_URL_MAP", "", "url_map", None, id="empty-is-unset"),
    pytest.param("RUNWAY_DRY_RUN", "   ", "dry_run", False, id="blank-is-unset"),
]


@pytest.mark.parametrize(("variable", "raw", "attribute", "expected"), GOOD)
def test_good(variable: str, raw: str, attribute: str, expected: object) -> None:
    value = getattr(Config.from_env({variable: raw}), attribute)
    assert (dict(value) if attribute == "hosts" else value) == expected


BAD = [
    pytest.param("RUNWAY_URL_MAP", "Shared_LB", "expected a Compute resource name", id="url-map-charset"),
    pytest.param("RUNWAY_URL_MAP", "a" * 64, "expected a Compute resource name", id="url-map-too-long"),
    pytest.param(
        "RUNWAY_URL_MAP", "projects/p/global/urlMaps/lb", "expected a Compute resource name", id="url-map-path"
    ),
    pytest.param("RUNWAY_PROJECT", "1proj", "expected a project id", id="project-digit-start"),
    pytest.param("RUNWAY_PROJECT", "short", "expected a project id", id="project-too-short"),
    pytest.param("RUNWAY_HOSTS", "default=*", "not JSON", id="hosts-not-json"),
    pytest.param("RUNWAY_HOSTS", "[" * 100_000, "not JSON", id="hosts-deeply-nested"),
    pytest.param("RUNWAY_HOSTS", '["*"]', "expected a JSON object of alias", id="hosts-list"),
    pytest.param("RUNWAY_HOSTS", "{}", "expected a JSON object of alias", id="hosts-empty"),
    pytest.param("RUNWAY_HOSTS", '{"default":[]}', "must map to a non-empty list", id="hosts-empty-list"),
    pytest.param("RUNWAY_HOSTS", '{"default":"*"}', "must map to a non-empty list", id="hosts-string"),
    pytest.param("RUNWAY_HOSTS", '{"Default":["*"]}', "alias 'Default' is not a label value", id="alias-upper"),
    pytest.param("RUNWAY_HOSTS", json.dumps({"a" * 64: ["*"]}), "is not a label value", id="alias-too-long"),
    pytest.param("RUNWAY_HOSTS", '{"shop.eu":["*"]}', "alias 'shop.eu' is not a label value", id="alias-dot"),
    pytest.param("RUNWAY_HOSTS", '{"shop":["x.io"]}', "no 'default' alias", id="no-default"),
    pytest.param("RUNWAY_HOSTS", '{"default":["Shop.example.com"]}', "is not a host rule", id="host-upper"),
    pytest.param("RUNWAY_HOSTS", '{"default":["shop*.example.com"]}', "is not a host rule", id="host-star-middle"),
    pytest.param("RUNWAY_HOSTS", '{"default":["*example.com"]}', "is not a host rule", id="host-star-no-dot"),
    pytest.param("RUNWAY_HOSTS", '{"default":["*."]}', "is not a host rule", id="host-star-dot-only"),
    pytest.param("RUNWAY_HOSTS", '{"default":["a.com:0"]}', "is not a host rule", id="host-port-0"),
    pytest.param("RUNWAY_HOSTS", '{"default":["a.com:70000"]}', "is not a host rule", id="host-port-big"),
    pytest.param("RUNWAY_HOSTS", '{"default":["a.com/x"]}', "is not a host rule", id="host-path"),
    pytest.param("RUNWAY_HOSTS", '{"default":["-a.com"]}', "is not a host rule", id="host-leading-hyphen"),
    pytest.param("RUNWAY_HOSTS", '{"default":["a..com"]}', "is not a host rule", id="host-empty-label"),
    pytest.param("RUNWAY_HOSTS", '{"default":[7]}', "host 7 of alias 'default'", id="host-not-string"),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*"],"shop":["a.com"],"eu":["a.com"]}',
        "host 'a.com' is listed in aliases 'shop' and 'eu'",
        id="host-in-two-aliases",
    ),
    pytest.param("RUNWAY_HOSTS", '{"default":["a.com","a.com"]}', "host 'a.com' is listed twice", id="host-twice"),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*"],"default":["only.example.com"]}',
        "key 'default' appears more than once (JSON would silently keep the last)",
        id="hosts-duplicate-key",
    ),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*"],"a_b":["x.example.com"],"a-b-4fa91a2d":["y.example.com"]}',
        "aliases 'a_b' and 'a-b-4fa91a2d' both become path matcher 'runway-a-b-4fa91a2d'; rename one",
        id="hosts-matcher-names-collide",
    ),
    pytest.param("RUNWAY_HOSTS", '{"default":["[::1]"]}', "is not a host rule", id="host-ipv6-literal"),
    pytest.param(
        "RUNWAY_HOSTS",
        json.dumps({"default": [f"h{i}.example.com" for i in range(1001)]}),
        "alias 'default' has 1001 hosts; Google's limit is 1000",
        id="hosts-over-the-host-rule-limit",
    ),
    pytest.param(
        "RUNWAY_HOSTS",
        '{"default":["*"],"shop":["a.com"],"eu":["a.com:443"]}',
        "host 'a.com' is in aliases 'shop' and 'eu' (with different ports)",
        id="host-port-in-two-aliases",
    ),
    pytest.param("RUNWAY_HOSTS", '{"default":["a.com:"]}', "is not a host rule", id="host-empty-port"),
    pytest.param("RUNWAY_HOSTS", '{"default":["a_b.com"]}', "is not a host rule", id="host-underscore"),
    pytest.param("RUNWAY_STATUS", "maybe", "expected on or off", id="status-maybe"),
    pytest.param("RUNWAY_REPEAT_FINDINGS", "1 day", "expected a duration like 24h", id="repeat-words"),
    pytest.param("RUNWAY_REPEAT_FINDINGS", "-1h", "expected a duration like 24h", id="repeat-negative"),
    pytest.param(
        "RUNWAY_URL_MAP_MAX_BYTES", "64KB", "expected a number of bytes from 1024 to 1048576", id="bytes-unit"
    ),
    pytest.param("RUNWAY_URL_MAP_MAX_BYTES", "100", "expected a number of bytes from 1024", id="bytes-small"),
    pytest.param("RUNWAY_URL_MAP_MAX_BYTES", "2000000", "expected a number of bytes", id="bytes-big"),
    pytest.param(
        "RUNWAY_SCOPE", "organizations/abc", "is not a project id; expected organizations/N", id="scope-org-nan"
    ),
    pytest.param("RUNWAY_SCOPE", "projects/p-1234", "is not a project id", id="scope-projects-prefix"),
    pytest.param("RUNWAY_SCOPE", "Proj-A", "'Proj-A' is not a project id", id="scope-upper"),
    pytest.param("RUNWAY_SECURITY_POLICY", "Edge Policy", "expected a Compute resource name", id="policy-charset"),
    pytest.param("RUNWAY_EXEMPT", "legacy-proj/*", "is not a PROJECT/REGION/SERVICE glob", id="exempt-two-parts"),
    pytest.param("RUNWAY_EXEMPT", "a/b/c/d", "is not a PROJECT/REGION/SERVICE glob", id="exempt-four-parts"),
    pytest.param("RUNWAY_EXEMPT", "proj//svc", "is not a PROJECT/REGION/SERVICE glob", id="exempt-empty-part"),
    pytest.param("RUNWAY_EXEMPT", "Proj/*/*", "is not a PROJECT/REGION/SERVICE glob", id="exempt-upper"),
    pytest.param("RUNWAY_OWNER_ID", "Team", "expected 1-20 of [a-z0-9-]", id="owner-upper"),
    pytest.param("RUNWAY_OWNER_ID", "a" * 21, "expected 1-20 of [a-z0-9-]", id="owner-too-long"),
    pytest.param("RUNWAY_OWNER_ID", "team_a", "expected 1-20 of [a-z0-9-]", id="owner-underscore"),
    pytest.param("RUNWAY_OWNER_ID", "-team", "expected 1-20 of [a-z0-9-]", id="owner-leading-hyphen"),
    pytest.param("RUNWAY_REGIONS", "us-central1,US-EAST1", "'US-EAST1' is not a region", id="regions-upper"),
    pytest.param("RUNWAY_REGIONS", "us-central1;eu", "is not a region", id="regions-separator"),
    pytest.param("RUNWAY_DRY_RUN", "maybe", "expected one of true, false, 1, 0, yes, no", id="dry-run-maybe"),
    pytest.param("RUNWAY_DRY_RUN", "on", "expected one of true, false", id="dry-run-on"),
    pytest.param("RUNWAY_API_ENDPOINT", "127.0.0.1:8900", "expected an http or https base URL", id="endpoint-bare"),
    pytest.param("RUNWAY_API_ENDPOINT", "ftp://host", "expected an http or https base URL", id="endpoint-ftp"),
    pytest.param("RUNWAY_API_ENDPOINT", "http://", "expected an http or https base URL", id="endpoint-no-host"),
    pytest.param("RUNWAY_API_ENDPOINT", "http://h:99999", "expected an http or https base URL", id="endpoint-port"),
    pytest.param("RUNWAY_API_ENDPOINT", "http://h/?x=1", "without user, query or fragment", id="endpoint-query"),
    pytest.param("RUNWAY_API_ENDPOINT", "http://u:p@h", "without user, query or fragment", id="endpoint-userinfo"),
]


@pytest.mark.parametrize(("variable", "raw", "expected_part"), BAD)
def test_bad(variable: str, raw: str, expected_part: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env({variable: raw})
    message = str(caught.value)
    assert f"{variable}: " in message
    assert expected_part in message
    assert caught.value.variables == (variable,)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"RUNWAY_DRY_RUN": "maybe", "RUNWAY_OWNER_ID": "UP", "RUNWAY_URL_MAP": "ok-map"})
    assert caught.value.variables == ("RUNWAY_OWNER_ID", "RUNWAY_DRY_RUN")
    assert "RUNWAY_DRY_RUN: 'maybe' is not valid: expected one of" in str(caught.value)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_require_url_map() -> None:
    assert Config.from_env({"RUNWAY_URL_MAP": "lb"}).require_url_map() == "lb"
    with pytest.raises(ConfigError, match="RUNWAY_URL_MAP: not set: expected the name of the shared global URL map"):
        Config.from_env({}).require_url_map()


def test_require_regions() -> None:
    assert Config.from_env({"RUNWAY_REGIONS": "us-east1"}).require_regions() == ("us-east1",)
    with pytest.raises(ConfigError, match="RUNWAY_REGIONS: not set"):
        Config.from_env({}).require_regions()


KEY = ServiceKey("my-proj", "us-central1", "admin-1")


@pytest.mark.parametrize(
    ("patterns", "exempt"),
    [
        pytest.param("", False, id="none"),
        pytest.param("my-proj/*/*", True, id="whole-project"),
        pytest.param("my-proj/us-*/admin-?", True, id="region-prefix-and-char"),
        pytest.param("other/*/*,*/*/admin-[0-9]", True, id="second-pattern"),
        pytest.param("my-proj/europe-west1/*", False, id="other-region"),
        pytest.param("my-proj/*/admin", False, id="exact-service-differs"),
        pytest.param("my-pro*/*/*", True, id="project-prefix"),
        pytest.param("*/*/admin-1", True, id="any-project-region"),
        pytest.param("my-proj/*/admin-1?", False, id="question-mark-needs-a-char"),
    ],
)
def test_is_exempt(patterns: str, exempt: bool) -> None:
    assert Config.from_env({"RUNWAY_EXEMPT": patterns}).is_exempt(KEY) is exempt


def test_lb_project_and_hosts() -> None:
    config = Config.from_env({"RUNWAY_HOSTS": '{"default":["*"],"shop":["shop.example.com"]}'})
    assert config.lb_project(KEY) == "my-proj"
    assert Config.from_env({"RUNWAY_PROJECT": "lb-project"}).lb_project(KEY) == "lb-project"
    assert config.hosts.get("shop") == ("shop.example.com",)


@pytest.mark.parametrize(
    "hosts",
    [
        pytest.param({"default": ["*"]}, id="any-host"),
        pytest.param({"default": ["*.example.com", "*-eu.example.com"]}, id="wildcards"),
        pytest.param({"default": ["a.com", "a.com:443"]}, id="both-port-forms-in-one-alias"),
        pytest.param({"default": ["a.com:8443"]}, id="explicit-port"),
        pytest.param({"default": ["*"], "lb": ["34.120.1.2"]}, id="ipv4-address"),
        pytest.param({"default": ["*"], "a_b": ["x.example.com"], "a-b": ["y.example.com"]}, id="close-aliases"),
    ],
)
def test_accepted_hosts(hosts: dict[str, list[str]]) -> None:
    """What Google's host-rule syntax allows is accepted as written (docs/decisions.md, "Hosts")."""
    config = Config.from_env({"RUNWAY_HOSTS": json.dumps(hosts)})
    assert {alias: list(found) for alias, found in config.hosts.items()} == hosts


def test_hosts_are_read_only() -> None:
    config = Config.from_env({})
    with pytest.raises(TypeError):
        config.hosts["x"] = ("y",)  # type: ignore[index]
    assert config.hosts is DEFAULT_HOSTS


def test_load_config_is_cached_per_environment() -> None:
    env = {"RUNWAY_URL_MAP": "lb", "UNRELATED": "1"}
    first = load_config(env)
    assert load_config(dict(env, UNRELATED="2")) is first
    assert load_config({"RUNWAY_URL_MAP": "lb2"}) is not first
    assert load_config({"RUNWAY_URL_MAP": "lb2"}).url_map == "lb2"


def test_load_config_reports_errors_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match="RUNWAY_DRY_RUN"):
            load_config({"RUNWAY_DRY_RUN": "perhaps"})


def test_load_config_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_OWNER_ID", "from-env")
    assert load_config().owner_id == "from-env"


def test_api_principal_is_for_the_emulator_only() -> None:
    with pytest.raises(ConfigError, match="RUNWAY_API_PRINCIPAL: is for the emulator only"):
        Config.from_env({"RUNWAY_API_PRINCIPAL": "sync@p.iam.gserviceaccount.com"})
    with pytest.raises(ConfigError, match="RUNWAY_API_PRINCIPAL: 'nobody' is not valid: expected an email address"):
        Config.from_env({"RUNWAY_API_ENDPOINT": "http://127.0.0.1:1", "RUNWAY_API_PRINCIPAL": "nobody"})
    config = Config.from_env(
        {"RUNWAY_API_ENDPOINT": "http://h:1", "RUNWAY_API_PRINCIPAL": "sync@p.iam.gserviceaccount.com"}
    )
    assert config.api_principal == "sync@p.iam.gserviceaccount.com"


def test_own_identity_is_the_deployed_one_else_the_emulator_principal() -> None:
    deployed = Config.from_env({"RUNWAY_IDENTITY": "sync@p.iam.gserviceaccount.com"})
    assert deployed.own_identity == "sync@p.iam.gserviceaccount.com"
    local = {"RUNWAY_API_ENDPOINT": "http://h:1", "RUNWAY_API_PRINCIPAL": "sync@p.iam.gserviceaccount.com"}
    assert Config.from_env(local).own_identity == "sync@p.iam.gserviceaccount.com"
    assert Config.from_env({}).own_identity is None
    with pytest.raises(ConfigError, match="RUNWAY_IDENTITY: 'sync' is not valid: expected an email address"):
        Config.from_env({"RUNWAY_IDENTITY": "sync"})


def test_effective_scope_defaults_to_the_project() -> None:
    assert Config.from_env({"RUNWAY_PROJECT": "lb-project"}).effective_scope() == Scope(projects=("lb-project",))
    scoped = Config.from_env({"RUNWAY_PROJECT": "lb-project", "RUNWAY_SCOPE": "folders/7"})
    assert scoped.effective_scope() == Scope(parent="folders/7")
    assert str(scoped.effective_scope()) == "folders/7"
