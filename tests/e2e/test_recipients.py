"""Recipient routing end to end in the all-in-one daemon (issue 5): a
notification with `recipients` is fanned out to one Discord delivery per
user, each mentioning that user; preferences drop or hold deliveries; the dry
run (`POST /api/v1/rules/evaluate`) shows exactly what routing then stores."""

import datetime
import json
import time

from alerthub_e2e import unique
from test_delivery import status_of, wait_for
# The module's daemon (routing, loopback allowed) and the webhook sink.
from test_rules import RULES, USERS, _time, delivering, sink  # noqa: F401 (fixtures)


def create_user(api, discord_user_id=None, preferences=None):
    body = {"email": unique("user") + "@example.com"}
    if discord_user_id:
        body["addresses"] = {"discord_user_id": discord_user_id}
    r = api.post(USERS, json=body)
    assert r.status_code == 201, r.text
    user = r.json()
    if preferences is not None:
        r = api.request("PUT", USERS + "/" + user["id"] + "/preferences", json=preferences)
        assert r.status_code == 200, r.text
    return user["id"]


def test_recipients_get_their_own_mention_and_the_dry_run_matches(delivering, sink):
    api = delivering
    r = api.post("/api/v1/integrations", json={"name": unique("discord"), "channel": "discord",
                                               "config": {"webhook_url": sink.url}})
    assert r.status_code == 201, r.text
    discord = r.json()

    # Quiet hours that contain now (UTC): the window of the current hour and
    # the next, every day.
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now.replace(minute=0, second=0, microsecond=0)
    window_end = start + datetime.timedelta(hours=2)
    quiet = {"time_zone": "UTC",
             "quiet_hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                              "start": start.strftime("%H:%M"),
                              "end": window_end.strftime("%H:%M")}]}

    ada = create_user(api, "80351110224678912")
    bob = create_user(api)  # no Discord id
    cy = create_user(api, "80351110224678913", {"opt_out_channels": ["discord"]})
    dee = create_user(api, "80351110224678914", quiet)
    body = {"type": unique("recipients"), "title": "db down",
            "recipients": [ada, bob, cy, dee, "ghost"], "integration_ids": [discord["id"]]}

    plan = api.post(RULES + "/evaluate", json=body)
    assert plan.status_code == 200, plan.text
    plan = plan.json()
    planned = {d["recipient"]: d for d in plan["deliveries"]}
    assert set(planned) == {ada, dee}
    assert planned[ada]["status"] == "pending" and "held_until" not in planned[ada]
    assert planned[ada]["integration_id"] == discord["id"] and planned[ada]["channel"] == "discord"
    assert planned[dee]["status"] == "held"
    assert _time(planned[dee]["held_until"]) == window_end
    dropped = {d["recipient"]: d for d in plan["dropped_recipients"]}
    assert dropped["ghost"] == {"recipient": "ghost",
                                "reason": "no user with this id in the tenant"}
    assert dropped[bob]["reason"] == (
        "recipient %s has no addresses.discord_user_id for channel discord" % bob)
    assert dropped[bob]["integration_id"] == discord["id"]
    assert dropped[cy]["reason"] == "recipient opted out of channel discord"
    assert len(dropped) == 3

    nid = api.submit_ok(body)
    wait_for(lambda: sink.received(), what="the Discord message")
    deliveries = {}

    def both_routed():
        deliveries.clear()
        for d in api.get("/api/v1/deliveries", params={"notification_id": nid}).json()["deliveries"]:
            deliveries[d.get("recipient", "")] = d
        return deliveries.get(ada, {}).get("status") == "delivered"

    wait_for(both_routed, what="ada's delivery delivered")
    # What routing stored is what the dry run said.
    assert set(deliveries) == {ada, dee}
    assert deliveries[dee]["status"] == "held"
    assert _time(deliveries[dee]["next_attempt_at"]) == window_end
    time.sleep(0.5)  # nothing else is sent: dee is held, the others dropped
    received = sink.received()
    assert len(received) == 1
    assert received[0]["path"] == "/hook?wait=true"
    message = json.loads(received[0]["body"])
    assert message["content"].startswith("<@80351110224678912> ")
    assert message["allowed_mentions"] == {"parse": [], "users": ["80351110224678912"]}
    assert status_of(api, nid) == "delivering"  # one delivered, one held

    # A rule making it critical: quiet hours no longer hold dee.
    r = api.post(RULES, json={"name": unique("page"), "match": {"type": body["type"]},
                              "actions": {"priority": {"set": "critical"}}})
    assert r.status_code == 201, r.text
    plan = api.post(RULES + "/evaluate", json=body).json()
    assert plan["effective_priority"] == "critical"
    assert {d["recipient"]: d["status"] for d in plan["deliveries"]} == {ada: "pending",
                                                                         dee: "pending"}
    api.request("DELETE", RULES + "/" + r.json()["id"])


def test_all_recipients_dropped_suppresses_with_the_reason(delivering, sink):
    api = delivering
    r = api.post("/api/v1/integrations", json={"name": unique("discord"), "channel": "discord",
                                               "config": {"webhook_url": sink.url}})
    assert r.status_code == 201, r.text
    nobody = create_user(api)  # no Discord id
    nid = api.submit_ok({"type": unique("nobody"), "title": "x", "recipients": [nobody],
                         "integration_ids": [r.json()["id"]]})
    wait_for(lambda: status_of(api, nid) == "suppressed", what="suppressed")
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    routed = [e for e in events if e["type"] == "alerthub.notification.routed"][0]
    assert routed["data"]["reason"] == (
        "no target: every recipient was dropped: %s on %s: recipient %s has no "
        "addresses.discord_user_id for channel discord" % (nobody, r.json()["name"], nobody))
    assert sink.received() == []
