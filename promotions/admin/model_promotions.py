"""A recommender experiment's winner made the active model, from the admin, and undone.

The experiment results page shows the online winner (the statistics engine's decision) with a
"Make this model active" button; the model promotions list logs every switch, manual or by the
policy, with a "Revert" action that reactivates the version active before.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..experiments.models import Experiment
from ..experiments.promote import PromotionError, online_winner, promote, revert
from ..experiments.results import ExperimentResults
from ..training.models import ModelPromotion


def may_promote(request: HttpRequest) -> bool:
    """Concluding experiments and activating model versions, both."""
    user = request.user
    return user.has_perm("promotions.conclude_experiment") and user.has_perm("promotions.change_modelversion")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.1f}%"


def winner_context(request: HttpRequest, experiment: Experiment, results: ExperimentResults) -> dict[str, Any]:
    """The results page's "online winner" box: the decision, the version, what was promoted before."""
    winner = online_winner(experiment, results)
    evidence = winner.evidence if winner is not None else {}
    return {
        "model_winner": winner,
        "model_winner_lift": _percent(evidence.get("rel_lift")),
        "model_winner_interval": (
            f"[{_percent(evidence['rel_ci_low'])}, {_percent(evidence['rel_ci_high'])}]" if evidence else ""
        ),
        "model_promotions": list(experiment.model_promotions.select_related("version", "previous_version")),
        "can_promote": may_promote(request),
    }


def promote_view(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: make the experiment's online winner the active model (and conclude the experiment)."""
    if not may_promote(request):
        raise PermissionDenied
    experiment = get_object_or_404(Experiment, pk=pk)
    try:
        promotion = promote(experiment, by=request.user.get_username())
    except PromotionError as error:
        messages.error(request, str(error))
    except Exception as error:  # an artifact that cannot be loaded: nothing was switched
        messages.error(request, _("The winning model cannot be loaded: %(error)s") % {"error": error})
    else:
        messages.success(
            request,
            _("Version %(id)s (%(model)s) is now the active model; the experiment is concluded.")
            % {"id": promotion.version_id, "model": promotion.version.model_name},
        )
    return HttpResponseRedirect(reverse("admin:promotions_experiment_results", args=[pk]))


@admin.register(ModelPromotion)
class ModelPromotionAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "experiment",
        "variant",
        "version",
        "previous_version",
        "automatic",
        "promoted_by",
        "reverted_at",
    )
    list_filter = ("automatic",)
    readonly_fields = [field.name for field in ModelPromotion._meta.fields]
    actions = ("revert_promotion",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelPromotion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModelPromotion | None = None) -> bool:
        return False

    def has_revert_permission(self, request: HttpRequest) -> bool:
        return may_promote(request)

    @admin.action(permissions=["revert"], description=gettext_lazy("Revert: reactivate the version active before"))
    def revert_promotion(self, request: HttpRequest, queryset: QuerySet) -> None:
        for promotion in queryset.select_related("previous_version"):
            try:
                revert(promotion, by=request.user.get_username())
            except PromotionError as error:
                self.message_user(request, f"{promotion}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Version %(id)s is active again.") % {"id": promotion.previous_version_id},
                    messages.SUCCESS,
                )
