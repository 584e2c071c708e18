"""The ``{name}`` fields that content may use, what each means, and their values per clinic.

Values differ per clinic (and per route for protocol values), so they are never written into
the text. Durations are phrases built with ``ngettext`` so each language uses its own plural
forms ("1 hour", "6 hours"; Russian and Arabic have more forms).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .config import Clinic
    from .translation import Translator

#: name -> explanation, written into the POT as a translator comment wherever it is used.
PLACEHOLDERS: dict[str, str] = {
    "clinic_name": "the clinic's name",
    "clinic_phone": "the clinic's main phone number",
    "after_hours_phone": "the phone number to call at night and on weekends",
    "emergency_number": "the local emergency number, e.g. 911 or 112",
    "crisis_line": "the suicide and crisis line number, e.g. 988",
    "fasting_time": "a time phrase such as '6 hours': how long before the session not to eat",
    "clear_liquids_time": "a time phrase such as '2 hours': how long before the session "
                          "to stop drinking liquids",
    "stay_time": "a time phrase such as '1 hour': the least time the patient stays at the "
                 "clinic after the medicine",
    "session_time": "a time phrase such as '2 hours': how long the whole visit takes",
    "poison_control": "the poison help line's phone number",
    "ride_home": "a whole sentence chosen by the clinic about how the patient gets home",
}


#: Placeholders of one kind: two of a kind swapped in a translation change who the patient
#: calls, or which wait is which (a warning in ``handouts check``).
KINDS: dict[str, str] = {
    "clinic_phone": "phone number", "after_hours_phone": "phone number",
    "emergency_number": "phone number", "crisis_line": "phone number",
    "poison_control": "phone number",
    "fasting_time": "time", "clear_liquids_time": "time", "stay_time": "time",
    "session_time": "time",
}


def translator_comments(text: str, names: list[str]) -> list[str]:
    """The comments the POT carries for a unit: one per placeholder it uses."""
    comments = [f"{{{name}}} is {PLACEHOLDERS.get(name, 'NOT A KNOWN PLACEHOLDER')}. "
                "Keep it exactly as written." for name in dict.fromkeys(names)]
    if "**" in text or "*" in text or "](" in text:
        comments.append("Keep the Markdown marks (** for bold, * for italics, [text](link)).")
    return comments


def duration(minutes: int, tr: Translator) -> str:
    """A time phrase: whole hours as hours, anything else as minutes; the number is
    written the language's way (Babel) and the noun takes the catalog's plural form."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return tr.ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": tr.number(hours)}
    return tr.ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": tr.number(minutes)}


RIDE_HOME_REQUIRED = "An adult must take you home. You cannot leave alone."
RIDE_HOME_PLAN = "Plan how you will get home. Do not drive yourself."
#: Phrases built in code that fill a safety-critical unit ({ride_home}): their translations
#: are checked against the glossary like the content's safety units.
SAFETY_MSGIDS = frozenset({RIDE_HOME_REQUIRED, RIDE_HOME_PLAN})


def ride_home_sentence(required: bool, tr: Translator) -> str:
    # the msgids are written out for the extractor (babel.cfg reads tr.gettext calls)
    if required:
        return tr.gettext("An adult must take you home. You cannot leave alone.")
    return tr.gettext("Plan how you will get home. Do not drive yourself.")


def values(clinic: Clinic, route_id: str, tr: Translator) -> dict[str, str]:
    """The value of every placeholder for one clinic, route and language."""
    protocol = clinic.protocol[route_id]
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "after_hours_phone": clinic.after_hours_phone,
        "emergency_number": clinic.emergency_number,
        "crisis_line": clinic.crisis_line,
        "fasting_time": duration(protocol.fasting_minutes, tr),
        "clear_liquids_time": duration(protocol.clear_liquids_minutes, tr),
        "stay_time": duration(protocol.stay_minutes, tr),
        "session_time": duration(protocol.session_minutes, tr),
        "poison_control": clinic.poison_control,
        "ride_home": ride_home_sentence(protocol.driver_required, tr),
    }
