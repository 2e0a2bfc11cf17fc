"""Every claim a mission makes is guarded by a lesson test, or listed with a reason.

The Bar of issue 15: "Every numeric or comparative sentence in every mission's
briefing, watch-for, debrief and quiz explanation is either computed from the run
on screen or asserted by a lesson test (the test names the sentence it guards)."

``tests/_claims.py`` finds the claim sentences and the quotes in lesson-test
docstrings. A claim passes when a quote guards it, or when it is in
``lesson_claims_allowed.txt`` (a definition or an instruction, not a claim about
a run or a fact, with the reason), or in ``lesson_claims_pending.txt``: the sentences not audited yet.
That file is a ratchet: a new unguarded claim fails, and so does a pending line
that is now guarded or gone (delete it), so the list only shrinks.

Quiz questions and choices are not checked: a question asks, and a wrong choice
is false on purpose; the right answer's claim is restated in the explanation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _claims import SCENARIOS, claims, guards, is_guarded, normalise, sentences, texts

MISSIONS = tuple(sorted(p.stem for p in SCENARIOS.glob("*.toml")))
PENDING_FILE = Path(__file__).with_name("lesson_claims_pending.txt")

ALLOWED_FILE = Path(__file__).with_name("lesson_claims_allowed.txt")


def _allowed() -> dict[tuple[str, str], str]:
    """(mission, normalised sentence) -> why it needs no lesson test."""
    out = {}
    for n, line in enumerate(ALLOWED_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            mission, sentence, reason = (line.split("\t") + ["", ""])[:3]
            assert reason.strip(), f"{ALLOWED_FILE.name}:{n}: no reason given"
            out[(mission, sentence)] = reason
    return out


ALLOWED = _allowed()


def checked_claims(mission: str) -> list[str]:
    """The claim sentences of ``mission`` that the Bar covers."""
    return [s for where, s in claims(mission) if not where.endswith((".question", ".choice"))]


def _pending() -> set[tuple[str, str]]:
    out = set()
    for line in PENDING_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            mission, _, sentence = line.partition("\t")
            out.add((mission, sentence))
    return out


def unguarded(mission: str) -> set[str]:
    frags = guards().get(mission, ())
    return {normalise(s) for s in checked_claims(mission) if not is_guarded(s, frags)}


@pytest.mark.parametrize("mission", MISSIONS)
def test_every_claim_is_guarded_allowed_or_pending(mission):
    pending = {s for m, s in _pending() if m == mission}
    allowed = {s for m, s in ALLOWED if m == mission}
    new = unguarded(mission) - pending - allowed
    assert not new, f"{mission}: claims with no guarding lesson test:\n" + "\n".join(sorted(new))


@pytest.mark.parametrize("mission", MISSIONS)
def test_pending_list_only_shrinks(mission):
    """A pending sentence that is now guarded, changed or gone leaves the list."""
    pending = {s for m, s in _pending() if m == mission}
    stale = pending - unguarded(mission)
    assert not stale, f"{mission}: delete from {PENDING_FILE.name}:\n" + "\n".join(sorted(stale))


def test_the_extractor_finds_claims_and_guards():
    """The extractor must see the claims (a broken splitter would pass everything)."""
    assert all(len(checked_claims(m)) >= 10 for m in MISSIONS)
    frags = guards()["the-bowl"]
    assert is_guarded("'best fixed' reaches loss 0.01 after 5 updates, 'just right' after 20.", frags)
    assert not is_guarded("'best fixed' reaches loss 0.01 after 7 updates.", frags)


def test_guards_name_real_sentences():
    """Every quote in a lesson test guards some sentence of its mission (a quote that
    matches nothing guards nothing: the text changed under it)."""
    stale = []
    for mission, frags in guards().items():
        sents = [s for _, text in texts(mission)
                 for s in sentences(text)]
        for f in frags:
            if not any(is_guarded(s, (f,)) for s in sents):
                stale.append(f"{mission}: {f}")
    assert not stale, "\n".join(stale)


@pytest.mark.parametrize("mission", MISSIONS)
def test_allowed_list_names_live_claims(mission):
    """An allowed sentence that changed, went, or is now guarded leaves the list."""
    allowed = {s for m, s in ALLOWED if m == mission}
    stale = allowed - unguarded(mission)
    assert not stale, f"{mission}: delete from {ALLOWED_FILE.name}:\n" + "\n".join(sorted(stale))


def test_allowed_and_pending_do_not_overlap():
    both = set(ALLOWED) & _pending()
    assert not both, "\n".join(f"{m}: {s}" for m, s in sorted(both))


def test_every_quote_in_a_lesson_docstring_is_closed():
    """A quote that ends where the docstring ends loses its closing mark to the
    docstring's own: it is never read as a guard, and its sentence goes unchecked."""
    from _claims import _docstrings

    odd = [doc[:80] for doc in _docstrings() if doc.count('"') % 2]
    assert not odd, "an unclosed quote (leave a space before the closing marks):\n" + "\n".join(odd)
