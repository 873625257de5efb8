"""Pure tests (unit_tests/) and mocked-HTTP tests through the real entry point (unit_tests/mocked_http/)."""

pytest_plugins = ["test_support.fixtures"]
