"""eth-account without its side effect on the process: py_ecc, which it imports, raises the
interpreter's recursion limit to 100 000, so that a too-deep parse anywhere in the product would
overflow the C stack instead of raising RecursionError. The limit is put back after the import."""

import sys

_limit = sys.getrecursionlimit()
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import is_hex_address, to_checksum_address  # noqa: E402

sys.setrecursionlimit(_limit)

__all__ = ["Account", "LocalAccount", "encode_defunct", "is_hex_address", "to_checksum_address"]
