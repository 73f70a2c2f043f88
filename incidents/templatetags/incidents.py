"""The incidents app's part of the member's request page: the request
template (tickets, a layer below) loads this library and asks for the
line "Bekannte Störung: … — wird bearbeitet", so `tickets` never imports
`incidents`; the template directory is shared by every layer, like the
root URLs."""

from django import template

from incidents.selectors import incident_for_ticket

register = template.Library()


@register.inclusion_tag("incidents/_ticket_notice.html")
def incident_notice(ticket):
    return {"incident": incident_for_ticket(ticket)}
