"""What a source system's records look like, declared once per system as a :class:`FieldSet`.

The raw frame (docs/architecture.md) of every system has the same shape: every raw field as text
plus two provenance columns. File readers map the export's Vietnamese headers to API keys through
the field set, the column gate checks its required fields, the raw and quarantine tables are
derived from its raw fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Provenance columns every raw frame carries next to the raw fields.
SOURCE_COLUMN = "_source"  # file path or API request the row came from
SOURCE_ROW_COLUMN = "_source_row"  # 1-based row number in the file (as a spreadsheet shows it)
# or ordinal of the item in the pull
WITHHELD_COLUMN = "_withheld"  # names of fields dropped before staging (secret documents)


@dataclass(frozen=True)
class FieldSet:
    """The raw fields of one kind of record and how exports label them."""

    export_fields: tuple[tuple[str, str], ...]  # (API key, export header), in export order
    api_only: tuple[str, ...]  # fields the API has and exports do not
    required: tuple[str, ...]  # without them a batch cannot be read (column gate)
    api_required: tuple[str, ...] = ()  # further fields a pull must carry
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other header labels
    dropped_headers: tuple[str, ...] = ("STT", "Số thứ tự", "TT")  # row-number columns
    pii: tuple[str, ...] = ()  # personal data (Decree 13/2023)

    @property
    def raw_fields(self) -> tuple[str, ...]:
        """Every raw field, in a fixed order: the columns of the raw and quarantine tables."""
        return tuple(k for k, _ in self.export_fields) + self.api_only

    @property
    def labels(self) -> dict[str, str]:
        """API key -> the export's own header label (API-only fields: the key itself)."""
        return dict(self.export_fields) | {k: k for k in self.api_only}

    def required_for(self, kind: str) -> tuple[str, ...]:
        """Required fields of a pull (``kind == "pull"``) or a file."""
        return self.required + tuple(f for f in self.api_required if f not in self.required) \
            if kind == "pull" else self.required
