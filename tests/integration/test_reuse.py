"""One worker with one thread: every request goes through the same
upstream connection handle, so each must carry only its own method, body
and headers, whatever the previous request was."""
import time
import unittest

from stack import Stack


class HandleReuse(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack(workers=1, threads=1)

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.s.cleanup()

    def last(self):
        rq = self.s.mock.requests()["requests"][-1]
        rq["h"] = {k.lower(): v for k, v in rq["headers"].items()}
        return rq

    def plain_get(self, after):
        st, hd, body = self.s.call("GET", "/v1/models")
        rq = self.last()
        self.assertEqual(st, 200, after)
        self.assertEqual(len(body), int(hd["content-length"]), after)
        self.assertEqual((rq["method"], rq["body_len"]), ("GET", 0), after)
        self.assertNotIn("content-length", rq["h"], after)
        self.assertNotIn("transfer-encoding", rq["h"], after)

    def test_methods_in_turn(self):
        st, _, _ = self.s.call("POST", "/v1/chat/completions",
                               body={"messages": [{"role": "user", "content": "hi"}]})
        rq = self.last()
        self.assertEqual((st, rq["method"]), (200, "POST"))
        self.assertGreater(rq["body_len"], 0)
        self.plain_get("after POST")

        st, _, body = self.s.call("HEAD", "/v1/models")
        self.assertEqual((self.last()["method"], body), ("HEAD", b""))
        self.plain_get("after HEAD")

        time.sleep(1.1)     # past the probe cache: /health reaches upstream
        self.assertEqual(self.s.raw("GET", "/health")[0], 200)
        self.plain_get("after the health probe")

        self.s.call("POST", "/v1/empty", body=b"")
        rq = self.last()
        self.assertEqual((rq["method"], rq["h"].get("content-length")), ("POST", "0"))
        self.plain_get("after an empty POST")

        self.s.call("DELETE", "/v1/thing")
        self.assertEqual(self.last()["method"], "DELETE")
        self.plain_get("after DELETE")

        self.s.call("PUT", "/files/x", body=b"x" * 5000,
                    headers={"Content-Type": "application/octet-stream"})
        rq = self.last()
        self.assertEqual((rq["method"], rq["body_len"]), ("PUT", 5000))
        self.plain_get("after a streamed PUT")

        self.s.call("OPTIONS", "/v1/models")
        self.assertEqual(self.last()["method"], "OPTIONS")
        self.plain_get("after OPTIONS")


if __name__ == "__main__":
    unittest.main()
