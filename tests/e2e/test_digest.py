"""A rule's digest action end to end in the all-in-one daemon: the
notifications of one group reach the webhook as ONE summary after
group_wait, held across a restart; each notification ends `delivered`, and
another group is summarized on its own."""

import datetime
import json

from alerthub_e2e import Api, unique
from test_delivery import Sink, create_webhook, status_of, wait_for
from test_rules import RULES, create_rule

GROUP_WAIT_S = 6


def _time(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))


def test_a_digest_rule_sends_one_summary_per_group_across_a_restart(daemon_factory):
    sink = Sink()
    try:
        d = daemon_factory("--allow_private_networks")
        api = Api(d.base_url, d.api_key)
        hook = create_webhook(api, sink.url)
        t = unique("digested")
        rule = create_rule(api, {
            "name": unique("digest"), "match": {"type": t},
            "actions": {"route": {"integration_ids": [hook["id"]]},
                        "digest": {"group_by": ["tags.service"],
                                   "group_wait_s": GROUP_WAIT_S,
                                   "group_interval_s": 60}}})

        # The dry run shows the digest the rule asks for.
        plan = api.post(RULES + "/evaluate",
                        json={"type": t, "title": "x", "tags": {"service": "api"}}).json()
        assert plan["evaluation"]["digest"]["rule_id"] == rule["id"], plan
        assert plan["evaluation"]["digest"]["group_wait_s"] == GROUP_WAIT_S
        assert [(d["status"], d["digest_key"]) for d in plan["deliveries"]] == \
            [("held", rule["id"] + '/tags.service="api"')], plan

        api_ids = [api.submit_ok({"type": t, "title": "api %d" % i, "tags": {"service": "api"}})
                   for i in range(4)]
        db_id = api.submit_ok({"type": t, "title": "db 0", "tags": {"service": "db"}})
        wait_for(lambda: all(status_of(api, n) != "accepted" for n in api_ids + [db_id]),
                 what="routed")
        first = api.get("/api/v1/deliveries", params={"notification_id": api_ids[0]}).json()
        delivery = first["deliveries"][0]
        assert delivery["digest_key"] == rule["id"] + '/tags.service="api"', delivery
        if delivery["status"] == "held":
            flush_at = _time(delivery["next_attempt_at"])
            created = _time(api.get("/api/v1/notifications/" + api_ids[0]).json()["created_at"])
            assert flush_at >= created + datetime.timedelta(seconds=GROUP_WAIT_S), delivery

        # A restart while the groups wait: the holds are in the store.
        d.restart()
        wait_for(lambda: all(status_of(api, n) == "delivered" for n in api_ids + [db_id]),
                 timeout=40, what="delivered")
        bodies = [json.loads(r["body"]) for r in sink.received()]
        assert sorted(b["group_key"] for b in bodies) == ['tags.service="api"',
                                                           'tags.service="db"'], bodies
        by_group = {b["group_key"]: b for b in bodies}
        summary = by_group['tags.service="api"']
        assert summary["count"] == 4
        assert sorted(n["id"] for n in summary["notifications"]) == sorted(api_ids)
        assert by_group['tags.service="db"']["count"] == 1
        assert by_group['tags.service="db"']["notifications"][0]["id"] == db_id
        assert all(b["type"] == "alerthub.digest" and b["rule_id"] == rule["id"] for b in bodies)

        # Each notification recorded its one attempt, naming the summary.
        events = api.get("/api/v1/notifications/%s/events" % api_ids[1]).json()["events"]
        attempts = [e for e in events if e["type"] == "alerthub.delivery.attempted"]
        assert len(attempts) == 1 and attempts[0]["data"]["digest"]["count"] == 4, events
        created = _time(api.get("/api/v1/notifications/" + api_ids[0]).json()["created_at"])
        assert _time(attempts[0]["time"]) >= created + datetime.timedelta(seconds=GROUP_WAIT_S)
    finally:
        sink.close()
