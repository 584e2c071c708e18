"""``handouts new-clinic ID``: a commented clinic file and a placeholder logo to start from.

The protocol values are left for the clinic's medical director to fill in: until they are,
``handouts check`` names each one missing, and nothing is built with a guess.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from .config import CLINIC_ID_RE, RESERVED_IDS, ConfigError, load_clinic
from .content import ROUTE_IDS
from .errors import UsageError


@dataclass(frozen=True)
class NewClinic:
    id: str
    name: str
    phone: str
    after_hours_phone: str
    emergency_number: str
    crisis_line: str
    paper: str = "letter"
    languages: tuple[str, ...] = ("en",)
    routes: tuple[str, ...] = ROUTE_IDS
    primary: str = "#1d5b79"


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def clinic_toml(new: NewClinic) -> str:
    routes = ", ".join(map(_q, new.routes))
    protocol = "".join(
        f"""
[protocol.{route}]
# session_hours = ?              # the whole visit, check-in to going home (or session_minutes)
# fasting_hours = ?              # no food before the session (or fasting_minutes)
# clear_liquids_hours = ?        # no liquids before the session (or clear_liquids_minutes)
# stay_minutes = ?               # least time at the clinic after the medicine (or stay_hours)
# driver_required = ?            # true: an adult must take the patient home
"""
        for route in new.routes
    )
    poison = (
        '# poison_control = "?"         # the poison help line, printed for doses at home\n'
        if "oral" in new.routes
        else ""
    )
    return f"""\
# {new.name}: written by `handouts new-clinic {new.id}`. See README.md, "Adding a clinic".
# `handouts check` names what is still missing; `handouts build --clinic {new.id}` builds it.
name = {_q(new.name)}
logo = {_q(new.id + "-logo.svg")}      # SVG or PNG beside this file: replace the placeholder
paper = {_q(new.paper)}                  # letter or a4
# region = "en_US"              # your country: its date format in handouts in its language
# Babel ids; each needs locales/<id>/LC_MESSAGES/messages.po (`handouts i18n init <id>`)
languages = [{", ".join(map(_q, new.languages))}]
routes = [{routes}]             # iv, intranasal, im, oral

[colors]
primary = {_q(new.primary)}             # header band and headings: dark enough for white text
accent = "#8fc1d4"              # rules under headings

[contact]                       # printed in every handout: check each digit
phone = {_q(new.phone)}
after_hours_phone = {_q(new.after_hours_phone)}
emergency_number = {_q(new.emergency_number)}
crisis_line = {_q(new.crisis_line)}
# crisis_line_text = "?"        # the number to text the crisis line at, if it takes texts
# crisis_line_languages = ["en"]  # the languages it answers in; other handouts say so
# emergency_alternative = "?"   # another number for the same emergency services (112)
# urgent_advice = "?"           # urgent advice that is not an emergency (NHS 111)
{poison}
# [online]                      # where the clinic publishes each handout: a QR code to it
# handout_url = "https://your-clinic.example/handouts/{{language}}/{{file}}"

[editions]
large_print = true              # a large-print edition of every handout
bilingual = []                  # languages that also get an edition beside English

# Protocol values come from the clinic's medical director; every number printed about
# fasting and staying comes from here. Fill in each one (whole hours or minutes).
{protocol}"""


def placeholder_logo(new: NewClinic) -> str:
    initials = "".join(word[0] for word in new.name.split()[:3] if word[:1].isalnum()).upper() or "?"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="100" height="100">'
        f'<rect width="100" height="100" rx="14" fill="{html.escape(new.primary)}"/>'
        f'<text x="50" y="62" font-family="Noto Sans" font-size="34" font-weight="bold" '
        f'text-anchor="middle" fill="#ffffff">{html.escape(initials)}</text></svg>\n'
    )


def new_clinic(clinics: Path, new: NewClinic, known_languages: set[str]) -> tuple[list[Path], list[str]]:
    """Write the clinic's file and placeholder logo; return them and what is left to do
    (``path:line: error: ...`` lines: the protocol values, and anything wrong in the options)."""
    if not CLINIC_ID_RE.match(new.id) or new.id in RESERVED_IDS:
        raise UsageError(
            f"'{new.id}' is not a clinic id: up to 64 letters, digits, - and _, starting with a letter or digit"
        )
    toml, logo = clinics / f"{new.id}.toml", clinics / f"{new.id}-logo.svg"
    for path in (toml, logo):
        if path.exists():
            raise UsageError(f"{path} exists already; choose another id or edit that file")
    clinics.mkdir(parents=True, exist_ok=True)
    logo.write_text(placeholder_logo(new), "utf-8")
    toml.write_text(clinic_toml(new), "utf-8")
    try:
        load_clinic(toml, known_languages)
    except ConfigError as exc:
        return [toml, logo], str(exc).splitlines()
    return [toml, logo], []
