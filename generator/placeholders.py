"""The ``{name}`` fields that content may use, what each means, and their values per clinic.

Values differ per clinic (and per route for protocol values), so they are never written into
the text. Durations are phrases built with ``ngettext`` so each language uses its own plural
forms ("1 hour", "6 hours"; Russian and Arabic have more forms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_decimal

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
    "clear_liquids_time": "a time phrase such as '2 hours': how long before the session to stop drinking liquids",
    "stay_time": "a time phrase such as '1 hour': the least time the patient stays at the clinic after the medicine",
    "session_time": "a time phrase such as '2 hours': how long the whole visit takes",
    "poison_control": "the poison help line's phone number",
    "ride_home": "a whole sentence chosen by the clinic about how the patient gets home",
}


#: Placeholders of one kind: two of a kind swapped in a translation change who the patient
#: calls, or which wait is which (a warning in ``handouts check``).
KINDS: dict[str, str] = {
    "clinic_phone": "phone number",
    "after_hours_phone": "phone number",
    "emergency_number": "phone number",
    "crisis_line": "phone number",
    "poison_control": "phone number",
    "fasting_time": "time",
    "clear_liquids_time": "time",
    "stay_time": "time",
    "session_time": "time",
}


def translator_comments(text: str, names: list[str]) -> list[str]:
    """The comments the POT carries for a unit: one per placeholder it uses."""
    comments = [
        f"{{{name}}} is {PLACEHOLDERS.get(name, 'NOT A KNOWN PLACEHOLDER')}. Keep it exactly as written."
        for name in dict.fromkeys(names)
    ]
    if "**" in text or "*" in text or "](" in text:
        comments.append("Keep the Markdown marks (** for bold, * for italics, [text](link)).")
    return comments


def formats_locale(region: str | None, tr: Translator) -> Locale:
    """The locale whose date and number formats a handout prints: the clinic's region
    (``en_GB``: "21 November 2026") when the handout is in the region's language, else the
    handout language's own (CLDR's formats for ``ar``, ``zh_Hans``, ``hi``...)."""
    if region:
        try:
            local = Locale.parse(region)
        except (ValueError, UnknownLocaleError):  # config.py accepts only locales Babel knows
            return tr.locale
        if local.language == tr.locale.language and (tr.locale.script or None) in (None, local.script):
            return local
    return tr.locale


def duration(minutes: int, tr: Translator, locale: Locale | None = None) -> str:
    """A time phrase as people say it: whole hours as hours ("2 hours"), under an hour as
    minutes ("30 minutes"), anything else as both ("2 hours 30 minutes", never "150
    minutes" or "2.5 hours"). Numbers are written the locale's way (Babel) and each noun
    takes the catalog's plural form."""
    locale = locale or tr.locale
    hours, rest = divmod(minutes, 60)
    hours_phrase = tr.ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": format_decimal(hours, locale=locale)}
    minutes_phrase = tr.ngettext("%(num)s minute", "%(num)s minutes", rest) % {
        "num": format_decimal(rest, locale=locale)
    }
    if not rest:
        return hours_phrase
    if not hours:
        return minutes_phrase
    # TRANSLATORS: "2 hours" and "30 minutes" as one time phrase; join them as your language does.
    return tr.gettext("%(hours)s %(minutes)s") % {"hours": hours_phrase, "minutes": minutes_phrase}


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


def crisis_line_notes(clinic: Clinic, tr: Translator) -> tuple[str, str]:
    """What the Get-help box says under the crisis line: how to reach it (calls, texts) and,
    when it does not answer in the handout's language, the languages it does ("(in
    English)"): a handout never promises a text service or a language the clinic's file
    does not give. The text number itself is printed by the template."""
    contact = clinic.contact
    if not contact.crisis_line_text:
        how = tr.gettext("Calls only")
    elif contact.crisis_line_text == contact.crisis_line:
        how = tr.gettext("Call or text")
    else:
        how = ""  # the template prints "Text %(number)s" with the number isolated
    offered = [Locale.parse(lang.replace("-", "_")) for lang in contact.crisis_line_languages]
    if any(lang.language == tr.locale.language for lang in offered):
        return how, ""
    # Babel has no names in some languages (Haitian Creole): each language's own name then
    names = [lang.get_language_name(tr.locale) or lang.get_language_name(lang) or str(lang) for lang in offered]
    # TRANSLATORS: the languages the crisis line answers in ("English", "English and Spanish").
    return how, tr.gettext("(in %(languages)s)") % {"languages": format_list(names, locale=tr.locale)}


def values(clinic: Clinic, route_id: str, tr: Translator) -> dict[str, str]:
    """The value of every placeholder for one clinic, route and language."""
    protocol = clinic.protocol[route_id]
    locale = formats_locale(clinic.region, tr)
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "after_hours_phone": clinic.after_hours_phone,
        "emergency_number": clinic.emergency_number,
        "crisis_line": clinic.crisis_line,
        "fasting_time": duration(protocol.fasting_minutes, tr, locale),
        "clear_liquids_time": duration(protocol.clear_liquids_minutes, tr, locale),
        "stay_time": duration(protocol.stay_minutes, tr, locale),
        "session_time": duration(protocol.session_minutes, tr, locale),
        "poison_control": clinic.poison_control,
        "ride_home": ride_home_sentence(protocol.driver_required, tr),
    }
