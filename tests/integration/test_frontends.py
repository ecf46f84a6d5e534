"""The gateway behind real Apache (mod_proxy_fcgi) and real Caddy, with the
shipped configs (contrib/apache/ocss.conf.in, contrib/caddy/Caddyfile.in):
ocss-fcgi on its own socket, mock upstream, everything on 127.0.0.1."""
import http.client
import json
import os
import threading
import unittest

from frontends import (FrontendStack, chunked, raw_exchange, server_binary,
                       sse_arrivals)
from stack import TOKEN, wait_for


class FrontendCases:
    """The same checks against each server; subclasses name the server."""
    server = None

    @classmethod
    def setUpClass(cls):
        if server_binary(cls.server) is None:
            raise unittest.SkipTest("%s is not installed (contrib/install-deps.sh "
                                    "--test installs it)" % cls.server)
        cls.s = FrontendStack(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.s.cleanup()

    # -- helpers -------------------------------------------------------------

    def error_of(self, body):
        e = json.loads(body)["error"]
        self.assertIsInstance(e["message"], str)
        return e["code"]

    def audit_for(self, request_id):
        return [l for l in self.s.audit() if l.get("request_id") == request_id]

    def upstream_requests(self):
        """What reached the mock, less /health's HEAD / probes."""
        return [r for r in self.s.mock.requests()["requests"]
                if (r["method"], r["path"]) != ("HEAD", "/")]

    def direct(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.s.mock.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        data = c.getresponse().read()
        c.close()
        return data

    # -- tests -----------------------------------------------------------------

    def test_health_is_public(self):
        st, h, body = self.s.raw("GET", "/health")
        self.assertEqual(st, 200)
        j = json.loads(body)
        self.assertEqual(j["status"], "ok")
        self.assertTrue(j["upstream"]["reachable"])
        self.assertEqual(len(h["x-request-id"]), 32)
        self.assertEqual(self.s.raw("HEAD", "/health")[0], 200)

    def test_no_token_401_json(self):
        st, h, body = self.s.raw("GET", "/v1/models",
                                 headers={"X-Request-Id": "fe-401-" + self.server})
        self.assertEqual(st, 401)
        self.assertEqual(h["content-type"].split(";")[0], "application/json")
        self.assertEqual(self.error_of(body), "unauthorized")
        self.assertIn("Bearer", h["www-authenticate"])
        # The FastCGI "Status:" line sets the status; it is no header.
        self.assertNotIn("status", h)
        a = self.audit_for("fe-401-" + self.server)
        self.assertEqual((a[-1]["event"], a[-1]["status"]), ("auth", 401))

    def test_wrong_token_403(self):
        st, h, body = self.s.call("GET", "/v1/models", token="wrong-" + TOKEN)
        self.assertEqual(st, 403)
        self.assertEqual(self.error_of(body), "forbidden")

    def test_authorization_reaches_ocss(self):
        # A correct token is accepted only if the server passed the
        # Authorization header on (Apache: CGIPassAuth On).
        self.s.mock.reset()
        rid = "fe-auth-" + self.server
        st, h, body = self.s.call("GET", "/v1/models", headers={"X-Request-Id": rid})
        self.assertEqual(st, 200, body)
        self.assertEqual(h["x-request-id"], rid)
        got = self.upstream_requests()
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["path"], "/v1/models")
        self.assertEqual(got[0]["headers"]["authorization"], "Bearer " + TOKEN)
        a = self.audit_for(rid)
        self.assertEqual((a[-1]["event"], a[-1]["decision"]), ("proxy", "allow"))
        self.assertEqual(a[-1]["peer"], "127.0.0.1")
        self.assertEqual(body, self.direct("GET", "/v1/models"))

    def test_chat_completion_equals_upstream(self):
        req = {"model": "m", "messages": [{"role": "user", "content": "héllo wörld"}]}
        st, h, body = self.s.call("POST", "/v1/chat/completions", body=req)
        self.assertEqual(st, 200)
        direct = self.direct("POST", "/v1/chat/completions", json.dumps(req).encode(),
                             {"Content-Type": "application/json"})
        self.assertEqual(body, direct)
        self.assertIn("héllo wörld", json.loads(body)["choices"][0]["message"]["content"])

    def test_raw_request_uri_and_query(self):
        # ocss routes on REQUEST_URI: the query, escapes included, must
        # arrive as the client sent it.
        self.s.mock.reset()
        st, _, _ = self.s.call("GET", "/v1/models?x=1&y=%2F&z=a+b")
        self.assertEqual(st, 200)
        self.assertEqual(self.upstream_requests()[-1]["path"],
                         "/v1/models?x=1&y=%2F&z=a+b")

    def test_encoded_slash_reaches_ocss(self):
        # Apache answers 404 itself unless AllowEncodedSlashes NoDecode.
        rid = "fe-slash-" + self.server
        st, h, body = self.s.call("GET", "/v1/a%2Fb", headers={"X-Request-Id": rid,
                                                              "X-Mock-Mode": "echo"})
        self.assertEqual(st, 200, body)
        self.assertTrue(self.audit_for(rid))

    def test_sse_arrives_incrementally(self):
        start, arr, raw = sse_arrivals(self.s, 10, 200)
        self.assertIn(b" 200 ", raw.split(b"\r\n", 1)[0] + b" ")
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

    def _chunked_post(self, path, ctype, payload):
        self.s.mock.reset()
        st, head, body = raw_exchange(self.s, (
            "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer %s\r\nContent-Type: %s\r\nX-Mock-Mode: echo\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            % (path, TOKEN, ctype)).encode() + chunked(payload))
        self.assertEqual(st, 200, head + body[:300])
        got = self.upstream_requests()
        self.assertEqual(len(got), 1)
        return got[0]

    def test_chunked_json_body_reaches_upstream(self):
        payload = json.dumps({"messages": [{"role": "user",
                                            "content": "chunked " * 500}]}).encode()
        got = self._chunked_post("/v1/chat/completions", "application/json", payload)
        self.assertEqual(got["body_len"], len(payload))
        self.assertEqual(got["body"].encode(), payload)

    def test_chunked_streamed_body_reaches_upstream(self):
        # Not JSON, so ocss streams it through instead of reading it whole;
        # large enough that Apache does not take it whole first (it sets
        # CONTENT_LENGTH for a small chunked body, and leaves it unset with
        # HTTP_TRANSFER_ENCODING for a larger one).
        payload = os.urandom(256 * 1024)
        got = self._chunked_post("/upload", "application/octet-stream", payload)
        self.assertEqual(got["body_len"], len(payload))

    def test_body_limit_by_content_length(self):
        self.s.mock.reset()
        big = b"{" + b" " * (10 * 1024 * 1024) + b"}"
        st, h, body = self.s.call("POST", "/v1/chat/completions", body=big,
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(st, 413)
        self.assertEqual(self.error_of(body), "body_too_large")
        self.assertEqual(self.upstream_requests(), [])

    def test_path_tricks_stay_protected(self):
        self.s.mock.reset()
        # Refused by ocss (400/401) or by the server itself (400/404);
        # never served.
        for p in ("/health/../v1/models", "/HEALTH", "/health;x", "/Health",
                  "/health/", "/%68ealth/../v1/models", "/health/%2e%2e/v1/models",
                  "/health/%2E%2E/v1/models", "/health%2f..%2fv1/models",
                  "/health/..%2fv1/models", "/%2e%2e/v1/models", "//v1/models",
                  "/approve/../v1/models", "/approve/%2e%2e/v1/models",
                  "/approve/..%2fv1/models", "/approve", "/health%00/../v1/models"):
            st, _, body = self.s.raw("GET", p)
            self.assertIn(st, (400, 401, 404), p)
        for p in ("//health", "/%68ealth", "/health?x=../"):
            st, _, body = self.s.raw("GET", p)
            self.assertEqual(st, 200, p)
            self.assertEqual(json.loads(body)["status"], "ok")
        self.assertEqual(self.upstream_requests(), [],
                         "an unauthenticated request reached the upstream")

    def test_client_forwarding_headers_do_not_reach_upstream(self):
        self.s.mock.reset()
        st, h, body = self.s.call("GET", "/v1/models",
                                  headers={"X-Forwarded-For": "6.6.6.6",
                                           "X-Real-IP": "6.6.6.6",
                                           "Forwarded": "for=6.6.6.6",
                                           "X-Custom": "kept"})
        self.assertEqual(st, 200)
        hd = self.upstream_requests()[-1]["headers"]
        self.assertEqual(hd["x-custom"], "kept")
        for k in ("x-forwarded-for", "x-real-ip", "forwarded", "x-forwarded-host",
                  "x-forwarded-proto"):
            self.assertNotIn(k, hd)
        self.assertNotIn("6.6.6.6", json.dumps(hd))

    def test_content_headers_reach_upstream_once(self):
        self.s.mock.reset()
        st, _, _ = self.s.call("POST", "/v1/chat/completions",
                               body={"messages": [{"role": "user", "content": "x"}]})
        self.assertEqual(st, 200)
        hd = self.upstream_requests()[-1]["headers"]
        # The mock joins repeated headers with ", ".
        self.assertEqual(hd["content-type"], "application/json")
        self.assertEqual(hd["content-length"], str(len(json.dumps(
            {"messages": [{"role": "user", "content": "x"}]}))))

    def test_static_approval_page(self):
        self.s.mock.reset()
        before = len(self.s.audit())
        st, h, body = self.s.raw("GET", "/approve/" + self.s.static_name)
        self.assertEqual(st, 200)
        self.assertEqual(body, self.s.static_body)
        # Served by the web server: ocss saw nothing.
        self.assertEqual(len(self.s.audit()), before)
        self.assertEqual(self.upstream_requests(), [])

    def test_workers_serve_in_parallel(self):
        # Two slow streams at once and a quick request beside them.
        results = []
        ts = [threading.Thread(target=lambda: results.append(
            sse_arrivals(self.s, 4, 250))) for _ in range(2)]
        for t in ts:
            t.start()
        wait_for(lambda: self.s.call("GET", "/v1/models", timeout=5)[0] == 200,
                 timeout=5, what="a request beside two streams")
        for t in ts:
            t.join(30)
        self.assertEqual(len(results), 2)
        for _, arr, _ in results:
            self.assertEqual(arr[-1][1], b"data: [DONE]")


class Apache(FrontendCases, unittest.TestCase):
    server = "apache"


class Caddy(FrontendCases, unittest.TestCase):
    server = "caddy"


if __name__ == "__main__":
    unittest.main()
