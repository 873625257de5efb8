"""What the user reads when the bucket cannot be used: which bucket and prefix, and what to change."""

from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.bucket.store import Problem, StoreError
from source_amplitude.config import BucketSource, S3Source
from source_amplitude.pipeline.failures import Failure

S3_EXPORT_DOCS = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"
GCS_EXPORT_DOCS = "https://amplitude.com/docs/data/destination-catalog/google-cloud-storage"


def permissions(source: BucketSource) -> str:
    where = source.location()
    if isinstance(source, S3Source):
        prefix = source.path_prefix or "*"
        return f"s3:ListBucket on the bucket {source.bucket} (prefix {prefix}) and s3:GetObject on {where}*"
    return f"storage.objects.list and storage.objects.get on the bucket {source.bucket} (role Storage Object Viewer)"


def credential_fields(source: BucketSource) -> str:
    if isinstance(source, S3Source):
        return "events_source.aws_access_key_id / aws_secret_access_key or role_arn"
    return "events_source.service_account_json"


MISSING_BUCKET_MESSAGE = (
    "The bucket '{bucket}' does not exist in {store} ({detail}). Set events_source.bucket to the bucket of Amplitude's "
    "export destination (Amplitude > Data > Destinations)."
)
DENIED_MESSAGE = "{store} denied access to {where} ({detail}). Give the connector's credentials {permissions}."
CREDENTIALS_MESSAGE = (
    "{store} did not accept the credentials for {where} ({detail}). Check {credential_fields}, or the environment's "
    "credentials when they are left empty."
)
WRONG_REGION_MESSAGE = "The bucket '{bucket}' is in another region ({detail}). Set events_source.region to it."
GONE_MESSAGE = (
    "An object was deleted between listing and reading it ({detail}). Nothing from it on was saved; the next sync "
    "lists the bucket again."
)
TRANSIENT_MESSAGE = "{store} kept failing ({detail}) after retries. Nothing unread was saved: retry later."
TRANSIENT_IN_CHECK_MESSAGE = "{store} kept failing ({detail}) after retries: run check again later."
OTHER_MESSAGE = "{store} could not be read at {where} ({detail})."

# The store's problems (bucket/store.py), as the table of pipeline/failures.py holds the pipeline's: one StoreError
# class, so keyed by its kind of problem; config_error for what the user must change.
STORE_FAILURES: dict[Problem, Failure] = {
    Problem.MISSING_BUCKET: Failure(FailureType.config_error, MISSING_BUCKET_MESSAGE),
    Problem.DENIED: Failure(FailureType.config_error, DENIED_MESSAGE),
    Problem.CREDENTIALS: Failure(FailureType.config_error, CREDENTIALS_MESSAGE),
    Problem.WRONG_REGION: Failure(FailureType.config_error, WRONG_REGION_MESSAGE),
    Problem.GONE: Failure(FailureType.transient_error, GONE_MESSAGE),
    Problem.TRANSIENT: Failure(FailureType.transient_error, TRANSIENT_MESSAGE),
    Problem.OTHER: Failure(FailureType.system_error, OTHER_MESSAGE),
}


def problem_message(source: BucketSource, error: StoreError, during_check: bool = False) -> str:
    template = STORE_FAILURES[error.problem].message
    if during_check and error.problem is Problem.TRANSIENT:
        template = TRANSIENT_IN_CHECK_MESSAGE  # nothing was being saved: the advice is about check
    return template.format(
        bucket=source.bucket,
        store=source.store_name,
        where=source.location(),
        detail=error.detail,
        permissions=permissions(source),
        credential_fields=credential_fields(source),
    )


def no_files_message(source: BucketSource, owner: str, others: list[str]) -> str:
    found = (
        f"It holds other objects, such as {', '.join(repr(key) for key in others[:3])}. "
        if others
        else "Nothing is there. "
    )
    docs = S3_EXPORT_DOCS if isinstance(source, S3Source) else GCS_EXPORT_DOCS
    return (
        f"No Amplitude export file of project {owner} under {source.location()}: files named "
        f"{owner}_<YYYY-MM-DD>_<hour>#<n>.json.gz were expected in {source.location()}{owner}/ or directly under it. "
        f"{found}Set events_source.path_prefix to the folder of Amplitude's export destination and "
        f"events_source.project_id to the exporting project's id, or set up the export ({docs})."
    )


def store_failure(source: BucketSource, error: StoreError) -> AirbyteTracedException:
    """A store problem as the sync's failure, as STORE_FAILURES says."""
    message = problem_message(source, error)
    failure_type = STORE_FAILURES[error.problem].failure_type
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)
