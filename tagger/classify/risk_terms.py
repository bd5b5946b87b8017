"""Explicit risk statements that set the client ``risk_indicator`` flag whatever the model scores.

The network learns risk from a few hundred labelled utterances and can miss a plain statement
("I was going to take them all tonight") when little like it was in training. For a clinical
tool a missed explicit statement is the costly error, so the flag is the model's decision OR a
match here. The list is short and literal on purpose: first-person suicidal ideation (active
and passive), preparation (counting or stockpiling means, notes, taking "them all") and
self-harm acts, following the annotation guide's definition. A match preceded in its clause by
a denial ("I'd never kill myself") does not count; the model still decides those. Risk
*factors* alone (a relative's suicide, a rifle in the truck) are not in the list.
"""

from __future__ import annotations

import re

# Words that count only in a first-person clause ("I've been suicidal", not "she was suicidal").
_FIRST_PERSON_TERMS = (r"\bsuicidal\b", r"\boverdos(?:e|ed|ing)\b", r"\bself[- ]?harm(?:ed|ing)?\b")
_I = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|im|ive)\b", re.IGNORECASE)
_PATTERNS = (
    # active ideation
    r"\b(?:kill|killing|hang|hanging|shoot|shooting|drown|drowning|poison|poisoning)\s+myself\b",
    r"\b(?:end|ending|ended)\s+(?:my\s+(?:own\s+)?life|it\s+all)\b",
    r"\btak(?:e|ing)\s+my\s+(?:own\s+)?life\b",
    r"\b(?:want|wanted|wanting)\s+to\s+(?:die|be\s+dead)\b",
    r"\bwish(?:ed)?\s+(?:i|that\s+i)\s+(?:was|were|could\s+be)\s+dead\b",
    # passive ideation
    r"\bbetter\s+off\s+(?:without\s+me|if\s+i\s+(?:was|were)n'?t\s+(?:here|around|there)|with\s+me\s+(?:dead|gone))\b",
    r"\b(?:don'?t|do\s+not|didn'?t)\s+want\s+to\s+(?:be\s+(?:here|around)\s+any\s?more|be\s+alive|exist|wake\s+up)\b",
    r"\b(?:hope|hoping|wish|wishing|pray|praying|easier|better)\b[^.?!]{0,30}"
    r"\b(?:not|never|didn'?t|don'?t|wouldn'?t|won'?t)\s+wake\s+up\b",
    r"\bsleep\s+and\s+(?:not|never)\s+wake\s+up\b",
    r"\bif\s+i\s+(?:just\s+)?(?:was|were)n'?t\s+(?:here|there|around|alive)\b",
    r"\bwish(?:ed|ing)?\s+i\s+could\s+(?:just\s+)?disappear\b",
    r"\bno\s+(?:point|reason)\s+(?:in\s+)?(?:living|being\s+alive|going\s+on|to\s+live)\b",
    r"\b(?:thought|thinking|think|thinks)\s+(?:about|of)\s+(?:jumping|dying|suicide|ending\s+it|overdosing)\b",
    # preparation, means counted or gathered
    r"\b(?:take|took|taking|swallow|swallowed|swallowing)\s+(?:them\s+all|all\s+of\s+them"
    r"|the\s+(?:lot|whole\s+(?:bottle|box|packet)))\b",
    r"\b(?:stockpil\w*|hoard(?:ed|ing)\s+(?:my\s+)?(?:pills|tablets|meds))",
    r"\b(?:count|counted|counting)\s+(?:out\s+)?(?:the\s+|my\s+|all\s+the\s+)?(?:pills|tablets|meds)\b",
    r"\b(?:suicide|goodbye)\s+(?:note|letter)s?\b",
    r"\bnoose\b",
    r"\b(?:jump|jumping|jumped)\s+(?:off|from)\s+(?:the|a)\s+(?:bridge|roof|building|balcony|cliff|car\s+park)\b",
    # self-harm acts
    r"\b(?:cut|cutting|cuts|burn|burning|burned|burnt|hurt|hurting|harm|harming|scratch|scratched|scratching"
    r"|hit|hitting|punch|punched|punching)\s+myself\b",
    r"\bi\s+(?:cut|burned|burnt|scratched)\s+again\b",
)
_RISK = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)
_RISK_FIRST_PERSON = re.compile("|".join(f"(?:{p})" for p in _FIRST_PERSON_TERMS), re.IGNORECASE)
_DENIAL = re.compile(
    r"\b(?:not|never|no|nothing|nobody|don'?t|didn'?t|doesn'?t|won'?t|wouldn'?t|haven'?t|hasn'?t|isn'?t|wasn'?t"
    r"|aren'?t|can'?t|couldn'?t|nor|without)\b|n't\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.;:!?,]|\b(?:but|and|though|just)\b", re.IGNORECASE)


def _clause_before(text: str, start: int) -> str:
    ends = list(_CLAUSE_END.finditer(text, 0, start))
    return text[ends[-1].end() : start] if ends else text[:start]


def explicit_risk(text: str) -> str | None:
    """The first explicit, non-denied risk phrase in ``text`` (as written), or None."""
    normal = text.replace("\u2019", "'")
    found = [(m, False) for m in _RISK.finditer(normal)] + [(m, True) for m in _RISK_FIRST_PERSON.finditer(normal)]
    for m, first_person in sorted(found, key=lambda x: x[0].start()):
        clause = _clause_before(normal, m.start())
        if _DENIAL.search(clause) or (first_person and not _I.search(clause)):
            continue
        return text[m.start() : m.end()]
    return None
