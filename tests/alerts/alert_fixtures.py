"""Helpers shared by the alert tests."""

from __future__ import annotations

from dataclasses import replace

from cchc.config import AlertSettings, Settings


def with_urls(settings: Settings, *urls: str, **options) -> Settings:
    """The settings with these alert channels (and other [alerts] options)."""
    return replace(settings, alerts=AlertSettings(urls=urls, **options))
