"""Governance cost, measured through the real stack (lighttpd + 4 ocss-fcgi
workers + mock upstream, all on 127.0.0.1), in one run:

  1. added latency: the same chat request with and without 3 tool calls
     (allowed by policy, so the governed one is planned, checked against
     the session history, stored, signed and forwarded), one connection,
     N sequential requests each;
  2. approvals/s: P pending approvals are created, then approved over REST
     by C concurrent clients with keep-alive; every approval must succeed
     exactly once.

  python3 tests/bench/bench-governance.py [N] [P] [C]    (2000, 2000, 8)
Prints a markdown table for docs/BENCHMARKS.md.
"""
import http.client
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from stack import Stack, TOKEN  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
P = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
C = int(sys.argv[3]) if len(sys.argv) > 3 else 8

PLAIN = {"model": "m", "messages": [{"role": "user", "content": "list my notes"}]}
TOOLS = {"model": "m", "messages": [
    {"role": "user", "content": "list my notes"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c%d" % i, "type": "function",
         "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a) in enumerate([("read_file", {"path": "notes/a.md"}),
                                    ("read_file", {"path": "notes/b.md"}),
                                    ("get_weather", {"city": "Paris"})])]}]}
HELD = {"model": "m", "messages": [
    {"role": "user", "content": "clean up"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c0", "type": "function",
         "function": {"name": "exec", "arguments": "{\"command\": \"ls\"}"}}]}]}


def timed(port, body, n, session):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = json.dumps(body).encode()
    hdr = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
    lat = []
    for i in range(n):
        # One session per request: the rate policies must not fire.
        hdr["X-Governance-Session"] = "%s-%d" % (session, i)
        t = time.perf_counter()
        c.request("POST", "/v1/chat/completions", body=data, headers=hdr)
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 200:
            raise SystemExit("unexpected %d" % r.status)
    c.close()
    lat.sort()
    return lat


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000


def main():
    s = Stack(workers=4, threads=4)
    try:
        timed(s.port, PLAIN, 200, "warm")
        timed(s.port, TOOLS, 200, "warm")
        plain = timed(s.port, PLAIN, N, "plain")
        tools = timed(s.port, TOOLS, N, "tools")

        # Create P pending approvals.
        ids = []
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        data = json.dumps(HELD).encode()
        t0 = time.perf_counter()
        for i in range(P):
            c.request("POST", "/v1/chat/completions", body=data, headers={
                "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
                "X-Governance-Session": "held-%d" % i, "X-User-Id": "agent"})
            r = c.getresponse()
            j = json.loads(r.read())
            if r.status != 202:
                raise SystemExit("expected 202, got %d" % r.status)
            ids.append(j["approval_id"])
        held_s = time.perf_counter() - t0
        c.close()

        results = []
        lock = threading.Lock()

        def approver(part):
            cc = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
            ok = 0
            for aid in part:
                cc.request("POST", "/governance/approvals/%s/approve" % aid,
                           body=b'{"approver_id":"op","acknowledgment":"bench"}',
                           headers={"Authorization": "Bearer " + TOKEN,
                                    "Content-Type": "application/json"})
                r = cc.getresponse()
                r.read()
                ok += r.status == 200
            cc.close()
            with lock:
                results.append(ok)
        parts = [ids[k::C] for k in range(C)]
        ts = [threading.Thread(target=approver, args=(p,)) for p in parts]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        appr_s = time.perf_counter() - t0
        if sum(results) != P:
            raise SystemExit("only %d of %d approvals succeeded" % (sum(results), P))
    finally:
        s.stop()
        s.cleanup()

    print("| measure | value |")
    print("|---|---|")
    print("| plain chat request, p50 / p99 (ms) | %.3f / %.3f |" % (pct(plain, .5), pct(plain, .99)))
    print("| same with 3 allowed tool calls, p50 / p99 (ms) | %.3f / %.3f |" % (pct(tools, .5), pct(tools, .99)))
    print("| added by governance, p50 / mean (ms) | %.3f / %.3f |" % (
        pct(tools, .5) - pct(plain, .5), statistics.mean(tools) * 1000 - statistics.mean(plain) * 1000))
    print("| held requests (202) created, 1 client | %.0f /s |" % (P / held_s))
    print("| approvals, %d clients, 4 workers x 4 threads | %.0f /s (%d of %d won, each once) |" % (
        C, P / appr_s, sum(results), P))
    print()
    print("N=%d sequential requests per latency row; P=%d approvals; command: "
          "python3 tests/bench/bench-governance.py %d %d %d" % (N, P, N, P, C))


if __name__ == "__main__":
    main()
