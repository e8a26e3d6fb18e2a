-- wrk script: POST a webhook-sized JSON body (what AlertHub sends) to the sink.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":"01a21beb-549a-71db-bf82-4afe3fe56b8d","tenant_id":"t","type":"bench.delivery",' ..
           '"title":"n1","priority":"normal","data":{"i":1},"status":"routed",' ..
           '"created_at":"2026-11-27T00:00:00Z","updated_at":"2026-11-27T00:00:00Z"}'
