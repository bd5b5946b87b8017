"""models/taxonomy.yaml is the machine-readable copy of shared/TAXONOMY.md: they must agree exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tagger.taxonomy import (
    CLIENT_TALK_CODES,
    OTHER,
    RISK_FLAG,
    TAXONOMY_PATH,
    Taxonomy,
    _from_dict,
    load_taxonomy,
    parse_taxonomy_markdown,
    to_dict,
)

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO.parent / "shared" / "TAXONOMY.md"
KNOWN_FAMILIES = ("mi", "cbt", "skills", "act", "psychodynamic", "supportive", "risk", "planning", "other")


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def spec() -> Taxonomy:
    if not SPEC.is_file():
        pytest.skip(f"specification {SPEC} not present")
    return parse_taxonomy_markdown(SPEC)


def test_yaml_is_the_project_copy():
    assert TAXONOMY_PATH == REPO / "models" / "taxonomy.yaml"


def test_therapist_codes_match_spec_in_order(tax: Taxonomy, spec: Taxonomy):
    assert tax.therapist_ids == spec.therapist_ids


@pytest.mark.parametrize("field", ["family", "verb", "definition", "mapping"])
def test_therapist_fields_match_spec(tax: Taxonomy, spec: Taxonomy, field: str):
    ours = {c.id: getattr(c, field) for c in tax.therapist}
    theirs = {c.id: getattr(c, field) for c in spec.therapist}
    diff = {k: (ours[k], theirs.get(k)) for k in ours if ours[k] != theirs.get(k)}
    assert not diff, f"{field} differs from TAXONOMY.md (yaml, spec): {diff}"


def test_client_codes_match_spec(tax: Taxonomy, spec: Taxonomy):
    assert tax.client == spec.client


def test_whole_taxonomy_matches_spec(tax: Taxonomy, spec: Taxonomy):
    assert tax == spec


def test_spec_worked_examples_use_known_codes(tax: Taxonomy, spec: Taxonomy):
    text = SPEC.read_text(encoding="utf-8").splitlines()
    rows = [
        ln for ln in text[text.index("## Worked examples (illustrative, not training data)") :] if ln.startswith("| ")
    ]
    examples = [r.strip("|").split("|") for r in rows[1:] if not r.startswith("|---")]
    assert examples
    for speaker, _utt, codes in (map(str.strip, e) for e in examples):
        for code in map(str.strip, codes.split(",")):
            known = tax.therapist_ids if speaker == "therapist" else tuple(c.id for c in tax.client)
            assert code in known, f"{speaker} example uses unknown code {code!r}"


def test_every_family_is_known(tax: Taxonomy):
    assert set(tax.families) <= set(KNOWN_FAMILIES)
    assert tax.families == tuple(f for f in KNOWN_FAMILIES if f in tax.families)  # grouped, in spec order


def test_ids_unique_and_disjoint(tax: Taxonomy):
    ids = tax.all_ids()
    assert len(ids) == len(set(ids))
    assert not set(tax.therapist_ids) & {c.id for c in tax.client}


def test_ids_are_snake_case(tax: Taxonomy):
    for code in tax.all_ids():
        assert code.isidentifier() and code == code.lower(), code


def test_client_codes_are_talk_types_and_risk_flag(tax: Taxonomy):
    assert tuple(c.id for c in tax.client) == (*CLIENT_TALK_CODES, RISK_FLAG)


def test_other_is_last_and_not_predictable(tax: Taxonomy):
    assert tax.therapist_ids[-1] == OTHER
    assert OTHER not in tax.predictable_therapist_ids
    assert len(tax.predictable_therapist_ids) == len(tax.therapist_ids) - 1 == 36


def test_every_code_documented(tax: Taxonomy):
    for c in tax.therapist:
        assert c.family and c.verb and c.definition and c.mapping, c.id
    for c in tax.client:
        assert c.definition and c.mapping, c.id


def test_lookup(tax: Taxonomy):
    assert tax.family_of("homework") == "cbt"
    assert tax.code("safety_planning").verb == "Developed safety plan"
    with pytest.raises(KeyError, match="unknown therapist code 'hugging'.*open_question"):
        tax.code("hugging")


def test_dict_round_trip_and_yaml_has_nothing_else(tax: Taxonomy):
    assert _from_dict(to_dict(tax)) == tax
    raw = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8"))
    assert raw == to_dict(tax)


def test_missing_file_says_what_to_do(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="taxonomy file not found"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_parse_markdown_tables(tmp_path: Path):
    md = tmp_path / "TAX.md"
    md.write_text(
        "# T\n\n## Therapist codes\n\nIntro.\n\n"
        "| code | family | documentation verb | definition | AnnoMI / MITI mapping |\n"
        "|---|---|---|---|---|\n"
        "| `open_question` | mi | Explored | Asks openly. | question / open |\n"
        "| `other` | other | - | None of the above. | - |\n\n"
        "## Client codes\n\n"
        "| code | definition | AnnoMI mapping |\n|---|---|---|\n"
        "| `neutral` | Neither. | client_talk_type neutral |\n"
        "| `risk_indicator` (flag) | Mentions risk. | - |\n",
        encoding="utf-8",
    )
    t = parse_taxonomy_markdown(md)
    assert t.therapist_ids == ("open_question", "other")
    assert t.code("open_question").mapping == "question / open"
    assert [c.id for c in t.client] == ["neutral", "risk_indicator"]
    assert t.client[1].definition == "Mentions risk."
