"""Webhook relay throughput and the cost of the shared rate limiter,
measured through the real stack (lighttpd + 4 ocss-fcgi workers + mock
upstream + mock platform, all on 127.0.0.1), in one run:

  1. relay: N signed Telegram updates from C concurrent clients; accepted/s
     (webhook answered 200) and relayed/s (until the mock platform has
     recorded every reply: upstream call, answer scan, sendMessage);
  2. rate limiter: the same webhook load of non-message updates (answered
     after signature, rate limit, replay and parse, no outbox), with
     WEBHOOK_RATE_LIMIT=0 (off) and with a limit no request reaches; the
     difference in mean latency is the limiter's cost per request.

  python3 tests/bench/bench-webhook.py [N] [C]     (2000, 8)
Prints a markdown table for docs/BENCHMARKS.md.
"""
import hashlib
import http.client
import itertools
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from stack import Stack, wait_for  # noqa: E402
from test_webhooks import BOT_TOKEN, Platform  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
C = int(sys.argv[2]) if len(sys.argv) > 2 else 8
SECRET = hashlib.sha256(BOT_TOKEN.encode()).hexdigest()
ids = itertools.count(1)


def load(port, n, c, make):
    """n requests over c keep-alive clients; returns (seconds, latencies)."""
    lat, lock, left = [], threading.Lock(), [n]

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            body = json.dumps(make()).encode()
            t = time.perf_counter()
            conn.request("POST", "/webhook/telegram", body=body, headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
                "X-Forwarded-For": "10.9.%d.%d" % (k, len(mine) % 250)})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            if r.status != 200:
                raise SystemExit("webhook answered %d" % r.status)
        conn.close()
        with lock:
            lat.extend(mine)
    ts = [threading.Thread(target=client, args=(k,)) for k in range(c)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, lat


def message():
    i = next(ids)
    return {"update_id": i, "message": {"message_id": i, "date": int(time.time()),
            "chat": {"id": 1000 + i % 500, "type": "private"},
            "from": {"id": 1000 + i % 500, "is_bot": False, "first_name": "B"},
            "text": "what is the weather like in Paris today?"}}


def other():
    return {"update_id": next(ids), "callback_query": {"id": "b"}}


def stack(platform, limit):
    return Stack(workers=4, threads=4, env={
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE": platform.url,
        "WEBHOOK_RATE_LIMIT": str(limit), "OCSS_TRUSTED_PROXIES": "127.0.0.1"})


def replies_sent(s):
    with open(s.audit_path, "rb") as f:
        return sum(1 for line in f if b'"webhook_reply"' in line and b'"sent"' in line)


def ms(v):
    return "%.2f" % (v * 1000)


def main():
    p = Platform()
    rows = []
    try:
        s = stack(p, 1000000)
        try:
            t0 = time.perf_counter()
            secs, lat = load(s.port, N, C, message)
            wait_for(lambda: replies_sent(s) >= N, timeout=600, what="every reply")
            t_all = time.perf_counter() - t0
            rows.append(("relay, %d messages, %d clients: webhook answered" % (N, C),
                         "%.0f msg/s" % (N / secs), ms(statistics.median(lat)),
                         ms(sorted(lat)[int(len(lat) * .99) - 1])))
            rows.append(("the same, until every reply reached the platform",
                         "%.0f msg/s" % (N / t_all), "", ""))
        finally:
            s.stop()
            s.cleanup()
        for limit in (0, 1000000):
            s = stack(p, limit)
            try:
                load(s.port, 200, C, other)  # warm up
                secs, lat = load(s.port, N, C, other)
                rows.append(("no message, WEBHOOK_RATE_LIMIT=%d" % limit,
                             "%.0f req/s" % (N / secs), ms(statistics.median(lat)),
                             ms(sorted(lat)[int(len(lat) * .99) - 1])))
            finally:
                s.stop()
                s.cleanup()
    finally:
        p.stop()
    print("| load | rate | p50 ms | p99 ms |\n|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
