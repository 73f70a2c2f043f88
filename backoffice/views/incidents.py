"""Incidents (Störungen) in the back office (issue 14, point 4): the list
(proposals first, then open, then lately resolved or dismissed), one
incident with its requests, and the steps — accept, dismiss, resolve,
publish a notice — each a POST from its own confirmation page. Handlers
see their teams' incidents read-only; the team's lead and admins act
(incidents.selectors.may_manage, checked again by the services)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.decorators import staff_required
from incidents import selectors, services
from incidents.forms import IncidentForm, IncidentNewForm
from incidents.models import IncidentStatus
from tickets.selectors import tickets_for_staff_by_reference


@staff_required
@require_GET
def incident_list(request):
    return render(
        request,
        "backoffice/incidents/list.html",
        {"incidents": selectors.incidents_for_staff(request.user, page=request.GET.get("seite"))},
    )


@staff_required
@require_GET
def incident_detail(request, public_id):
    incident = selectors.get_incident_for_staff(request.user, public_id)
    return render(
        request,
        "backoffice/incidents/detail.html",
        {
            "incident": incident,
            "links": selectors.incident_links_page(incident, page=request.GET.get("seite")),
            "may_manage": selectors.may_manage(request.user, incident),
            "Status": IncidentStatus,
        },
    )


def _managed(request, public_id, status: str):
    """The incident, if this person may act on it (else 404: a handler
    reads it, nothing more), and a redirect with the reason when its
    status does not allow the step any more."""
    incident = selectors.get_incident_for_staff(request.user, public_id)
    if not selectors.may_manage(request.user, incident):
        raise Http404
    try:
        services.incident_status_check(incident, status)
    except services.IncidentError as error:
        messages.error(request, str(error))
        return incident, redirect("backoffice:incident", public_id=public_id)
    return incident, None


@staff_required
@require_http_methods(["GET", "POST"])
def incident_accept(request, public_id):
    incident, refused = _managed(request, public_id, IncidentStatus.PROPOSED)
    if refused:
        return refused
    form = IncidentForm(
        request.POST or None,
        initial={"title": incident.title, "public_text": incident.public_text},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.incident_accept(actor=request.user, incident=incident, **form.cleaned_data)
        except services.IncidentError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Accepted. The members see the incident on their requests now.")
            )
        return redirect("backoffice:incident", public_id=public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "backoffice/incidents/accept.html",
        {"incident": incident, "form": form, "links": selectors.incident_links(incident)},
        status=status,
    )


def _step(request, public_id, *, status, service, template, done):
    incident, refused = _managed(request, public_id, status)
    if refused:
        return refused
    if request.method == "POST":
        try:
            service(actor=request.user, incident=incident)
        except services.IncidentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
        return redirect("backoffice:incident", public_id=public_id)
    return render(
        request,
        template,
        {"incident": incident, "links": selectors.incident_links(incident)},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def incident_dismiss(request, public_id):
    return _step(
        request,
        public_id,
        status=IncidentStatus.PROPOSED,
        service=services.incident_dismiss,
        template="backoffice/incidents/dismiss.html",
        done=_("Dismissed. Its requests stay as they are and are not proposed again."),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def incident_resolve(request, public_id):
    return _step(
        request,
        public_id,
        status=IncidentStatus.OPEN,
        service=services.incident_resolve,
        template="backoffice/incidents/resolve.html",
        done=_("Resolved. Its open requests are settled and every member has been told once."),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def incident_notice(request, public_id):
    return _step(
        request,
        public_id,
        status=IncidentStatus.OPEN,
        service=services.incident_notice_publish,
        template="backoffice/incidents/notice.html",
        done=_("Published. The residents of its buildings see the notice now."),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    """An incident by hand (team leads and admins), from a request's page
    (?anliegen=<reference>) or any references typed in."""
    if not selectors.may_create_any(request.user):
        raise Http404
    reference = request.GET.get("anliegen", "")[:20]
    form = IncidentNewForm(request.POST or None, initial={"references": reference})
    if request.method == "POST" and form.is_valid():
        references = form.cleaned_data["references"]
        tickets = tickets_for_staff_by_reference(request.user, references)
        missing = sorted(set(references) - {t.reference for t in tickets})
        if missing:
            form.add_error(
                "references",
                _("No request of yours has the reference %(references)s.")
                % {"references": ", ".join(missing)},
            )
        else:
            try:
                incident = services.incident_create(
                    actor=request.user,
                    tickets=tickets,
                    title=form.cleaned_data["title"],
                    public_text=form.cleaned_data["public_text"],
                )
            except services.IncidentError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("The incident is open. The members see it on their requests.")
                )
                return redirect("backoffice:incident", public_id=incident.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "backoffice/incidents/new.html", {"form": form}, status=status)
