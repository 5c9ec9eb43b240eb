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
    list_display = (
        "id",
        "model_name",
        "active_marker",
        "status",
        "ndcg",
        "recall",
        "fit_seconds",
        "training_rows",
        "created_at",
        "duration_seconds",
    )
    list_filter = ("status", "model_name")
    readonly_fields = [*(field.name for field in ModelVersion._meta.fields), "training_curve"]
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

    @admin.display(description=gettext_lazy("fit seconds"))
    def fit_seconds(self, obj: ModelVersion) -> str:
        value = obj.metrics.get("fit_seconds")
        return "-" if value is None else f"{value:.2f}"

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
