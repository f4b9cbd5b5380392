"""How runway builds its Google clients: REST always; with an emulator endpoint, anonymous or a named identity;
a connection pool as large as the requests an instance serves at once. Built offline: nothing is called."""

from __future__ import annotations

from shared import clients


def test_an_emulator_endpoint_gets_anonymous_credentials_over_rest() -> None:
    kwargs = clients.client_kwargs("http://127.0.0.1:9/")
    assert kwargs["transport"] == "rest"
    assert kwargs["client_options"].api_endpoint == "http://127.0.0.1:9"
    headers: dict[str, str] = {}
    kwargs["credentials"].apply(headers)
    assert "authorization" not in {k.lower() for k in headers}


def test_a_principal_is_sent_as_a_bearer_token_the_emulator_reads() -> None:
    credentials = clients.client_kwargs("http://127.0.0.1:9", "sync@p.iam.gserviceaccount.com")["credentials"]
    headers: dict[str, str] = {}
    credentials.apply(headers)
    assert headers["authorization"] == "Bearer sync@p.iam.gserviceaccount.com"


def test_production_uses_application_default_credentials_over_rest() -> None:
    assert clients.client_kwargs(None) == {"transport": "rest"}


def test_every_client_pools_as_many_connections_as_an_instance_serves_requests() -> None:
    run = clients.run_services("http://127.0.0.1:9", "pool@p.iam.gserviceaccount.com")
    compute = clients.compute("http://127.0.0.1:9", "pool@p.iam.gserviceaccount.com")
    for client in (run, compute.url_maps, compute.backend_services, compute.negs, compute.global_operations):
        for prefix in ("http://", "https://"):
            adapter = client._transport._session.adapters[prefix]
            assert adapter._pool_maxsize == clients.POOL_SIZE, (type(client).__name__, prefix)


def test_a_cold_instance_builds_each_client_once_however_many_requests_ask_at_once() -> None:
    """A cold instance's first 80 requests all ask for the Compute clients while the first is still importing and
    building them; each built its own before, so each got its own URL-map writer and they raced for the map."""
    import concurrent.futures
    import threading

    from shared.apply_url_map import writer_for
    from shared.plan_url_map import MapSettings

    principal = "cold-start@p.iam.gserviceaccount.com"  # an identity no other test builds clients for
    start = threading.Barrier(16)

    def ask(_: int) -> tuple[int, int]:
        start.wait()
        compute = clients.compute("http://127.0.0.1:9", principal)
        return id(compute), id(writer_for(compute, MapSettings("p", "lb", {"default": ("*",)})))

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        built = set(pool.map(ask, range(16)))
    assert len(built) == 1
