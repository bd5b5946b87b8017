"""The explicit risk phrases that back up the model's risk_indicator flag."""

from __future__ import annotations

import pytest

from tagger.classify.risk_terms import explicit_risk

FLAGGED = {
    "I just don't want to be here anymore.": "don't want to be here anymore",
    "I've been thinking about killing myself.": "killing myself",
    "Sometimes I think everyone would be better off without me.": "better off without me",
    "I've got tablets in the car. I was going to take them all tonight.": "take them all",
    "Some nights I hope I just don't wake up.": "hope I just don't wake up",
    "I've counted the tablets.": "counted the tablets",
    "I cut again on Saturday.": "I cut again",
    "I've been feeling suicidal since the funeral.": "suicidal",
    "I took an overdose in March.": "overdose",
    "I don\u2019t want to be alive.": "don\u2019t want to be alive",  # curly apostrophe, returned as written
    "Not killing myself. Just wishing I could disappear for a while.": "wishing I could disappear",
    "I wrote a suicide note.": "suicide note",
}

NOT_FLAGGED = [
    "I'd never kill myself, I have my kids.",  # denial in the clause
    "No, I'm not going to hurt myself.",
    "I'm not suicidal, I'm just tired.",
    "I haven't self-harmed in months.",
    "I don't want to be here, my mum made me come.",  # not about being alive
    "I didn't wake up until noon.",
    "My hours got cut again.",
    "I want to end things with him.",
    "My brother died by suicide.",  # a risk factor, not the client's ideation
    "She was suicidal last year.",  # third person
    "My friend overdosed.",
    "Work has been really stressful lately.",
]


@pytest.mark.parametrize(("text", "phrase"), FLAGGED.items())
def test_explicit_statements_are_found(text, phrase):
    assert explicit_risk(text) == phrase


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_denials_third_persons_and_idioms_are_not(text):
    assert explicit_risk(text) is None


def test_other_peoples_self_harm_is_not_the_clients():
    assert explicit_risk("My flatmate used to self-harm in first year, she's doing brilliant now.") is None
    assert explicit_risk("I've been self-harming again since Christmas.") == "self-harming"
