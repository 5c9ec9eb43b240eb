"""Nothing a visitor sends stops event storage: capture bounds every field once, the flush
dead-letters what it still cannot store and keeps going, and the admin retries or discards."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from promotions.conf import app_settings
from promotions.tasks import flush_events
from promotions.tracking import buffer, deadletters, limits
from promotions.tracking.models import DeadLetterEvent, Event

from .test_buffer import make

pytestmark = pytest.mark.django_db


def keys(events) -> set[str]:
    return {event["idempotency_key"] for event in events}


def stored_keys() -> list[str]:
    return list(Event.objects.values_list("idempotency_key", flat=True))


def test_a_nul_in_the_search_query_is_stored_without_it_and_every_later_event_too(redis_buffer, browser, product):
    # The reproduction: the shop cuts q at 100 characters, the NUL came after them.
    response = browser.get("/search/?q=" + "a" * 100 + "%00")
    assert response.status_code in {200, 400, 404}  # never a 500 (a 400 stores nothing, which is fine too)
    for _ in range(3):
        assert browser.get(reverse("shop:product", args=[product.stock_code])).status_code == 200
    assert flush_events() >= 3
    assert buffer.backlog() == 0 and not DeadLetterEvent.objects.exists()
    assert Event.objects.filter(event_type="view").count() == 3
    if response.status_code == 200:
        search = Event.objects.get(event_type="search")
        assert search.query == "a" * 100 and "\x00" not in json.dumps(search.context)


def test_track_bounds_every_field_once_at_capture(redis_buffer, browser, product, rf):
    from promotions.tracking.capture import TrackingState, track

    request = rf.get("/")
    request.user = None
    request.promotions = TrackingState(allowed=True, visitor_id="v" * 32)
    track(
        request,
        "review",
        product="85123A\x00",
        review_text="fine\x00\ud800" + "r" * 20_000,
        query="q" * 500,
        rating=10**9,  # out of the column's range: dropped
        dwell_seconds=float("nan"),
        context={"note": "x\x00y", "deep": [[[[["too deep"]]]]], "nan": float("inf"), "big": "z" * 10_000},
    )
    [event] = request.promotions.events
    assert event["item_id"] == "85123A" and event["review_text"] == "fine" + "r" * (limits.REVIEW_LENGTH - 4)
    assert event["query"] == "q" * limits.QUERY_LENGTH
    assert event["rating"] is None and event["dwell_seconds"] is None
    assert event["context"]["note"] == "xy" and event["context"]["nan"] is None
    assert len(event["context"]["big"]) == limits.CONTEXT_STRING_LENGTH
    assert buffer.row_problem(buffer.to_row(event), buffer.COLUMNS) is None
    buffer.write(request.promotions.events)
    assert flush_events() == 1 and Event.objects.get().review_text.startswith("fine")


def good_row(**changes) -> list:
    event = make(1)[0]
    row = buffer.to_row(event)
    for name, value in changes.items():
        row[buffer.COLUMNS.index(name)] = value
    return row


#: One entry of every poisoned kind, as raw stream fields, with what its reason must say.
def poisoned_entries() -> list[tuple[dict, str]]:
    def raw(row) -> dict:
        return {"r": json.dumps(row)}

    return [
        (raw(good_row(query="a" * 100 + "\x00")), "NUL"),
        (raw(good_row(item_id="\ud800abc")), "surrogate"),
        (raw(good_row(context=json.dumps({"k": "\x00"}))), "NUL"),
        (raw(good_row(item_id="x" * 65)), "longer than 64"),
        (raw(good_row(query="q" * 201)), "longer than 200"),
        (raw(good_row(context=json.dumps({"k": "v" * 5000}))), "longer than"),
        ({"r": b'["view", "v", '}, "broken JSON"),
        ({"r": b"\xff\xfe not utf-8"}, "broken JSON"),
        ({"x": "no r field"}, "holds no event"),
        (raw(good_row(quantity="three")), "quantity"),
        (raw(good_row(quantity=2**40)), "quantity"),
        (raw(good_row(rating=True)), "rating"),
        (raw(good_row(visitor_id=5)), "visitor_id is not text"),
        (raw(good_row(occurred_at="yesterday")), "occurred_at"),
        (raw(good_row(unit_price="1e9")), "unit_price"),
        (raw(good_row(dwell_seconds="long")), "dwell_seconds"),
        (raw(good_row(context="{not json")), "context is not JSON"),
        (raw(good_row(context="[1, 2]")), "not a JSON object"),
        (raw({"event_type": "view"}), "columns"),
        (raw(good_row()[:5]), "columns"),
    ]


def test_poisoned_entries_of_every_kind_are_dead_lettered_and_every_good_event_stored_once(redis_buffer):
    stream = app_settings.EVENT_STREAM
    poisoned = poisoned_entries()
    # Good events on both sides of each poisoned one, and an unknown product (stored, unlinked).
    good = []
    for fields, _reason in poisoned:
        before = make(2)
        good += before
        buffer.write(before)
        redis_buffer.xadd(stream, fields)
    unknown = make(1, item_id="NO-SUCH-PRODUCT")
    buffer.write(unknown)
    good += unknown
    assert flush_events() == len(good)
    assert sorted(stored_keys()) == sorted(keys(good))  # every good event, exactly once
    assert Event.objects.get(item_id="NO-SUCH-PRODUCT").product_id is None
    letters = list(DeadLetterEvent.objects.order_by("pk"))  # recorded in stream order
    assert len(letters) == len(poisoned)
    for letter, (_fields, reason) in zip(letters, poisoned, strict=True):
        assert reason in letter.reason, (letter.reason, reason)
        assert "\x00" not in letter.payload
    assert buffer.backlog() == 0 and redis_buffer.xpending(stream, buffer.GROUP)["pending"] == 0
    # A second flush finds nothing and records nothing twice.
    assert flush_events() == 0 and DeadLetterEvent.objects.count() == len(poisoned)


def test_a_row_the_database_refuses_is_isolated_from_its_batch():
    # A negative quantity passes nothing but the database's own CHECK constraint; the entries
    # skip the flush's validation, as rows of a column rule the app does not know would.
    good = [buffer.Entry(f"s{i}", good_row(), "{}") for i in range(20)]
    bad = [buffer.Entry(f"bad{i}", good_row(quantity=-1), "[]") for i in range(2)]
    batch = good[:7] + bad[:1] + good[7:15] + bad[1:] + good[15:]
    assert buffer.store(batch) == (20, 2)
    assert Event.objects.count() == 20
    reasons = set(DeadLetterEvent.objects.values_list("reason", flat=True))
    assert len(reasons) >= 1 and all(reason.startswith("refused by the database: IntegrityError") for reason in reasons)


def test_the_direct_path_without_redis_dead_letters_too():
    events = make(3)
    poisoned = make(1)[0]
    rows = [buffer.to_row(event) for event in events]
    rows.insert(1, buffer.to_row(poisoned))
    rows[1][buffer.COLUMNS.index("query")] = "nul\x00"
    assert buffer.store([buffer.entry_from_row(row) for row in rows]) == (3, 1)
    assert sorted(stored_keys()) == sorted(keys(events))
    assert DeadLetterEvent.objects.get().source_id == f"direct:{poisoned['idempotency_key']}"


def test_admin_retries_repairable_dead_letters_and_discards_the_rest(redis_buffer, admin_client):
    stream = app_settings.EVENT_STREAM
    nul_row = good_row(query="find\x00me")
    redis_buffer.xadd(stream, {"r": json.dumps(nul_row)})
    redis_buffer.xadd(stream, {"r": json.dumps(good_row(item_id="y" * 80, quantity=2**40))})
    redis_buffer.xadd(stream, {"r": b"{broken"})
    assert flush_events() == 0 and DeadLetterEvent.objects.count() == 3
    url = reverse("admin:promotions_deadletterevent_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200 and b"holds a NUL character" in page.content
    ids = list(DeadLetterEvent.objects.values_list("pk", flat=True))
    response = admin_client.post(url, {"action": "retry", "_selected_action": ids}, follow=True)
    assert b"2 events were stored." in response.content and b"1 event still cannot be stored" in response.content
    assert set(Event.objects.values_list("query", flat=True)) == {"findme", ""}
    assert Event.objects.get(query="").item_id == "y" * 64 and Event.objects.get(query="").quantity is None
    left = DeadLetterEvent.objects.get()
    assert left.attempts == 2 and left.reason.startswith("cannot be repaired")
    response = admin_client.post(url, {"action": "delete_selected", "_selected_action": [left.pk], "post": "yes"})
    assert response.status_code == 302 and not DeadLetterEvent.objects.exists()


def test_retry_is_refused_to_staff_without_the_change_permission(django_user_model, client):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_deadletterevent"))
    client.force_login(user)
    letter = DeadLetterEvent.objects.create(source_id="1-0", reason="r", payload=json.dumps(good_row()))
    url = reverse("admin:promotions_deadletterevent_changelist")
    client.post(url, {"action": "retry", "_selected_action": [letter.pk]})
    assert DeadLetterEvent.objects.filter(pk=letter.pk).exists() and not Event.objects.exists()


def test_a_dead_letter_repaired_by_retry_keeps_its_key_so_retrying_twice_stores_once():
    row = good_row(query="twice\x00")
    DeadLetterEvent.objects.create(source_id="1-0", reason="NUL", payload=json.dumps(row))
    DeadLetterEvent.objects.create(source_id="2-0", reason="NUL", payload=json.dumps(row))
    assert deadletters.retry(DeadLetterEvent.objects.all()) == (2, 0)
    assert Event.objects.get().query == "twice"


def test_the_repaired_row_keeps_the_time_and_the_key():
    when = timezone.now() - timedelta(days=2)
    event = {**make(1)[0], "occurred_at": when, "query": "q"}
    row = deadletters.repaired_row(json.dumps(buffer.to_row(event)))
    assert row[buffer.COLUMNS.index("occurred_at")] == when.isoformat()
    assert row[buffer.COLUMNS.index("idempotency_key")] == event["idempotency_key"]
    with pytest.raises(ValueError):
        deadletters.repaired_row(json.dumps(good_row(visitor_id="")))


def test_the_limits_follow_the_columns():
    assert (limits.ITEM_ID_LENGTH, limits.QUERY_LENGTH, limits.VISITOR_ID_LENGTH) == (64, 200, 64)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT character_maximum_length FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = 'query'",
                [Event._meta.db_table],
            )
            assert cursor.fetchone()[0] == limits.QUERY_LENGTH


def test_events_of_an_account_deleted_while_they_waited_are_stored_without_it(redis_buffer, django_user_model):
    user = django_user_model.objects.create_user("gone", password="x")
    kept = django_user_model.objects.create_user("kept", password="x")
    events = make(2, user_id=user.pk) + make(1, user_id=kept.pk)
    buffer.write(events)
    user.delete()
    assert flush_events() == 3 and not DeadLetterEvent.objects.exists()
    assert sorted(Event.objects.values_list("user_id", flat=True), key=str) == sorted([None, None, kept.pk], key=str)


def test_a_context_over_its_size_keeps_what_fits_and_says_so():
    context = limits.bounded_context({f"key{i:02d}": "v" * 500 for i in range(60)})
    assert len(json.dumps(context)) <= limits.CONTEXT_BYTES and context["truncated"] is True
    assert len(context) - 1 == (limits.CONTEXT_BYTES - 20) // len(json.dumps({"key00": "v" * 200}))
    assert all(len(value) == limits.CONTEXT_STRING_LENGTH for key, value in context.items() if key != "truncated")
    assert limits.bounded_context(["not", "an", "object"]) == {}
