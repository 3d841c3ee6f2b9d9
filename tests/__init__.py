"""The test suite. A regular package, so that ``tests.helpers`` imports unambiguously."""
