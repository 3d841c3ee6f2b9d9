"""Offline market simulator: a seeded synthetic market served in the real APIs' formats."""
