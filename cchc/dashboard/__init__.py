"""The dashboard: a self-contained offline HTML page written beside the published snapshot
after every publish (``data/published/dashboard.html``), served by ``cchc serve`` at
``/dashboard`` and refreshed by ``cchc dashboard``.

    data.py      the figures, read from the snapshot (read-only)
    charts.py    plotly figures as HTML fragments (plotly.js inlined once by the page)
    page.py      the Jinja template, auto-escaped, Vietnamese number and date formats
    build.py     write the page atomically; the after-publish hook that never raises
    routes.py    the HTTP routes ``GET /`` and ``GET /dashboard``
"""

from cchc.dashboard.build import dashboard_path, refresh_after_publish, write_dashboard

__all__ = ["dashboard_path", "refresh_after_publish", "write_dashboard"]
