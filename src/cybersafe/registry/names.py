"""Names people read on a label page: manufacturer, product and model names, issuer and witness names.

A name that looks like another is how a look-alike manufacturer passes for the real one, so names are held
to Unicode's security rules (UTS #39, https://www.unicode.org/reports/tr39/):

- a name must be in NFKC form, typed by an admin or signed (signed text cannot be changed without breaking
  its signature, and a typed name is never silently respelt): a full-width "Ｗidget" or "Nordlicht™" is
  refused, naming the character and the NFKC spelling;
- bidi controls (a right-to-left override can reverse what is shown), zero-width and other
  default-ignorable characters, and control characters are refused; bidi controls and invisible characters
  also in free text shown to consumers (``check_text``: update instructions, password guidance, reasons);
- a word may not mix scripts (a Cyrillic "і" inside a Latin word), except the combinations TR39 allows for
  Japanese, Chinese and Korean, also with Latin (section 5.2 "Highly Restrictive": Latin + Han + Hiragana +
  Katakana, Latin + Han + Bopomofo, Latin + Han + Hangul);
- the TR39 *skeleton* (``skeleton``) maps every character to the prototype it looks like; two names with
  the same skeleton but different spelling are confusable, and a new one needs an admin's approval.

Every refusal is one line naming the field and the character (``U+0456 CYRILLIC SMALL LETTER
BYELORUSSIAN-UKRAINIAN I``).
"""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources

import regex
from fontTools import unicodedata as ucd

from cybersafe.registry.interface import Rejected

# Script sets TR39 5.1 treats as one ("Jpan", "Kore", "Hanb"): a word in these combinations is not mixed.
_AUGMENT = {
    "Hani": {"Hani", "Hira", "Kana", "Hang", "Bopo"},
    "Hira": {"Hani", "Hira", "Kana"},
    "Kana": {"Hani", "Hira", "Kana"},
    "Hang": {"Hani", "Hang"},
    "Bopo": {"Hani", "Bopo"},
}
# UTS #39 5.2 "Highly Restrictive": a word whose characters are all in one of these sets is not mixed either
# (Latin with Japanese, Chinese or Korean writing: "NTTドコモ", "Xiaomi小米", "LG전자").
_HIGHLY_RESTRICTIVE = (
    frozenset({"Latn", "Hani", "Hira", "Kana"}),
    frozenset({"Latn", "Hani", "Bopo"}),
    frozenset({"Latn", "Hani", "Hang"}),
)
_ANY_SCRIPT = {"Zyyy", "Zinh"}  # Common and Inherited: digits, punctuation, combining marks
# Bidi controls (UAX #9) that reorder or isolate text: a name must read in the order it is stored.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width and other default-ignorable characters (joiners, variation selectors, fillers) draw nothing.
_INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")


def describe(char: str) -> str:
    """``U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I``."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def normalise(text: str) -> str:
    """Admin input: whitespace collapsed to single spaces; the spelling is kept as typed (``check_name`` refuses
    one that is not NFKC, naming the NFKC spelling, rather than silently changing it: ``™`` is not ``TM``)."""
    return " ".join(text.split())


def name_key(text: str) -> str:
    """What makes two names the same name: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def check_name(field: str, text: str, *, signed: bool) -> None:
    """Refuse a name a reader could be fooled by (Rejected, 422, one line naming the character)."""
    for char in text:
        problem = _character_problem(char)
        if problem:
            raise Rejected(f"{field}: {describe(char)} is not allowed in a name ({problem})")
    nfkc = unicodedata.normalize("NFKC", text)
    if nfkc != text:
        char = _first_non_nfkc(text)
        raise Rejected(
            f"{field}: {describe(char)} is not allowed in a name (names must be in Unicode NFKC form; "
            f"{'sign the label with' if signed else 'type'} {nfkc!r} instead)"
        )
    for word in text.split():
        mixed = _mixed_script_character(word)
        if mixed is not None:
            raise Rejected(
                f"{field}: {describe(mixed)} is not allowed in a name (the word {word!r} mixes scripts: "
                f"{', '.join(sorted(_scripts_of(word)))})"
            )


def check_text(field: str, text: str) -> None:
    """Refuse free text shown to consumers (update instructions, default-password and configuration guidance,
    a revocation's reason) that holds a bidi control or an invisible character: a right-to-left override can
    make a reversed link read as another site (Rejected, 422, one line naming the character). Line breaks,
    mixed scripts and non-NFKC spellings are fine in prose."""
    for char in text:
        problem = _hidden_problem(char, "the text")
        if problem:
            raise Rejected(f"{field}: {describe(char)} is not allowed in text shown to consumers ({problem})")


def _hidden_problem(char: str, what: str) -> str | None:
    """Why ``char`` can deceive a reader of ``what`` (a name, the text): a bidi control or an invisible
    character; None otherwise."""
    if char in _BIDI_CONTROLS:
        return f"a bidirectional control can change the order in which {what} is shown"
    if unicodedata.category(char) == "Cf" or _INVISIBLE.match(char):
        return f"an invisible character can hide inside {what}"
    return None


def _character_problem(char: str) -> str | None:
    hidden = _hidden_problem(char, "a name")
    if hidden:
        return hidden
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Co", "Cn") or category in ("Zl", "Zp"):
        return "control, private-use or unassigned characters are not text"
    if category == "Zs" and char != " ":
        return "only the ordinary space may separate words"
    return None


def _first_non_nfkc(text: str) -> str:
    """The character at which the text stops being NFKC: a compatibility character (``™``, full-width ``Ｗ``)
    or a combining mark that composes with what precedes it (``u`` + U+0308 in decomposed ``Müller``)."""
    for end in range(1, len(text) + 1):
        prefix = text[:end]
        if unicodedata.normalize("NFKC", prefix) != prefix:
            return text[end - 1]
    return text[-1]


def _scripts_of(word: str) -> set[str]:
    scripts: set[str] = set()
    for char in word:
        scripts |= set(ucd.script_extension(char)) - _ANY_SCRIPT
    return scripts


def _mixed_script_character(word: str) -> str | None:
    """None when the word's resolved script set (TR39 5.1) is not empty or the word is "Highly Restrictive"
    (TR39 5.2: Latin with Han and Japanese kana, Bopomofo or Hangul); else the first character that is not in
    the word's most common script (the odd one out, as a reader would point at it)."""
    resolved: set[str] | None = None
    sets: list[tuple[str, set[str]]] = []
    owns: list[tuple[str, set[str]]] = []
    for char in word:
        own = set(ucd.script_extension(char))
        if own & _ANY_SCRIPT:
            continue
        owns.append((char, own))
        augmented = set().union(*(_AUGMENT.get(s, {s}) for s in own))
        sets.append((char, augmented))
        resolved = augmented if resolved is None else resolved & augmented
    if resolved is None or resolved:
        return None
    if any(all(own & allowed for _, own in owns) for allowed in _HIGHLY_RESTRICTIVE):
        return None
    counts: dict[str, int] = {}
    for _, scripts in sets:
        for script in scripts:
            counts[script] = counts.get(script, 0) + 1
    majority = max(counts, key=lambda script: counts[script])
    return next(char for char, scripts in sets if majority not in scripts)


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt (UTS #39 17.0.0, registry/data/README.md): source character -> prototype."""
    table: dict[str, str] = {}
    text = resources.files("cybersafe.registry").joinpath("data/confusables.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (part.strip() for part in data.split(";"))
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """TR39 section 4 skeleton of the NFKC text: NFD, each character mapped to its prototype, NFD again;
    then case-folded with whitespace collapsed, since registry names are not case-sensitive. Mapping before
    folding keeps capital I and small l confusable, as they look."""
    table = _prototypes()
    source = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    mapped = unicodedata.normalize("NFD", "".join(table.get(char, char) for char in source))
    return " ".join(mapped.casefold().split())
