"""The long-running service: ``cchc serve`` (Prefect server, deployments, inbox watcher, change
receiver) and ``cchc backfill``. See docs/service.md."""
