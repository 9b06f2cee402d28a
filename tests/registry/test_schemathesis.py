"""Schemathesis explores every operation of the OpenAPI schema: no input makes the registry answer 5xx."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient, used in-process by schemathesis, warns on import
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

from registry_harness import BACKENDS, GENEROUS, setup_actors

from cybersafe.registry.app import create_app

STATE: dict[str, Any] = {}


@pytest.fixture(scope="module", params=BACKENDS)
def api_schema(request: pytest.FixtureRequest, make_database_url: Callable[[str], str]) -> Iterator[Any]:
    # Given a registry with one published label, so reads and revokes have something real to hit.
    app = create_app(make_database_url(request.param), base_url="http://testserver", rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    STATE["actors"] = actors
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        TestClient(app).post("/api/v1/labels", json=actors.envelope(), headers=actors.headers("issuer"))
    yield schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    app.state.shutdown()


ROLE_FOR = {
    ("POST", "/api/v1/labels"): "issuer",
    ("POST", "/api/v1/labels/{label_id}/revoke"): "issuer",
    ("PUT", "/api/v1/products/{product_id}/support"): "manufacturer",
    ("POST", "/api/v1/issuers"): "admin",
    ("POST", "/api/v1/manufacturers"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
}
OPERATIONS = [
    ("GET", "/api/v1/hello"), ("GET", "/api/v1/labels"), ("GET", "/api/v1/labels/{label_id}"),
    ("POST", "/api/v1/labels"), ("POST", "/api/v1/labels/{label_id}/revoke"), ("GET", "/api/v1/products/{product_id}"),
    ("PUT", "/api/v1/products/{product_id}/support"), ("GET", "/api/v1/issuers"), ("POST", "/api/v1/issuers"),
    ("POST", "/api/v1/manufacturers"), ("POST", "/api/v1/tokens"), ("GET", "/api/v1/log/key"),
    ("GET", "/api/v1/log/sth"), ("GET", "/api/v1/log/proof/inclusion"), ("GET", "/api/v1/log/proof/consistency"),
    ("GET", "/api/v1/log/entries"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS])
@pytest.mark.parametrize(
    "mode", [pytest.param(GenerationMode.POSITIVE, id="valid"), pytest.param(GenerationMode.NEGATIVE, id="invalid")]
)
def test_no_input_causes_a_server_error(api_schema: Any, method: str, path: str, mode: GenerationMode) -> None:
    # When schemathesis sends generated requests, valid and invalid, with the token the operation needs,
    # then the registry never answers with a 5xx.
    operation = api_schema[path][method]
    role = ROLE_FOR.get((method, path))
    headers = STATE["actors"].headers(role) if role else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            pytest.skip("the operation has no input that could be made invalid")
        raise
