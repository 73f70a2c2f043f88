"""The routing reason in words, in the reader's language. The reason is
stored as data (routing.decide) so each staff member reads it in theirs."""

from collections.abc import Mapping

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from routing.models import Priority


def _handler_part(reason: Mapping) -> str:
    how = reason.get("how")
    values = {
        "handler": reason.get("handler", ""),
        "estate": reason.get("estate", ""),
        "absent": reason.get("absent", ""),
        "open": reason.get("open", 0),
    }
    texts = {
        "manager": _("handler %(handler)s (property manager of %(estate)s)"),
        "caretaker": _("handler %(handler)s (caretaker of %(estate)s)"),
        "substitute": _("handler %(handler)s (substitute for %(absent)s, who is absent)"),
        "in_turn": _("handler %(handler)s (in turn)"),
        "least_open": _("handler %(handler)s (fewest open requests: %(open)s)"),
        "absent_no_substitute": _(
            "%(absent)s is absent and has no substitute: in the team's queue"
        ),
        "no_manager": _("no property manager for this estate: in the team's queue"),
        "no_caretaker": _("no caretaker for this estate: in the team's queue"),
        "nobody_available": _("nobody in the team is available: in the team's queue"),
        "queue": _("in the team's queue"),
    }
    return texts[how] % values if how in texts else ""


def _raised_part(raised: Mapping) -> str:
    """The member's answers raised the priority (tickets.route): by a form
    option, or because the text reads like an emergency."""
    value = raised.get("priority", "")
    priority = Priority(value).label if value in Priority.values else value
    if raised.get("by") == "text":
        text = _("Priority raised to “%(priority)s”: the text reads like an emergency (%(words)s)")
        text %= {"priority": priority, "words": raised.get("words", "")}
    else:
        option = raised.get("en") if get_language() == "en" else raised.get("de")
        text = _("Priority raised to “%(priority)s” by the answer “%(option)s”") % {
            "priority": priority,
            "option": option or raised.get("de", ""),
        }
    if raised.get("policy"):
        text += "; " + _("deadlines of the SLA policy “%(policy)s”") % {"policy": raised["policy"]}
    return text


def reason_text(reason: Mapping | None) -> str:
    """E.g. "Rule 3 “Repairs Nord” → Technik; handler Hanna Beispiel
    (property manager of Wohnanlage Nord)"."""
    if not reason:
        return ""
    how = reason.get("how")
    if how == "default_team":
        text = _("No rule matched → default team of the form: %(team)s (team's queue)") % {
            "team": reason.get("team", "")
        }
    elif how == "triage":
        text = _("No rule matched → triage (not yet assigned)")
    elif how == "not_member":
        text = _("Not from a member → triage (not yet assigned)")
    elif how == "unsure":
        text = _("Not sure enough what kind of request this is → triage (not yet assigned)")
    elif how == "manual":
        text = _("Assigned by hand")
    else:
        text = _("Rule %(position)s “%(name)s” → %(team)s") % {
            "position": reason.get("rule"),
            "name": reason.get("rule_name", ""),
            "team": reason.get("team", ""),
        }
        handler = _handler_part(reason)
        if handler:
            text = f"{text}; {handler}"
    suggested = reason.get("suggested")
    if suggested:
        english = get_language() == "en" and suggested.get("type_en")
        values = {
            "type": suggested["type_en"] if english else suggested.get("type", ""),
            "percent": round(100 * float(suggested.get("confidence", 0))),
        }
        if suggested.get("routed"):
            text += " " + _("(routed as “%(type)s”, recognised from the text: %(percent)s %%)") % (
                values
            )
        else:
            text += (
                " "
                + _("(suggested type: “%(type)s”, %(percent)s %% sure – too unsure to route)")
                % values
            )
    raised = reason.get("raised")
    if raised:
        text += ". " + _raised_part(raised)
    return text
