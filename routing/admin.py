from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from cooperative.models import Building, Estate
from routing.decide import Facts, normalise
from routing.models import Absence, OnCallShift, RoutingRule, SlaPolicy, Team
from routing.preview import preview
from routing.reasons import reason_text
from tickets.admin import NotFoundOutsideMixin
from tickets.models import Category, Channel, FieldKind, RequestField, RequestType, Ticket
from tickets.route import SIMULATION_DAYS, fallback_for, simulate, staff_now
from tickets.services import absence_hand_over


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead", "on_call_email"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]

    def get_deleted_objects(self, objs, request):
        # Open requests (and rules, forms) block the deletion until they are
        # moved; list them as such, not as a missing permission to delete
        # them (nobody deletes requests).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, (set() if protected else perms_needed), protected


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "clock",
            "first_response_hours",
            "resolution_days",
            "warn_percent",
            "for_priority",
        ]
        # The model's labels say "working hours/days"; around the clock
        # they are plain hours and days.
        labels = {
            "first_response_hours": _("first response within (hours)"),
            "resolution_days": _("resolution within (days)"),
        }
        help_texts = {
            "first_response_hours": _(
                "Hours of office time, or every hour when the clock runs around the clock."
            ),
            "resolution_days": _(
                "Working days, or calendar days when the clock runs around the clock."
            ),
        }


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = [
        "name",
        "clock",
        "first_response_hours",
        "resolution_days",
        "warn_percent",
        "for_priority",
    ]


class RoutingRuleForm(forms.ModelForm):
    """The rule editor. A rule that can never match is refused, with the
    reason next to the field."""

    categories = forms.MultipleChoiceField(
        label=_("categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = RoutingRule
        fields = [
            "position",
            "name",
            "active",
            "draft",
            "replaces",
            "request_types",
            "categories",
            "estates",
            "buildings",
            "channels",
            "field_key",
            "field_value",
            "keywords",
            "team",
            "strategy",
            "priority",
            "sla_policy",
        ]
        # Plain checkboxes and a plain list: the admin's two-box filter
        # widget fails accessibility checks (labels on roleless spans).
        widgets = {
            "request_types": forms.CheckboxSelectMultiple,
            "estates": forms.CheckboxSelectMultiple,
            "buildings": forms.SelectMultiple(attrs={"size": 8}),
        }

    def clean(self):
        data = super().clean()
        types = list(data.get("request_types") or [])
        categories = set(data.get("categories") or [])
        estates = list(data.get("estates") or [])
        buildings = list(data.get("buildings") or [])
        key, value = (data.get("field_key") or "").strip(), (data.get("field_value") or "").strip()
        if types and categories and not any(t.category in categories for t in types):
            self.add_error(
                "categories",
                _(
                    "None of the chosen request types is in these categories: the rule could "
                    "never match."
                ),
            )
        if (
            estates
            and buildings
            and not any(b.estate_id in {e.pk for e in estates} for b in buildings)
        ):
            self.add_error(
                "buildings",
                _(
                    "None of these buildings belongs to the chosen estates: the rule could "
                    "never match."
                ),
            )
        if bool(key) != bool(value):
            self.add_error(
                "field_value" if key else "field_key",
                _("Give both the form field and the value, or neither."),
            )
        elif key and types:
            fields = list(RequestField.objects.filter(request_type__in=types, key=key))
            if not fields:
                self.add_error(
                    "field_key",
                    _("None of the chosen request types has a field “%(key)s”.") % {"key": key},
                )
            elif not any(_field_can_be(field, value) for field in fields):
                self.add_error(
                    "field_value",
                    _("The field “%(key)s” can never have the value “%(value)s”.")
                    % {"key": key, "value": value},
                )
        if data.get("replaces") is not None and not data.get("draft"):
            self.add_error("replaces", _("Only a draft can replace a rule."))
        if (
            data.get("replaces") is not None
            and self.instance.pk
            and data["replaces"].pk == self.instance.pk
        ):
            self.add_error("replaces", _("A rule cannot replace itself."))
        keywords = data.get("keywords") or ""
        if keywords and not [w for w in keywords.split(",") if w.strip()]:
            self.add_error("keywords", _("Enter at least one keyword, or leave the field empty."))
        data["field_key"], data["field_value"] = key, value
        return data


def _field_can_be(field, value: str) -> bool:
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTICHOICE):
        return value in [choice["value"] for choice in field.choice_list()]
    if field.kind == FieldKind.YESNO:
        return value in ("yes", "no")
    return True


@admin.action(description=_("Publish the selected drafts"))
def publish(modeladmin, request, queryset):
    published = 0
    with transaction.atomic():
        for rule in queryset.filter(draft=True).select_related("replaces"):
            if rule.replaces is not None:
                rule.replaces.active = False
                rule.replaces.save(update_fields=["active", "updated_at"])
            rule.draft = False
            rule.active = True
            rule.save(update_fields=["draft", "active", "updated_at"])
            published += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d draft is live now.", "%(count)d drafts are live now.", published)
        % {"count": published},
        messages.SUCCESS,
    )


class PreviewForm(forms.Form):
    """Facts to try the rules on; every field optional."""

    request_type = forms.ModelChoiceField(
        label=_("Request type"), queryset=RequestType.objects.order_by("name_de"), required=False
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", "---------"), *Channel.choices], required=False
    )
    estate = forms.ModelChoiceField(
        label=_("Estate"), queryset=Estate.objects.order_by("name"), required=False
    )
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.order_by("street", "pk"), required=False
    )
    field_key = forms.CharField(label=_("form field"), max_length=50, required=False)
    field_value = forms.CharField(label=_("has the value"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Text of the request"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def facts(self) -> Facts:
        data = self.cleaned_data
        request_type, building = data.get("request_type"), data.get("building")
        estate = data.get("estate") or (building.estate if building else None)
        key = (data.get("field_key") or "").strip()
        return Facts(
            request_type_id=request_type.pk if request_type else None,
            category=request_type.category if request_type else "",
            estate_id=estate.pk if estate else None,
            building_id=building.pk if building else None,
            channel=data.get("channel") or "",
            answers={key: data.get("field_value", "")} if key else {},
            text=normalise(data.get("text") or ""),
        )


class RuleListForm(forms.ModelForm):
    """The editable columns of the rule list, each with a label that names
    its rule (the admin's own inputs have none: screen readers heard only
    "edit text")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.instance.name
        labels = {
            "position": _("Position of “%(name)s”"),
            "active": _("“%(name)s” active"),
        }
        for field, label in labels.items():
            if field in self.fields:
                self.fields[field].widget.attrs["aria-label"] = label % {"name": name}


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = [
        "position",
        "name",
        "team",
        "strategy",
        "priority",
        "sla_policy",
        "active",
        "draft",
    ]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    list_filter = ["active", "draft", "team", "strategy"]
    list_select_related = ["team", "sla_policy"]
    search_fields = ["name", "keywords"]
    ordering = ["position", "pk"]
    actions = [publish]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=RuleListForm, **kwargs)

    def get_urls(self):
        return [
            path(
                "vorschau/",
                self.admin_site.admin_view(self.preview_view),
                name="routing_routingrule_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PreviewForm(request.GET or None)
        decisions = None
        if form.is_bound and form.is_valid():
            live, proposed = preview(
                form.facts(),
                fallback=fallback_for(form.cleaned_data.get("request_type")),
                staff=staff_now(today=timezone.localdate()),
            )
            decisions = {
                "live": reason_text(live.reason),
                "proposed": reason_text(proposed.reason),
                "same": live == proposed,
            }
        simulation = simulate(viewer=request.user) if request.GET.get("simulate") else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Routing preview"),
            "opts": self.model._meta,
            "form": form,
            "decisions": decisions,
            "simulation": simulation,
            "differences": [
                {
                    "ticket": d.ticket,
                    "live": reason_text(d.live.reason),
                    "proposed": reason_text(d.proposed.reason),
                }
                for d in (simulation.differences if simulation else [])
            ],
            "days": SIMULATION_DAYS,
        }
        return TemplateResponse(request, "admin/routing/routingrule/preview.html", context)


@admin.action(description=_("Hand the open requests over to the substitute now"))
def hand_over(modeladmin, request, queryset):
    # The queryset is the admin's (AbsenceAdmin.get_queryset): only absences
    # this person may record; the service checks again.
    references, queued = [], 0
    for absence in queryset.select_related("user", "substitute"):
        changed = absence_hand_over(absence=absence, actor=request.user).changed
        references += changed
        if absence.substitute_id is not None:
            # Left unassigned although there is a substitute: not their team.
            queued += Ticket.objects.filter(reference__in=changed, assignee__isnull=True).count()
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d open request handed over.",
            "%(count)d open requests handed over.",
            len(references),
        )
        % {"count": len(references)},
        messages.SUCCESS,
    )
    if queued:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d of them went to its team's queue: the substitute does not work "
                "in that team.",
                "%(count)d of them went to their teams' queues: the substitute does not work "
                "in those teams.",
                queued,
            )
            % {"count": queued},
            messages.WARNING,
        )


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["user", "kind", "starts", "ends", "substitute"]

    def clean(self):
        data = super().clean()
        person, substitute = data.get("user"), data.get("substitute")
        # Standing in for oneself is the model's own check (a constraint).
        if person is not None and substitute is not None and person != substitute:
            probe = Absence(user=person, substitute=substitute)
            if not probe.substitute_shares_a_team():
                self.add_error(
                    "substitute",
                    _(
                        "%(substitute)s works in none of the teams of %(person)s and could "
                        "not see their requests. Choose a member or the lead of one of "
                        "their teams, or leave the field empty: the teams' queues take the "
                        "requests then."
                    )
                    % {
                        "substitute": substitute.get_full_name(),
                        "person": person.get_full_name(),
                    },
                )
        return data


@admin.register(Absence)
class AbsenceAdmin(NotFoundOutsideMixin, admin.ModelAdmin):
    """A handler records their own absence, a team lead also those of their
    teams' members, an admin anyone's (Absence.people_recorded_by); the
    substitute must work in one of the absent person's teams."""

    form = AbsenceForm
    list_display = ["user", "kind", "starts", "ends", "substitute", "handed_over_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "substitute"]
    # Plain lists of staff, not the autocomplete: that would need the right
    # to view accounts, which handlers do not have.
    readonly_fields = ["handed_over_at"]
    date_hierarchy = "starts"
    actions = [hand_over]

    def get_queryset(self, request):
        people = Absence.people_recorded_by(request.user)
        return super().get_queryset(request).filter(user__in=people)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = Absence.people_recorded_by(request.user).order_by("email")
        elif db_field.name == "substitute":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).order_by(
                "email"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}


class OnCallShiftForm(forms.ModelForm):
    class Meta:
        model = OnCallShift
        fields = ["team", "user", "starts", "ends"]

    def clean(self):
        data = super().clean()
        team, person = data.get("team"), data.get("user")
        # Only someone who may work the team's requests is alerted about its
        # emergencies (they must open the request from the alert).
        if team is not None and person is not None and not team.has_member(person):
            self.add_error(
                "user",
                _(
                    "%(person)s is not in the team %(team)s and could not open its requests. "
                    "Add them to the team first, or choose a member of the team."
                )
                % {"person": person.get_full_name(), "team": team.name},
            )
        return data


@admin.register(OnCallShift)
class OnCallShiftAdmin(NotFoundOutsideMixin, admin.ModelAdmin):
    """The on-call rota (Rufbereitschaft): a team lead plans the shifts of
    the teams they lead, an admin every team's (as with absences, a handler
    could otherwise take a colleague's nights or drop their own). Who is
    alerted when: routing.services.on_call_addresses."""

    form = OnCallShiftForm
    list_display = ["team", "user", "starts", "ends"]
    list_filter = ["team"]
    list_select_related = ["team", "user"]
    date_hierarchy = "starts"

    def get_queryset(self, request):
        shifts = super().get_queryset(request)
        if request.user.is_admin_role:
            return shifts
        return shifts.filter(team__lead=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team" and not request.user.is_admin_role:
            kwargs["queryset"] = Team.objects.filter(lead=request.user)
        elif db_field.name == "user":
            # Plain list of staff, not the autocomplete (see AbsenceAdmin).
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).order_by(
                "email"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
