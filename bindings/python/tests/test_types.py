"""The result types: enums agree with the library, times are aware UTC
datetimes, values compare and print sensibly."""

import datetime

import pytest

import alerthub
from alerthub import Channel, Priority, Status, _alerthub
from alerthub._types import _micros, _time

UTC = datetime.timezone.utc


@pytest.mark.parametrize("enum, names", [
    (Status, _alerthub.STATUS_NAMES),
    (Priority, _alerthub.PRIORITY_NAMES),
    (Channel, _alerthub.CHANNEL_NAMES),
])
def test_enums_have_the_librarys_names_in_order(enum, names):
    assert [m.value for m in enum] == list(names)


def test_enum_members_are_their_wire_names():
    assert Status.ACCEPTED == "accepted" and str(Status.PARTIALLY_DELIVERED) == "partially_delivered"
    assert f"{Priority.HIGH}" == "high"
    assert Status("suppressed") is Status.SUPPRESSED
    assert [p.level for p in Priority] == [1, 2, 3, 4, 5]
    assert {s for s in Status if s.terminal} == {
        Status.DELIVERED, Status.PARTIALLY_DELIVERED, Status.FAILED, Status.SUPPRESSED,
        Status.CANCELLED}


def test_times_are_aware_utc_with_microseconds():
    t = _time(1_795_765_635_496_397)
    assert t == datetime.datetime(2026, 11, 27, 7, 47, 15, 496397, tzinfo=UTC)
    assert _micros(t, "t") == 1_795_765_635_496_397
    assert _time(None) is None
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    assert _micros(t.astimezone(plus_two), "t") == 1_795_765_635_496_397
    assert _micros(datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "t") == -1
    with pytest.raises(ValueError, match="t must be timezone-aware"):
        _micros(datetime.datetime(2026, 1, 1), "t")


def test_results_are_frozen_and_print_their_fields():
    r = alerthub.SubmitResult("id-1", Status.ACCEPTED, False, alerthub.RateLimit(10, 9, 0.1, 0.0))
    assert repr(r) == ("SubmitResult(id='id-1', status=<Status.ACCEPTED: 'accepted'>, "
                       "duplicate=False, rate_limit=RateLimit(limit=10, remaining=9, "
                       "reset_after=0.1, retry_after=0.0))")
    with pytest.raises(AttributeError):
        r.id = "other"
    assert r == alerthub.SubmitResult("id-1", Status.ACCEPTED, False,
                                      alerthub.RateLimit(10, 9, 0.1, 0.0))
    assert hash(alerthub.FieldError("type", "is required")) == \
        hash(alerthub.FieldError("type", "is required"))
