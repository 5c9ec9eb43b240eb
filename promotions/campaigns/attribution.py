"""What a campaign earned: purchases attributed to its clicks, and its lift over the holdout.

- **Attributed**: a purchase by a customer the campaign reached, at most ``attribution_days``
  after that customer's last ``campaign_click`` of the campaign before it (last touch).
- **Lift**: conversion and revenue per customer in the ``attribution_days`` after each recipient's
  export, for the customers who got the e-mail against the held-out ones (every recipient counts,
  clicked or not: the holdout measures what sending did), compared by the statistics engine
  (``experiments.stats.inference``: two-proportion z-test, Welch t-test), as the global holdout's
  lift is.

A customer's purchases are those stored under their user (``u:<id>``), any visitor id linked to
it, their own visitor id (an imported customer), or the browser that clicked their links.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from ..experiments.stats.inference import Comparison, MeanStats, ProportionStats, two_proportion_z_test, welch_t_test
from ..tracking.models import Event, EventType, Visitor
from .models import Campaign, Recipient

#: The event a campaign link records.
CAMPAIGN_CLICK = EventType.CAMPAIGN_CLICK


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    treated: ProportionStats
    holdout: ProportionStats
    treated_revenue: MeanStats
    holdout_revenue: MeanStats
    conversion: Comparison | None
    revenue: Comparison | None
    clicks: int
    clickers: int
    attributed_orders: int
    attributed_revenue: float
    #: When the last recipient's window closes (None before the export); the figures grow until then.
    measured_until: datetime | None

    @property
    def complete(self) -> bool:
        return self.measured_until is not None and self.measured_until <= timezone.now()

    def lines(self) -> list[str]:
        """The report as text, for the command."""

        def rate(stats: ProportionStats) -> str:
            return f"{100 * float(stats.mean):.2f}%" if stats.n else "-"

        def mean(stats: MeanStats) -> str:
            return f"{float(stats.mean):.2f}" if stats.n else "-"

        out = [
            _("Campaign %(id)s %(name)s: %(treated)d customers sent, %(holdout)d held out.")
            % {
                "id": self.campaign.pk,
                "name": self.campaign.name,
                "treated": self.treated.n,
                "holdout": self.holdout.n,
            },
            _("Clicks: %(clicks)d by %(clickers)d customers; attributed: %(orders)d orders, revenue %(revenue).2f.")
            % {
                "clicks": self.clicks,
                "clickers": self.clickers,
                "orders": self.attributed_orders,
                "revenue": self.attributed_revenue,
            },
            _("Conversion: sent %(treated)s, held out %(holdout)s.")
            % {"treated": rate(self.treated), "holdout": rate(self.holdout)},
            _("Revenue per customer: sent %(treated)s, held out %(holdout)s.")
            % {"treated": mean(self.treated_revenue), "holdout": mean(self.holdout_revenue)},
        ]
        for label, comparison in ((_("conversion"), self.conversion), (_("revenue per customer"), self.revenue)):
            if comparison is None:
                out.append(_("Lift in %(metric)s: nothing to compare yet.") % {"metric": label})
            else:
                out.append(
                    _("Lift in %(metric)s: %(lift).4f (95%% interval %(low).4f to %(high).4f), p = %(p).4f.")
                    % {
                        "metric": label,
                        "lift": float(comparison.abs_lift),
                        "low": float(comparison.ci_low),
                        "high": float(comparison.ci_high),
                        "p": float(comparison.p_value),
                    }
                )
        if not self.complete and self.measured_until is not None:
            out.append(
                _("Still measuring until %(time)s.") % {"time": self.measured_until.isoformat(timespec="minutes")}
            )
        return out


def _clicks(campaign: Campaign) -> dict[str, list[tuple[datetime, str]]]:
    """customer -> [(time, visitor id)] of the campaign's clicks, in time order."""
    found: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    rows = (
        Event.objects.filter(event_type=CAMPAIGN_CLICK, context__campaign=campaign.pk)
        .order_by("occurred_at", "pk")
        .values_list("occurred_at", "visitor_id", "context")
    )
    for at, visitor_id, context in rows:
        customer = context.get("customer") if isinstance(context, dict) else None
        if customer:
            found[str(customer)].append((at, visitor_id))
    return found


def _defined(comparison: Comparison | None) -> Comparison | None:
    """None for a comparison the data cannot make (no purchase, or every customer alike in both
    groups: no variance, so no interval)."""
    return comparison if comparison is not None and math.isfinite(float(comparison.p_value)) else None


def campaign_report(campaign: Campaign) -> CampaignReport:
    """The campaign's clicks, attributed purchases and lift, from what is stored now."""
    window = timedelta(days=campaign.attribution_days)
    recipients = list(Recipient.objects.filter(campaign=campaign).values_list("customer_key", "holdout", "exported_at"))
    clicks = _clicks(campaign)
    owners: dict[str, str] = {}  # visitor id -> customer
    users: dict[int, str] = {}  # user id -> customer
    for key, _holdout, _at in recipients:
        if key.startswith("u:") and key[2:].isdigit():
            users[int(key[2:])] = key
        else:
            owners[key] = key
    for visitor_id, user_id in Visitor.objects.filter(user_id__in=list(users)).values_list("key", "user_id"):
        owners.setdefault(visitor_id, users[user_id])
    for customer, touches in clicks.items():
        for _at, visitor_id in touches:
            owners.setdefault(visitor_id, customer)
    purchases: dict[str, list[tuple[datetime, float, str]]] = defaultdict(list)
    bounds = Recipient.objects.filter(campaign=campaign).aggregate(first=Min("exported_at"), last=Max("exported_at"))
    if recipients:
        # Links work for link_days after the export, and a click's purchases come within the window.
        until = bounds["last"] + timedelta(days=campaign.link_days) + window
        rows = Event.objects.filter(
            event_type=EventType.PURCHASE, occurred_at__gte=bounds["first"], occurred_at__lt=until
        ).values_list("visitor_id", "user_id", "occurred_at", "quantity", "unit_price", "context")
        for visitor_id, user_id, at, quantity, unit_price, context in rows.iterator(5000):
            customer = users.get(user_id) if user_id is not None else None
            customer = customer or owners.get(visitor_id)
            if customer is not None:
                order = context.get("order", "") if isinstance(context, dict) else ""
                revenue = float((unit_price or Decimal(0)) * (quantity or 1))
                purchases[customer].append((at, revenue, str(order or at.isoformat())))
    converted: dict[bool, list[bool]] = {False: [], True: []}
    spent: dict[bool, list[float]] = {False: [], True: []}
    attributed_orders: set[tuple[str, str]] = set()
    attributed_revenue = 0.0
    for key, holdout, exported_at in recipients:
        own = [p for p in purchases.get(key, []) if exported_at <= p[0] < exported_at + window]
        converted[holdout].append(bool(own))
        spent[holdout].append(sum(revenue for _at, revenue, _order in own))
        times = [at for at, _visitor in clicks.get(key, [])]
        for at, revenue, order in purchases.get(key, []):
            index = bisect_right(times, at) - 1
            if not holdout and index >= 0 and at - times[index] <= window:
                attributed_orders.add((key, order))
                attributed_revenue += revenue
    treated = ProportionStats(len(converted[False]), sum(converted[False]))
    held = ProportionStats(len(converted[True]), sum(converted[True]))
    treated_revenue, holdout_revenue = MeanStats.from_values(spent[False]), MeanStats.from_values(spent[True])
    enough = treated.n >= 2 and held.n >= 2
    with np.errstate(divide="ignore", invalid="ignore"):  # undefined comparisons are dropped below
        conversion = two_proportion_z_test(held, treated) if enough else None
        revenue = welch_t_test(holdout_revenue, treated_revenue) if enough else None
    return CampaignReport(
        campaign,
        treated,
        held,
        treated_revenue,
        holdout_revenue,
        _defined(conversion),
        _defined(revenue),
        sum(len(touches) for touches in clicks.values()),
        len(clicks),
        len(attributed_orders),
        attributed_revenue,
        bounds["last"] + window if recipients else None,
    )
