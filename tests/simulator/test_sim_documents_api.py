"""The e-document pull API, register exports and CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import polars as pl
import pytest
from typer.testing import CliRunner

from simulator import doc_catalog as dc
from simulator.cli import app
from simulator.doc_dirt import LEAK_PREFIX
from simulator.doc_exports import export_register
from simulator.testing import running_simulator, simulated_documents

OPTS = {"scenario": "scale", "dossiers": 6000, "units": 4, "years": 1, "seed": 31}
AUTH = {"Authorization": "Bearer demo-token"}
PATH = "/eoffice/api/v1/documents"
runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    with running_simulator(**OPTS) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as client:
        yield client


def pull(client: httpx.Client, size: int, **params: str) -> tuple[list[dict], int]:
    items, page = [], 1
    while True:
        body = client.get(PATH, params={**params, "page": page, "page_size": size}).json()
        assert body["page"] == page and body["page_size"] == size
        items += body["items"]
        if len(body["items"]) < size:
            return items, body["total"]
        page += 1


def test_auth_and_bad_queries(server) -> None:
    base = str(server.base_url)
    assert httpx.get(base + PATH).status_code == 401
    assert httpx.get(base + PATH, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert server.get(PATH, params={"page_size": 1001}).status_code == 400
    assert server.get(PATH, params={"direction": "SIDEWAYS"}).status_code == 400
    assert server.get(PATH, params={"page": 0}).status_code == 400


def test_paging_ordering_and_types(server) -> None:
    docs = simulated_documents(**OPTS)
    items, total = pull(server, 500)
    assert total == len(items) == docs.items.height
    keys = [(i["NgayCapNhat"], i["MaVanBan"]) for i in items]
    assert keys == sorted(keys)
    assert items == docs.api_items()
    assert all(isinstance(i["KySo"], bool) for i in items)
    assert all(i["SoDen"] is None or isinstance(i["SoDen"], int) for i in items)
    assert all(i["SoVanBan"] is None or isinstance(i["SoVanBan"], int) for i in items)
    assert {len(i["NgayBanHanh"]) for i in items} == {10} and items[0]["NgayCapNhat"].endswith("Z")
    # A window: since inclusive, until exclusive.
    since, until = items[100]["NgayCapNhat"], items[900]["NgayCapNhat"]
    window, total = pull(server, 100, updated_since=since, updated_until=until)
    assert window == [i for i in items if since <= i["NgayCapNhat"] < until] and total == len(window)


def test_direction_filter(server) -> None:
    every, _ = pull(server, 1000)
    den, n_den = pull(server, 1000, direction="DEN")
    di, n_di = pull(server, 1000, direction="DI")
    assert {i["LoaiVanBan"] for i in den} == {"DEN"} and {i["LoaiVanBan"] for i in di} == {"DI"}
    other = [i for i in every if i["LoaiVanBan"] not in ("DEN", "DI")]  # unknown-label extras
    assert n_den + n_di + len(other) == len(every) and den == [i for i in every if i["LoaiVanBan"] == "DEN"]


def test_secret_fields_withheld(server) -> None:
    items, _ = pull(server, 1000)
    secret = [i for i in items if i["DoMat"] in dc.SECRET_CODES]
    assert secret
    leaked = [i for i in secret if i["TrichYeu"].startswith(LEAK_PREFIX)]
    for i in secret:
        if i not in leaked:
            assert i["TrichYeu"] == "" and i["CoQuanBanHanh"] == ""
        assert i["NguoiKy"] is None and i["MaHoSoLienKet"] is None
    assert {i["MaVanBan"] for i in leaked} == simulated_documents(**OPTS).manifest.ids("secret_leak")


def test_faults_like_the_dossier_endpoint() -> None:
    with running_simulator(**OPTS, rate_429=0.5) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as c:
        statuses = [c.get(PATH, params={"page": p, "page_size": 10}).status_code for p in range(1, 30)]
        assert 429 in statuses and 200 in statuses
        r = next(c.get(PATH, params={"page": p, "page_size": 10}) for p in range(1, 30))
        for _ in range(3):  # never more than max_consecutive faults in a row
            if r.status_code == 200:
                break
            r = c.get(str(r.request.url))
        assert r.status_code == 200


def _sheet(path: Path) -> pl.DataFrame:
    return pl.read_excel(path, engine="calamine", has_header=False, infer_schema_length=0, drop_empty_rows=False)


def test_incoming_register_xlsx_layout(tmp_path: Path) -> None:
    docs = simulated_documents()
    res = export_register(tmp_path / "den.xlsx", register="den", dataset=docs, date_from=date(2022, 10, 1),
                          date_to=date(2022, 12, 31), unit="24109")
    sheet = _sheet(res.path)
    col0 = sheet["column_0"].to_list()
    assert col0[0] == "UBND XÃ UAR" and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in sheet.row(0)
    assert "Độc lập - Tự do - Hạnh phúc" in sheet.row(1)
    assert col0[3] == "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" and col0[4] == "Từ ngày 01/10/2022 đến ngày 31/12/2022"
    assert list(sheet.row(6)) == ["STT", "Số đến", "Ngày đến", "Số ký hiệu", "Ngày ban hành", "Loại văn bản",
                                  "Cơ quan ban hành", "Trích yếu", "Người ký", "Độ mật", "Độ khẩn", "Đơn vị xử lý",
                                  "Hạn xử lý", "Ngày hoàn thành", "Trạng thái", "Hình thức", "Ký số",
                                  "Mã hồ sơ liên kết", "Mã văn bản", "Đơn vị", "Mã ĐVHC"]
    data = sheet.slice(7, res.rows)
    data.columns = list(dc.register_headers("den"))
    assert data["STT"].to_list() == [str(i) for i in range(1, res.rows + 1)]
    assert col0[7 + res.rows] == f"Tổng số: {res.rows} văn bản"
    tail = [v for row in sheet.slice(8 + res.rows).iter_rows() for v in row if v]
    assert "Người lập biểu" in tail
    assert data["Ngày đến"].str.contains(r"^\d\d/\d\d/2022$").all()
    assert set(data["Hình thức"]) <= set(dc.TRANSPORT.values()) | {"Fax"}
    assert set(data["Trạng thái"]) <= set(dc.STATUS.values()) | {"ChoDuyet"}
    assert set(data["Ký số"]) <= {"Có", "Không"} and set(data["Độ khẩn"]) <= set(dc.URGENCY.values()) | {"RatKhan"}
    expected = docs.truth.filter(pl.col("MaDVHC") == "24109", pl.col("NgayDen").is_between(date(2022, 10, 1),
                                                                                          date(2022, 12, 31)))
    assert set(data["Mã văn bản"]) >= set(expected["MaVanBan"])
    assert res.rows == data["Mã văn bản"].len() >= expected.height


def test_outgoing_register_csv_and_excel_dates(tmp_path: Path) -> None:
    docs = simulated_documents()
    res = export_register(tmp_path / "di.csv", register="di", dataset=docs, date_from=date(2022, 1, 1),
                          date_to=date(2022, 12, 31))
    raw = res.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pl.read_csv(res.path, infer_schema=False, encoding="utf8-lossy")
    assert frame.columns == list(dc.register_headers("di")) and frame.height == res.rows
    for col in ("Ngày đến", "Đơn vị xử lý", "Hạn xử lý", "Ngày hoàn thành"):
        assert frame[col].is_null().all()
    newest = docs.truth.filter(pl.col("LoaiVanBan") == "DI", pl.col("NgayBanHanh").dt.year() == 2022)
    dup = docs.manifest.ids("duplicates")
    assert frame["Mã văn bản"].n_unique() >= newest.height and res.rows >= newest.height
    assert res.rows - frame["Mã văn bản"].n_unique() <= len(dup)
    xlsx = export_register(tmp_path / "di.xlsx", register="di", dataset=docs, date_from=date(2022, 1, 1),
                           date_to=date(2022, 1, 31), dates="excel")
    data = _sheet(xlsx.path).slice(7, xlsx.rows)
    assert data["column_4"].str.contains(r"^2022-01-\d\d 00:00:00$").all()  # date cells, not dd/mm/yyyy text


def test_cli_truth_and_export(tmp_path: Path) -> None:
    result = runner.invoke(app, ["truth", "--system", "eoffice", "--from", "2022-10-01", "--to", "2022-12-31", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["total"] == simulated_documents().expected_total(date(2022, 10, 1), date(2022, 12, 31))
    assert len(out["rows"]) == 15
    path = tmp_path / "den.csv"
    result = runner.invoke(app, ["export", "--system", "eoffice", "--register", "den", "--out", str(path),
                                 "--from", "2022-12-01", "--to", "2022-12-31", "--clean"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(path, infer_schema=False)
    clean = simulated_documents(dirt="clean").truth
    assert frame.height == clean.filter(pl.col("NgayDen").dt.month() == 12, pl.col("NgayDen").dt.year() == 2022).height
    help_ = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "--doc-secret-leak" in help_ and "--documents" in help_
