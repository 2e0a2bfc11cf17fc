"""The sentences of a mission that make a claim, and the lesson tests that guard them.

A *claim* is a sentence of a mission's briefing, watch-for list, debrief or quiz
(question, choices, explanations) that holds a number or a comparative word
("faster", "first", "never", "×", "above", ...). Every claim must be guarded:
some lesson test's docstring starts with the mission's id and a colon, and
quotes (in double quotes) a piece of the sentence, or the sentence is on the
allow-list of ``tests/test_lesson_claims.py`` with a reason.

    from _claims import claims, guards, is_guarded
    claims("the-bowl")         # [(where, sentence), ...]
    guards()                   # {mission: [quoted fragment, ...]} from the lesson tests
    is_guarded(sentence, frags)

Matching ignores case, Markdown emphasis and code marks (``*``, backticks) and
runs of white space; a quote may skip words with "..." or run over several
sentences: each piece guards the sentence that holds it.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from descent_tui.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
#: the lesson-test files whose docstrings guard claims: the lesson suites and the
#: claim guards, one file a mission or a group (``test_claims_*.py``)
LESSON_TESTS = ("test_lessons.py", "test_lessons_new_missions.py", "test_lesson_claims_guards.py")


def lesson_test_files() -> list[Path]:
    tests = ROOT / "tests"
    return [tests / n for n in LESSON_TESTS] + sorted(tests.glob("test_claims_*.py"))

COMPARATIVES = (
    "faster", "slower", "quicker", "sooner", "later", "more", "less", "fewer", "larger",
    "smaller", "bigger", "wider", "narrower", "higher", "lower", "greater", "better",
    "worse", "first", "best", "worst", "never", "always", "only", "times", "above",
    "below", "within", "than", "most", "least", "ahead", "behind", "twice", "half",
    "double", "doubled", "quadruple", "exactly", "every", "fastest", "slowest",
    "largest", "smallest", "lowest", "highest",
)
_WORD = re.compile(r"\b(" + "|".join(COMPARATIVES) + r")\b", re.IGNORECASE)
_NUMBERISH = re.compile(r"[0-9×⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾√]")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z'\"*`(|])|(?<=[.!?]\))\s+")


def normalise(text: str) -> str:
    """Lower case, no ``*``/backticks/quotes, white space collapsed, no trailing full stop."""
    text = re.sub(r"[*`\"“”]", "", text).lower()
    text = " ".join(text.split())
    return text.rstrip(" .")


def is_claim(sentence: str) -> bool:
    return bool(_NUMBERISH.search(sentence) or _WORD.search(sentence))


def _blocks(text: str) -> list[str]:
    """Markdown split into paragraphs, list items, table rows and headings."""
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(" ".join(para))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        starts_item = re.match(r"^([*-] |\d+\. |\||#|> ?\*|    )", raw) is not None
        if not line or starts_item or line.startswith("|"):
            flush()
        if not line:
            continue
        if line.startswith("|") or line.startswith("#"):
            if not re.fullmatch(r"[|\-: ]+", line):
                out.append(line)
            continue
        para.append(re.sub(r"^(\d+\.|[*-]) ", "", line.lstrip("> ")))
    flush()
    return out


def sentences(text: str) -> list[str]:
    """The sentences of a Markdown text, in order."""
    out = []
    for block in _blocks(text):
        out += [s.strip() for s in _SPLIT.split(block) if s.strip()]
    return out


@cache
def texts(mission: str) -> tuple[tuple[str, str], ...]:
    """(where, text) for every text a learner reads in ``mission``."""
    spec = load_scenario(SCENARIOS / f"{mission}.toml").spec
    out = [("briefing", spec.briefing), ("debrief", spec.debrief)]
    out += [(f"watch_for[{i}]", getattr(w, "text", w)) for i, w in enumerate(spec.watch_for)]
    for kind in ("concept", "prediction"):
        for i, q in enumerate(getattr(spec.quiz, kind)):
            out.append((f"{kind}[{i}].question", q.question))
            out += [(f"{kind}[{i}].choice", c) for c in q.choices]
            out.append((f"{kind}[{i}].explanation", q.explanation))
    return tuple(out)


def claims(mission: str) -> list[tuple[str, str]]:
    """(where, sentence) for every claim sentence of ``mission``, deduplicated."""
    seen: set[str] = set()
    out = []
    for where, text in texts(mission):
        for s in sentences(text):
            key = normalise(s)
            if is_claim(s) and key not in seen:
                seen.add(key)
                out.append((where, s))
    return out


_QUOTE = re.compile(r"\"([^\"]+)\"|“([^”]+)”")


def _docstrings() -> list[str]:
    docs = []
    for path in lesson_test_files():
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                doc = ast.get_docstring(node)
                if doc:
                    docs.append(doc)
    return docs


@cache
def guards() -> dict[str, tuple[str, ...]]:
    """{mission: quoted fragments} from lesson-test docstrings.

    A docstring guards sentences of every mission it names as ``mission-id:``;
    a quote belongs to the last mission named before it."""
    out: dict[str, list[str]] = {}
    ids = sorted((p.stem for p in SCENARIOS.glob("*.toml")), key=len, reverse=True)
    name_re = re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r"):")
    for doc in _docstrings():
        current = None
        for m in re.finditer(name_re.pattern + r"|" + _QUOTE.pattern, doc):
            if m.group(1):
                current = m.group(1)
            elif current is not None:
                frag = m.group(2) or m.group(3)
                out.setdefault(current, []).append(frag)
    return {k: tuple(v) for k, v in out.items()}


def pieces(fragment: str) -> list[str]:
    """A quote cut at "..." and at sentence ends: each piece is quoted text."""
    out = []
    for part in re.split(r"\.\.\.|…", fragment):
        out += [normalise(p) for p in _SPLIT.split(part.strip())]
    return [p for p in out if p]


def is_guarded(sentence: str, fragments: tuple[str, ...]) -> bool:
    """Does a piece of one fragment appear in ``sentence``?

    A piece must hold at least 12 characters, or be the whole sentence, so that a
    quote guards the claim and not a stray word."""
    target = normalise(sentence)
    return any(p in target and (len(p) >= 12 or p == target)
               for frag in fragments for p in pieces(frag))
