"""The registry's public read path: batched lookups on one connection per worker, and a label cache.

A PostgreSQL round trip costs the worker about 60 µs of CPU and the server about 100 µs, almost whatever
it carries (bench/README.md). So lookups are coalesced: keys asked for while a query is in flight are all
fetched by the next one (``= ANY(array)``), and the event loop never blocks on the database. Under load a
query answers a dozen requests; with one request at a time it answers one, with no added wait. SQLite runs
in-process and takes the same path without the round trip.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import datetime as dt
import functools
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from cybersafe.registry import log, merkle
from cybersafe.registry.documents import LabelSource
from cybersafe.registry.interface import Unavailable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Row = tuple[Any, ...]

BATCH_LIMIT = 500  # keys per query; a larger batch is split
# Log nodes at this level and above (subtrees of 16+ leaves) are kept per worker: 62,500 for a million
# entries (about 10 MB), and never more than the limit.
CACHED_NODE_LEVEL = 4
NODE_CACHE_LIMIT = 200_000


class Database(abc.ABC):
    """Runs one SELECT on this worker's read connection. SQL uses ``?`` placeholders, and ``{keys}`` for
    "is in this list parameter", which ``keyed`` writes in the dialect's own array form."""

    @abc.abstractmethod
    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def keyed(self, sql: str, sql_type: str) -> str:
        return sql.replace("{keys}", self.membership(sql_type))

    @abc.abstractmethod
    def membership(self, sql_type: str) -> str: ...

    @abc.abstractmethod
    def entries_of(self, subject: str) -> str:
        """A column: every ``[index, hex entry]`` about ``subject`` (a column expression), as one JSON array."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def close_now(self) -> None:
        """Close without an event loop (after the app's loop is gone)."""


class PostgresDatabase(Database):
    """One autocommit psycopg connection, opened in the event loop that first uses it."""

    def __init__(self, url: str) -> None:
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def _connection(self) -> Any:
        import psycopg

        loop = asyncio.get_running_loop()
        if self.conn is None or self.conn.closed or self.loop is not loop:
            # A connection belongs to the loop it was opened in; an in-process test client may run each
            # request in a loop of its own.
            self.close_now()
            self.conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            self.loop = loop
        return self.conn

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        import psycopg

        sql = sql.replace("?", "%s")
        for attempt in range(2):
            try:
                conn = await self._connection()
                cursor = await conn.execute(sql, params)  # prepared by psycopg after a few runs
                return list(await cursor.fetchall())
            except psycopg.OperationalError as exc:
                # The server restarted or the connection dropped: open a fresh one and try once more.
                await self._discard()
                if attempt:
                    raise Unavailable(f"the registry database is unreachable: {_first_line(exc)}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def membership(self, sql_type: str) -> str:
        return f"= ANY(CAST(? AS {sql_type}[]))"

    def entries_of(self, subject: str) -> str:
        aggregate = "SELECT json_agg(json_build_array(e.log_index, encode(e.entry, 'hex')) ORDER BY e.log_index)"
        return f"({aggregate} FROM log_entries e WHERE e.subject = {subject})"

    async def _discard(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a dead connection needs no orderly close
                await conn.close()

    async def close(self) -> None:
        await self._discard()

    def close_now(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.pgconn.finish()


class SQLiteDatabase(Database):
    """The read engine's DBAPI connection in autocommit mode: each SELECT sees the latest commit (WAL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.raw: Any = None

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self.raw is None:
            self.raw = self.engine.raw_connection()
        params = [json.dumps(p) if isinstance(p, list) else p for p in params]
        cursor = self.raw.driver_connection.execute(sql, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def membership(self, sql_type: str) -> str:
        return "IN (SELECT value FROM json_each(?))"  # the list arrives as JSON text

    def entries_of(self, subject: str) -> str:
        aggregate = "SELECT json_group_array(json_array(e.log_index, hex(e.entry))) FROM log_entries e"
        return f"({aggregate} WHERE e.subject = {subject})"

    async def close(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.close()


def open_database(engine: Engine) -> Database:
    if engine.dialect.name == "sqlite":
        return SQLiteDatabase(engine)
    return PostgresDatabase(engine.url.render_as_string(hide_password=False))


class Batched(Generic[K, V]):
    """Look keys up in batches: keys asked for while a batch is being fetched go into the next batch.

    Each caller waits on its own future, so a cancelled request (a client that hung up) cancels nothing
    but itself. A failed fetch fails every caller of that batch, and the next batch tries again.
    """

    def __init__(self, fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]], limit: int = BATCH_LIMIT) -> None:
        self.fetch = fetch
        self.limit = limit
        self.waiting: list[tuple[list[K], asyncio.Future[dict[K, V]]]] = []
        self.task: asyncio.Task[None] | None = None
        self.batches = 0
        self.keys_fetched = 0

    async def get(self, key: K) -> V | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        wanted = list(keys)
        if not wanted:
            return {}
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:
            # Left over from an event loop that is gone (an in-process test client): start afresh.
            self.task, self.waiting = None, []
        future: asyncio.Future[dict[K, V]] = loop.create_future()
        self.waiting.append((wanted, future))
        if self.task is None:
            self.task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                waiting, self.waiting = self.waiting, []
                keys = list(dict.fromkeys(key for wanted, _ in waiting for key in wanted))
                try:
                    found: dict[K, V] = {}
                    for start in range(0, len(keys), self.limit):
                        found.update(await self.fetch(keys[start : start + self.limit]))
                except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(_copy_error(exc))
                    continue
                self.batches += 1
                self.keys_fetched += len(keys)
                for wanted, future in waiting:
                    if not future.done():
                        future.set_result({key: found[key] for key in wanted if key in found})
        finally:
            self.task = None


def _copy_error(exc: Exception) -> Exception:
    """One exception object per waiter: a shared one would collect every waiter's traceback."""
    if isinstance(exc, Unavailable):
        return Unavailable(str(exc))
    return Unavailable(f"registry read failed: {exc.__class__.__name__}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def as_date(value: Any) -> dt.date:
    """A DATE column: a date from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class LabelRead:
    """A label's row (as ``documents.LabelSource``) and its log entries, read in one query."""

    __slots__ = ("entries", "source")

    def __init__(self, source: LabelSource, entries: list[tuple[int, bytes]]) -> None:
        self.source = source
        self.entries = entries


def _entry_pairs(value: Any) -> list[tuple[int, bytes]]:
    """The aggregated ``[[index, hex entry], ...]`` of a label (JSON text from SQLite, parsed from PostgreSQL)."""
    if value is None:
        return []
    items = json.loads(value) if isinstance(value, str) else value
    return [(int(index), bytes.fromhex(entry)) for index, entry in items]


class Reader:
    """Every public lookup the label JSON, label page, compare page and proof endpoints make."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.labels: Batched[str, LabelRead] = Batched(
            self._query_by(
                "SELECT l.label_id, l.envelope, l.document, l.issuer_id, l.product_id, {entries} "
                "FROM labels l WHERE l.label_id {keys}".replace("{entries}", database.entries_of("l.label_id")),
                "text",
                lambda row: (
                    str(row[0]),
                    LabelRead(LabelSource(str(row[0]), row[1], row[2], int(row[3]), int(row[4])), _entry_pairs(row[5])),
                ),
            )
        )
        self.subject_entries: Batched[str, list[tuple[int, bytes]]] = Batched(self._subject_entries)
        self.nodes: Batched[int, bytes] = Batched(
            self._query_by(
                "SELECT pos, hash FROM log_nodes WHERE pos {keys}",
                "bigint",
                lambda row: (int(row[0]), bytes(row[1])),
            )
        )
        self.subject_sql = database.keyed(
            "SELECT subject, log_index, entry FROM log_entries WHERE subject {keys} ORDER BY log_index", "text"
        )
        # The 50 newest labels per product and scheme, for the "every label of this product" list.
        self.product_labels_sql = database.keyed(
            "SELECT product_id, label_id, scheme, scheme_version, level FROM ("
            "SELECT product_id, label_id, scheme, scheme_version, level, issued, "
            "ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY scheme, issued DESC, label_id) AS n "
            "FROM labels WHERE product_id {keys}) AS ranked WHERE n <= 50 ORDER BY product_id, n",
            "bigint",
        )
        self.product_labels: Batched[int, list[Row]] = Batched(self._product_labels)
        self.heads: Batched[None, log.SignedTreeHead] = Batched(self._latest_head)
        self.node_cache: dict[int, bytes] = {}
        self.nodes_loaded = False

    async def _subject_entries(self, subjects: list[str]) -> dict[str, list[tuple[int, bytes]]]:
        out: dict[str, list[tuple[int, bytes]]] = {s: [] for s in subjects}
        for subject, index, entry in await self.db.rows(self.subject_sql, [subjects]):
            out[str(subject)].append((int(index), bytes(entry)))
        return out

    async def head_of_size(self, tree_size: int) -> log.SignedTreeHead | None:
        rows = await self.db.rows(
            "SELECT tree_size, root_hash, timestamp_ms, signature FROM tree_heads WHERE tree_size = ?", [tree_size]
        )
        return _head(rows[0]) if rows else None

    async def cosignatures(self, tree_size: int) -> list[str]:
        rows = await self.db.rows("SELECT line FROM cosignatures WHERE tree_size = ? ORDER BY witness_id", [tree_size])
        return [str(r[0]) for r in rows]

    async def newest_cosigned(self, min_cosignatures: int) -> int | None:
        """The largest tree size that carries at least ``min_cosignatures`` witness cosignatures."""
        rows = await self.db.rows(
            "SELECT tree_size FROM cosignatures GROUP BY tree_size HAVING COUNT(*) >= ? "
            "ORDER BY tree_size DESC LIMIT 1",
            [min_cosignatures],
        )
        return int(rows[0][0]) if rows else None

    def _query_by(
        self, sql: str, sql_type: str, pair: Callable[[Row], tuple[K, V]]
    ) -> Callable[[list[K]], Awaitable[dict[K, V]]]:
        sql = self.db.keyed(sql, sql_type)

        async def fetch(keys: list[K]) -> dict[K, V]:
            return dict(pair(row) for row in await self.db.rows(sql, [keys]))

        return fetch

    async def _product_labels(self, product_ids: list[int]) -> dict[int, list[Row]]:
        rows = await self.db.rows(self.product_labels_sql, [product_ids])
        out: dict[int, list[Row]] = {}
        for row in rows:
            out.setdefault(int(row[0]), []).append(tuple(row[1:]))
        return out

    async def _latest_head(self, _: list[None]) -> dict[None, log.SignedTreeHead]:
        rows = await self.db.rows(
            "SELECT tree_size, root_hash, timestamp_ms, signature FROM tree_heads ORDER BY tree_size DESC LIMIT 1"
        )
        if not rows:
            return {}
        return {None: _head(rows[0])}

    async def latest_head(self) -> log.SignedTreeHead | None:
        """The newest signed tree head, read now (concurrent callers share one query)."""
        return await self.heads.get(None)

    async def log_nodes(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Hashes of complete subtrees. They never change once written (the log only grows), so the upper
        levels, which every proof shares, are kept here and only the lower ones are queried."""
        if not self.nodes_loaded:
            await self._load_upper_nodes()
        out: dict[tuple[int, int], bytes] = {}
        missing: dict[int, tuple[int, int]] = {}
        cache = self.node_cache  # keyed by position: plain ints keep the garbage collector out of it
        for key in keys:
            pos = log.node_pos(*key)
            digest = cache.get(pos)
            if digest is None:
                missing[pos] = key
            else:
                out[key] = digest
        if missing:
            for pos, digest in (await self.nodes.get_many(missing)).items():
                key = missing[pos]
                out[key] = digest
                if key[0] >= CACHED_NODE_LEVEL and len(cache) < NODE_CACHE_LIMIT:
                    cache[pos] = digest
        return out

    async def inclusion_path(self, index: int, tree_size: int) -> list[bytes]:
        """RFC 9162 audit path of leaf ``index`` in the tree of ``tree_size`` leaves."""
        algorithm = functools.partial(merkle.inclusion_path, index, tree_size)
        nodes = await self.log_nodes(merkle.needed_nodes(algorithm))
        return algorithm(merkle.getter_from(nodes))

    async def _load_upper_nodes(self) -> None:
        """Fill the node cache with the top of the tree in one range scan (positions sort by level), so a
        proof reads only its few lowest nodes from the database. The top grows with the log; the level
        is picked to stay within the cache limit."""
        self.nodes_loaded = True
        head = await self.latest_head()
        size = 0 if head is None else head.tree_size
        level = max(CACHED_NODE_LEVEL, (2 * size // NODE_CACHE_LIMIT).bit_length())
        rows = await self.db.rows("SELECT pos, hash FROM log_nodes WHERE pos >= ?", [log.node_pos(level, 0)])
        self.node_cache.update((int(pos), bytes(digest)) for pos, digest in rows[:NODE_CACHE_LIMIT])

    async def close(self) -> None:
        await self.db.close()

    def close_now(self) -> None:
        self.db.close_now()


def _head(row: Row) -> log.SignedTreeHead:
    return log.SignedTreeHead(int(row[0]), bytes(row[1]), int(row[2]), bytes(row[3]))


class LabelCache:
    """Rendered label JSON and pages kept per worker, keyed by label id, for the QR-code read path.

    Every label change appends to the transparency log, so the tree size names the registry's state: the
    cache is emptied whenever this worker writes, and whenever a check (at most every ``recheck`` seconds)
    sees the tree size or the date (``expired`` is computed per day) change. A change made by another
    worker is therefore visible here within ``recheck`` seconds.
    """

    def __init__(
        self,
        reader: Reader,
        capacity: int,
        recheck: float,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.clock = clock
        self.reader = reader
        self.capacity = capacity
        self.recheck = recheck
        self.entries: OrderedDict[str, str] = OrderedDict()
        self.state: tuple[int, dt.date] | None = None
        self.checked_at = 0.0
        self.head_seen: log.SignedTreeHead | None = None
        self.generation = 0  # bumped whenever the cache is emptied; other per-state caches follow it

    def clear(self) -> None:
        self.entries.clear()
        self.state = None
        self.generation += 1

    async def head(self) -> log.SignedTreeHead | None:
        """The newest tree head, checked at most every ``recheck`` seconds; empties the cache on change."""
        now = time.monotonic()
        if self.state is None or now - self.checked_at >= self.recheck or self.capacity <= 0:
            head = await self.reader.latest_head()
            state = (0 if head is None else head.tree_size, self.clock().astimezone(dt.UTC).date())
            if state != self.state:
                self.entries.clear()
                self.state = state
                self.generation += 1
            self.head_seen = head
            self.checked_at = now
        return self.head_seen

    async def get(self, key: str, load: Callable[[str], Awaitable[str | None]]) -> str | None:
        if self.capacity <= 0:
            return await load(key)
        await self.head()
        found = self.entries.get(key)
        if found is not None:
            with contextlib.suppress(KeyError):  # a write may have emptied the cache meanwhile
                self.entries.move_to_end(key)
            return found
        generation = self.state
        loaded = await load(key)
        # Keep only what was read in the state it belongs to: a write or a new day while loading
        # empties the cache, and a value loaded before it must not come back.
        if loaded is not None and generation == self.state:
            self.entries[key] = loaded
            if len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        return loaded
