"""Promotions in the admin: filters, a preview of how each renders, live figures, coupon codes,
slots (experiment or bandit per slot), merchandising rules, redemptions with refunds, and the
personalization-vs-holdout lift page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..conf import app_settings
from ..offers import together
from ..offers.budget import refund
from ..offers.figures import PromotionFigures, promotion_figures
from ..offers.models import (
    CouponCode,
    ItemAssociation,
    Promotion,
    PromotionUpliftModel,
    Redemption,
    SlotConfig,
    SlotRule,
)


class PromotionForm(forms.ModelForm):
    class Meta:
        model = Promotion
        fields = [
            "name", "message", "message_zh_hans", "slots", "status", "kind", "value", "buy_quantity", "get_quantity",
            "gift_item_id", "target_kind", "target_values", "starts_at", "ends_at", "priority", "exclusive",
            "stacks_with", "max_redemptions", "max_discount_total", "frequency_cap", "coupon_required",
            "per_customer_limit", "audience", "signed_in_only", "min_cart_value", "rules", "ranking_signal",
            "uplift_holdout",
        ]  # fmt: skip

    def clean_slots(self) -> list:
        slots = self.cleaned_data["slots"]
        unknown = [slot for slot in slots or () if slot not in app_settings.SLOTS] if isinstance(slots, list) else []
        if unknown:
            raise forms.ValidationError(
                _("Unknown slots: %(unknown)s. Known: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(app_settings.SLOTS)}
            )
        return slots

    def clean_rules(self) -> list:
        rules = self.cleaned_data["rules"]
        unknown = [r for r in rules or () if r not in app_settings.ELIGIBILITY_RULES] if isinstance(rules, list) else []
        if unknown:
            raise forms.ValidationError(_("Unknown rules: %(unknown)s.") % {"unknown": ", ".join(unknown)})
        return rules


class CouponCodeInline(admin.TabularInline):
    model = CouponCode
    extra = 1
    readonly_fields = ["used"]


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    change_list_template = "admin/promotions/promotion/change_list.html"
    form = PromotionForm
    inlines = [CouponCodeInline]
    list_display = ["name", "kind", "status", "priority", "starts_at", "ends_at"]
    #: Shown only to staff with the ``view_promotion_figures`` permission.
    figure_columns = ["impressions", "clicks", "conversions", "revenue", "redemptions_count", "discount_spent"]
    list_filter = ["status", "kind", "target_kind", "coupon_required", "exclusive", "audience"]
    search_fields = ["name", "message", "message_zh_hans"]
    filter_horizontal = ["stacks_with"]
    readonly_fields = ["preview", "figures", "redemptions_count", "discount_spent", "uplift_model"]
    actions = ["activate", "pause"]
    fieldsets = [
        (None, {"fields": ["name", "message", "message_zh_hans", "slots", "status", "preview"]}),
        (gettext_lazy("Offer"), {"fields": ["kind", "value", "buy_quantity", "get_quantity", "gift_item_id"]}),
        (gettext_lazy("Products"), {"fields": ["target_kind", "target_values"]}),
        (
            gettext_lazy("Schedule and combination"),
            {"fields": ["starts_at", "ends_at", "priority", "exclusive", "stacks_with"]},
        ),
        (
            gettext_lazy("Budget and limits"),
            {
                "fields": [
                    "max_redemptions",
                    "max_discount_total",
                    "frequency_cap",
                    "coupon_required",
                    "per_customer_limit",
                ]
            },
        ),
        (gettext_lazy("Who may get it"), {"fields": ["audience", "signed_in_only", "min_cart_value", "rules"]}),
        (gettext_lazy("Ranking and uplift"), {"fields": ["ranking_signal", "uplift_holdout", "uplift_model"]}),
        (gettext_lazy("Figures (last 30 days)"), {"fields": ["figures", "redemptions_count", "discount_spent"]}),
    ]

    @staticmethod
    def may_see_figures(request: HttpRequest) -> bool:
        return request.user.has_perm("promotions.view_promotion_figures")

    def get_list_display(self, request: HttpRequest) -> list[str]:
        return [*self.list_display, *(self.figure_columns if self.may_see_figures(request) else [])]

    def get_fieldsets(self, request: HttpRequest, obj: Promotion | None = None) -> list:
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if self.may_see_figures(request) else fieldsets[:-1]  # the figures come last

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # One pass over the event log for every row of the page, not one per row and column.
        may_see = self.may_see_figures(request)
        self._figures = promotion_figures() if may_see else {}
        # The lift page is linked from the list's tools, for those allowed to open it.
        lift_url = reverse("admin:promotions_promotion_lift") if may_see else ""
        extra_context = {**(extra_context or {}), "lift_url": lift_url}
        return super().changelist_view(request, extra_context)

    def _figure(self, obj: Promotion) -> PromotionFigures:
        return getattr(self, "_figures", {}).get(obj.pk) or PromotionFigures()

    @admin.display(description=gettext_lazy("impressions"))
    def impressions(self, obj: Promotion) -> int:
        return self._figure(obj).impressions

    @admin.display(description=gettext_lazy("clicks"))
    def clicks(self, obj: Promotion) -> int:
        return self._figure(obj).clicks

    @admin.display(description=gettext_lazy("conversions"))
    def conversions(self, obj: Promotion) -> int:
        return self._figure(obj).conversions

    @admin.display(description=gettext_lazy("revenue"))
    def revenue(self, obj: Promotion) -> str:
        return f"{self._figure(obj).revenue:,.2f}"

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj: Promotion) -> str:
        if obj.pk is None:
            return _("Saved promotions show a preview here.")
        from ..serving.promotions import ShownPromotion

        shown = ShownPromotion(obj, obj.localized_message, None, (), "preview", "preview", False)
        return render_to_string("promotions/tags/promotions.html", {"promotions": [shown], "slot": "preview"})

    @admin.display(description=gettext_lazy("figures"))
    def figures(self, obj: Promotion) -> str:
        if obj.pk is None:
            return "-"
        figures = promotion_figures().get(obj.pk) or PromotionFigures()
        rate = figures.conversion_rate
        return format_html(
            "{}: {} · {}: {} · {}: {} · {}: {} · {}: {:.2f} · {}: {}",
            _("impressions"),
            figures.impressions,
            _("clicks"),
            figures.clicks,
            _("attributed purchases"),
            figures.conversions,
            _("visitor conversion"),
            "-" if rate is None else f"{rate:.2%}",
            _("attributed revenue"),
            figures.revenue,
            _("redemptions"),
            figures.redemptions,
        )

    @admin.display(description=gettext_lazy("uplift model"))
    def uplift_model(self, obj: Promotion) -> str:
        latest = obj.uplift_models.first() if obj.pk is not None else None
        if latest is None:
            return _(
                "None yet: with an uplift holdout, one is trained daily once %(count)d visitors were shown the "
                "promotion and %(count)d were not."
            ) % {"count": app_settings.UPLIFT_MIN_PER_ARM}
        return format_html(
            "{}: {} · {}: {} · {}: {} · {}: {} · {}: {}",
            _("trained"),
            f"{latest.created_at:%Y-%m-%d %H:%M}",
            _("visitors shown"),
            latest.n_treated,
            _("withheld"),
            latest.n_control,
            _("Qini coefficient (held out)"),
            "-" if latest.qini is None else f"{latest.qini:.3f}",
            _("AUUC (held out)"),
            "-" if latest.auuc is None else f"{latest.auuc:.3f}",
        )

    @admin.action(description=gettext_lazy("Activate the selected promotions"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Promotion]) -> None:
        for promotion in queryset:  # one by one, so each save refreshes the serving caches
            promotion.status = Promotion.Status.ACTIVE
            promotion.save(update_fields=["status"])

    @admin.action(description=gettext_lazy("Pause the selected promotions"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Promotion]) -> None:
        for promotion in queryset:
            promotion.status = Promotion.Status.PAUSED
            promotion.save(update_fields=["status"])

    def get_urls(self) -> list:
        lift = path("lift/", self.admin_site.admin_view(self.lift_view), name="promotions_promotion_lift")
        return [lift, *super().get_urls()]

    def lift_view(self, request: HttpRequest) -> HttpResponse:
        from ..serving.lift import holdout_lift

        if not self.may_see_figures(request):
            raise PermissionDenied
        days = 28
        try:
            days = min(max(int(request.GET.get("days", days)), 1), 365)
        except ValueError:
            messages.error(request, _("Days must be a whole number."))
        context = {
            **self.admin_site.each_context(request),
            "title": _("What personalization earns"),
            "lift": holdout_lift(days),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/promotions/promotion/lift.html", context)


@admin.register(SlotConfig)
class SlotConfigAdmin(admin.ModelAdmin):
    list_display = ["slot", "experiment", "bandit", "contextual", "bandit_metric", "weights_updated_at", "results_link"]
    readonly_fields = ["weights", "segment_weights", "weights_updated_at", "results_link"]
    autocomplete_fields = ["experiment"]

    @admin.display(description=gettext_lazy("bandit results"))
    def results_link(self, obj: SlotConfig) -> str:
        if obj.pk is None or not obj.bandit:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:promotions_slotconfig_results", args=[obj.pk]), _("Results")
        )

    def get_urls(self) -> list:
        results = path(
            "<int:pk>/results/", self.admin_site.admin_view(self.results_view), name="promotions_slotconfig_results"
        )
        return [results, *super().get_urls()]

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from django.shortcuts import get_object_or_404

        from ..serving.bandit import bandit_results

        if not self.has_view_permission(request):
            raise PermissionDenied
        config = get_object_or_404(SlotConfig, pk=pk)
        arms = bandit_results(config)
        # A contextual slot's shares per segment, one row per segment, one column per arm.
        segments = [
            (segment, [shares.get(str(arm.promotion.pk), 0.0) for arm in arms])
            for segment, shares in sorted((config.segment_weights or {}).items())
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Bandit results: %(slot)s") % {"slot": config.slot},
            "config": config,
            "arms": arms,
            "segments": segments if config.contextual else [],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/promotions/slotconfig/results.html", context)


@admin.register(SlotRule)
class SlotRuleAdmin(admin.ModelAdmin):
    list_display = ["slot", "action", "scope", "value", "position"]
    list_filter = ["slot", "action", "scope"]
    search_fields = ["value"]


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ["promotion", "order_ref", "discount", "order_total", "redeemed_at", "refunded_at"]
    list_filter = ["promotion", ("refunded_at", admin.EmptyFieldListFilter)]
    search_fields = ["order_ref", "visitor_id"]
    actions = ["refund_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Refund: return the discount to the budget"), permissions=["delete"])
    def refund_selected(self, request: HttpRequest, queryset: QuerySet[Redemption]) -> None:
        refunded = sum(refund(redemption) for redemption in queryset)
        messages.success(request, _("%(count)d redemptions refunded.") % {"count": refunded})


@admin.register(ItemAssociation)
class ItemAssociationAdmin(admin.ModelAdmin):
    """Rebuilt by ``promotions_bought_together``: read-only, with an action that drafts bundles."""

    list_display = ["item_id", "other_id", "together", "lift", "p_value", "computed_at"]
    search_fields = ["item_id", "other_id"]
    actions = ["draft_bundles"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Draft a bundle promotion (10%% off) for each selected pair"))
    def draft_bundles(self, request: HttpRequest, queryset: QuerySet[ItemAssociation]) -> None:
        if not request.user.has_perm("promotions.add_promotion"):
            messages.error(request, _("You may not add promotions."))
            return
        created = together.bundles_from(queryset.order_by("item_id", "other_id"), Decimal(10))
        messages.success(
            request,
            _("%(count)d bundle promotions drafted: edit and activate them under Promotions.")
            % {"count": len(created)},
        )


@admin.register(PromotionUpliftModel)
class PromotionUpliftModelAdmin(admin.ModelAdmin):
    """Trained by a task (or ``promotions_train_uplift``): read-only here."""

    list_display = ["promotion", "created_at", "n_treated", "n_control", "qini", "auuc"]
    list_filter = ["promotion"]
    readonly_fields = ["promotion", "created_at", "n_treated", "n_control", "qini", "auuc", "feature_names"]
    exclude = ["parameters"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
