"""The intervention taxonomy: codes, families, documentation verbs and mappings.

The machine-readable copy lives in ``models/taxonomy.yaml``; ``shared/TAXONOMY.md`` is the
human specification it must match (see :func:`parse_taxonomy_markdown` and the sync test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

TAXONOMY_PATH = Path(__file__).resolve().parent.parent / "models" / "taxonomy.yaml"

CLIENT_TALK_CODES: tuple[str, ...] = ("change_talk", "sustain_talk", "neutral")
RISK_FLAG = "risk_indicator"
MAIN_BEHAVIOURS: tuple[str, ...] = ("question", "reflection", "therapist_input", "other")
OTHER = "other"


@dataclass(frozen=True)
class Code:
    """One therapist code of the taxonomy."""

    id: str
    family: str
    verb: str
    definition: str
    mapping: str


@dataclass(frozen=True)
class ClientCode:
    """One client code (talk type or the risk flag)."""

    id: str
    definition: str
    mapping: str


@dataclass(frozen=True)
class Taxonomy:
    therapist: tuple[Code, ...]
    client: tuple[ClientCode, ...]

    @property
    def therapist_ids(self) -> tuple[str, ...]:
        """Therapist code ids in taxonomy order, ``other`` included."""
        return tuple(c.id for c in self.therapist)

    @property
    def predictable_therapist_ids(self) -> tuple[str, ...]:
        """Therapist codes a classifier predicts (``other`` means 'none of these')."""
        return tuple(c.id for c in self.therapist if c.id != OTHER)

    @property
    def families(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for c in self.therapist:
            seen.setdefault(c.family, None)
        return tuple(seen)

    def code(self, code_id: str) -> Code:
        for c in self.therapist:
            if c.id == code_id:
                return c
        raise KeyError(f"unknown therapist code {code_id!r}; known codes: {', '.join(self.therapist_ids)}")

    def family_of(self, code_id: str) -> str:
        return self.code(code_id).family

    def all_ids(self) -> tuple[str, ...]:
        return self.therapist_ids + tuple(c.id for c in self.client)


def _from_dict(data: dict) -> Taxonomy:
    therapist = tuple(
        Code(id=c["id"], family=c["family"], verb=c["verb"], definition=c["definition"], mapping=c["mapping"])
        for c in data["therapist_codes"]
    )
    client = tuple(
        ClientCode(id=c["id"], definition=c["definition"], mapping=c["mapping"]) for c in data["client_codes"]
    )
    return Taxonomy(therapist=therapist, client=client)


def to_dict(tax: Taxonomy) -> dict:
    return {
        "therapist_codes": [
            {"id": c.id, "family": c.family, "verb": c.verb, "definition": c.definition, "mapping": c.mapping}
            for c in tax.therapist
        ],
        "client_codes": [{"id": c.id, "definition": c.definition, "mapping": c.mapping} for c in tax.client],
    }


@lru_cache(maxsize=4)
def load_taxonomy(path: Path | str = TAXONOMY_PATH) -> Taxonomy:
    """Load the taxonomy YAML (the project's copy by default)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"taxonomy file not found: {p}; reinstall tagger or pass the path to taxonomy.yaml")
    with p.open(encoding="utf-8") as fh:
        return _from_dict(yaml.safe_load(fh))


_ROW = re.compile(r"^\|(.+)\|\s*$")


def _table_rows(lines: list[str], header_start: str) -> list[list[str]]:
    rows: list[list[str]] = []
    in_table = False
    for line in lines:
        m = _ROW.match(line.strip())
        if not m:
            if in_table:
                break
            continue
        cells = [c.strip() for c in m.group(1).split("|")]
        if not in_table:
            if cells[0] == header_start:
                in_table = True
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        rows.append(cells)
    return rows


def _unquote(cell: str) -> str:
    """The code id of a first-column cell: its first backtick span ('`risk_indicator` (flag)' -> risk_indicator)."""
    m = re.match(r"\s*`([^`]+)`", cell)
    return m.group(1) if m else cell.strip()


def parse_taxonomy_markdown(path: Path | str) -> Taxonomy:
    """Parse the specification tables of ``TAXONOMY.md`` into a :class:`Taxonomy`."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    th_section = lines[lines.index("## Therapist codes") :]
    cl_section = lines[lines.index("## Client codes") :]
    therapist = tuple(
        Code(id=_unquote(r[0]), family=r[1], verb=r[2], definition=r[3], mapping=r[4])
        for r in _table_rows(th_section, "code")
    )
    client = tuple(
        ClientCode(id=_unquote(r[0]), definition=r[1], mapping=r[2]) for r in _table_rows(cl_section, "code")
    )
    return Taxonomy(therapist=therapist, client=client)
