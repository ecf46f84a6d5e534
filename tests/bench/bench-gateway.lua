-- wrk script for tests/bench/bench-gateway.sh: only a done() hook, so wrk
-- keeps sending its one pre-built request (the -H headers included) and the
-- numbers come out exact and machine-readable instead of rounded for
-- display.  Latencies are in microseconds.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    "bench: requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
	    "max_us=%d status_errors=%d socket_errors=%d\n",
	    summary.requests, summary.duration,
	    latency:percentile(50), latency:percentile(99), latency.max,
	    e.status, e.connect + e.read + e.write + e.timeout))
end
