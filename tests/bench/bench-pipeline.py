"""Added latency of the prompt sanitizer + response scanner on a 4 KB chat
request through the full stack (lighttpd -> ocss-fcgi -> mock upstream, all
on 127.0.0.1), measured in one run against the same stack with both stages
off (OCSS_SANITIZER_ENABLED=false, OCSS_RESPONSE_SCAN_ENABLED=false).
One keep-alive client, N sequential requests per setup.

  python3 tests/bench/bench-pipeline.py [N]        (default 3000)
"""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from stack import Stack, TOKEN  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000

# About 4 KB of ordinary chat: a system prompt, a few turns, a question.
TURNS = ["You are a helpful assistant for a small software team. Answer briefly.",
         "Can you summarise what changed in the release notes I pasted earlier? "
         "The notes mention a new caching layer, fixes to the login flow, and a "
         "migration of the reporting jobs to the new scheduler.",
         "The release adds a caching layer in front of the search service, fixes "
         "two login bugs (session expiry and the remember-me flag), and moves the "
         "nightly reporting jobs to the new scheduler.",
         "Thanks. Which of these could affect users who are logged in right now, "
         "and what should support tell them if they see errors after the upgrade?"]
ROLES = ["system", "user", "assistant", "user"]
body = {"model": "m", "messages": []}
while len(json.dumps(body)) < 4096:
    i = len(body["messages"]) % len(TURNS)
    body["messages"].append({"role": ROLES[i], "content": TURNS[i]})
DATA = json.dumps(body).encode()
REPLY = ("Logged-in users may be signed out once when the session-expiry fix "
         "rolls out; support should ask them to sign in again. The cache and "
         "the scheduler change are invisible to users.")


def run(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdr = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
           "X-Mock-Reply": REPLY}
    lat = []
    for i in range(N + 200):
        t = time.perf_counter()
        c.request("POST", "/v1/chat/completions", body=DATA, headers=hdr)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("status %d" % r.status)
        if i >= 200:
            lat.append(time.perf_counter() - t)
    c.close()
    lat.sort()
    return lat


def p(lat, q):
    return lat[min(len(lat) - 1, int(len(lat) * q))] * 1000


def main():
    res = {}
    for name, env in (("stages off", {"OCSS_SANITIZER_ENABLED": "false",
                                      "OCSS_RESPONSE_SCAN_ENABLED": "false"}),
                      ("sanitizer + response scan", {})):
        s = Stack(env=env, workers=2, threads=4)
        try:
            res[name] = run(s.port)
        finally:
            s.stop()
            s.cleanup()
    off, on = res["stages off"], res["sanitizer + response scan"]
    print("request body %d bytes; %d requests per setup" % (len(DATA), N))
    print()
    print("| setup | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    for k in ("stages off", "sanitizer + response scan"):
        print("| %s | %.3f | %.3f |" % (k, p(res[k], .5), p(res[k], .99)))
    print("| added | %.3f | %.3f |" % (p(on, .5) - p(off, .5), p(on, .99) - p(off, .99)))
    print()
    print("command: python3 tests/bench/bench-pipeline.py %d" % N)


if __name__ == "__main__":
    main()
