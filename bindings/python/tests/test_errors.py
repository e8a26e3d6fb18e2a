"""absl status codes -> alerthub.Error subclasses: the whole table through the
extension's own conversion, then each error a live call can provoke, in the
modes that can provoke it."""

import datetime
import math
import pickle
import socket
import threading
import uuid

import pytest

import alerthub
from alerthub import _alerthub
from daemon import closed_port

# absl::StatusCode -> (class, code name).
TABLE = {
    1: (alerthub.Cancelled, "CANCELLED"),
    2: (alerthub.Unknown, "UNKNOWN"),
    3: (alerthub.InvalidArgument, "INVALID_ARGUMENT"),
    4: (alerthub.DeadlineExceeded, "DEADLINE_EXCEEDED"),
    5: (alerthub.NotFound, "NOT_FOUND"),
    6: (alerthub.AlreadyExists, "ALREADY_EXISTS"),
    7: (alerthub.PermissionDenied, "PERMISSION_DENIED"),
    8: (alerthub.ResourceExhausted, "RESOURCE_EXHAUSTED"),
    9: (alerthub.FailedPrecondition, "FAILED_PRECONDITION"),
    10: (alerthub.Aborted, "ABORTED"),
    11: (alerthub.OutOfRange, "OUT_OF_RANGE"),
    12: (alerthub.Unimplemented, "UNIMPLEMENTED"),
    13: (alerthub.Internal, "INTERNAL"),
    14: (alerthub.Unavailable, "UNAVAILABLE"),
    15: (alerthub.DataLoss, "DATA_LOSS"),
    16: (alerthub.Unauthenticated, "UNAUTHENTICATED"),
}


# -- the table ----------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(TABLE))
def test_every_status_code_maps_to_its_class(code):
    cls, name = TABLE[code]
    e = _alerthub._error_from_status_for_test(code, "what went wrong")
    assert type(e) is cls
    assert isinstance(e, alerthub.Error) and isinstance(e, Exception)
    assert (e.code, e.message, str(e)) == (name, "what went wrong", "what went wrong")
    assert type(pickle.loads(pickle.dumps(e))) is cls


def test_ok_is_not_an_error():
    with pytest.raises(ValueError, match="not an error"):
        _alerthub._error_from_status_for_test(0, "")


def test_field_errors_come_from_the_status_payload():
    e = _alerthub._error_from_status_for_test(
        3, "invalid notification", [("type", "is required"), ("tags.env", "too long")])
    assert type(e) is alerthub.InvalidArgument
    assert e.field_errors == [alerthub.FieldError("type", "is required"),
                              alerthub.FieldError("tags.env", "too long")]
    assert str(e) == "invalid notification: type: is required; tags.env: too long"
    copy = pickle.loads(pickle.dumps(e))
    assert (copy.message, copy.field_errors) == (e.message, e.field_errors)
    assert repr(e).startswith("InvalidArgument('invalid notification: ")


def test_rate_limit_info_makes_a_rate_limited_error():
    e = _alerthub._error_from_status_for_test(8, "slow down", retry_and_reset=(1.5, 4.0))
    assert type(e) is alerthub.RateLimited
    assert isinstance(e, alerthub.ResourceExhausted)
    assert e.retry_after == 1.5
    assert e.rate_limit == alerthub.RateLimit(limit=10, remaining=0, reset_after=4.0,
                                              retry_after=1.5)
    assert e.code == "RESOURCE_EXHAUSTED"
    copy = pickle.loads(pickle.dumps(e))
    assert (type(copy), copy.retry_after) == (alerthub.RateLimited, 1.5)


def test_resource_exhausted_without_rate_limit_info_is_not_rate_limited():
    e = _alerthub._error_from_status_for_test(8, "disk full")
    assert type(e) is alerthub.ResourceExhausted
    assert not isinstance(e, alerthub.RateLimited)


# -- InvalidArgument, live ----------------------------------------------------


def test_invalid_notification_names_every_field(client):
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit(type="Deploy!", titel="x", priority="urgent")
    # The model's order: unknown fields first, then each field's rule.
    assert [(f.field, f.message) for f in e.value.field_errors] == [
        ("titel", "unknown field"),
        ("type", "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'"),
        ("priority", "must be one of min, low, normal, high, critical or 1-5"),
    ]
    assert str(e.value).startswith("invalid notification: ")
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit()
    assert e.value.field_errors == [alerthub.FieldError("type", "is required")]


def test_bad_idempotency_key_is_invalid(client, unique_type):
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit(type=unique_type, idempotency_key="k" * 257)
    assert [f.field for f in e.value.field_errors] == ["Idempotency-Key"]
    with pytest.raises(alerthub.InvalidArgument) as e:  # the whole batch, as the router does
        client.submit_batch([{"type": unique_type}, {"type": "BAD"}], idempotency_key="k" * 257)
    assert [f.field for f in e.value.field_errors] == ["Idempotency-Key"]


def test_values_json_cannot_carry_raise_type_and_value_errors(client, unique_type):
    with pytest.raises(TypeError, match="data.when: object of type 'datetime.datetime' is not JSON"):
        client.submit(type=unique_type, data={"when": datetime.datetime.now()})
    with pytest.raises(TypeError, match="data: keys must be str, not int"):
        client.submit(type=unique_type, data={1: "x"})
    with pytest.raises(ValueError, match="data.x: nan is not allowed in JSON"):
        client.submit(type=unique_type, data={"x": math.nan})
    with pytest.raises(ValueError, match="integer does not fit in 64 bits"):
        client.submit(type=unique_type, data={"x": 2**70})
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="nested more than 64 levels"):
        client.submit(type=unique_type, data={"x": cycle})
    with pytest.raises(TypeError, match=r"notifications\[1\]: a notification is a dict"):
        client._native.submit_batch([{"type": unique_type}, "nope"], "")


def test_data_nesting_is_the_models_rule(client, unique_type):
    deep = {}
    for _ in range(20):
        deep = {"d": deep}
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit(type=unique_type, data=deep)
    assert [f.field for f in e.value.field_errors] == ["data"]


def test_bad_watch_arguments(client):
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.watch(min_priority="urgent")
    assert e.value.field_errors == [alerthub.FieldError(
        "min_priority", "must be one of min, low, normal, high, critical or 1-5")]
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.watch(max_queue=0)
    assert e.value.field_errors == [alerthub.FieldError("max_queue", "must be at least 1")]
    with pytest.raises(TypeError, match="callback must be callable"):
        client.watch(42)
    with pytest.raises(TypeError, match="types is a list"):
        client.watch(types="deploy.finished")


@pytest.mark.parametrize("options, field", [
    ({"store": "bogus://x"}, None),
    ({"store": "sqlite://:memory:", "tenant": "Not A Tenant"}, None),
    ({"endpoint": "ftp://example.com", "api_key": "ahk_x"}, "endpoint"),
    ({"endpoint": "http://127.0.0.1:1", "api_key": ""}, "api_key"),
    ({"endpoint": "http://127.0.0.1:1", "api_key": "ahk_x", "timeout": 0}, "timeout"),
])
def test_bad_options_are_invalid_argument(options, field):
    with pytest.raises(alerthub.InvalidArgument) as e:
        alerthub.Client(**options)
    if field is not None:
        assert [f.field for f in e.value.field_errors] == [field]


# -- RateLimited, live --------------------------------------------------------


def _exhaust(c, unique_type):
    for i in range(2):
        c.submit(type=unique_type, title="burst %d" % i)
    with pytest.raises(alerthub.RateLimited) as e:
        c.submit(type=unique_type, title="one too many")
    return e.value


def test_rate_limited_embedded(tmp_path, unique_type):
    with alerthub.Client(store="sqlite:///%s" % (tmp_path / "rl.db"), rate_limit_per_second=0.01,
                         rate_limit_burst=2) as c:
        e = _exhaust(c, unique_type)
        with pytest.raises(alerthub.RateLimited):
            c.submit_batch([{"type": unique_type}])
    assert e.retry_after > 1
    assert (e.rate_limit.limit, e.rate_limit.remaining) == (2, 0)
    assert e.rate_limit.reset_after >= e.retry_after


def test_rate_limited_remote(start_daemon, unique_type):
    d = start_daemon("--rate_limit_per_second=0.01", "--rate_limit_burst=2")
    with alerthub.Client(endpoint=d.base_url, api_key=d.api_key) as c:
        e = _exhaust(c, unique_type)
        with pytest.raises(alerthub.RateLimited):
            c.submit_batch([{"type": unique_type}])
    assert e.retry_after >= 1
    assert (e.rate_limit.limit, e.rate_limit.remaining) == (2, 0)


# -- NotFound, live: see test_client.py; remote-only errors -------------------


WELL_FORMED_UNKNOWN_KEY = "ahk_" + "A" * 32 + "000000"


def test_unknown_key_is_unauthenticated(daemon):
    with alerthub.Client(endpoint=daemon.base_url, api_key=WELL_FORMED_UNKNOWN_KEY) as c:
        with pytest.raises(alerthub.Unauthenticated):
            c.get(str(uuid.uuid4()))
        with pytest.raises(alerthub.Unauthenticated):
            c.submit(type="x")
        with pytest.raises(alerthub.Unauthenticated):
            c.submit_batch([{"type": "x"}])
        with pytest.raises(alerthub.Unauthenticated):
            c.list_page()
        with pytest.raises(alerthub.Unauthenticated):
            c.watch()


def test_no_router_is_unavailable():
    with alerthub.Client(endpoint="http://127.0.0.1:%d" % closed_port(), api_key="ahk_x",
                         timeout=2) as c:
        with pytest.raises(alerthub.Unavailable):
            c.submit(type="x")
        with pytest.raises(alerthub.Unavailable):
            c.get(str(uuid.uuid4()))
        with pytest.raises(alerthub.Unavailable):
            c.watch()


def test_a_router_that_never_answers_is_unavailable_after_the_timeout():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        with alerthub.Client(endpoint="http://127.0.0.1:%d" % port, api_key="ahk_x",
                             timeout=0.5) as c:
            with pytest.raises(alerthub.Unavailable):
                c.submit(type="x")  # no key: not retried once it may have been sent


def test_a_non_router_answer_is_an_error_not_a_crash():
    """An HTTP server that is not AlertHub (a 500 HTML page): Internal."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]

        def serve():
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                body = b"<html>oops</html>"
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))

        t = threading.Thread(target=serve)
        t.start()
        with alerthub.Client(endpoint="http://127.0.0.1:%d" % port, api_key="ahk_x") as c:
            with pytest.raises(alerthub.Internal, match="oops"):
                c.submit(type="x")
        t.join(10)
