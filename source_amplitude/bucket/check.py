"""`check` in bucket mode: list the prefix, find an Amplitude file, read its first bytes. Each failure names the
bucket and prefix and what to fix (bucket/messages.py)."""

from __future__ import annotations

from itertools import islice
from typing import Optional

from source_amplitude.bucket.layout import BucketObject, FileLayout, events_layout, merged_ids_layout
from source_amplitude.bucket.messages import no_files_message, problem_message
from source_amplitude.bucket.store import ObjectStore, StoreError
from source_amplitude.config import BucketSource

GZIP_MAGIC = b"\x1f\x8b"
EXAMPLES_SHOWN = 3


def first_file(store: ObjectStore, layout: FileLayout) -> Optional[BucketObject]:
    for folder in layout.folders():
        for obj in store.list(f"{folder}{layout.owner}_"):
            if layout.hour_and_partition(obj.uri):
                return obj
    return None


def check_bucket(source: BucketSource, store: ObjectStore) -> tuple[bool, str]:
    try:
        found = first_file(store, events_layout(source.path_prefix, source.project_id))
        if found is None:
            others = [obj.uri for obj in islice(store.list(source.path_prefix), EXAMPLES_SHOWN)]
            return False, no_files_message(source, source.project_id, others)
        if store.read_head(found, len(GZIP_MAGIC)) != GZIP_MAGIC:
            return False, (
                f"{source.location(found.uri)} is named like an Amplitude export file but is not gzip. Check that "
                "events_source.path_prefix is the folder of Amplitude's export destination, where nothing else "
                "writes."
            )
        if source.org_id and first_file(store, merged_ids_layout(source.path_prefix, source.org_id)) is None:
            return True, (
                f"No merged-id file of org {source.org_id} under {source.location()} yet "
                f"(-{source.org_id}_<YYYY-MM-DD>_<hour>.json.gz): merged_ids stays empty until Amplitude writes one. "
                "If merges happen in the project, check events_source.org_id."
            )
    except StoreError as error:
        return False, problem_message(source, error, during_check=True)
    return True, ""
