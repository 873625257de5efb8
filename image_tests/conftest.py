"""Tests of the built container image (run by scripts/image.sh)."""

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks", "test_support.fixtures"]
