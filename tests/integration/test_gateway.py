"""The gateway end to end: lighttpd + spawn-fcgi + ocss-fcgi + mock upstream."""
import json
import os
import signal
import socket
import time
import unittest

from stack import Stack, TOKEN, wait_for, free_port, alive


def sse_arrivals(stack, events, delay_ms):
    """POST a streamed chat completion on a raw socket and note when each
    SSE event arrives.  Returns (start, [(t, line)...], raw bytes)."""
    body = json.dumps({"model": "m", "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
           "X-Mock-Events: %d\r\nX-Mock-Delay-Ms: %d\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % (TOKEN, events, delay_ms, len(body))).encode() + body
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    start = time.monotonic()
    s.sendall(req)
    raw, arrivals, pending = b"", [], b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        now = time.monotonic()
        raw += chunk
        pending += chunk
        while b"\n\n" in pending:
            ev, pending = pending.split(b"\n\n", 1)
            for line in ev.split(b"\n"):
                if line.startswith(b"data: "):
                    arrivals.append((now, line))
    s.close()
    return start, arrivals, raw


class Gateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.s.cleanup()

    def error_of(self, body):
        e = json.loads(body)["error"]
        self.assertIsInstance(e["code"], str)
        self.assertIsInstance(e["message"], str)
        return e["code"]

    def last_audit(self, request_id):
        lines = [l for l in self.s.audit() if l.get("request_id") == request_id]
        self.assertTrue(lines, "no audit line for " + request_id)
        return lines[-1]

    def test_health_is_public(self):
        st, h, body = self.s.raw("GET", "/health")
        self.assertEqual(st, 200)
        j = json.loads(body)
        self.assertEqual(j["status"], "ok")
        self.assertTrue(j["upstream"]["reachable"])
        self.assertEqual(len(h["x-request-id"]), 32)

    def test_health_head_and_wrong_method(self):
        self.assertEqual(self.s.raw("HEAD", "/health")[0], 200)
        st, h, body = self.s.raw("POST", "/health", body=b"")
        self.assertEqual(st, 405)
        self.assertEqual(self.error_of(body), "method_not_allowed")

    def test_no_token_401(self):
        st, h, body = self.s.raw("GET", "/v1/models", headers={"X-Request-Id": "it-401"})
        self.assertEqual(st, 401)
        self.assertEqual(self.error_of(body), "unauthorized")
        self.assertIn("Bearer", h["www-authenticate"])
        a = self.last_audit("it-401")
        self.assertEqual((a["event"], a["decision"], a["status"]), ("auth", "deny", 401))

    def test_wrong_token_403(self):
        st, h, body = self.s.call("GET", "/v1/models", token="wrong-" + TOKEN,
                                  headers={"X-Request-Id": "it-403"})
        self.assertEqual(st, 403)
        self.assertEqual(self.error_of(body), "forbidden")
        self.assertEqual(self.last_audit("it-403")["status"], 403)

    def test_path_tricks_stay_protected(self):
        self.s.mock.reset()
        for p in ("/health/../v1/models", "/HEALTH", "/health;x", "/Health",
                  "/health/", "/%68ealth/../v1/models", "/health/%2e%2e/v1/models"):
            st, _, body = self.s.raw("GET", p)
            self.assertIn(st, (400, 401), p)
        for p in ("//health", "/%68ealth", "/health?x=../"):
            st, _, body = self.s.raw("GET", p)
            self.assertEqual(st, 200, p)
            self.assertEqual(json.loads(body)["status"], "ok")
        # /health probes the upstream with HEAD /; nothing else may arrive.
        got = [r for r in self.s.mock.requests()["requests"]
               if (r["method"], r["path"]) != ("HEAD", "/")]
        self.assertEqual(got, [], "an unauthenticated request reached the upstream")

    def test_models_proxied_byte_for_byte(self):
        st, h, body = self.s.call("GET", "/v1/models")
        self.assertEqual(st, 200)
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.s.mock.port)
        c.request("GET", "/v1/models")
        direct = c.getresponse().read()
        self.assertEqual(body, direct)

    def test_chat_completion_equals_upstream(self):
        req = {"model": "m", "messages": [{"role": "user", "content": "héllo wörld"}]}
        st, h, body = self.s.call("POST", "/v1/chat/completions", body=req)
        self.assertEqual(st, 200)
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.s.mock.port)
        c.request("POST", "/v1/chat/completions", body=json.dumps(req).encode(),
                  headers={"Content-Type": "application/json"})
        direct = c.getresponse().read()
        self.assertEqual(body, direct)
        self.assertIn("héllo wörld", json.loads(body)["choices"][0]["message"]["content"])

    def test_headers_to_upstream(self):
        self.s.mock.reset()
        st, h, body = self.s.call("POST", "/v1/chat/completions?x=1",
                                  body={"messages": [{"role": "user", "content": "x"}]},
                                  headers={"X-Request-Id": "it-hdr",
                                           "X-Forwarded-For": "6.6.6.6",
                                           "X-Real-IP": "6.6.6.6",
                                           "X-Governance-Token": "forged",
                                           "X-Governance-Plan-Id": "forged",
                                           "X-Custom": "kept"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-request-id"], "it-hdr")
        got = self.s.mock.requests()["requests"][-1]
        hd = got["headers"]
        self.assertEqual(got["path"], "/v1/chat/completions?x=1")
        self.assertEqual(hd["authorization"], "Bearer " + TOKEN)
        self.assertEqual(hd["x-request-id"], "it-hdr")
        self.assertEqual(hd["x-custom"], "kept")
        for k in ("x-forwarded-for", "x-real-ip", "forwarded",
                  "x-governance-token", "x-governance-plan-id"):
            self.assertNotIn(k, hd)
        a = self.last_audit("it-hdr")
        self.assertEqual((a["event"], a["decision"]), ("proxy", "allow"))

    def test_streamed_body_passes_intact(self):
        self.s.mock.reset()
        blob = os.urandom(1 << 20)
        st, h, body = self.s.call("PUT", "/upload", body=blob,
                                  headers={"Content-Type": "application/octet-stream",
                                           "X-Mock-Mode": "echo"})
        self.assertEqual(st, 200)
        got = self.s.mock.requests()["requests"][-1]
        self.assertEqual(got["method"], "PUT")
        self.assertEqual(got["body_len"], len(blob))

    def test_sse_arrives_incrementally(self):
        start, arr, raw = sse_arrivals(self.s, 10, 200)
        self.assertIn(b"HTTP/1.1 200", raw.split(b"\r\n", 1)[0])
        self.assertIn(b"text/event-stream", raw)
        data = [l for _, l in arr]
        self.assertEqual(data[-1], b"data: [DONE]")
        self.assertGreaterEqual(len(data), 11)
        first, last = arr[0][0] - start, arr[-1][0] - start
        # 10 events 200 ms apart: the last is sent >= 1.8 s after the first.
        # Buffering anywhere would deliver them together at the end.
        self.assertLess(first, 1.0, "first event late: %.3f s" % first)
        self.assertGreater(last - first, 1.5, "events bunched: %.3f s" % (last - first))
        gaps = [b[0] - a[0] for a, b in zip(arr, arr[1:10])]
        self.assertGreater(sum(1 for g in gaps if g > 0.1), 6, gaps)

    def test_upstream_error_status_passed_through(self):
        st, h, body = self.s.call("GET", "/v1/models", headers={"X-Mock-Mode": "status:418"})
        self.assertEqual(st, 418)

    def test_drop_mid_stream_is_audited(self):
        start, arr, raw = sse_arrivals_with(self.s, {"X-Mock-Mode": "drop",
                                                     "X-Request-Id": "it-drop"})
        self.assertIn(b"200", raw.split(b"\r\n", 1)[0])
        self.assertNotIn(b"[DONE]", raw)
        a = wait_for(lambda: [l for l in self.s.audit()
                              if l.get("request_id") == "it-drop"
                              and l["event"] == "upstream_error"], what="audit line")
        self.assertTrue(a[-1]["head_sent"])

    def test_body_limit_by_content_length(self):
        self.s.mock.reset()
        big = b"{" + b" " * (10 * 1024 * 1024) + b"}"
        st, h, body = self.s.call("POST", "/v1/chat/completions", body=big,
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(st, 413)
        self.assertEqual(self.error_of(body), "body_too_large")
        self.assertEqual(self.s.mock.requests()["count"], 0)

    def test_client_gone_mid_stream_frees_the_worker(self):
        body = json.dumps({"stream": True, "messages": [{"role": "user", "content": "x"}]}).encode()
        req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nX-Mock-Events: 40\r\nX-Mock-Delay-Ms: 250\r\n"
               "X-Request-Id: it-gone\r\nContent-Length: %d\r\n\r\n" % (TOKEN, len(body))).encode() + body
        # More abandoned streams than the pool has threads: if a gone client
        # kept its thread, the requests after them would hang.
        for _ in range(10):
            c = socket.create_connection(("127.0.0.1", self.s.port), timeout=10)
            c.sendall(req)
            self.assertIn(b"data:", c.recv(4096))
            c.close()
        a = wait_for(lambda: [l for l in self.s.audit() if l.get("request_id") == "it-gone"
                              and l.get("reason") == "client_gone"], timeout=20,
                     what="client_gone audit lines")
        self.assertTrue(a[0]["head_sent"])
        wait_for(lambda: self.s.call("GET", "/v1/models", timeout=5)[0] == 200,
                 timeout=20, what="a free worker")

    def test_chunked_request_body_reaches_upstream(self):
        # lighttpd 1.4.69 takes a chunked body even with request streaming
        # on; whatever length it reports, the upstream must get it whole.
        self.s.mock.reset()
        payload = json.dumps({"messages": [{"role": "user", "content": "chunked " * 500}]}).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[k:k + 700]), payload[k:k + 700])
                          for k in range(0, len(payload), 700))
        c = socket.create_connection(("127.0.0.1", self.s.port), timeout=10)
        c.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % TOKEN).encode()
                  + chunks + b"0\r\n\r\n")
        raw = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            raw += d
        c.close()
        self.assertIn(b" 200 ", raw.split(b"\r\n")[0] + b" ")
        got = self.s.mock.requests()["requests"][-1]
        self.assertEqual(got["body_len"], len(payload))
        self.assertEqual(got["body"].encode(), payload)

    def test_killed_worker_is_replaced(self):
        if self.s.single_process:
            self.skipTest("no supervisor in single-process (valgrind) mode")
        before = self.s.worker_pids()
        self.assertEqual(len(before), 2)
        os.kill(before[0], signal.SIGKILL)
        wait_for(lambda: len(self.s.worker_pids()) == 2 and
                 self.s.worker_pids() != before, what="replacement worker")
        for _ in range(4):
            st, _, _ = self.s.call("GET", "/v1/models")
            self.assertEqual(st, 200)

    def test_audit_log_is_valid_jsonl(self):
        self.s.call("GET", "/v1/models")
        with open(self.s.audit_path, "rb") as f:
            for n, line in enumerate(f, 1):
                self.assertTrue(line.endswith(b"\n"), n)
                json.loads(line)


def sse_arrivals_with(stack, headers):
    body = json.dumps({"stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
    extra = "".join("%s: %s\r\n" % kv for kv in headers.items())
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/json\r\nX-Mock-Events: 5\r\n%s"
           "Content-Length: %d\r\nConnection: close\r\n\r\n"
           % (TOKEN, extra, len(body))).encode() + body
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    start = time.monotonic()
    s.sendall(req)
    raw = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        raw += chunk
    s.close()
    return start, [], raw


class UpstreamDown(unittest.TestCase):
    def test_502_and_audit(self):
        s = Stack(with_mock=False, upstream_url="http://127.0.0.1:%d" % free_port())
        try:
            st, h, body = s.raw("GET", "/health")
            self.assertEqual(st, 503)
            self.assertFalse(json.loads(body)["upstream"]["reachable"])
            st, h, body = s.call("GET", "/v1/models", headers={"X-Request-Id": "it-502"})
            self.assertEqual(st, 502)
            self.assertEqual(json.loads(body)["error"]["code"], "upstream_unreachable")
            lines = [l for l in s.audit() if l.get("request_id") == "it-502"]
            self.assertEqual(lines[-1]["event"], "upstream_error")
            self.assertEqual(lines[-1]["status"], 502)
        finally:
            s.stop()
            s.cleanup()


class ProxyEnvironment(unittest.TestCase):
    def test_upstream_is_reached_directly(self):
        """Proxy variables in the workers' environment (inherited from a
        shell or a service manager) do not divert the upstream connection,
        which carries the upstream token: ocss connects to UPSTREAM_URL
        itself.  The proxy named here listens nowhere, so a request sent
        through it would fail with 502."""
        dead = "http://127.0.0.1:%d" % free_port()
        s = Stack(env={"http_proxy": dead, "HTTPS_PROXY": dead,
                       "https_proxy": dead, "ALL_PROXY": dead,
                       "all_proxy": dead, "no_proxy": "", "NO_PROXY": ""})
        try:
            st, h, body = s.raw("GET", "/health")
            self.assertEqual(st, 200, body)
            self.assertTrue(json.loads(body)["upstream"]["reachable"])
            st, h, body = s.call("GET", "/v1/models")
            self.assertEqual(st, 200, body)
            self.assertIn(b"mock-model", body)
        finally:
            s.stop()
            s.cleanup()


class Timeouts(unittest.TestCase):
    def test_504_on_slow_upstream(self):
        s = Stack(env={"OCSS_UPSTREAM_TIMEOUT": "1"})
        try:
            t0 = time.monotonic()
            st, h, body = s.call("GET", "/v1/models",
                                 headers={"X-Mock-Mode": "slow", "X-Mock-Delay-Ms": "4000"})
            self.assertEqual(st, 504)
            self.assertEqual(json.loads(body)["error"]["code"], "upstream_timeout")
            self.assertLess(time.monotonic() - t0, 3.5)
        finally:
            s.stop()
            s.cleanup()


class Heartbeat(unittest.TestCase):
    def test_silent_stream_gets_pings(self):
        """OCSS_SSE_HEARTBEAT=1: while the upstream is silent between two
        events 2.5 s apart, ": ping" comments reach the client, about one a
        second, before the next event."""
        s = Stack(env={"OCSS_SSE_HEARTBEAT": "1"})
        try:
            start, arr, raw = sse_arrivals(s, 2, 2500)
            self.assertIn(b"HTTP/1.1 200", raw.split(b"\r\n", 1)[0])
            body = raw.split(b"\r\n\r\n", 1)[1]
            # Pings between the first and the second event.
            between = body.split(b"event 1", 1)[1].split(b"event 2", 1)[0]
            self.assertGreaterEqual(between.count(b"\n: ping\n"), 2, body[:2000])
            self.assertEqual(arr[-1][1], b"data: [DONE]")
        finally:
            s.stop()
            s.cleanup()


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_pool_and_removes_socket(self):
        s = Stack()
        try:
            if s.single_process:
                self.skipTest("no pool in single-process (valgrind) mode")
            workers = s.worker_pids()
            self.assertEqual(len(workers), 2)
            os.kill(s.fcgi_pid, signal.SIGTERM)
            wait_for(lambda: not alive(s.fcgi_pid), timeout=15, what="supervisor exit")
            for w in workers:
                self.assertFalse(alive(w))
            self.assertFalse(os.path.exists(s.sock))
        finally:
            s.stop()
            s.cleanup()

    def test_own_socket_mode(self):
        s = Stack(own_socket=True)
        try:
            self.assertEqual(oct(os.stat(s.sock).st_mode & 0o777), "0o600")
            st, _, body = s.call("GET", "/v1/models")
            self.assertEqual(st, 200)
            os.kill(s.fcgi_pid, signal.SIGTERM)
            self.assertEqual(s.proc.wait(15), 0)
            self.assertFalse(os.path.exists(s.sock))
        finally:
            s.stop()
            s.cleanup()

    def test_bad_config_stops_start(self):
        import subprocess
        from stack import BUILD
        env = dict(os.environ, OPENCLAW_TOKEN=TOKEN, OCSS_MAX_BODY="lots",
                   OCSS_STATE_DIR="/tmp", GOVERNANCE_SECRET="x" * 40)
        r = subprocess.run([os.path.join(BUILD, "ocss-fcgi"), "--check"], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("OCSS_MAX_BODY", r.stderr)


if __name__ == "__main__":
    unittest.main()
