"""The object-store client for the configured bucket. Apart from store.py, so that the interface does not import
its implementations (s3.py and gcs.py import store.py)."""

from __future__ import annotations

from source_amplitude.bucket.store import ObjectStore
from source_amplitude.config import BucketSource, GcsSource, S3Source


def open_store(source: BucketSource) -> ObjectStore:
    """The client for the configured store. Imported here, not at the top: Export API mode never loads them."""
    if isinstance(source, S3Source):
        from source_amplitude.bucket.s3 import S3Store

        return S3Store(source)
    if isinstance(source, GcsSource):
        from source_amplitude.bucket.gcs import GcsStore

        return GcsStore(source)
    raise TypeError(f"not a bucket source: {source!r}")
