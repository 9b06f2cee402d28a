"""The batched read path: coalescing, failure and cancellation, and the reader on both databases."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from registry_harness import BACKENDS, GENEROUS, setup_actors
from registry_support import Actors
from tests.support import ClosedPort

from cybersafe.registry import log
from cybersafe.registry.app import create_app
from cybersafe.registry.interface import Unavailable
from cybersafe.registry.reads import Batched, PostgresDatabase, Reader


class Recorder:
    """A fetch that records each batch of keys and can be held until released."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail = fail

    async def __call__(self, keys: list[int]) -> dict[int, str]:
        self.batches.append(list(keys))
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database said no")
        return {k: f"v{k}" for k in keys if k % 2 == 0}


def test_concurrent_lookups_share_one_query() -> None:
    # Given 20 lookups started together, when they run, then one query answers them all, found or not.
    async def scenario() -> tuple[list[list[int]], list[str | None]]:
        fetch = Recorder()
        batched: Batched[int, str] = Batched(fetch)
        results = await asyncio.gather(*(batched.get(k) for k in range(20)))
        return fetch.batches, list(results)

    batches, results = asyncio.run(scenario())
    assert batches == [list(range(20))]
    assert results == [f"v{k}" if k % 2 == 0 else None for k in range(20)]


def test_lookups_arriving_during_a_query_form_the_next_batch() -> None:
    # Given a query in flight, when more lookups arrive, then they wait for it and go out together next.
    async def scenario() -> list[list[int]]:
        fetch = Recorder()
        batched: Batched[int, str] = Batched(fetch)
        fetch.release.clear()
        first = asyncio.ensure_future(batched.get(0))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(batched.get(k)) for k in (2, 4, 2)]
        await asyncio.sleep(0)
        assert fetch.batches == [[0]]
        fetch.release.set()
        assert await first == "v0"
        assert [await f for f in later] == ["v2", "v4", "v2"]
        return fetch.batches

    assert asyncio.run(scenario()) == [[0], [2, 4]]


def test_a_batch_larger_than_the_limit_is_split() -> None:
    async def scenario() -> list[list[int]]:
        fetch = Recorder()
        batched: Batched[int, str] = Batched(fetch, limit=4)
        found = await batched.get_many(range(10))
        assert found == {k: f"v{k}" for k in range(0, 10, 2)}
        return fetch.batches

    assert asyncio.run(scenario()) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_failed_query_fails_its_callers_with_one_line_and_the_next_batch_recovers() -> None:
    async def scenario() -> None:
        fetch = Recorder(fail=True)
        batched: Batched[int, str] = Batched(fetch)
        outcomes = await asyncio.gather(batched.get(1), batched.get(2), return_exceptions=True)
        assert all(isinstance(o, Unavailable) for o in outcomes)
        assert str(outcomes[0]) == "registry read failed: RuntimeError"
        assert outcomes[0] is not outcomes[1]  # each caller gets its own exception object
        fetch.fail = False
        assert await batched.get(2) == "v2"

    asyncio.run(scenario())


def test_a_cancelled_caller_cancels_nobody_else() -> None:
    # Given two callers waiting on the same key, when one hangs up, then the other still gets its answer.
    async def scenario() -> None:
        fetch = Recorder()
        fetch.release.clear()
        batched: Batched[int, str] = Batched(fetch)
        leaving = asyncio.ensure_future(batched.get(4))
        staying = asyncio.ensure_future(batched.get(4))
        await asyncio.sleep(0)
        leaving.cancel()
        await asyncio.sleep(0)
        fetch.release.set()
        assert await staying == "v4"
        assert leaving.cancelled()

    asyncio.run(scenario())


def test_a_batch_left_behind_by_a_closed_event_loop_does_not_block_the_next_loop() -> None:
    # Given a lookup stuck in a loop that is then closed (an in-process test client's loop),
    # when the next loop asks, then it is answered instead of waiting for the dead loop's query.
    fetch = Recorder()
    batched: Batched[int, str] = Batched(fetch)

    async def stuck() -> None:
        fetch.release.clear()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(batched.get(2), 0.05)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(stuck())
    loop.close()  # closed with the query still pending, as a thread's loop ends without a lifespan
    assert batched.task is not None and not batched.task.done()

    async def next_loop() -> str | None:
        fetch.release = asyncio.Event()
        fetch.release.set()
        return await batched.get(6)

    assert asyncio.run(next_loop()) == "v6"


# --- the reader on real databases ---------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def published(
    request: pytest.FixtureRequest, make_database_url: Callable[[str], str]
) -> Iterator[tuple[Any, Actors, list[str]]]:
    """An app on each backend with three labels of one product and one of another."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app = create_app(make_database_url(request.param), base_url="http://testserver", rate_limits=GENEROUS)
    actors = setup_actors(app.state.engine)
    ids = []
    with TestClient(app) as client:
        for scheme, model in (("us-ctm", "CAM"), ("sg-cls", "CAM"), ("uk-psti", "CAM"), ("us-ctm", "PLUG")):
            answer = client.post(
                "/api/v1/labels", json=actors.envelope(scheme=scheme, model=model), headers=actors.headers("issuer")
            )
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["label_id"])
    yield app, actors, ids
    app.state.shutdown()


def test_reader_answers_what_the_write_path_stored(published: tuple[Any, Actors, list[str]]) -> None:
    app, _, ids = published
    reader: Reader = app.state.reader

    async def scenario() -> None:
        rows = await reader.labels.get_many([*ids, "CSL-USCTM-00000000000000000000000000"])
        assert sorted(rows) == sorted(ids)
        camera = rows[ids[0]]
        assert camera.source.envelope.startswith("{") and camera.source.document.startswith("{")
        # One query brought the label's own log entries with it: its "issued" entry.
        assert [json.loads(entry)["kind"] for _, entry in camera.entries] == ["issued"]
        siblings = await reader.product_labels.get(camera.source.product_id)
        assert siblings is not None and {s[0] for s in siblings} == set(ids[:3])
        head = await reader.latest_head()
        with app.state.engine.connect() as conn:
            size = log.log_size(conn)
            expected = log.inclusion_proof(conn, 1, 4)
        assert head is not None and head.tree_size == size
        issuer = log.issuer_subject(camera.source.issuer_id)
        about = await reader.subject_entries.get_many([issuer])
        assert [json.loads(e)["kind"] for _, e in about[issuer]] == ["issuer"]
        # The inclusion path built from the reader's nodes is the one the write side's proof gives.
        keys = {(0, 0), (1, 1)}
        nodes = await reader.log_nodes(keys)
        assert [nodes[(0, 0)], nodes[(1, 1)]] == expected

    asyncio.run(scenario())


def test_concurrent_label_pages_are_derived_and_coalesced(published: tuple[Any, Actors, list[str]]) -> None:
    # Given 40 concurrent page and JSON views of the four labels, when they run through the ASGI app,
    # then every page shows the status its log derives, without integrity error, and fewer label queries
    # ran than views were made.
    app, _, ids = published
    reader: Reader = app.state.reader

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            paths = [f"/l/{ids[i % 4]}" if i % 2 else f"/api/v1/labels/{ids[i % 4]}" for i in range(40)]
            return list(await asyncio.gather(*(client.get(p) for p in paths)))

    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 40
    pages = [a.text for a in answers if a.headers["content-type"].startswith("text/html")]
    assert all('data-status="active"' in page and 'id="integrity"' not in page for page in pages)
    documents = [a.json() for a in answers if a.headers["content-type"].startswith("application/json")]
    assert all(d["integrity"] == {"ok": True, "problems": []} for d in documents)
    assert 0 < reader.labels.batches < 40


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_reader_reconnects_after_its_connection_is_killed(
    make_database_url: Callable[[str], str],
) -> None:
    import psycopg

    url = make_database_url("postgres")
    database = PostgresDatabase(url)

    async def scenario() -> None:
        assert await database.rows("SELECT 1") == [(1,)]
        pid = (await database.rows("SELECT pg_backend_pid()"))[0][0]
        with psycopg.connect(database.conninfo, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await database.rows("SELECT ?::int", [7]) == [(7,)]
        assert (await database.rows("SELECT pg_backend_pid()"))[0][0] != pid
        await database.close()

    asyncio.run(scenario())


def test_postgres_reader_with_no_server_says_unavailable_in_one_line() -> None:
    async def scenario(database: PostgresDatabase) -> None:
        with pytest.raises(Unavailable) as caught:
            await database.rows("SELECT 1")
        assert "\n" not in str(caught.value)
        assert str(caught.value).startswith("the registry database is unreachable: ")

    with ClosedPort() as closed:  # nothing listens there, and nothing else can while the test runs
        url = f"postgresql+psycopg://nobody@127.0.0.1:{closed.port}/registry?connect_timeout=2"
        asyncio.run(scenario(PostgresDatabase(url)))
