"""Issue 16 (items 4, 5) and issue 14 (items 2, 4): huge batch reports, odd argument values,
options checked by the core, the list of error codes."""

from __future__ import annotations

import json
import resource
import tracemalloc
from typing import Callable, List, Tuple

import pytest

import mqtt_status
from mqtt_status import InvalidField, StatusEngine, StatusError

CAP = 1000  # MAX_REPORTED_ERRORS in the core
GOOD = json.dumps({"clientId": "GID_a@@@d1", "channelId": "c1", "eventType": "connect", "time": 1000})


def test_six_million_bad_lines_give_a_small_report() -> None:
    bad = 6_000_000
    data = b"x\n" * bad + GOOD.encode()
    e = StatusEngine()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    try:
        r = e.ingest_many(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (r.applied, r.rejected, len(r.errors)) == (1, bad, CAP)
    assert [x.index for x in r.errors] == list(range(CAP))
    assert e.is_online("GID_a@@@d1") and e.stats().rejected == bad
    # Python objects held for the report: a thousand errors, not millions (was 1.85 GB at 5M).
    assert peak < 8 << 20, peak
    # Nor on the Rust side: the peak resident size grows by far less than a report per line.
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 200 << 10, grown_kib


def test_an_iterable_batch_past_the_cap() -> None:
    e = StatusEngine()
    r = e.ingest_many(["x"] * (CAP + 5) + [GOOD])
    assert (r.applied, r.rejected, len(r.errors)) == (1, CAP + 5, CAP)
    assert r.to_dict()["rejected"] == CAP + 5


def test_ingest_takes_a_memoryview_like_ingest_many() -> None:
    e = StatusEngine()
    t = e.ingest(memoryview(GOOD.encode()))
    assert t is not None and t.online


def test_out_of_range_integers_are_invalid_field_not_overflow() -> None:
    e = StatusEngine()
    calls: List[Tuple[Callable[[], object], str]] = [
        (lambda: e.ingest_many("", until=-1), "until"),
        (lambda: e.ingest_many([GOOD], until=-1), "until"),
        (lambda: e.ingest_many("", until=2**64), "until"),
        (lambda: e.online_clients(limit=2**64), "limit"),
        (lambda: e.online_clients(limit=10**400), "limit"),
        (lambda: e.online_clients(limit=-1), "limit"),
        (lambda: StatusEngine(max_id_len=2**64), "maxIdLen"),
    ]
    for call, field in calls:
        with pytest.raises(InvalidField) as info:
            call()
        assert (info.value.code, info.value.field) == ("invalid_field", field)
    assert e.stats().events == 0  # argument errors are not inputs


def test_option_messages_are_the_cores() -> None:
    with pytest.raises(InvalidField, match="must be an integer between 0 and 9007199254740991"):
        StatusEngine().online_clients(limit=-1)
    with pytest.raises(InvalidField, match="must be a boolean"):
        StatusEngine(takeover=1)  # type: ignore[arg-type]
    # None takes the default, as null and undefined do in JavaScript.
    assert StatusEngine(takeover=None).config["takeover"] is False  # type: ignore[arg-type]


def test_an_id_that_is_not_unicode_is_unknown() -> None:
    e = StatusEngine()
    e.ingest(GOOD)
    assert e.is_online("\ud800") is False
    assert e.client("\ud800") is None


def test_error_classes_match_the_cores_codes() -> None:
    from mqtt_status import _errors, _native

    assert list(_errors._DEFAULT_CODES.values()) == list(_native.ERROR_CODES)
    for cls, code in _errors._DEFAULT_CODES.items():
        assert issubclass(cls, StatusError) and cls.__name__ in mqtt_status.__all__
        assert cls("m").code == code
