"""The page the pipeline writes after each publish: where, how, what it says, and that data text
never becomes markup; the after-publish hook never fails a load; ``cchc dashboard``."""

from __future__ import annotations

import logging
import os
import re
import stat
import time
from html import unescape

import pytest
from dashboard_fixtures import HOSTILE, HOSTILE_CODE, TODAY, settings_for
from typer.testing import CliRunner

from cchc import pipeline
from cchc.config import Settings
from cchc.dashboard import dashboard_path, refresh_after_publish
from cchc.dashboard.page import ago, number, percent, render_page


def _page(settings: Settings) -> str:
    return dashboard_path(settings).read_text(encoding="utf-8")


def test_publish_writes_the_page_beside_the_snapshot_with_the_snapshot_mode(
        published: Settings) -> None:
    page = dashboard_path(published)
    assert page.parent == published.published_path.parent
    assert stat.S_IMODE(page.stat().st_mode) == stat.S_IMODE(published.published_path.stat().st_mode)
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert [p.name for p in page.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_temporary_pages_a_killed_writer_left_are_removed(published_empty: Settings) -> None:
    page = dashboard_path(published_empty)
    old, fresh = (page.parent / f".{page.name}.{name}.tmp" for name in ("killed", "writing"))
    for tmp in (old, fresh):
        tmp.write_text("half a page", encoding="utf-8")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert refresh_after_publish(published_empty) is not None
    assert not old.exists() and fresh.exists()  # one being written now is left alone
    fresh.unlink()


def test_the_page_is_self_contained(published: Settings) -> None:
    html = _page(published)
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b", html, re.IGNORECASE)
    assert "@import" not in html and "@font-face" not in html
    assert html.count("Plotly.newPlot(") == 4  # received, on time, online, targets
    assert html.count("/*! For license information please see plotly.min.js") <= 1
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert policy and "default-src 'none'" in unescape(policy.group(1))  # it forbids any fetch


def test_the_page_shows_the_headline_figures_and_sections_in_vietnamese(
        published: Settings) -> None:
    html = _page(published)
    assert f"Năm {TODAY.year} (đến {TODAY:%d/%m/%Y})" in html and f"Năm {TODAY.year - 1}" in html
    for label in ("Hồ sơ tiếp nhận", "Đã giải quyết", "Tỷ lệ đúng hạn", "Tỷ lệ trực tuyến",
                  "Văn bản đến và đi", "Hồ sơ quá hạn chưa giải quyết", "Cảnh báo đang mở",
                  "Chất lượng dữ liệu", "So với chỉ tiêu quốc gia", "Huyện Krông Pa"):
        assert label in html, label
    assert "HS-WAITING-2" in html and "đang chờ" in html  # overdue table, waiting flagged
    assert "Nguồn không cập nhật" in html and "Nghiêm trọng" in html  # the open alerts


def test_data_text_is_escaped_everywhere(published: Settings) -> None:
    html = _page(published)
    assert HOSTILE_CODE in html
    assert HOSTILE not in html
    for fragment in ("<script>window.__pwned", "<img src=x", 'href="javascript:', "</td></tr></table><a"):
        assert fragment not in html, fragment
    assert html.count("&lt;script&gt;window.__pwned = 1&lt;/script&gt;") >= 3  # overdue, reason, alert


def test_a_fresh_warehouse_renders_saying_there_is_no_data(published_empty: Settings) -> None:
    html = _page(published_empty)
    assert "chưa có hồ sơ hay văn bản nào" in html
    assert "Plotly.newPlot(" not in html and "plotly.min.js" not in html  # no charts, no library
    assert "Không có hồ sơ nào quá hạn" in html and "Chưa có lần nạp nào" in html


def test_nothing_published_renders_the_message_alone() -> None:
    html = render_page(None, message="Chưa có số liệu <b>x</b>")
    assert "Chưa có số liệu &lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_numbers_and_rates_are_written_the_vietnamese_way() -> None:
    assert number(87221) == "87.221" and number(None) == "—" and number(1.5) == "1,5"
    assert percent(0.98523) == "98,5 %" and percent(0.0117, 2) == "1,17 %"
    assert percent(None) == "—"
    assert ago(0.001) == "vừa xong" and ago(0.2) == "12 phút trước" and ago(5.5) == "5 giờ trước" and ago(72) == "3 ngày trước"


def test_a_failing_page_never_fails_the_publish(published_empty: Settings,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    before = _page(published_empty)

    def broken(*args, **kwargs):
        raise RuntimeError("chart library broke")

    monkeypatch.setattr("cchc.dashboard.build.build_page", broken)
    with caplog.at_level(logging.ERROR, logger="cchc.dashboard"):
        assert pipeline.publish(published_empty) == published_empty.published_path
    assert "could not be written" in caplog.text and "chart library broke" in caplog.text
    assert _page(published_empty) == before  # the old page stays whole
    assert refresh_after_publish(published_empty) is None


def test_refresh_rewrites_the_page_and_reports_its_time(published_empty: Settings) -> None:
    page = dashboard_path(published_empty)
    page.write_text("stale", encoding="utf-8")
    seconds = refresh_after_publish(published_empty)
    assert seconds is not None and 0 < seconds < 30
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cchc_dashboard_writes_the_page_and_prints_its_path(published: Settings, tmp_path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from cchc.cli import app

    monkeypatch.setenv("CCHC_DATA_DIR", str(published.data_dir))
    monkeypatch.delenv("CCHC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    page = dashboard_path(published)
    page.unlink()
    result = CliRunner().invoke(app, ["dashboard"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(page)
    assert page.is_file() and "Plotly.newPlot(" in page.read_text(encoding="utf-8")


def test_cchc_dashboard_refuses_before_the_first_publish(tmp_path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from cchc.cli import app

    settings = settings_for(tmp_path)
    monkeypatch.setenv("CCHC_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("CCHC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["dashboard"])
    assert result.exit_code == 1
    assert "nothing published yet" in result.output
    assert not dashboard_path(settings).exists()
