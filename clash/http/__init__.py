"""HTTP: the Starlette app over the modules' public APIs, and serving it with hypercorn.

The contract: the composition root builds the app with `create_app(rt)` and serves it with
`Server(app, listen(host, port))`. Routes, body limits, the identity resolvers and the error
layer are private to the package; routes use only what each module exports.
"""

from clash.http.app import create_app
from clash.http.errors import ApiError
from clash.http.server import Server, listen

__all__ = ["ApiError", "Server", "create_app", "listen"]
