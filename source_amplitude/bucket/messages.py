"""What the user reads when the bucket cannot be used: which bucket and prefix, and what to change."""

from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_amplitude.bucket.store import Problem, StoreError
from source_amplitude.config import BucketSource, S3Source

S3_EXPORT_DOCS = "https://amplitude.com/docs/data/destination-catalog/amazon-s3"
GCS_EXPORT_DOCS = "https://amplitude.com/docs/data/destination-catalog/google-cloud-storage"


def permissions(source: BucketSource) -> str:
    where = source.location()
    if isinstance(source, S3Source):
        prefix = source.path_prefix or "*"
        return f"s3:ListBucket on the bucket {source.bucket} (prefix {prefix}) and s3:GetObject on {where}*"
    return f"storage.objects.list and storage.objects.get on the bucket {source.bucket} (role Storage Object Viewer)"


def problem_message(source: BucketSource, error: StoreError, during_check: bool = False) -> str:
    where = source.location()
    problem = error.problem
    if problem is Problem.MISSING_BUCKET:
        return (
            f"The bucket '{source.bucket}' does not exist in {source.store_name} ({error.detail}). Set "
            "events_source.bucket to the bucket of Amplitude's export destination (Amplitude > Data > Destinations)."
        )
    if problem is Problem.DENIED:
        return (
            f"{source.store_name} denied access to {where} ({error.detail}). Give the connector's credentials "
            f"{permissions(source)}."
        )
    if problem is Problem.CREDENTIALS:
        fields = (
            "events_source.aws_access_key_id / aws_secret_access_key or role_arn"
            if isinstance(source, S3Source)
            else "events_source.service_account_json"
        )
        return (
            f"{source.store_name} did not accept the credentials for {where} ({error.detail}). Check {fields}, or "
            "the environment's credentials when they are left empty."
        )
    if problem is Problem.WRONG_REGION:
        return f"The bucket '{source.bucket}' is in another region ({error.detail}). Set events_source.region to it."
    if problem is Problem.GONE:
        return (
            f"An object was deleted between listing and reading it ({error.detail}). Nothing from it on was saved; "
            "the next sync lists the bucket again."
        )
    if problem is Problem.TRANSIENT:
        if during_check:
            return f"{source.store_name} kept failing ({error.detail}) after retries: run check again later."
        return (
            f"{source.store_name} kept failing ({error.detail}) after retries. Nothing unread was saved: retry later."
        )
    return f"{source.store_name} could not be read at {where} ({error.detail})."


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


CONFIG_PROBLEMS = {Problem.MISSING_BUCKET, Problem.DENIED, Problem.CREDENTIALS, Problem.WRONG_REGION}


def store_failure(source: BucketSource, error: StoreError) -> AirbyteTracedException:
    """A store problem as the sync's failure: config_error for what the user must change, transient otherwise."""
    failure = FailureType.transient_error
    if error.problem in CONFIG_PROBLEMS:
        failure = FailureType.config_error
    elif error.problem is Problem.OTHER:
        failure = FailureType.system_error
    message = problem_message(source, error)
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure)
