"""What the tests serve on loopback: a free port, and an app run by uvicorn in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def in_thread(app, **config) -> Iterator[str]:
    """`app` served by uvicorn on a free port in a thread until the block ends (`config`: more of
    uvicorn.Config's settings): its base URL."""
    import uvicorn

    settings = uvicorn.Config(app, host="127.0.0.1", port=free_port(), **{"log_level": "warning", **config})
    server = uvicorn.Server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(10)
