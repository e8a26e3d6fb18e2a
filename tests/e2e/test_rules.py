"""Routing rules, users and preferences end to end in the all-in-one daemon:
the /api/v1/rules and /api/v1/users routes (CRUD, validation, tenant
isolation), the dry run, and rules acting on real submissions (suppress,
route to a webhook)."""

import datetime

import pytest

from alerthub_e2e import Api, DaemonFactory, assert_problem, unique
from test_delivery import Sink, create_webhook, status_of, wait_for

RULES = "/api/v1/rules"
USERS = "/api/v1/users"


def rule_body(type_glob, **extra):
    body = {"name": unique("rule"), "match": {"type": type_glob},
            "actions": {"suppress": True}}
    body.update(extra)
    return body


def create_rule(api, body):
    r = api.post(RULES, json=body)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert r.headers["Location"] == RULES + "/" + rule["id"]
    return rule


@pytest.fixture(scope="module")
def delivering(alerthub_bin, tmp_path_factory):
    """A daemon that routes and may deliver to loopback."""
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "rules-delivery")
    d = f("--allow_private_networks")
    yield Api(d.base_url, d.api_key)
    f.close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


# --- Rules: CRUD ---------------------------------------------------------------------

def test_rule_create_get_replace_patch_delete(api):
    t = unique("crud")
    body = rule_body(t + ".*", position=40, actions={
        "route": {"channels": ["slack"]},
        "throttle": {"limit": 5, "window_s": 60, "group_by": ["type"]}})
    rule = create_rule(api, body)
    assert rule["name"] == body["name"] and rule["position"] == 40
    assert rule["enabled"] is True and rule["continue"] is False
    assert rule["match"] == {"type": t + ".*"}
    assert rule["actions"]["route"] == {"channels": ["slack"]}
    assert rule["actions"]["throttle"]["limit"] == 5
    assert rule["created_at"] == rule["updated_at"]

    got = api.get(RULES + "/" + rule["id"])
    assert got.status_code == 200 and got.json() == rule

    replaced = api.request("PUT", RULES + "/" + rule["id"],
                           json=rule_body(t, name="replaced", position=3))
    assert replaced.status_code == 200, replaced.text
    r = replaced.json()
    assert r["id"] == rule["id"] and r["name"] == "replaced" and r["position"] == 3
    assert r["actions"] == {"suppress": True} and r["created_at"] == rule["created_at"]

    # A merge patch: members given replace, null removes, the rest stays.
    patched = api.request("PATCH", RULES + "/" + rule["id"],
                          json={"enabled": False, "continue": True,
                                "match": {"min_priority": "high"}})
    assert patched.status_code == 200, patched.text
    p = patched.json()
    assert p["enabled"] is False and p["continue"] is True and p["name"] == "replaced"
    assert p["match"] == {"type": t, "min_priority": "high"}
    p2 = api.request("PATCH", RULES + "/" + rule["id"], json={"match": {"min_priority": None}})
    assert p2.status_code == 200 and p2.json()["match"] == {"type": t}

    assert api.request("DELETE", RULES + "/" + rule["id"]).status_code == 204
    assert_problem(api.get(RULES + "/" + rule["id"]), 404, "not-found")
    assert_problem(api.request("DELETE", RULES + "/" + rule["id"]), 404, "not-found")


def test_rules_are_listed_whole_in_evaluation_order(api):
    t = unique("order")
    made = [create_rule(api, rule_body(t, position=p, enabled=(p != 500)))
            for p in (900, 100, 500)]
    listed = api.get(RULES)
    assert listed.status_code == 200, listed.text
    mine = [r["id"] for r in listed.json()["rules"] if r["match"].get("type") == t]
    assert mine == [made[1]["id"], made[2]["id"], made[0]["id"]]
    positions = [(r["position"], r["id"]) for r in listed.json()["rules"]]
    assert positions == sorted(positions)
    assert "next_cursor" not in listed.json()
    # No paging: the whole list, always.
    assert_problem(api.get(RULES, params={"limit": "1"}), 400, "invalid-parameter",
                   errors=[("limit", "unknown query parameter: rules are listed whole, "
                                     "in evaluation order")])
    for r in made:
        assert api.request("DELETE", RULES + "/" + r["id"]).status_code == 204


def test_invalid_rules_name_every_field(api):
    r = api.post(RULES, json={"name": "", "position": -1,
                              "match": {"tags": [{"key": "env", "op": "~", "value": "x"}]},
                              "actions": {"suppress": True, "delay_s": 5},
                              "colour": "red"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == "https://alerthub.dev/problems/validation"
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "position", "match.tags[0].op", "actions.suppress", "colour"} <= fields

    bad_re = api.post(RULES, json=rule_body("x", match={"tags": [
        {"key": "env", "op": "=~", "value": "(unclosed"}]}))
    assert bad_re.status_code == 422
    assert [e["field"] for e in bad_re.json()["errors"]] == ["match.tags[0].value"]

    assert_problem(api.post(RULES, data="{", headers={"Content-Type": "application/json"}),
                   400, "malformed-request")
    assert_problem(api.post(RULES, data="name=x",
                            headers={"Content-Type": "application/x-www-form-urlencoded"}),
                   415, "unsupported-media-type")

    rule = create_rule(api, rule_body(unique("patch")))
    bad_patch = api.request("PATCH", RULES + "/" + rule["id"],
                            json={"actions": {"delay_s": 99999999}})
    assert bad_patch.status_code == 422, bad_patch.text
    assert {e["field"] for e in bad_patch.json()["errors"]} >= {"actions.delay_s"}
    # Nothing changed.
    assert api.get(RULES + "/" + rule["id"]).json() == rule
    api.request("DELETE", RULES + "/" + rule["id"])


def test_rules_need_a_key(api):
    no_key = api.request("GET", RULES, key=False)
    assert_problem(no_key, 401, "unauthenticated")
    assert_problem(api.request("POST", RULES, key=False, json=rule_body("x")), 401,
                   "unauthenticated")


def test_another_tenants_rule_is_not_found(api, other_tenant):
    _, theirs = other_tenant
    rule = create_rule(api, rule_body(unique("mine")))
    path = RULES + "/" + rule["id"]
    assert_problem(theirs.get(path), 404, "not-found")
    assert_problem(theirs.request("PUT", path, json=rule_body("x")), 404, "not-found")
    assert_problem(theirs.request("PATCH", path, json={"name": "x"}), 404, "not-found")
    assert_problem(theirs.request("DELETE", path), 404, "not-found")
    assert rule["id"] not in [r["id"] for r in theirs.get(RULES).json()["rules"]]
    assert api.get(path).json() == rule
    assert_problem(api.get(RULES + "/not-a-uuid"), 404, "not-found")
    api.request("DELETE", path)


# --- Rules: the dry run ----------------------------------------------------------------

def test_evaluate_is_a_dry_run_of_the_stored_rules(api):
    t = unique("dry")
    mute = create_rule(api, rule_body(t, position=1))
    raise_rule = create_rule(api, rule_body(t, position=0, **{
        "continue": True, "actions": {"priority": {"set": "critical"}}}))
    r = api.post(RULES + "/evaluate", json={"type": t, "title": "x", "priority": "low"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["suppressed"] is True
    assert plan["suppression"]["rule_id"] == mute["id"]
    assert [m["id"] for m in plan["evaluation"]["matched_rules"]] == [raise_rule["id"], mute["id"]]
    assert plan["evaluation"]["priority"] == {"submitted": "low", "effective": "critical"}
    assert plan["deliveries"] == []

    # Nothing was submitted.
    assert api.list(type=t).json()["notifications"] == []

    # A rule change shows in the next evaluation.
    assert api.request("PATCH", RULES + "/" + mute["id"], json={"enabled": False}).status_code == 200
    plan = api.post(RULES + "/evaluate", json={"type": t, "title": "x"}).json()
    assert plan["suppressed"] is False
    assert [m["id"] for m in plan["evaluation"]["matched_rules"]] == [raise_rule["id"]]

    # Validated as a submission.
    bad = api.post(RULES + "/evaluate", json={"title": "no type", "priority": "urgent"})
    assert bad.status_code == 422, bad.text
    assert {e["field"] for e in bad.json()["errors"]} == {"type", "priority"}
    for rule in (mute, raise_rule):
        api.request("DELETE", RULES + "/" + rule["id"])


# --- Rules acting on submissions ---------------------------------------------------------

def test_a_suppress_rule_suppresses_a_submitted_notification(delivering, sink):
    api = delivering
    hook = create_webhook(api, sink.url)
    t = unique("muted")
    rule = create_rule(api, rule_body(t))
    nid = api.submit_ok({"type": t, "title": "muted", "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "suppressed", what="suppressed")
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    routed = [e for e in events if e["type"] == "alerthub.notification.routed"]
    assert len(routed) == 1 and rule["id"] in routed[0]["data"]["reason"], events
    # Not sent, and another type still is.
    other = api.submit_ok({"type": unique("loud"), "title": "loud",
                           "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, other) == "delivered", what="delivered")
    assert len(sink.received()) == 1
    api.request("DELETE", RULES + "/" + rule["id"])


def test_a_route_rule_sends_to_the_named_webhook(delivering, sink):
    api = delivering
    hook = create_webhook(api, sink.url)
    t = unique("routed")
    rule = create_rule(api, rule_body(t + ".*", actions={
        "route": {"integration_ids": [hook["id"]]}}))
    # The notification names no target and the tenant has no default: only
    # the rule sends it anywhere.
    nid = api.submit_ok({"type": t + ".deploy", "title": "by rule"})
    wait_for(lambda: status_of(api, nid) == "delivered", what="delivered")
    reqs = sink.received()
    assert len(reqs) == 1 and b"by rule" in reqs[0]["body"]
    deliveries = api.get("/api/v1/deliveries", params={"notification_id": nid}).json()
    assert [d["integration_id"] for d in deliveries["deliveries"]] == [hook["id"]]
    plan = api.post(RULES + "/evaluate", json={"type": t + ".deploy", "title": "x"}).json()
    assert [d["integration_id"] for d in plan["deliveries"]] == [hook["id"]]
    api.request("DELETE", RULES + "/" + rule["id"])


def _time(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))


def test_a_delay_rule_holds_delivery_across_a_restart(daemon_factory, sink):
    d = daemon_factory("--allow_private_networks")
    api = Api(d.base_url, d.api_key)
    hook = create_webhook(api, sink.url)
    t = unique("delayed")
    create_rule(api, rule_body(t, actions={"route": {"integration_ids": [hook["id"]]},
                                           "delay_s": 3}))
    nid = api.submit_ok({"type": t, "title": "later"})
    wait_for(lambda: status_of(api, nid) == "routed", what="routed")
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    created = _time(api.get("/api/v1/notifications/" + nid).json()["created_at"])
    not_before = _time(events[-1]["data"]["not_before"])
    assert not_before == created + datetime.timedelta(seconds=3)
    delivery = api.get("/api/v1/deliveries", params={"notification_id": nid}).json()["deliveries"][0]
    assert delivery["status"] == "pending" and _time(delivery["next_attempt_at"]) == not_before

    d.restart()
    assert sink.received() == [] or datetime.datetime.now(datetime.timezone.utc) >= not_before
    wait_for(lambda: status_of(api, nid) == "delivered", timeout=20, what="delivered")
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    attempts = [e for e in events if e["type"] == "alerthub.delivery.attempted"]
    assert len(attempts) == 1 and _time(attempts[0]["time"]) >= not_before
    assert len(sink.received()) == 1


def test_a_scheduled_notification_survives_a_restart_and_can_be_cancelled(daemon_factory, sink):
    d = daemon_factory("--allow_private_networks")
    api = Api(d.base_url, d.api_key)
    hook = create_webhook(api, sink.url)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=4)
    scheduled = later.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    keep = api.submit_ok({"type": unique("sched"), "title": "on time",
                          "integration_ids": [hook["id"]], "scheduled_at": scheduled})
    drop = api.submit_ok({"type": unique("sched"), "title": "never",
                          "integration_ids": [hook["id"]], "scheduled_at": scheduled})
    for nid in (keep, drop):
        wait_for(lambda: status_of(api, nid) == "routed", what="routed")

    d.restart()
    r = api.request("DELETE", "/api/v1/notifications/" + drop)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    wait_for(lambda: status_of(api, keep) == "delivered", timeout=20, what="delivered")
    received = sink.received()
    assert len(received) == 1
    attempts = [e for e in api.get("/api/v1/notifications/%s/events" % keep).json()["events"]
                if e["type"] == "alerthub.delivery.attempted"]
    assert len(attempts) == 1 and _time(attempts[0]["time"]) >= later
    # The cancelled one stays cancelled, its delivery suppressed, nothing sent.
    assert status_of(api, drop) == "cancelled"
    delivery = api.get("/api/v1/deliveries", params={"notification_id": drop}).json()["deliveries"][0]
    assert delivery["status"] == "suppressed" and delivery["last_error"] == "cancelled"
    # Too late once delivered.
    r = api.request("DELETE", "/api/v1/notifications/" + keep)
    assert r.status_code == 409, r.text


# --- Users and preferences -----------------------------------------------------------------

def test_user_create_get_replace_delete(api):
    email = unique("ada") + "@example.com"
    r = api.post(USERS, json={"email": email, "name": "Ada", "role": "admin",
                              "addresses": {"slack_user_id": "U024BE7LH"}})
    assert r.status_code == 201, r.text
    user = r.json()
    assert r.headers["Location"] == USERS + "/" + user["id"]
    assert user["email"] == email and user["role"] == "admin"
    assert user["addresses"] == {"slack_user_id": "U024BE7LH"}
    assert api.get(USERS + "/" + user["id"]).json() == user

    put = api.request("PUT", USERS + "/" + user["id"], json={"email": email, "name": "Ada L."})
    assert put.status_code == 200, put.text
    assert put.json()["name"] == "Ada L." and put.json()["role"] == "member"
    assert put.json()["created_at"] == user["created_at"]
    assert "addresses" not in put.json()

    assert api.request("DELETE", USERS + "/" + user["id"]).status_code == 204
    assert_problem(api.get(USERS + "/" + user["id"]), 404, "not-found")
    assert_problem(api.get(USERS + "/" + user["id"] + "/preferences"), 404, "not-found")


def test_user_email_is_unique_ignoring_case(api, other_tenant):
    _, theirs = other_tenant
    email = unique("grace") + "@example.com"
    first = api.post(USERS, json={"email": email})
    assert first.status_code == 201, first.text
    assert_problem(api.post(USERS, json={"email": email.upper()}), 409, "conflict")
    # Another tenant may use it.
    assert theirs.post(USERS, json={"email": email}).status_code == 201
    second = api.post(USERS, json={"email": "x" + email})
    assert_problem(api.request("PUT", USERS + "/" + second.json()["id"], json={"email": email}),
                   409, "conflict")


def test_invalid_users_name_every_field(api):
    r = api.post(USERS, json={"email": "not-an-email", "role": "emperor",
                              "addresses": {"fcm_tokens": "abc"}, "age": 3})
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"email", "role", "addresses.fcm_tokens", "age"} <= fields
    assert_problem(api.post(USERS, json={"name": "no email"}), 422, "validation",
                   errors=[("email", "is required")])


def test_users_page_with_cursor_and_limit(api):
    ids = []
    for _ in range(3):
        r = api.post(USERS, json={"email": unique("page") + "@example.com"})
        assert r.status_code == 201
        ids.append(r.json()["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get(USERS, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["users"]) <= 2
        seen.extend(u["id"] for u in body["users"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert seen == sorted(seen) and set(ids) <= set(seen)
    assert_problem(api.get(USERS, params={"limit": "0"}), 400, "invalid-parameter",
                   errors=[("limit", "must be an integer between 1 and 500")])
    assert_problem(api.get(USERS, params={"cursor": "garbage"}), 400, "invalid-parameter",
                   errors=[("cursor", "is malformed")])
    assert_problem(api.get(USERS, params={"role": "admin"}), 400, "invalid-parameter",
                   errors=[("role", "unknown query parameter")])


def test_preferences_default_replace_and_validate(api, other_tenant):
    _, theirs = other_tenant
    user = api.post(USERS, json={"email": unique("prefs") + "@example.com"}).json()
    path = USERS + "/" + user["id"] + "/preferences"
    defaults = api.get(path)
    assert defaults.status_code == 200, defaults.text
    assert defaults.json() == {"opt_out_channels": [], "opt_out_types": [],
                               "min_priority": "min", "time_zone": "UTC", "quiet_hours": []}
    prefs = {"opt_out_channels": ["email"], "opt_out_types": ["marketing.*"],
             "min_priority": "high", "time_zone": "Europe/Berlin",
             "quiet_hours": [{"days": ["mon", "tue"], "start": "22:00", "end": "07:00"}]}
    put = api.request("PUT", path, json=prefs)
    assert put.status_code == 200, put.text
    assert put.json() == prefs and api.get(path).json() == prefs
    # A full replacement: absent fields take the defaults.
    assert api.request("PUT", path, json={"min_priority": "low"}).json() == dict(
        defaults.json(), min_priority="low")

    bad = api.request("PUT", path, json={"time_zone": "Mars/Olympus",
                                         "quiet_hours": [{"days": ["xyz"], "start": "25:00",
                                                          "end": "07:00"}]})
    assert bad.status_code == 422, bad.text
    fields = {e["field"] for e in bad.json()["errors"]}
    assert "time_zone" in fields and any(f.startswith("quiet_hours[0]") for f in fields)
    assert_problem(theirs.get(path), 404, "not-found")
    assert_problem(theirs.request("PUT", path, json={}), 404, "not-found")
    assert_problem(theirs.get(USERS + "/" + user["id"]), 404, "not-found")
    assert_problem(theirs.request("DELETE", USERS + "/" + user["id"]), 404, "not-found")
    assert api.get(path).json()["min_priority"] == "low"
