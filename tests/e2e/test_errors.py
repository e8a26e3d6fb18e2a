"""The bad-input catalogue: every malformed request gets the exact status code
and RFC 9457 problem body (docs/api.md, "Errors"). Messages are the server's
own strings (alerthub/server/router_service.cc, status_http.cc,
alerthub/model/notification.cc, alerthub/model/internal/validation.h)."""

import base64
import json
import socket
import time

import pytest
import requests

from alerthub_e2e import REQUEST_TIMEOUT, assert_problem, make_token, unique

SLUG = "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'"
PRIORITY = "must be one of min, low, normal, high, critical or 1-5"
RFC3339 = "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z"
NOTIFY = "/api/v1/notifications"
BATCH = "/api/v1/notifications/batch"
JSON_CT = {"Content-Type": "application/json"}


def validation(r, errors, prefix="invalid notification"):
    detail = prefix + ": " + "; ".join("%s: %s" % fm for fm in errors)
    return assert_problem(r, 422, "validation", "Unprocessable Content", detail, errors)


# ---------------------------------------------------------------------------
# Bodies that are not JSON, not UTF-8, or not sent as JSON: 400 / 415.


def test_malformed_json_is_400(api):
    r = api.post(NOTIFY, data=b'{"type":', headers=JSON_CT)
    assert_problem(r, 400, "malformed-request", "Bad Request",
                   "malformed JSON: parse error at line 1, column 9: syntax error while "
                   "parsing value - unexpected end of input; expected '[', '{', or a literal")


def test_trailing_garbage_after_json_is_400(api):
    r = api.post(NOTIFY, data=b'{"type": "a"} x', headers=JSON_CT)
    body = assert_problem(r, 400, "malformed-request", "Bad Request")
    assert body["detail"].startswith("malformed JSON: parse error at line 1, column 15")


def test_empty_body_is_400(api):
    r = api.post(NOTIFY, data=b"", headers=JSON_CT)
    assert_problem(r, 400, "malformed-request", "Bad Request",
                   "the request body is empty: send a JSON object")


def test_invalid_utf8_in_a_string_is_400(api):
    r = api.post(NOTIFY, data=b'{"type": "a", "title": "caf\xc3\x28 \xff"}', headers=JSON_CT)
    body = assert_problem(r, 400, "malformed-request", "Bad Request")
    assert body["detail"].startswith(
        "malformed JSON: parse error at line 1, column 29: syntax error while parsing "
        "value - invalid string: ill-formed UTF-8 byte"), body


@pytest.mark.parametrize("content_type,media", [
    ("text/plain", "text/plain"),
    ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
    ("Text/XML; charset=utf-8", "text/xml"),
])
def test_non_json_content_type_is_415(api, content_type, media):
    r = api.post(NOTIFY, data=b'{"type": "a"}', headers={"Content-Type": content_type})
    assert_problem(r, 415, "unsupported-media-type", "Unsupported Media Type",
                   'unsupported Content-Type "%s": send application/json' % media)
    r = api.post(BATCH, data=b'{"notifications": [{"type": "a"}]}',
                 headers={"Content-Type": content_type})
    assert r.status_code == 415


@pytest.mark.parametrize("content_type", [
    None, "application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
    "application/cloudevents+json"])
def test_json_or_absent_content_type_is_accepted(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    data = json.dumps({"type": unique("ct"), "title": str(content_type)}).encode()
    s = requests.Session()
    req = requests.Request("POST", api.base_url + NOTIFY, data=data,
                           headers=dict(headers, **{"X-API-Key": api.api_key}))
    prepared = s.prepare_request(req)
    if content_type is None:
        prepared.headers.pop("Content-Type", None)
    r = s.send(prepared, timeout=REQUEST_TIMEOUT)
    assert r.status_code == 202, r.text


# ---------------------------------------------------------------------------
# Notifications that break a rule: 422 with every field.


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_422(api, body):
    r = api.post(NOTIFY, data=body.encode(), headers=JSON_CT)
    validation(r, [("", "must be a JSON object")])


def test_wrong_types_list_every_field_in_order(api):
    r = api.submit({
        "type": 5, "title": 7, "body": [], "priority": True, "data": [1], "tags": [],
        "recipients": "x", "channels": "slack", "integration_ids": "x", "template": 3,
        "dedup_key": 1, "scheduled_at": 5,
    })
    validation(r, [
        ("type", "must be a string"), ("title", "must be a string"),
        ("body", "must be a string"), ("priority", PRIORITY),
        ("data", "must be an object"), ("tags", "must be an object"),
        ("recipients", "must be an array of strings"),
        ("channels", "must be an array of strings"),
        ("integration_ids", "must be an array of strings"),
        ("template", "must be a string"), ("dedup_key", "must be a string"),
        ("scheduled_at", "must be a string"),
    ])


def test_wrong_element_types_name_the_element(api):
    r = api.submit({"type": "a", "tags": {"env": 1}, "recipients": ["ok", 2],
                    "channels": ["slack", "fax", "slack"],
                    "integration_ids": ["not-a-uuid"], "scheduled_at": "tomorrow"})
    validation(r, [
        ("tags.env", "must be a string"), ("recipients[1]", "must be a string"),
        ("channels[1]", "must be one of webhook, slack, discord, email, push"),
        ("channels[2]", "is listed more than once"),
        ("integration_ids[0]", "must be a UUID"), ("scheduled_at", RFC3339),
    ])


def test_unknown_field_is_422(api):
    r = api.submit({"type": "a", "colour": "red"})
    validation(r, [("colour", "unknown field")])
    # A misspelt field does not pass silently even next to valid ones.
    r = api.submit({"type": "a", "title": "t", "priorty": "high"})
    validation(r, [("priorty", "unknown field")])


@pytest.mark.parametrize("field", ["id", "tenant_id", "status", "created_at", "updated_at"])
def test_server_assigned_fields_cannot_be_set(api, field):
    r = api.submit({"type": "a", field: "x"})
    validation(r, [(field, "is assigned by AlertHub and cannot be set")])


def test_missing_type_is_422(api):
    validation(api.submit({"title": "no type"}), [("type", "is required")])


@pytest.mark.parametrize("type_", ["", "Deploy", "a b", "x" * 129, "caf\u00e9"])
def test_bad_type_is_422(api, type_):
    validation(api.submit({"type": type_}), [("type", SLUG)])


@pytest.mark.parametrize("priority", ["urgent", "HIGH", 0, 6, "0", 2.5, [], {}])
def test_unknown_priority_is_422(api, priority):
    validation(api.submit({"type": "a", "priority": priority}), [("priority", PRIORITY)])


def test_empty_title_is_422(api):
    validation(api.submit({"type": "a", "title": ""}), [("title", "must not be empty")])


def test_257_character_title_is_422_and_256_is_fine(api):
    validation(api.submit({"type": "a", "title": "x" * 257}),
               [("title", "must be at most 256 characters")])
    # Characters, not bytes: 256 two-byte characters are fine.
    t = unique("title")
    assert api.submit({"type": t, "title": "\u00e9" * 256}).status_code == 202
    assert api.submit({"type": t, "title": "y" * 256}).status_code == 202


def test_every_rule_broken_at_once_lists_every_field(api):
    r = api.submit({"type": "", "title": "", "priority": "x", "dedup_key": "",
                    "template": "Bad Template"})
    validation(r, [("type", SLUG), ("title", "must not be empty"), ("priority", PRIORITY),
                   ("template", SLUG), ("dedup_key", "must be 1-256 printable characters")])


# ---------------------------------------------------------------------------
# Sizes.


def test_body_over_256_kib_sent_chunked_is_413(api):
    """Chunked (no Content-Length): the limit trips while reading the body."""
    payload = b'{"type": "a", "body": "' + b"x" * (256 * 1024) + b'"}'

    def chunks():
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i:i + 64 * 1024]

    r = api.post(NOTIFY, data=chunks(), headers=JSON_CT)
    assert_problem(r, 413, None, "Content Too Large",
                   "the request body exceeds 262144 bytes")
    assert r.headers.get("Connection", "").lower() == "close"


def test_body_over_256_kib_is_413(daemon_factory):
    d = daemon_factory()
    d.may_crash = True
    payload = b'{"type": "a", "body": "' + b"x" * (256 * 1024) + b'"}'
    try:
        r = requests.post(d.base_url + NOTIFY, data=payload, timeout=REQUEST_TIMEOUT,
                          headers={"X-API-Key": d.api_key, "Content-Type": "application/json"})
    except requests.ConnectionError as e:
        time.sleep(0.3)
        pytest.fail("no response (%s); daemon exit code %r:\n%s"
                    % (e, d.proc.poll(), d.stderr_tail(3)))
    assert_problem(r, 413, None, "Content Too Large", "the request body exceeds 262144 bytes")
    assert d.alive()


def _raw_exchange(port, data, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    return out


def test_malformed_request_line_is_400_and_the_daemon_survives(daemon_factory):
    d = daemon_factory()
    d.may_crash = True
    out = _raw_exchange(d.port, b"GARBAGE GARBAGE\r\n\r\n")
    time.sleep(0.3)
    assert d.alive(), "daemon died with %r: %s" % (d.proc.poll(), d.stderr_tail(2))
    assert out.startswith(b"HTTP/1.1 400 "), out[:200]
    assert requests.get(d.base_url + "/health/live", timeout=5).status_code == 200


def test_oversized_header_is_431_and_the_daemon_survives(daemon_factory):
    d = daemon_factory()
    d.may_crash = True
    out = _raw_exchange(d.port, b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: "
                        + b"a" * 20000 + b"\r\n\r\n")
    time.sleep(0.3)
    assert d.alive(), "daemon died with %r: %s" % (d.proc.poll(), d.stderr_tail(2))
    assert out.startswith(b"HTTP/1.1 431 "), out[:200]


# ---------------------------------------------------------------------------
# Batches.


@pytest.mark.parametrize("n", [0, 101])
def test_batch_of_0_or_101_is_422_on_notifications(api, n):
    r = api.post(BATCH, json={"notifications": [{"type": "a", "title": str(i)}
                                                for i in range(n)]})
    validation(r, [("notifications", "must hold 1-100 notifications, not %d" % n)],
               prefix="invalid batch")


@pytest.mark.parametrize("body", [{}, {"notifications": {"type": "a"}}, [{"type": "a"}],
                                  {"notifications": None}])
def test_batch_without_an_array_is_422(api, body):
    validation(api.post(BATCH, json=body),
               [("notifications", "must be an array of 1-100 notifications")],
               prefix="invalid batch")


def test_batch_with_an_unknown_member_is_422(api):
    validation(api.post(BATCH, json={"notifications": [{"type": "a"}], "dry_run": True}),
               [("dry_run", "unknown field")], prefix="invalid batch")


def test_batch_malformed_json_is_400(api):
    r = api.post(BATCH, data=b'{"notifications": [', headers=JSON_CT)
    body = assert_problem(r, 400, "malformed-request", "Bad Request")
    assert body["detail"].startswith("malformed JSON: ")


# ---------------------------------------------------------------------------
# Idempotency-Key.

IDEM_ERROR = [("Idempotency-Key", "must be 1-256 printable ASCII characters")]
IDEM_DETAIL = ("invalid Idempotency-Key header: Idempotency-Key: "
               "must be 1-256 printable ASCII characters")


@pytest.mark.parametrize("key", ["", "k" * 257, "caf\u00e9".encode("utf-8"), "a\tb"])
def test_bad_idempotency_key_is_400(api, key):
    for path, body in ((NOTIFY, {"type": "a"}), (BATCH, {"notifications": [{"type": "a"}]})):
        r = api.post(path, json=body, headers={"Idempotency-Key": key})
        assert_problem(r, 400, "invalid-parameter", "Bad Request", IDEM_DETAIL, IDEM_ERROR)


def test_idempotency_key_of_256_printable_characters_is_fine(api):
    key = (unique("k") + "~ !" * 100)[:256]
    assert api.submit({"type": unique("idem256")}, headers={"Idempotency-Key": key}
                      ).status_code == 202


# ---------------------------------------------------------------------------
# Authentication.

ROUTES = [("POST", NOTIFY), ("POST", BATCH), ("GET", NOTIFY),
          ("GET", NOTIFY + "/01a21b4f-e70c-7760-b0d0-c71c9833a5d0"),
          ("GET", NOTIFY + "/01a21b4f-e70c-7760-b0d0-c71c9833a5d0/events")]


@pytest.mark.parametrize("method,path", ROUTES)
def test_missing_key_is_401_with_www_authenticate(api, method, path):
    r = api.request(method, path, key=False, json={"type": "a"})
    assert_problem(r, 401, "unauthenticated", "Unauthorized", "missing credentials")
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="alerthub"'


def _bad_checksum(token):
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("headers,detail", [
    ({"X-API-Key": "ahk_short"}, "malformed API key"),
    ({"X-API-Key": "xyz_" + make_token()[4:]}, "malformed API key"),
    ({"X-API-Key": make_token()[:-6] + "!!!!!!"}, "malformed API key"),
    ({"X-API-Key": make_token() + "0"}, "malformed API key"),
    ({"X-API-Key": _bad_checksum(make_token())}, "API key checksum mismatch"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "unsupported authorization scheme"),
    ({"Authorization": "Bearer"}, "malformed authorization header"),
    # The all-in-one verifies access tokens (it makes a signing key on first
    # start), so a bearer JWT is checked, and this one is not even base64url.
    ({"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
     "invalid token: a segment is not unpadded base64url"),
    ({"X-API-Key": ""}, "missing credentials"),
])
def test_malformed_key_is_401(api, headers, detail):
    r = api.get(NOTIFY, key=False, headers=headers)
    assert_problem(r, 401, "unauthenticated", "Unauthorized", detail)


def test_unknown_well_formed_key_is_401(api):
    for headers in ({"X-API-Key": make_token()}, {"Authorization": "Bearer " + make_token()},
                    {"Authorization": "bearer " + make_token()}):
        r = api.get(NOTIFY, key=False, headers=headers)
        body = assert_problem(r, 401, "unauthenticated", "Unauthorized", "invalid API key")
        assert "ahk_" not in json.dumps(body)  # the token is never echoed


def test_query_api_key_is_only_for_the_websocket(api):
    r = api.get(NOTIFY + "?api_key=" + api.api_key, key=False)
    assert_problem(r, 401, "unauthenticated", "Unauthorized", "missing credentials")


# ---------------------------------------------------------------------------
# Unknown things: 404 / 405.


@pytest.mark.parametrize("suffix", ["", "/events"])
@pytest.mark.parametrize("nid", ["not-a-uuid", "01a21b4f-e70c-7760-b0d0-c71c9833a5d0",
                                 "0193a000-0000-7000-8000-00000000000g"])
def test_unknown_or_non_uuid_notification_id_is_404(api, nid, suffix):
    r = api.get(NOTIFY + "/" + nid + suffix)
    assert_problem(r, 404, "not-found", "Not Found", "no notification " + nid)


def test_unknown_route_is_404(api):
    for path in ("/api/v1/nope", "/api/v2/notifications", "/", "/api/v1/notifications/x/y/z"):
        r = api.get(path)
        assert r.status_code == 404, r.text
        assert r.headers["Content-Type"] == "application/problem+json"
        body = r.json()
        assert (body["title"], body["status"], body["detail"]) == (
            "Not Found", 404, "no route for " + path)


def test_unknown_route_is_404_about_blank(api):
    # docs/api.md: an unknown route is a plain 404 (type about:blank); a
    # missing notification is the `not-found` problem.
    assert_problem(api.get("/api/v1/nope"), 404, None, "Not Found",
                   "no route for /api/v1/nope")


@pytest.mark.parametrize("method,path,allow", [
    ("DELETE", NOTIFY, "GET, HEAD, POST"),
    ("PUT", NOTIFY, "GET, HEAD, POST"),
    ("PATCH", NOTIFY + "/01a21b4f-e70c-7760-b0d0-c71c9833a5d0", "DELETE, GET, HEAD"),
    ("POST", NOTIFY + "/01a21b4f-e70c-7760-b0d0-c71c9833a5d0/events", "GET, HEAD"),
    ("POST", "/health/live", "GET, HEAD"),
    ("DELETE", "/metrics", "GET, HEAD"),
])
def test_wrong_method_is_405_with_allow(api, method, path, allow):
    r = api.request(method, path)
    assert_problem(r, 405, None, "Method Not Allowed",
                   "method %s is not allowed here" % method)
    assert r.headers["Allow"] == allow


# ---------------------------------------------------------------------------
# List query parameters: 400 naming the parameter.

LIMIT = "must be an integer between 1 and 500"
STATUS = ('unknown notification status "%s"; expected one of accepted, routed, '
          "delivering, delivered, partially_delivered, failed, suppressed, cancelled")


def _cursor_of(raw):
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("query,errors", [
    ("limit=0", [("limit", LIMIT)]),
    ("limit=501", [("limit", LIMIT)]),
    ("limit=abc", [("limit", LIMIT)]),
    ("limit=-1", [("limit", LIMIT)]),
    ("limit=2.5", [("limit", LIMIT)]),
    ("limit=", [("limit", LIMIT)]),
    ("status=bogus", [("status", STATUS % "bogus")]),
    ("status=Accepted", [("status", STATUS % "Accepted")]),
    ("since=yesterday", [("since", RFC3339)]),
    ("since=2026-13-01T00:00:00Z", [("since", RFC3339)]),
    ("cursor=zzz", [("cursor", "is malformed")]),
    ("cursor=" + _cursor_of("n1:not-a-uuid"), [("cursor", "is malformed")]),
    ("cursor=%25%25", [("cursor", "is malformed")]),
    ("colour=red", [("colour", "unknown query parameter")]),
])
def test_bad_list_parameter_is_400_naming_it(api, query, errors):
    r = api.get(NOTIFY + "?" + query)
    assert_problem(r, 400, "invalid-parameter", "Bad Request",
                   "invalid query parameters: " + "; ".join("%s: %s" % e for e in errors),
                   errors)


def test_several_bad_list_parameters_are_all_named(api):
    r = api.get(NOTIFY + "?status=x&limit=0&since=y")
    body = assert_problem(r, 400, "invalid-parameter", "Bad Request",
                          errors=[("limit", LIMIT), ("since", RFC3339),
                                  ("status", STATUS % "x")])
    assert body["detail"].startswith("invalid query parameters: ")


@pytest.mark.parametrize("limit", ["1", "500"])
def test_limit_bounds_are_accepted(api, limit):
    assert api.get(NOTIFY + "?limit=" + limit).status_code == 200


# ---------------------------------------------------------------------------
# Size and range rules of docs/library.md.


def test_a_body_of_exactly_256_kib_is_read_and_validated(api):
    head = b'{"type": "a", "body": "'
    payload = head + b"x" * (256 * 1024 - len(head) - 2) + b'"}'
    assert len(payload) == 256 * 1024
    r = api.post(NOTIFY, data=payload, headers=JSON_CT)
    validation(r, [("body", "must be at most 16384 characters")])


@pytest.mark.parametrize("notification,errors", [
    ({"type": "a", "scheduled_at": "2099-01-01T00:00:00Z"},
     [("scheduled_at", "must be at most 30 days ahead")]),
    ({"type": "a", "tags": {"k%d" % i: "v" for i in range(65)}},
     [("tags", "must have at most 64 entries")]),
    ({"type": "a", "tags": {"bad key": "v"}},
     [("tags.bad key", "key must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")]),
    ({"type": "a", "tags": {"k": "v" * 257}}, [("tags.k", "must be at most 256 characters")]),
    ({"type": "a", "data": {"x": "y" * 70000}}, [("data", "must be at most 65536 bytes as JSON")]),
    ({"type": "a", "recipients": [""]}, [("recipients[0]", "must not be empty")]),
    ({"type": "a", "integration_ids": ["0193a000-0000-7000-8000-000000000001",
                                       "0193A000-0000-7000-8000-000000000001"]},
     [("integration_ids[1]", "is listed more than once")]),
    ({"type": "a", "dedup_key": "k" * 257}, [("dedup_key", "must be 1-256 printable characters")]),
    ({"type": "a", "dedup_key": "tab\there"},
     [("dedup_key", "must be 1-256 printable characters")]),
    ({"type": "a", "body": "b" * 16385}, [("body", "must be at most 16384 characters")]),
])
def test_range_rules_are_422(api, notification, errors):
    validation(api.submit(notification), errors)


def test_data_nested_17_deep_is_422(api):
    deep = {}
    cur = deep
    for _ in range(16):
        cur["a"] = {}
        cur = cur["a"]
    validation(api.submit({"type": "a", "data": deep}),
               [("data", "must be nested at most 16 levels deep")])
    # 16 levels are fine.
    ok = {}
    cur = ok
    for _ in range(15):
        cur["a"] = {}
        cur = cur["a"]
    assert api.submit({"type": unique("deep16"), "data": ok}).status_code == 202
