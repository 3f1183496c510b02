"""From the documents' truth to what the e-document system emits: versions, dirt, manifest.

By default a document emits only its newest visible version; ``doc_reappear`` makes a share emit
their older versions too. Every kind draws from its own stream ``[seed, 7100 + k]``.

Three kinds are WARNING cases applied to the truth itself (``apply_warnings``): the documents
stay valid and in the truth, which holds what was served (unknown type, repeated number) or what
must be kept (a leaked secret document's summary withheld). Three kinds are EXTRA untrustable
documents beside the truth (unknown bodies, completion before receipt, unknown labels), with
sequences and register numbers from 900000 up, never used by the truth.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from simulator import doc_catalog as dc
from simulator.documents import DONE, EXTRA_SEQ, DocGenerated
from simulator.options import DocDirtOptions
from simulator.units import UNKNOWN_UNITS, Unit

KINDS = ("duplicates", "reappear", "nfd", "body_variants", "unknown_bodies", "completed_before_receipt",
         "unknown_labels", "unknown_type", "repeated_numbers", "secret_leak")
EXTRA_KINDS = ("unknown_bodies", "completed_before_receipt", "unknown_labels")
WARNING_KINDS = ("unknown_type", "repeated_numbers", "secret_leak")
LEAK_PREFIX = "MẬT-LEAK "
_STREAM = {k: 7100 + i for i, k in enumerate(KINDS)}
_SCHEMA = {"kind": pl.String, "MaVanBan": pl.String, "items": pl.Int64, "detail": pl.String}


@dataclass(frozen=True)
class DocManifest:
    """Which documents carry which dirt. ``entries``: kind, MaVanBan, items (emitted items
    affected: for duplicates the extra copies, for reappear the older versions emitted), detail
    (unknown_labels: the field; unknown_type: the value; repeated_numbers: "old->new")."""

    entries: pl.DataFrame

    def ids(self, kind: str) -> set[str]:
        return set(self.entries.filter(pl.col("kind") == kind)["MaVanBan"].to_list())

    def documents(self, kind: str) -> int:
        return self.entries.filter(pl.col("kind") == kind).height

    def items(self, kind: str) -> int:
        return int(self.entries.filter(pl.col("kind") == kind)["items"].sum())

    def summary(self) -> dict[str, dict[str, int]]:
        """{kind: {"documents": n, "items": n}} for every kind, zeros included."""
        return {k: {"documents": self.documents(k), "items": self.items(k)} for k in KINDS}

    def restricted(self, ids: pl.Series) -> DocManifest:
        return DocManifest(self.entries.filter(pl.col("MaVanBan").is_in(ids.implode())))


def _entries(kind: str, ids: pl.Series, items: pl.Series | int = 1, detail: pl.Series | None = None) -> pl.DataFrame:
    n = ids.len()
    counts = items if isinstance(items, pl.Series) else pl.Series([items] * n, dtype=pl.Int64)
    return pl.DataFrame({"kind": [kind] * n, "MaVanBan": ids, "items": counts.cast(pl.Int64),
                         "detail": detail if detail is not None else pl.Series([None] * n, dtype=pl.String)},
                        schema=_SCHEMA)


def _rng(seed: int, kind: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[kind]])


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    k = min(max(k, 0), len(candidates))
    return np.sort(rng.choice(candidates, k, replace=False)) if k else np.array([], dtype=np.int64)


def _mask(n: int, chosen: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[chosen] = True
    return m


def body_variants(unit: Unit) -> tuple[str, ...]:
    """How clerks write a body's name: "UBND xã Uar", "Xã Uar", "xã Uar", NFD, and the dossier
    side's spellings ("UBND xã Ia RSươm" → "Xã Ia RSươm" too)."""
    out: list[str] = []
    for name in (unit.name, *unit.variants):
        bare = name.removeprefix("UBND ").removeprefix("Ubnd ")
        for v in (name, bare[:1].upper() + bare[1:], bare[:1].lower() + bare[1:], unicodedata.normalize("NFD", name)):
            if v not in out:
                out.append(v)
    return tuple(out)


def apply_warnings(gen: DocGenerated, dirt: DocDirtOptions, seed: int,
                   now_s: int | None) -> tuple[DocGenerated, list[pl.DataFrame]]:
    """The truth with its warning cases: some TenLoaiVanBan not among the 29, some register
    numbers repeated (another document's number of the same body, year and direction)."""
    full = gen.full
    visible = np.nonzero(gen.latest_stage(now_s) >= 0)[0]
    ids = full["MaVanBan"]
    parts = []

    rng = _rng(seed, "unknown_type")
    chosen = _pick(rng, visible, int(round(dirt.doc_unknown_type * len(visible))))
    values = pl.Series([dc.UNKNOWN_TYPES[i] for i in rng.integers(0, len(dc.UNKNOWN_TYPES), len(chosen))],
                       dtype=pl.String)
    full = full.with_columns(full["TenLoaiVanBan"].scatter(chosen, values))
    parts.append(_entries("unknown_type", ids.gather(chosen), 1, values))

    rng = _rng(seed, "repeated_numbers")
    number = full.select(pl.coalesce("SoDen", "SoVanBan")).to_series().to_numpy()
    chosen = _pick(rng, visible[number[visible] >= 2], dirt.doc_repeated_numbers)
    old = number[chosen]
    new = rng.integers(1, np.maximum(old, 2))  # an earlier number of the same register year
    den = (full["LoaiVanBan"] == "DEN").to_numpy()[chosen]
    new_s = pl.Series(new, dtype=pl.Int64)
    kyhieu = full["SoKyHieu"].gather(chosen)
    renumbered = pl.select(pl.concat_str(new_s.cast(pl.String), pl.lit("/"),
                                         kyhieu.str.splitn("/", 2).struct.field("field_1"))).to_series()
    full = full.with_columns(
        full["SoDen"].scatter(chosen[den], new_s.filter(pl.Series(den))),
        full["SoVanBan"].scatter(chosen[~den], new_s.filter(pl.Series(~den))),
        full["SoKyHieu"].scatter(chosen[~den], renumbered.filter(pl.Series(~den))))
    detail = pl.Series([f"{'SoDen' if d else 'SoVanBan'} {o}->{m}" for d, o, m in zip(den, old, new, strict=True)],
                       dtype=pl.String)
    parts.append(_entries("repeated_numbers", ids.gather(chosen), 1, detail))
    return replace(gen, full=full), parts


def emit_documents(gen: DocGenerated, dirt: DocDirtOptions, seed: int,
                   now_s: int | None) -> tuple[DocGenerated, pl.DataFrame, DocManifest]:
    """(the truth with its warning cases, items sorted by NgayCapNhat then MaVanBan, manifest). Items keep NgayCapNhat as Int64 UTC seconds, dates as
    pl.Date, and ``_idx`` (truth document, -1 for extras) and ``_unit``."""
    gen, parts = apply_warnings(gen, dirt, seed, now_s)
    latest = gen.latest_stage(now_s)
    visible = np.nonzero(latest >= 0)[0]
    n_all, n_vis = gen.full.height, len(visible)
    ids = gen.full["MaVanBan"]

    n_versions = ((gen.times >= 0) & ((gen.times < now_s) if now_s is not None else True)).sum(axis=1)
    reappear = _pick(_rng(seed, "reappear"), visible[n_versions[visible] > 1], int(round(dirt.doc_reappear * n_vis)))
    d_old, s_old = np.nonzero((gen.times[reappear] >= 0) & (np.arange(gen.times.shape[1]) < latest[reappear, None]))
    d = np.concatenate([visible, reappear[d_old]])
    s = np.concatenate([latest[visible], s_old])
    parts.append(_entries("reappear", ids.gather(reappear), pl.Series(n_versions[reappear] - 1)))
    dup = _pick(_rng(seed, "duplicates"), np.arange(len(d)), int(round(dirt.doc_duplicates * len(d))))
    dup_per = np.bincount(d[dup], minlength=n_all)
    dup_docs = np.nonzero(dup_per)[0]
    parts.append(_entries("duplicates", ids.gather(dup_docs), pl.Series(dup_per[dup_docs])))
    d, s = np.concatenate([d, d[dup]]), np.concatenate([s, s[dup]])
    rows = gen.rows(d, s)
    at_doc = d
    per_doc = np.bincount(at_doc, minlength=n_all)

    # Body names as clerks write them, MaDVHC null.
    rng = _rng(seed, "body_variants")
    chosen = _pick(rng, visible, int(round(dirt.doc_body_variants * n_vis)))
    unit_of = gen.full["_unit"].to_numpy()
    variants = [body_variants(u) for u in gen.units]
    names = pl.Series([variants[unit_of[i]][rng.integers(0, len(variants[unit_of[i]]))] for i in chosen],
                      dtype=pl.String)
    which = np.full(n_all, -1)
    which[chosen] = np.arange(len(chosen))
    at = np.nonzero(which[at_doc] >= 0)[0]
    rows = rows.with_columns(rows["TenDonVi"].scatter(at, names.gather(which[at_doc[at]])),
                             rows["MaDVHC"].scatter(at, None))
    parts.append(_entries("body_variants", ids.gather(chosen), pl.Series(per_doc[chosen])))

    # Decomposed Unicode in every text field of a document's items.
    chosen = _pick(_rng(seed, "nfd"), visible, int(round(dirt.doc_nfd * n_vis)))
    at = np.nonzero(_mask(n_all, chosen)[at_doc])[0]
    rows = rows.with_columns([rows[c].scatter(at, rows[c].gather(at).str.normalize("NFD")) for c in dc.TEXT_FIELDS])
    parts.append(_entries("nfd", ids.gather(chosen), pl.Series(per_doc[chosen])))

    # Secret documents served with their summary and issuing body (a source-side leak).
    rng = _rng(seed, "secret_leak")
    secret = gen.full["DoMat"].is_in(list(dc.SECRET_CODES)).to_numpy()
    chosen = _pick(rng, visible[secret[visible]], dirt.doc_secret_leak)
    den = (gen.full["LoaiVanBan"] == "DEN").to_numpy()
    topics = [dc.TOPICS[i] for i in rng.integers(0, len(dc.TOPICS), len(chosen))]
    senders = [dc.SENDERS_DISTRICT[i][0] for i in rng.integers(0, len(dc.SENDERS_DISTRICT), len(chosen))]
    leak_text = pl.Series([f"{LEAK_PREFIX}V/v {t}" for t in topics], dtype=pl.String)
    leak_body = pl.Series([s if den[i] else gen.units[unit_of[i]].name for i, s in zip(chosen, senders, strict=True)],
                          dtype=pl.String)
    which = np.full(n_all, -1)
    which[chosen] = np.arange(len(chosen))
    at = np.nonzero(which[at_doc] >= 0)[0]
    rows = rows.with_columns(rows["TrichYeu"].scatter(at, leak_text.gather(which[at_doc[at]])),
                             rows["CoQuanBanHanh"].scatter(at, leak_body.gather(which[at_doc[at]])))
    parts.append(_entries("secret_leak", ids.gather(chosen), pl.Series(per_doc[chosen])))

    extras = _extras(gen, latest, dirt, seed, now_s)
    for kind in EXTRA_KINDS:
        e = extras.filter(pl.col("_kind") == kind)
        parts.append(_entries(kind, e["MaVanBan"], 1, e["_detail"]))
    items = pl.concat([rows, extras.drop("_kind", "_detail")], how="vertical_relaxed")
    items = items.sort("NgayCapNhat", "MaVanBan", maintain_order=True)
    return gen, items, DocManifest(pl.concat(parts).sort("kind", "MaVanBan"))


def _extras(gen: DocGenerated, latest: np.ndarray, dirt: DocDirtOptions, seed: int,
            now_s: int | None) -> pl.DataFrame:
    """Extra untrustable documents, cloned from complete non-secret truth documents, then broken."""
    full = gen.full
    complete = (latest == DONE) & ~full["DoMat"].is_in(list(dc.SECRET_CODES)).to_numpy()
    den = (full["LoaiVanBan"] == "DEN").to_numpy()
    counts = {"unknown_bodies": dirt.doc_unknown_bodies, "completed_before_receipt": dirt.doc_completed_before_receipt,
              "unknown_labels": dirt.doc_unknown_labels}
    frames, serial = [], 0
    for kind, k in counts.items():
        templates = np.nonzero(complete & den)[0] if kind == "completed_before_receipt" else np.nonzero(complete)[0]
        if k <= 0 or len(templates) == 0:
            continue
        rng = _rng(seed, kind)
        pick = np.sort(rng.choice(templates, k, replace=len(templates) < k))
        f = gen.rows(pick, latest[pick]).with_columns(
            _idx=pl.lit(-1, dtype=pl.Int64), _kind=pl.lit(kind), _detail=pl.lit(None, dtype=pl.String),
            NgayCapNhat=pl.col("NgayCapNhat") + pl.Series(rng.integers(1, 600, k), dtype=pl.Int64),
            _seq=pl.Series(np.arange(serial, serial + k) + EXTRA_SEQ, dtype=pl.Int64))
        serial += k
        if kind == "unknown_bodies":
            which = rng.integers(0, len(UNKNOWN_UNITS), k)
            name = pl.Series([UNKNOWN_UNITS[i][0] for i in which], dtype=pl.String)
            f = f.with_columns(TenDonVi=name, MaDonVi=pl.Series([UNKNOWN_UNITS[i][1] for i in which], dtype=pl.String),
                               MaDVHC=pl.lit(None, dtype=pl.String), _unit=pl.lit(-1, dtype=pl.Int32),
                               CoQuanBanHanh=pl.when(pl.col("LoaiVanBan") == "DI").then(name)
                               .otherwise(pl.col("CoQuanBanHanh")))
        elif kind == "completed_before_receipt":
            back = pl.Series(rng.integers(1, 21, k), dtype=pl.Int64)
            f = f.with_columns(NgayHoanThanh=pl.col("NgayDen") - pl.duration(days=back), TrangThai=pl.lit("DaXuLy"))
        else:
            fields = [dc.UNKNOWN_LABELS[i % len(dc.UNKNOWN_LABELS)] for i in range(k)]
            cols = {}
            for col in {c for c, _ in fields}:
                value = pl.Series([v if c == col else None for c, v in fields], dtype=pl.String)
                cols[col] = pl.coalesce(pl.lit(value), pl.col(col))
            f = f.with_columns(**cols, _detail=pl.Series([c for c, _ in fields], dtype=pl.String))
        frames.append(f)
    if not frames:
        return gen.rows(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).with_columns(
            _kind=pl.lit(None, dtype=pl.String), _detail=pl.lit(None, dtype=pl.String))
    extras = pl.concat(frames)
    parts = extras["MaVanBan"].str.split("-")
    code = pl.coalesce(pl.col("MaDVHC"), pl.col("MaDonVi"))
    year, direction = parts.list.get(2), parts.list.get(3)
    seq = pl.col("_seq")
    extras = extras.with_columns(
        MaVanBan=pl.concat_str(pl.lit("VB-"), code, pl.lit("-"), pl.lit(year), pl.lit("-"), pl.lit(direction),
                               pl.lit("-"), seq.cast(pl.String)),
        SoDen=pl.when(pl.col("SoDen").is_not_null()).then(seq),
        SoVanBan=pl.when(pl.col("SoVanBan").is_not_null()).then(seq),
        SoKyHieu=pl.when(pl.col("SoVanBan").is_not_null())
        .then(pl.concat_str(seq.cast(pl.String), pl.lit("/"), pl.col("SoKyHieu").str.splitn("/", 2).struct.field("field_1")))
        .otherwise(pl.col("SoKyHieu")),
    ).drop("_seq")
    if now_s is not None:
        extras = extras.filter(pl.col("NgayCapNhat") < now_s)
    clash = extras["MaVanBan"].is_in(full["MaVanBan"].implode())
    if clash.any():
        raise ValueError(f"extra document ids collide with the truth: {extras['MaVanBan'].filter(clash).to_list()[:3]}")
    return extras
