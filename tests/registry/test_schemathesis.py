"""Schemathesis explores every operation of the OpenAPI schema: no input makes the registry answer 5xx."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def with_non_finite_numbers(case: Any) -> st.SearchStrategy[Any]:
    """Half the cases with a JSON object body get NaN or +-Infinity in one field (or a new one), sent as the
    literal tokens Python's json writes (``NaN``, ``Infinity``): not JSON, so never a 5xx."""
    if not isinstance(case.body, dict):
        return st.just(case)
    fields = [*sorted(case.body), "unexpected"]

    def poison(choice: tuple[str, float]) -> Any:
        name, value = choice
        case.body = json.dumps({**case.body, name: value}).encode()
        return case

    return st.one_of(st.just(case), st.tuples(st.sampled_from(fields), NON_FINITE).map(poison))


ROLE_FOR = {
    ("POST", "/api/v1/labels"): "issuer",
    ("POST", "/api/v1/labels/{label_id}/revoke"): "issuer",
    ("PUT", "/api/v1/products/{product_id}/support"): "manufacturer",
    ("POST", "/api/v1/issuers"): "admin",
    ("POST", "/api/v1/manufacturers"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens/{token_id}/revoke"): "admin",
    ("POST", "/api/v1/issuers/{issuer_id}/status"): "admin",
    ("POST", "/api/v1/issuers/{issuer_id}/keys"): "admin",
    ("POST", "/api/v1/issuers/{issuer_id}/schemes"): "admin",
    ("POST", "/api/v1/approvals"): "admin",
    ("POST", "/api/v1/grants"): "manufacturer",
    ("POST", "/api/v1/grants/{grant_id}/withdraw"): "manufacturer",
}
OPERATIONS = [
    ("GET", "/api/v1/hello"), ("GET", "/api/v1/labels"), ("GET", "/api/v1/labels/{label_id}"),
    ("POST", "/api/v1/labels"), ("POST", "/api/v1/labels/{label_id}/revoke"), ("GET", "/api/v1/products/{product_id}"),
    ("PUT", "/api/v1/products/{product_id}/support"), ("GET", "/api/v1/issuers"), ("POST", "/api/v1/issuers"),
    ("POST", "/api/v1/manufacturers"), ("POST", "/api/v1/tokens"), ("GET", "/api/v1/log/key"),
    ("GET", "/api/v1/log/sth"), ("GET", "/api/v1/log/proof/inclusion"), ("GET", "/api/v1/log/proof/consistency"),
    ("GET", "/api/v1/log/entries"), ("GET", "/api/v1/labels/{label_id}/proof"), ("GET", "/api/v1/grants"),
    ("POST", "/api/v1/grants"), ("POST", "/api/v1/grants/{grant_id}/withdraw"),
    ("POST", "/api/v1/issuers/{issuer_id}/status"), ("POST", "/api/v1/issuers/{issuer_id}/keys"),
    ("POST", "/api/v1/issuers/{issuer_id}/schemes"),
    ("POST", "/api/v1/approvals"), ("POST", "/api/v1/tokens/{token_id}/revoke"), ("GET", "/api/v1/log/checkpoint"),
    ("GET", "/api/v1/log/witnesses"),
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

    poisoned: list[int] = []
    plain: list[Any] = []  # the cases sent with a JSON object body as generated

    def send(case: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return case.call_and_validate(headers=headers, checks=[not_a_server_error])

    @given(case=operation.as_strategy(generation_mode=mode).flatmap(with_non_finite_numbers))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        response = send(case)
        if isinstance(case.body, bytes) and (b"NaN" in case.body or b"Infinity" in case.body):
            poisoned.append(response.status_code)
        elif isinstance(case.body, dict):
            plain[:] = [case]

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            pytest.skip("the operation has no input that could be made invalid")
        raise
    if not poisoned and plain:  # hypothesis drew none of them (a few percent of runs): one is sent as drawn for it
        plain[0].body = json.dumps({**plain[0].body, "unexpected": math.nan}).encode()
        poisoned.append(send(plain[0]).status_code)
    # Then every body carrying NaN or Infinity was refused as not JSON (400) and some were sent.
    assert set(poisoned) <= {400, 413}, poisoned  # 413: too large to read at all
    if mode is GenerationMode.POSITIVE and method in {"POST", "PUT"} and operation.body:
        assert poisoned, "no body with NaN or Infinity was sent"


def test_every_operation_is_explored(api_schema: Any) -> None:
    listed = {(op.method.upper(), op.path) for op in (result.ok() for result in api_schema.get_all_operations())}
    assert listed == set(OPERATIONS)
