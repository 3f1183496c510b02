"""Helpers for other engineers' tests: a simulator in a background thread, and its truth.

    from simulator.testing import running_simulator, simulated_dataset

    with running_simulator(seed=7, reappear=0.5, rate_429=0.2) as base_url:
        ...  # GET f"{base_url}/onestop/api/v1/dossiers" with "Authorization: Bearer demo-token"
    ds = simulated_dataset(seed=7, reappear=0.5)   # same data as the server above
    ds.truth                  # polars: one clean row per dossier, instants Datetime(UTC)
    ds.expected_report06()    # form 06 by the vendor's rules, for the scenario period
    ds.manifest.summary()     # {dirt kind: {"dossiers": n, "items": n}}; .codes(kind) -> set
    docs = simulated_documents(seed=7)   # the e-document side of the same system
    docs.truth                # polars: one clean row per document, dates pl.Date
    docs.expected_report(date(2022, 1, 1), date(2022, 12, 31), with_total=True)  # docs/figures.md §5
    docs.expected_total(...)  # {"c3": n, ..., "c12": n}
    docs.manifest.summary()   # {dirt kind: {"documents": n, "items": n}}; .ids(kind) -> set

``running_simulator(port: int = 0, host: str = "127.0.0.1", **options) -> ContextManager[str]``
yields the base URL (``http://127.0.0.1:PORT``; port 0 picks a free one). ``options`` are
``SimOptions`` fields (scenario, seed, dossiers, units, years, start_year, token, now, documents),
``doc_dirt`` (a DocDirtOptions, a dict, or "clean"; any of its ``doc_*`` fields flat), ``dirt``
and ``faults`` (a DirtOptions/FaultOptions, a dict, or "clean"/"demo"), or any single
DirtOptions/FaultOptions field given flat (``duplicates=0.1``, ``rate_5xx=0.3``). Unlike
``cchc simulate serve``, the defaults here are the demo dirt and NO faults. The server runs
uvicorn in a daemon thread and is stopped and joined on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simulator.dataset import Dataset, get_dataset
from simulator.doc_dataset import DocDataset, get_documents
from simulator.options import SimOptions, make_options


def simulator_options(**options: Any) -> SimOptions:
    """The SimOptions that ``running_simulator(**options)`` serves."""
    return make_options(**options)


def simulated_dataset(**options: Any) -> Dataset:
    """The dataset (truth, emitted items, manifest) for the same options, cached per process."""
    return get_dataset(make_options(**options))


def simulated_documents(**options: Any) -> DocDataset:
    """The e-document dataset (truth, emitted items, manifest, expected report) for the same
    options as ``running_simulator(**options)`` serves, cached per process."""
    return get_documents(make_options(**options))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on loopback (port 0: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextmanager
def running_simulator(port: int = 0, host: str = "127.0.0.1", **options: Any) -> Iterator[str]:
    """Serve the simulated API in a background thread; yield its base URL; stop it on exit."""
    import uvicorn

    from simulator.api import create_app, quiet_drop_logs

    app = create_app(make_options(**options))
    sock = bind_socket(host, port)
    quiet_drop_logs()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the simulator did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
