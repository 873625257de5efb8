"""Bucket mode: raw events and merged ids from the files Amplitude exports to Amazon S3 or Google Cloud Storage."""
