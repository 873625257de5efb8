"""Tests against the fake Amplitude over real HTTP (and the CDK standard tests, which Airbyte keeps here)."""

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks", "test_support.fixtures"]
