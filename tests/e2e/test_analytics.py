"""Analytics (AnalyticsService) end to end in the all-in-one daemon:
notifications delivered to a local webhook sink, one retried, one
dead-lettered, then counts read over REST (protobuf's JSON mapping: int64
counts are JSON strings) and over gRPC (stubs generated at test time, as in
test_admin_grpc.py), and bad ranges refused naming their fields."""

import datetime

import pytest
import requests

from alerthub_e2e import Api, assert_problem, unique
from test_admin_grpc import pb  # noqa: F401  (the generated-stubs fixture)
from test_delivery import Sink, create_webhook, status_of, wait_for

grpc = pytest.importorskip("grpc")

STATS = "/api/v1/analytics/stats"
METRICS = "/api/v1/analytics/metrics"
CHANNELS = "/api/v1/analytics/channels"


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def traffic(alerthub_bin, tmp_path_factory):
    """A delivering daemon with gRPC, after this traffic (all type
    analytics.ok on one webhook unless said): 3 delivered at once, 1
    delivered on its second attempt, 1 (type analytics.bad) dead-lettered
    by a 400. Yields (daemon, Api, grpc channel, window start, window end)."""
    from alerthub_e2e import DaemonFactory
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "analytics")
    d = f("--allow_private_networks", "--grpc_port=0")
    api = Api(d.base_url, d.api_key)
    sink = Sink()
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)
    try:
        hook = create_webhook(api, sink.url, retry={"schedule": ["0s", "1s"], "jitter": 0})
        # One at a time: the sink answers requests in arrival order. Unique
        # titles: identical content would be deduplicated.
        def send(type_):
            return api.submit_ok({"type": type_, "title": unique("title"),
                                  "integration_ids": [hook["id"]]})

        sink.answers.append(400)
        bad = send("analytics.bad")
        wait_for(lambda: status_of(api, bad) == "failed", what="dead-lettered")
        sink.answers.append(503)
        retried = send("analytics.ok")
        wait_for(lambda: status_of(api, retried) == "delivered", what="delivered on retry")
        for _ in range(3):
            nid = send("analytics.ok")
            wait_for(lambda: status_of(api, nid) == "delivered", what="delivered")
        assert len(sink.received()) == 6
        channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
        grpc.channel_ready_future(channel).result(timeout=10)
        yield d, api, channel, start, end
        channel.close()
    finally:
        sink.close()
        f.close()


def window(start, end, bucket="1h"):
    return {"start": rfc3339(start), "end": rfc3339(end), "bucket": bucket}


def summed(buckets, key):
    total = {}
    for b in buckets:
        for k, v in b.get(key, {}).items():
            total[k] = total.get(k, 0) + int(v)
    return total


def test_stats_count_notifications_by_status_over_rest(traffic):
    d, api, _, start, end = traffic
    r = api.get(STATS, params=window(start, end))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [b["start"] for b in body["buckets"]] == [rfc3339(start),
                                                    rfc3339(start + datetime.timedelta(hours=1))]
    assert body["totals"] == {"delivered": "4", "failed": "1"}
    assert summed(body["buckets"], "by_status") == {"delivered": 4, "failed": 1}
    only_bad = api.get(STATS, params=dict(window(start, end), type="analytics.bad")).json()
    assert only_bad["totals"] == {"failed": "1"}


def test_metrics_count_outcomes_and_estimate_latency_over_rest(traffic):
    d, api, _, start, end = traffic
    r = api.get(METRICS, params=window(start, end, "30m"))
    assert r.status_code == 200, r.text
    buckets = r.json()["buckets"]
    assert len(buckets) == 4
    # Every bucket lists every outcome, zero-filled.
    for b in buckets:
        assert set(b["by_outcome"]) == {"delivered", "retried", "dead_lettered"}
    assert summed(buckets, "by_outcome") == {"delivered": 4, "retried": 1, "dead_lettered": 1}
    busy = [b for b in buckets if int(b["by_outcome"]["delivered"]) > 0]
    assert len(busy) in (1, 2)  # the traffic may straddle a half hour
    for b in busy:
        lat = b["accept_to_delivery"]
        assert 0 < lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]
    for b in buckets:
        if int(b["by_outcome"]["delivered"]) == 0:
            assert "accept_to_delivery" not in b
    email = api.get(METRICS, params=dict(window(start, end), channel="email")).json()
    assert summed(email["buckets"], "by_outcome") == {"delivered": 0, "retried": 0,
                                                      "dead_lettered": 0}


def test_channels_break_deliveries_down_over_rest(traffic):
    d, api, _, start, end = traffic
    r = api.get(CHANNELS, params={"start": rfc3339(start), "end": rfc3339(end)})
    assert r.status_code == 200, r.text
    channels = r.json()["channels"]
    assert [c["channel"] for c in channels] == ["webhook"]
    assert channels[0]["by_status"] == {"delivered": "4", "failed": "1"}
    assert channels[0]["accept_to_delivery"]["p99_ms"] > 0


def test_viewers_may_read_analytics(traffic):
    d, api, _, start, end = traffic
    r = api.post("/api/v1/api-keys", json={"name": "dashboards", "role": "ROLE_VIEWER"})
    assert r.status_code == 201, r.text
    viewer = Api(d.base_url, r.json()["plaintext"])
    r = viewer.get(STATS, params=window(start, end))
    assert r.status_code == 200, r.text
    assert r.json()["totals"] == {"delivered": "4", "failed": "1"}
    r = requests.get(d.base_url + STATS, params=window(start, end))
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("params,errors", [
    ({"end": "2026-01-01T00:00:00Z", "start": "2026-01-01T00:00:00Z", "bucket": "1h"},
     [("range.end", "must be after range.start")]),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-02-02T00:00:00Z", "bucket": "1h"},
     [("range.end", "must be at most 31 days after range.start")]),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z", "bucket": "30s"},
     [("range.bucket", "must be at least 1 minute")]),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z", "bucket": "1m"},
     [("range.bucket", "makes more than 1000 buckets; use a longer bucket")]),
    ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z", "bucket": "1h",
      "channel": "pigeon"},
     [("channel", "must be webhook, slack, discord, email or push")]),
    ({"start": "yesterday", "end": "2026-01-01T01:00:00Z", "bucket": "soon"},
     [("range.start", "must be an RFC 3339 time (2026-01-01T00:00:00Z)"),
      ("range.bucket", "must be a duration (\"5m\", \"1h\", \"300s\")")]),
    ({"end": "2026-01-01T01:00:00Z", "bucket": "1h"}, [("range.start", "is required")]),
])
def test_bad_ranges_are_400_naming_the_field(traffic, params, errors):
    d, api, _, _, _ = traffic
    body = assert_problem(api.get(METRICS, params=params), 400, "invalid-parameter",
                          "Bad Request", errors=errors)
    assert body["errors"] == [{"field": f, "message": m} for f, m in errors]


def test_unknown_parameters_are_400(traffic):
    d, api, _, start, end = traffic
    assert_problem(api.get(CHANNELS, params=dict(window(start, end))), 400, "invalid-parameter",
                   "Bad Request", errors=[("bucket", "unknown query parameter")])


def test_grpc_reads_the_same_counts_and_refuses_bad_ranges(pb, traffic):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    d, _, channel, start, end = traffic
    stub = admin_pb2_grpc.AnalyticsServiceStub(channel)
    md = (("x-api-key", d.api_key),)

    def time_range(bucket_seconds):
        r = admin_pb2.TimeRange()
        r.start.FromDatetime(start.replace(tzinfo=None))
        r.end.FromDatetime(end.replace(tzinfo=None))
        if bucket_seconds:
            r.bucket.FromSeconds(bucket_seconds)
        return r

    stats = stub.GetNotificationStats(admin_pb2.StatsRequest(range=time_range(3600)), metadata=md)
    assert len(stats.buckets) == 2
    assert dict(stats.totals) == {"delivered": 4, "failed": 1}

    metrics = stub.GetDeliveryMetrics(
        admin_pb2.MetricsRequest(range=time_range(3600), channel="webhook"), metadata=md)
    outcomes = {}
    for b in metrics.buckets:
        for k, v in b.by_outcome.items():
            outcomes[k] = outcomes.get(k, 0) + v
    assert outcomes == {"delivered": 4, "retried": 1, "dead_lettered": 1}

    breakdown = stub.GetChannelBreakdown(admin_pb2.BreakdownRequest(range=time_range(0)),
                                         metadata=md)
    assert [(c.channel, dict(c.by_status)) for c in breakdown.channels] == [
        ("webhook", {"delivered": 4, "failed": 1})]

    bad = admin_pb2.TimeRange()
    bad.CopyFrom(time_range(30))
    bad.end.CopyFrom(bad.start)
    with pytest.raises(grpc.RpcError) as e:
        stub.GetDeliveryMetrics(admin_pb2.MetricsRequest(range=bad, channel="pigeon"), metadata=md)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(e.value.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    bad_request = status_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    fields = [v.field for v in bad_request.field_violations]
    assert fields == ["range.end", "range.bucket", "channel"]

    with pytest.raises(grpc.RpcError) as e:
        stub.GetNotificationStats(admin_pb2.StatsRequest(range=time_range(3600)))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
