"""The skeleton of every read of raw-event files, whichever source they come from.

A source (a plug: export/read.py for the Export API, bucket/read.py for a bucket) decides what to fetch next and
how: it gives `start` its items in order and a function that fetches one item to disk on a download thread (an
export window's zip, a bucket object). This object owns everything else a read has: the downloads ahead
(pipeline/prefetch.py, which also owns every temporary directory they make), the conversion of their parts
(pipeline/conversion.py, one per read) and its worker pool, the disk budget, the count of what each part gave,
the translation of what went wrong into the sync's failure (pipeline/failures.py) and what an interrupted read was
doing. `close()` releases all of it, whatever stopped the read: it is the only place that closes the worker pool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, Optional, Protocol, TypeVar, Union

from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.streams.core import StreamData

from source_amplitude.pipeline.conversion import Conversion
from source_amplitude.pipeline.convert_pool import ConvertPool
from source_amplitude.pipeline.failures import DOWNLOAD_FAILURES, PART_FAILURES, read_failure
from source_amplitude.pipeline.hours import export_hour
from source_amplitude.pipeline.ledger import Ledger, PartRead
from source_amplitude.pipeline.members import Member
from source_amplitude.pipeline.prefetch import Fetch, Prefetch
from source_amplitude.pipeline.read_messages import stopped_message
from source_amplitude.pipeline.record_batch import RecordBatch
from source_amplitude.pipeline.scratch import DiskBudget, NotEnoughDisk, remove_stale_work_dirs

Item = Union[StreamData, RecordBatch]
# How a stream's file becomes records when it is not raw events (merged_ids); None: the conversion pipeline.
ParseFile = Optional[Callable[[Path], Iterator[StreamData]]]


class Fetched(Protocol):
    """One item on disk (an export window's answer, a bucket object), handed over in order."""

    @property
    def directory(self) -> Optional[Path]:
        """The scratch directory it is in (made by the prefetch's scope), if any."""


T = TypeVar("T")
F = TypeVar("F", bound=Fetched)


@dataclass(frozen=True)
class Part:
    """One gzip file of an upload hour, as Amplitude names it: a member of an Export API zip, or a bucket object."""

    hour: datetime
    partition: int
    member: Member
    name: str  # the member's or the object's name, as Amplitude wrote it
    where: str  # how messages name it: "Amplitude's export", "s3://bucket/key"

    @property
    def key(self) -> tuple[datetime, int, str]:
        return self.hour, self.partition, self.name

    def converted_path(self) -> Path:
        """Where a conversion worker may write its records: beside its download, in the read's scratch directory."""
        return self.member.path.parent / f"records-{self.hour:%Y%m%d%H}-{self.partition}"


@dataclass
class Tally:
    """What a part gave: the records emitted and what the lenient reader changed (parsers/lenient_json.py)."""

    records: int = 0
    repairs: Counter[str] = field(default_factory=Counter)


class RawRead(Generic[T, F]):
    def __init__(self, stream: str, emit_batches: bool, parse: ParseFile = None) -> None:
        self.stream = stream
        self.ledger: Optional[Ledger] = None  # set when events_ledger is in the catalog: a row after each part
        self.disk = DiskBudget()  # every download and converted file of this read
        self.doing: Optional[str] = None  # what the read is doing, for an interruption's message
        self._emit_batches = emit_batches
        self._parse = parse
        self._pool = ConvertPool()
        self._conversion: Optional[Conversion] = None
        self._prefetch: Optional[Prefetch[T, list[F]]] = None
        self._ready: list[F] = []  # fetched by the current item's job and not handed out yet (a split window)
        self._queued: set[tuple[datetime, int, str]] = set()  # parts given to the conversion, not read yet

    def start(self, items: Iterator[T], fetch: Fetch[T, list[F]], limit: Callable[[], int], name: str) -> None:
        """Fetch `items` ahead, in order, at most `limit()` alive at once (the one being read included); each fetch
        gives one or more Fetched (a window split in halves gives its halves), handed over in order by `next`."""
        self.close()
        remove_stale_work_dirs()  # left by a killed run of this connector
        self._prefetch = Prefetch(items, fetch, limit, name)

    def next(self, what: str) -> F:
        """The next fetched item in order, once it is whole on disk. What its download met is raised here, as the
        failure table says (`what` names it), or as it came when the table does not know it."""
        if not self._ready:
            assert self._prefetch is not None, "start() first"
            try:
                fetched = self._prefetch.next()
            except tuple(DOWNLOAD_FAILURES) as error:
                raise read_failure(error, what=what) from error
            if fetched is None:
                raise LookupError(f"{self.stream}: nothing left to fetch")
            self._ready.extend(fetched)
        return self._ready.pop(0)

    def ahead(self) -> list[F]:
        """Items after the one handed out that are already whole on disk, in order (next() still hands them out):
        their conversion may start early."""
        fetched_ahead = self._prefetch.ready_ahead() if self._prefetch else []
        return [*self._ready, *(item for items in fetched_ahead for item in items)]

    def discard(self, fetched: F) -> None:
        """`fetched` has been read (or will not be): its directory goes now, not at the read's end."""
        if self._prefetch is not None and fetched.directory is not None:
            self._prefetch.discard(fetched.directory)

    def convert(self, parts: Iterable[Part]) -> None:
        """Parts to be read in this order: the workers may convert them ahead. A part given twice counts once."""
        if self._parse is not None:
            return
        for part in parts:
            if part.key not in self._queued:
                self._queued.add(part.key)
                self._conversion_now().add(part.key, part.member, part.converted_path())

    def records(self, part: Part, tally: Tally) -> Iterator[Union[Item, AirbyteMessage]]:
        """The part's records, in order, counted in `tally`, then its ledger row (if asked for); after every part
        given to `convert` before it. A part that cannot be read fails the sync naming it (pipeline/failures.py), the
        same way from either source."""
        own = Tally()
        first = last = None
        try:
            if self._parse is not None:
                for record in self._parse(part.member.path):
                    own.records += 1
                    yield record
            else:
                self.convert([part])
                conversion = self._conversion_now()
                self._queued.discard(part.key)
                for item in conversion.records(part.key):
                    own.records += item.count if isinstance(item, RecordBatch) else 1
                    yield item
                repairs, times = conversion.take_part_notes()
                own.repairs.update(repairs)
                first, last = times.first, times.last
        except NotEnoughDisk as error:
            raise read_failure(error, what="the converted records") from error
        except tuple(PART_FAILURES) as error:
            raise read_failure(error, part=part.where, hour=export_hour(part.hour)) from error
        tally.records += own.records
        tally.repairs.update(own.repairs)
        if self.ledger is not None:
            size = part.member.compressed_size()
            yield self.ledger.part_row(PartRead(part.hour, part.name, size, own.records, own.repairs, first, last))

    def stop(self, cursor: Optional[datetime], also: str = "") -> Optional[str]:
        """Close everything (an interrupted sync); says what the read was doing, or None if idle."""
        doing, self.doing = self.doing, None
        self.close()
        return stopped_message(self.stream, doing, cursor, also)

    def close(self) -> None:
        """Stop the downloads and the workers and remove every file of this read. Idempotent."""
        if self._conversion is not None:
            self._conversion.close()
        self._conversion = None
        self._queued.clear()
        self._pool.close()
        if self._prefetch is not None:
            self._prefetch.close()  # removes every directory its jobs made
        self._prefetch = None
        self._ready = []

    def _conversion_now(self) -> Conversion:
        if self._conversion is None:
            times = self.ledger is not None  # the ledger's first and last server_upload_time
            self._conversion = Conversion(self.stream, self._emit_batches, self._pool, self.disk, times)
        return self._conversion
