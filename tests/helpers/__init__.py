"""Worlds shared by several test files: ``from tests.helpers.prop_writer import prop_runtime``.

pytest puts the repository root on ``sys.path`` (``pythonpath`` in ``pyproject.toml``); a script
run in a subprocess is started with ``python -m tests.helpers.<name>`` from the root.
"""
