"""Model versions in the admin: their validation figures side by side, rollback, and "Train now".

Versions are read-only; a deep model's page draws its training curve (loss per epoch, SVG).
"Activate this version" makes one earlier ready (or retired) version the active one, atomically,
after checking that its artifact loads. "Train now" never trains inside
the web process: with a real broker (Celery not in eager mode) it enqueues the task
``promotions.train_models``; otherwise it starts ``manage.py promotions_train`` as a separate
process whose output goes to the server's log.
"""

from __future__ import annotations

import os
import subprocess
import sys

from celery import current_app
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..training.models import ModelVersion
from ..training.versions import ActivationError, activate


def has_real_broker() -> bool:
    """Whether ``delay()`` sends tasks to workers (in eager mode it would run them right here)."""
    return not current_app.conf.task_always_eager and bool(current_app.conf.broker_url)


def start_training() -> str:
    """Start a training run outside this process; returns how (for the admin message)."""
    from ..tasks import train_models

    if has_real_broker():
        train_models.delay()
        return _("Training was queued for a Celery worker.")
    # Eager mode would train inside this web process: start the command in its own process instead.
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry),
    }
    subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
        [sys.executable, "-m", "django", "promotions_train"],
        env=environment,
        start_new_session=True,  # outlives the request
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    return _("Training started in a separate process; refresh this page to see the new version.")


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    # Few, narrow columns: the list fits a 1400 px window beside the filters.
    list_display = ("id", "model_name", "active_marker", "status", "ndcg", "recall", "created_at", "duration")
    list_filter = ("status", "model_name")
    # The raw figures (a JSON blob, seconds with 14 decimals) give way to a table and a readable duration.
    fields = [
        *(field.name for field in ModelVersion._meta.fields if field.name not in ("metrics", "duration_seconds")),
        "duration",
        "metrics_table",
        "online_results",
        "training_curve",
    ]
    readonly_fields = fields
    actions = ("activate_version",)

    change_list_template = "admin/promotions/modelversion/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        return False

    def has_activate_permission(self, request: HttpRequest) -> bool:
        # No dedicated permission (it would need a model change): viewing versions is not enough.
        return request.user.has_perm("promotions.change_modelversion")

    @admin.display(boolean=True, description=gettext_lazy("active"))
    def active_marker(self, obj: ModelVersion) -> bool:
        return obj.status == ModelVersion.Status.ACTIVE

    @admin.display(description=gettext_lazy("NDCG@10"))
    def ndcg(self, obj: ModelVersion) -> str:
        return _figure(obj.metrics.get("ndcg"))

    @admin.display(description=gettext_lazy("Recall@10"))
    def recall(self, obj: ModelVersion) -> str:
        return _figure(obj.metrics.get("recall"))

    @admin.display(description=gettext_lazy("duration"), ordering="duration_seconds")
    def duration(self, obj: ModelVersion) -> str:
        return readable_duration(obj.duration_seconds)

    @admin.display(description=gettext_lazy("metrics"))
    def metrics_table(self, obj: ModelVersion) -> str:
        """One row per metric, one column per scored model (the chosen one first), rounded."""
        return render_to_string("admin/promotions/modelversion/metrics_table.html", metrics_context(obj))

    @admin.display(description=gettext_lazy("online results"))
    def online_results(self, obj: ModelVersion) -> str:
        """Beside the offline figures: how this model did in the experiments that served it."""
        from ..experiments.promote import online_figures

        rows = online_figures(obj)
        if not rows:
            return _("No experiment has served this model yet.")
        for row in rows:
            row["rate_text"] = "-" if row["rate"] is None else f"{100 * row['rate']:.1f}%"
            row["lift_text"] = "-" if row["rel_lift"] is None else f"{100 * row['rel_lift']:+.1f}%"
            low, high = row["rel_ci_low"], row["rel_ci_high"]
            row["interval_text"] = "-" if low is None else f"[{100 * low:+.1f}%, {100 * high:+.1f}%]"
        return render_to_string("admin/promotions/modelversion/online_results.html", {"rows": rows})

    @admin.display(description=gettext_lazy("training curve"))
    def training_curve(self, obj: ModelVersion) -> str:
        """The deep models' per-epoch loss as an SVG line chart; a dash for the other models."""
        curve = obj.metrics.get("loss_curve") or []
        if not curve:
            return "-"
        context = {
            "series": [(str(epoch), round(loss, 4)) for epoch, loss in enumerate(curve, start=1)],
            "first": f"{curve[0]:.4f}",
            "last": f"{curve[-1]:.4f}",
            "log_dir": obj.metrics.get("log_dir", ""),
        }
        return render_to_string("admin/promotions/modelversion/training_curve.html", context)

    @admin.action(permissions=["activate"], description=gettext_lazy("Activate this version"))
    def activate_version(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to activate."), messages.ERROR)
            return
        version = queryset.get()
        try:
            version.load_model()  # never activate an artifact that cannot be served
            activate(version.pk)
        except ActivationError as error:
            self.message_user(request, str(error), messages.ERROR)
        except Exception as error:  # unreadable artifact
            self.message_user(
                request,
                _("The artifact of version %(id)s cannot be loaded: %(error)s") % {"id": version.pk, "error": error},
                messages.ERROR,
            )
        else:
            self.message_user(request, _("Version %(id)s is now active.") % {"id": version.pk}, messages.SUCCESS)

    def get_urls(self) -> list:
        train = self.admin_site.admin_view(require_POST(self.train_view))
        return [path("train/", train, name="promotions_modelversion_train"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "train_url": reverse("admin:promotions_modelversion_train")}
        return super().changelist_view(request, extra_context)

    def train_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_activate_permission(request):
            raise PermissionDenied
        self.message_user(request, start_training(), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:promotions_modelversion_changelist"))


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


#: The validation figures of each candidate, in the order the table lists them.
METRIC_LABELS = {
    "ndcg": gettext_lazy("NDCG@10"),
    "latest": gettext_lazy("NDCG@10, most recent window"),
    "recall": gettext_lazy("Recall@10"),
    "hr": gettext_lazy("Hit rate@10"),
    "precision": gettext_lazy("Precision@10"),
    "map": gettext_lazy("MAP@10"),
    "coverage": gettext_lazy("Catalogue coverage"),
    "fit_seconds": gettext_lazy("Fit time (validation)"),
    "users": gettext_lazy("Validation users"),
}


def readable_duration(seconds: float | None) -> str:
    """``"1.3 s"``, ``"2 min 9 s"``, ``"1 h 5 min"``; a dash when unknown."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return _("%(seconds).1f s") % {"seconds": seconds}
    whole = round(seconds)
    if whole < 60:
        return _("%(seconds)d s") % {"seconds": whole}
    if whole < 3600:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": whole // 60, "seconds": whole % 60}
    return _("%(hours)d h %(minutes)d min") % {"hours": whole // 3600, "minutes": whole % 3600 // 60}


def _cell(metric: str, value: object) -> str:
    if value is None:
        return "-"
    if metric == "fit_seconds":
        return readable_duration(float(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def metrics_context(version: ModelVersion) -> dict:
    """The metrics table's columns (chosen model, other candidates, the active model re-scored) and rows."""
    metrics = version.metrics or {}
    candidates: dict = dict(metrics.get("candidates") or {})
    chosen = version.model_name
    if chosen and chosen not in candidates:  # an older record: only the chosen model's figures
        candidates[chosen] = {name: metrics.get(name) for name in METRIC_LABELS}
    names = sorted(candidates, key=lambda name: (name != chosen, name))
    columns = [(name, name == chosen) for name in names]
    figures = [candidates[name] for name in names]
    if metrics.get("current"):
        columns.append((_("active before"), False))
        figures.append(metrics["current"])
    rows = [
        (label, [_cell(metric, figure.get(metric)) for figure in figures])
        for metric, label in METRIC_LABELS.items()
        if any(figure.get(metric) is not None for figure in figures)
    ]
    final_fit = metrics.get("fit_seconds")
    return {
        "columns": columns,
        "rows": rows,
        "final_fit": readable_duration(final_fit) if final_fit is not None else "",
        "windows": metrics.get("windows"),
    }
