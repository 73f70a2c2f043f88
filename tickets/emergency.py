"""Is this request an emergency, and how urgent is it? Pure functions over a
form's answers and definitions (a ticket's snapshot or a draft's form): no
database, no clock.

An emergency is a chosen option whose priority is "emergency" (the fourth
part of a choice line, RequestField.choices), or free text that reads like
one: water running out of a wall, gas smell, fire, smoke, sparks, a power
cut. Such a request stops the member before sending and asks them to call
(tickets.views.request_review); once sent it alerts the team's on-call
person (tickets.on_call).

The text is read folded (core.text.fold: "Gasgeruch", "GASGERUCH" and
"gasgeruch" are alike; umlauts spelt out, so "überschwemmt" is
"ueberschwemmt"), a phrase at a time, not word by word, so that everyday
requests do not call out the emergency service. How some phrases are judged,
and why (tests/test_emergency.py holds the whole table):

* "Wasserhahn tropft", "Wasserfleck an der Decke", "Heizung kalt": no
  emergency. A dripping tap is a repair; a cold radiator is urgent in
  winter, which the member says with the "urgent" option, but it harms
  nobody within the hour.
* "Rauchmelder piept": no emergency (the battery is low). "Rauchmelder
  schlägt Alarm", "es riecht nach Rauch", "Rauch im Treppenhaus": fire.
* "Licht brennt nicht", "die Lampe im Flur brennt die ganze Nacht": no
  emergency (a lamp burns); "es brennt", "der Herd brennt": fire.
* "Nachbar raucht auf dem Balkon": a neighbour dispute, not fire. "Es
  raucht aus der Steckdose": fire.
* "kein Gasgeruch mehr": negated, no emergency; "kein Strom": a power cut.
* "Wasser läuft aus der Wand", "Wasser tropft von der Decke",
  "Rohrbruch", "Keller steht unter Wasser", "überschwemmt": water.

Fire and gas need other numbers than water (FIRE, GAS → Feuerwehr 112;
GAS, POWER → the utility's fault service; always the cooperative's own
emergency number), so each reason says its kind."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.text import fold

# Kinds of danger.
FIRE = "fire"
GAS = "gas"
WATER = "water"
POWER = "power"
OTHER = "other"

# Where an answer's wording came from.
OPTION = "option"  # a chosen option of priority "emergency"
TEXT = "text"  # the built-in phrases below
WORD = "word"  # the cooperative's own words (Cooperative.emergency_words)

# Priorities from lowest to highest, as routing.models.Priority lists them
# (plain strings here: this module stays free of models).
PRIORITIES = ("low", "normal", "high", "urgent", "emergency")
EMERGENCY = "emergency"

# Field kinds whose answers are free text (tickets.models.FieldKind).
TEXT_KINDS = frozenset({"text", "textarea"})
CHOICE_KINDS = frozenset({"choice", "multichoice"})

# A negation just before a phrase ("kein Gasgeruch mehr", "no smell of gas").
_NEGATION = re.compile(r"\b(?:kein|keine|keinen|keinerlei|nicht|nie|no|not|never)\s+$")
# A few words of filler inside a phrase: "Wasser läuft seit heute aus der Wand".
_GAP = r"(?:\s+\S+){0,4}?\s+"
_LAMP = r"(?:licht|lampe|leuchte|birne|gluehbirne|beleuchtung|kerze|lampen|strahler)\w*"


@dataclass(frozen=True)
class Phrase:
    kind: str
    pattern: re.Pattern
    # The phrase does not count when this matches the phrase itself, its
    # next few characters or the `look_back` characters before it (a lamp
    # "burns", a light that "brennt nicht", "kein warmes Wasser").
    unless: re.Pattern | None = None
    look_back: int = 0
    # Whether "kein …" / "no …" just before it cancels it ("kein Strom" is
    # itself the emergency).
    negatable: bool = True


def _phrase(kind, pattern, unless=None, look_back=0, negatable=True) -> Phrase:
    return Phrase(
        kind=kind,
        pattern=re.compile(pattern),
        unless=re.compile(unless) if unless else None,
        look_back=look_back,
        negatable=negatable,
    )


_WATER_VERB = r"(?:laeuft|lauft|kommt|spritzt|schiesst|stroemt|dringt|tropft|sprudelt|quillt)"
_WATER_PLACE = (
    r"(?:wand|waende|decke|boden|fussboden|steckdose|lampe|leitung|rohr|keller|treppenhaus"
    r"|wohnung)\w*"
)
# "Wasser läuft nicht ab" is a blocked drain; "kein warmes Wasser" a boiler.
_WATER_NOT = r"\b(?:nicht|nich|kein\w*|schlecht|langsam)\b"
_WATER_EN = r"(?:pouring|gushing|running|coming|leaking|spraying|flowing|dripping)"

PHRASES: tuple[Phrase, ...] = (
    # Fire and smoke.
    _phrase(FIRE, r"\bfeuer\b"),
    _phrase(FIRE, r"\bbrand\b|\bbrandgeruch|\bschmorgeruch|\bschmort\b|\bkokelt\b"),
    _phrase(
        FIRE,
        r"\bbrennt\b",
        unless=r"\b" + _LAMP + r"(?:\s+\S+){0,4}?\s+brennt\b|\bbrennt\s+(?:nicht|nich|kaum)\b",
        look_back=40,
    ),
    _phrase(FIRE, r"\bflammen?\b"),
    _phrase(FIRE, r"\brauch\b|\bqualm\w*"),
    _phrase(FIRE, r"\bes\s+raucht\b|\braucht\s+aus\b|\briecht\w*\s+verbrannt\b"),
    _phrase(FIRE, r"\bfunken\w*|\bfunkt\b", unless=r"\bfunkt\s+(?:nicht|nich)\b"),
    _phrase(FIRE, r"\brauchmelder\w*" + _GAP + r"(?:alarm|heult|schrillt|loest\s+aus)"),
    _phrase(FIRE, r"\bfire\b(?!\s+(?:door|extinguisher|escape|exit|brigade\s+access))"),
    _phrase(FIRE, r"\bon\s+fire\b|\bburning\b|\bflames?\b|\bsparks?\b|\bsparking\b"),
    _phrase(FIRE, r"\bsmoke\b(?!\s+(?:detector|alarm))|\bsmoking\s+socket"),
    _phrase(FIRE, r"\bsmoke\s+(?:detector|alarm)s?\s+(?:is\s+)?(?:going\s+off|sounding|ringing)"),
    # Gas.
    _phrase(GAS, r"\bgasgeruch|\bgasleck|\bgasaustritt"),
    _phrase(GAS, r"\briecht\w*" + _GAP + r"nach\s+gas\b|\bnach\s+gas\s+riecht|\bgas\s+riecht"),
    _phrase(GAS, r"\bgas\s+(?:tritt|stroemt|entweicht)\b"),
    _phrase(GAS, r"\bsmell\w*\s+(?:of\s+)?gas\b|\bgas\s+(?:smell|leak)\w*|\bsmells?\s+like\s+gas"),
    # Water.
    _phrase(
        WATER,
        r"rohrbruch|(?:rohr|leitung|schlauch)\w*"
        + _GAP
        + r"geplatzt|\bgeplatzt\w*\s+(?:rohr|leitung)",
    ),
    _phrase(WATER, r"\bueberschwemm\w*|\bueberflutet\b|\bsteht\s+unter\s+wasser\b"),
    _phrase(
        WATER,
        r"\bwasser"
        + _GAP
        + _WATER_VERB
        + _GAP
        + r"(?:aus|durch|von|in|an|unter)"
        + _GAP
        + r"(?:\S+\s+)?"
        + _WATER_PLACE,
        unless=_WATER_NOT,
    ),
    _phrase(
        WATER,
        r"\b(?:aus|durch|von)\s+(?:der|den|dem|die)\s+"
        + _WATER_PLACE
        + _GAP
        + _WATER_VERB
        + r"(?:\s+\S+){0,2}?\s+wasser\b",
        unless=_WATER_NOT,
    ),
    _phrase(WATER, r"\bwasser\s+(?:spritzt|schiesst|stroemt|sprudelt)\b"),
    _phrase(WATER, r"\bburst\s+pipe|\bpipe\s+(?:has\s+)?burst|\bflood(?:ed|ing)?\b"),
    _phrase(
        WATER,
        r"\bwater\s+(?:is\s+)?"
        + _WATER_EN
        + r"\s+(?:out\s+of|through|from)\s+(?:the\s+)?(?:wall|ceiling|floor|socket)",
    ),
    # Power.
    _phrase(POWER, r"\bkein\w*\s+strom\b|\bohne\s+strom\b", negatable=False),
    _phrase(POWER, r"\bstromausfall|\bstrom\s+(?:ist\s+)?(?:weg|ausgefallen)\b"),
    _phrase(POWER, r"\bkurzschluss|\bstromschlag"),
    _phrase(
        POWER, r"\bno\s+(?:power|electricity)\b|\bpower\s+(?:cut|outage|failure)\b", negatable=False
    ),
    _phrase(POWER, r"\bshort\s+circuit|\belectric\s+shock"),
)


@dataclass(frozen=True)
class EmergencyReason:
    kind: str  # FIRE, GAS, WATER, POWER or OTHER
    source: str  # OPTION, TEXT or WORD
    # What was chosen or typed, as the member wrote it (an option's label
    # {"de": …, "en": …} for OPTION, the matched words otherwise).
    text: str
    option: Mapping[str, str] | None = None


def _chosen(definition: Mapping, answer) -> list[Mapping]:
    values = answer if isinstance(answer, list | tuple) else [answer]
    wanted = {str(v) for v in values if v not in (None, "")}
    return [c for c in definition.get("choices") or [] if c.get("value") in wanted]


def option_priority(*, answers: Mapping, definitions: Sequence[Mapping]):
    """The highest priority among the chosen options that carry one, with
    that option ({"value", "de", "en", "priority"}); (None, None) when no
    chosen option sets a priority. An unknown priority is ignored (the
    admin refuses it; an old snapshot may still hold one)."""
    best, best_option = None, None
    for definition in definitions:
        if definition.get("kind") not in CHOICE_KINDS:
            continue
        for option in _chosen(definition, answers.get(definition.get("key"))):
            priority = option.get("priority")
            if priority not in PRIORITIES:
                continue
            if best is None or PRIORITIES.index(priority) > PRIORITIES.index(best):
                best, best_option = priority, option
    return best, best_option


def priority_higher(a: str, b: str) -> bool:
    """Whether priority `a` ranks above `b` (unknown values rank lowest)."""
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    return rank.get(a, -1) > rank.get(b, -1)


def _free_text(answers: Mapping, definitions: Sequence[Mapping]) -> str:
    parts = []
    for definition in definitions:
        if definition.get("kind") not in TEXT_KINDS:
            continue
        value = answers.get(definition.get("key"))
        if isinstance(value, str) and value.strip():
            parts.append(value)
    # One line per answer: a phrase never runs from one answer into the next.
    return "\n".join(parts)


def words_parse(words: str) -> list[str]:
    """The cooperative's extra emergency words: one per line, folded."""
    return [folded for line in (words or "").splitlines() if (folded := fold(line.strip()))]


def _text_reasons(text: str, words: Iterable[str]) -> list[EmergencyReason]:
    folded = fold(text)
    found = []
    for phrase in PHRASES:
        for match in phrase.pattern.finditer(folded):
            before = folded[max(0, match.start() - 20) : match.start()]
            if phrase.negatable and _NEGATION.search(before):
                continue
            if phrase.unless is not None:
                window = folded[max(0, match.start() - phrase.look_back) : match.end() + 15]
                if phrase.unless.search(window):
                    continue
            found.append(EmergencyReason(kind=phrase.kind, source=TEXT, text=match.group(0)))
            break  # one reason per phrase is enough
    for word in words:
        match = re.search(r"(?<!\w)" + re.escape(word), folded)
        if match and not _NEGATION.search(folded[max(0, match.start() - 20) : match.start()]):
            found.append(EmergencyReason(kind=OTHER, source=WORD, text=word))
    return found


def emergency_reasons(
    *, answers: Mapping, definitions: Sequence[Mapping], words: str = ""
) -> tuple[EmergencyReason, ...]:
    """Why this request is an emergency; empty when it is not.

    `answers` and `definitions` as a ticket stores them (Ticket.answers,
    Ticket.fields_snapshot); `words` the cooperative's extra words, one per
    line (Cooperative.emergency_words). Only free-text answers are read for
    phrases; a choice counts by its priority, not by its label."""
    reasons = []
    for definition in definitions:
        if definition.get("kind") not in CHOICE_KINDS:
            continue
        for option in _chosen(definition, answers.get(definition.get("key"))):
            if option.get("priority") == EMERGENCY:
                reasons.append(
                    EmergencyReason(
                        kind=OTHER, source=OPTION, text=option.get("de", ""), option=option
                    )
                )
    reasons += _text_reasons(_free_text(answers, definitions), words_parse(words))
    return tuple(reasons)


def kinds(reasons: Iterable[EmergencyReason]) -> frozenset[str]:
    return frozenset(reason.kind for reason in reasons)


def needs_fire_brigade(reasons: Iterable[EmergencyReason]) -> bool:
    """Fire or gas: the fire brigade (112) first."""
    return bool(kinds(reasons) & {FIRE, GAS})


def needs_utility(reasons: Iterable[EmergencyReason]) -> bool:
    """Gas smell or a power cut: the utility's fault service."""
    return bool(kinds(reasons) & {GAS, POWER})
