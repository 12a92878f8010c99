-- bench/wrk_json.lua: wrk reports its numbers as one JSON line on stdout (after wrk's own text),
-- so bench/run reads them without parsing the human output:
--   {"rps":..., "p50_ms":..., "p99_ms":..., "max_ms":..., "timeouts":..., "errors":...,
--    "requests":..., "seconds":...}
-- timeouts: wrk's socket timeouts (a response slower than --timeout, 2 s in bench/run).
-- errors:   responses with status >= 400 (wrk's status errors; these endpoints answer no 3xx)
--           plus connect, read and write errors.
-- Percentiles cover the responses that arrived within --timeout (wrk records no others).
-- No request() or response() hook: wrk keeps its fast path.

done = function(summary, latency, requests)
    local e = summary.errors
    local seconds = summary.duration / 1e6
    local rps = 0
    if seconds > 0 then rps = summary.requests / seconds end
    local function ms(us) return string.format("%.3f", us / 1000) end
    io.write(string.format(
        '{"rps":%.1f,"p50_ms":%s,"p99_ms":%s,"max_ms":%s,"timeouts":%d,"errors":%d,' ..
        '"requests":%d,"seconds":%.3f}\n',
        rps, ms(latency:percentile(50)), ms(latency:percentile(99)), ms(latency.max),
        e.timeout, e.status + e.connect + e.read + e.write, summary.requests, seconds))
end
