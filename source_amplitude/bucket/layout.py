"""Where Amplitude puts its export files in a bucket, and what their names say (docs/amplitude-api-notes.md).
Pure: no I/O.

Events: {prefix}{project}/{project}_{YYYY-MM-DD}_{H}#{n}.json.gz (the GCS doc; the S3 doc names only the file, so the
same name directly under the prefix is accepted too). H is the UTC upload hour, unpadded; n the partition (the
Export API numbers from #0, the S3 doc calls #1 the first: both are read, by name).
Merged ids: {prefix}-{org}/-{org}_{YYYY-MM-DD}_{H}.json.gz, one file an hour (partition 0 here)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Optional


@dataclass(frozen=True)
class BucketObject:
    """A listed object: the fields of airbyte-cdk's file-based RemoteFile (uri = the key, last_modified), which
    cannot be imported without the CDK's `file-based` extra (pyarrow, fastavro, unstructured: ~200 MB), plus what
    the exactly-once contract needs: the size (a download must be whole) and a content fingerprint (S3 ETag, GCS MD5
    or CRC32C): an object written again with the same bytes keeps its fingerprint, so it is not read twice."""

    uri: str
    last_modified: datetime
    size: int
    fingerprint: str

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FileLayout:
    """The files of one owner: a project's events (owner '829528') or an org's merged ids (owner '-12345')."""

    prefix: str  # '' or ending with '/'
    owner: str
    partitioned: bool  # events files carry '#n'; merged-id files do not

    @cached_property
    def _name(self) -> re.Pattern[str]:
        partition = r"#(\d+)" if self.partitioned else r"()"
        return re.compile(rf"^{re.escape(self.owner)}_(\d{{4}}-\d{{2}}-\d{{2}})_(\d{{1,2}}){partition}\.json\.gz$")

    def folders(self) -> tuple[str, str]:
        """The two places files may be: the owner's folder under the prefix, or the prefix itself."""
        return f"{self.prefix}{self.owner}/", self.prefix

    def listing_prefixes(self, first_day: date) -> list[tuple[str, str]]:
        """(prefix, start after) pairs whose listings hold every file of this owner from `first_day` on: keys sort by
        name, and the day comes first in the name, so earlier days are not even listed."""
        return [(f"{folder}{self.owner}_", f"{folder}{self.owner}_{first_day:%Y-%m-%d}") for folder in self.folders()]

    def hour_and_partition(self, key: str) -> Optional[tuple[datetime, int]]:
        """The upload hour and partition a key's name says, or None for anything else (a `complete` marker, a file
        of another project, a file in another folder)."""
        folder, _, name = key.rpartition("/")
        if f"{folder}/" not in self.folders() and not (folder == "" and self.prefix == ""):
            return None
        match = self._name.match(name)
        if not match:
            return None
        day, hour, partition = match.groups()
        if int(hour) > 23:
            return None
        try:
            moment = datetime.strptime(f"{day} {int(hour):02d}", "%Y-%m-%d %H").replace(tzinfo=UTC)
        except ValueError:
            return None
        return moment, int(partition or 0)


def events_layout(prefix: str, project_id: str) -> FileLayout:
    return FileLayout(prefix, project_id, partitioned=True)


def merged_ids_layout(prefix: str, org_id: str) -> FileLayout:
    return FileLayout(prefix, f"-{org_id}", partitioned=False)


Listing = dict[datetime, dict[int, BucketObject]]  # upload hour -> partition -> object


def by_hour(layout: FileLayout, objects: Iterable[BucketObject], hours: set[datetime]) -> Listing:
    """The listed objects of `hours`, by hour and partition. Two objects with the same hour and partition (one in
    the owner's folder, one directly under the prefix) are one file written twice: the later one wins."""
    listing: Listing = {}
    for obj in objects:
        found = layout.hour_and_partition(obj.uri)
        if found is None or found[0] not in hours:
            continue
        hour, partition = found
        current = listing.setdefault(hour, {}).get(partition)
        if current is None or obj.last_modified > current.last_modified:
            listing[hour][partition] = obj
    return listing
