"""Governance through the real stack: hold, approve, retry, block, forge."""
import json
import os
import threading
import unittest

from stack import Stack, TOKEN


def chat(tool_calls=None, tools=None, user="please help"):
    msgs = [{"role": "user", "content": user}]
    if tool_calls:
        msgs.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_%d" % i, "type": "function",
             "function": {"name": n, "arguments": json.dumps(a)}}
            for i, (n, a) in enumerate(tool_calls)]})
    body = {"model": "m", "messages": msgs}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": t, "parameters": {}}}
                         for t in tools]
    return body


class Governance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Stack()

    @classmethod
    def tearDownClass(cls):
        cls.s.stop()
        cls.s.cleanup()

    def post_chat(self, body, session="sess-a", headers=None, requester="agent-1"):
        h = {"X-Governance-Session": session, "X-User-Id": requester}
        h.update(headers or {})
        st, hd, data = self.s.call("POST", "/v1/chat/completions", body=body, headers=h)
        return st, hd, json.loads(data)

    def upstream_requests(self):
        return [r for r in self.s.mock.requests()["requests"]
                if r["path"].startswith("/v1/chat")]

    def hold(self, session="sess-a", cmd="ls -la /tmp"):
        body = chat([("exec", {"command": cmd})])
        st, _, j = self.post_chat(body, session=session)
        self.assertEqual(st, 202, j)
        return body, j

    def approve(self, approval_id, who="operator-1"):
        return self.s.call("POST", "/governance/approvals/%s/approve" % approval_id,
                           body={"approver_id": who, "acknowledgment": "checked the command"})

    def test_hold_approve_retry(self):
        self.s.mock.reset()
        body, j = self.hold()
        self.assertEqual(j["status"], "approval_required")
        for k in ("approval_id", "plan_id", "violations", "approve_url"):
            self.assertIn(k, j)
        self.assertEqual(j["violations"][0]["policy_id"], "exec-needs-approval")
        self.assertEqual(self.upstream_requests(), [], "held request reached upstream")

        st, _, data = self.s.call("GET", "/governance/approvals?status=pending")
        self.assertEqual(st, 200)
        ids = [a["approval_id"] for a in json.loads(data)["approvals"]]
        self.assertIn(j["approval_id"], ids)
        st, _, data = self.s.call("GET", "/governance/approvals/" + j["approval_id"])
        view = json.loads(data)
        self.assertEqual(view["status"], "pending")
        self.assertEqual(view["requester_id"], "agent-1")
        self.assertEqual(view["plan"]["actions"][0]["tool"], "exec")
        self.assertEqual(view["plan"]["actions"][0]["category"], "system_command")
        self.assertEqual(view["plan"]["actions"][0]["resource"], "ls -la /tmp")

        st, _, data = self.approve(j["approval_id"])
        self.assertEqual(st, 200, data)
        ok = json.loads(data)
        self.assertEqual((ok["status"], ok["plan_id"]), ("approved", j["plan_id"]))

        st, _, resp = self.post_chat(body, headers={"X-Governance-Plan-Id": ok["plan_id"],
                                                    "X-Governance-Token": ok["token"]})
        self.assertEqual(st, 200, resp)
        got = self.upstream_requests()
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["headers"]["x-governance-plan-id"], ok["plan_id"])
        self.assertEqual(got[0]["headers"]["x-governance-token"], ok["token"])

        # Decided once: a second decision is gone.
        st, _, _ = self.approve(j["approval_id"])
        self.assertEqual(st, 410)
        audit = [l for l in self.s.audit() if l.get("event") == "governance_decision"]
        self.assertTrue(any(l.get("approval_id") == j["approval_id"] and
                            l.get("operator") == "operator-1" for l in audit))

    def test_altered_or_replayed_elsewhere_refused(self):
        body, j = self.hold(session="sess-b")
        ok = json.loads(self.approve(j["approval_id"])[2])
        self.s.mock.reset()
        hdr = {"X-Governance-Plan-Id": ok["plan_id"], "X-Governance-Token": ok["token"]}
        altered = chat([("exec", {"command": "rm -rf /home"})])
        st, _, e = self.post_chat(altered, session="sess-b", headers=hdr)
        self.assertEqual(st, 403)
        self.assertEqual(e["error"]["code"], "governance_token_invalid")
        st, _, e = self.post_chat(body, session="sess-other", headers=hdr)
        self.assertEqual(st, 403)
        tampered = dict(hdr, **{"X-Governance-Token": ok["token"][:-1] +
                                ("0" if ok["token"][-1] != "0" else "1")})
        st, _, e = self.post_chat(body, session="sess-b", headers=tampered)
        self.assertEqual(st, 403)
        self.assertEqual(self.upstream_requests(), [])
        # The genuine retry still works.
        st, _, _ = self.post_chat(body, session="sess-b", headers=hdr)
        self.assertEqual(st, 200)

    def test_rejected_stays_out(self):
        body, j = self.hold(session="sess-c")
        st, _, data = self.s.call("POST", "/governance/approvals/%s/reject" % j["approval_id"],
                                  body={"rejector_id": "operator-2", "reason": "no"})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)["status"], "rejected")
        self.s.mock.reset()
        st, _, e = self.post_chat(body, session="sess-c", headers={
            "X-Governance-Plan-Id": j["plan_id"], "X-Governance-Token": "v1.1.x"})
        self.assertEqual(st, 403)
        self.assertIn("rejected", e["error"]["message"])
        self.assertEqual(self.upstream_requests(), [])

    def test_blocked_never_reaches_upstream(self):
        self.s.mock.reset()
        st, _, j = self.post_chat(chat([("read_file", {"path": "/home/u/.ssh/id_rsa"})]))
        self.assertEqual(st, 403)
        self.assertEqual(j["error"]["code"], "governance_blocked")
        self.assertEqual(j["violations"][0]["policy_id"], "secret-files")
        self.assertEqual(self.upstream_requests(), [])

    def test_forged_headers_never_reach_upstream(self):
        self.s.mock.reset()
        # No tools: not governed, but client copies of the headers are stripped.
        st, _, _ = self.s.call("POST", "/v1/chat/completions", body=chat(), headers={
            "X-Governance-Plan-Id": "f" * 32, "X-Governance-Token": "v1.9999999999999.%s" % ("0" * 64)})
        self.assertEqual(st, 200)
        hd = self.upstream_requests()[-1]["headers"]
        self.assertNotIn("x-governance-plan-id", hd)
        self.assertNotIn("x-governance-token", hd)
        # With tools: forged headers are refused outright.
        st, _, e = self.post_chat(chat([("exec", {"command": "id"})]), headers={
            "X-Governance-Plan-Id": "f" * 32, "X-Governance-Token": "v1.9999999999999.%s" % ("0" * 64)})
        self.assertEqual(st, 403)
        self.assertEqual(len(self.upstream_requests()), 1)

    def test_allowed_plan_gets_gateway_token(self):
        self.s.mock.reset()
        st, _, _ = self.post_chat(chat([("read_file", {"path": "notes/todo.md"})]),
                                  session="sess-d")
        self.assertEqual(st, 200)
        hd = self.upstream_requests()[-1]["headers"]
        self.assertEqual(len(hd["x-governance-plan-id"]), 32)
        self.assertTrue(hd["x-governance-token"].startswith("v1."))

    def test_sequence_fetch_then_write(self):
        st, _, _ = self.post_chat(chat([("web_fetch", {"url": "https://example.org/x.sh"})]),
                                  session="sess-seq")
        self.assertEqual(st, 200)
        st, _, j = self.post_chat(chat([("write_file", {"path": "run.sh", "content": "x"})],
                                       user="now save it"), session="sess-seq")
        self.assertEqual(st, 202, j)
        self.assertEqual(j["violations"][0]["policy_id"], "fetch-then-execute")
        # Another session has no such history.
        st, _, _ = self.post_chat(chat([("write_file", {"path": "run.sh", "content": "x"})],
                                       user="now save it"), session="sess-fresh")
        self.assertEqual(st, 200)

    def test_declared_tools_are_governed(self):
        st, _, j = self.post_chat(chat(tools=["read_file", "exec"]), session="sess-e")
        self.assertEqual(st, 202)
        self.assertEqual([a["tool"] for a in json.loads(self.s.call(
            "GET", "/governance/plans/" + j["plan_id"])[2])["plan"]["actions"]],
            ["read_file", "exec"])

    def test_self_approval_refused(self):
        body, j = self.hold(session="sess-f")
        st, _, data = self.approve(j["approval_id"], who="agent-1")
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(data)["error"]["code"], "self_approval")

    def test_rest_errors(self):
        for method, path, body, want in (
                ("GET", "/governance/approvals/" + "0" * 32, None, 404),
                ("GET", "/governance/approvals/not-an-id!", None, 404),
                ("POST", "/governance/approvals/%s/approve" % ("0" * 32),
                 {"approver_id": "x", "acknowledgment": "y"}, 410),
                ("POST", "/governance/approvals/%s/approve" % ("0" * 32), b"{not json", 400),
                ("POST", "/governance/approvals/%s/approve" % ("0" * 32), {"approver_id": "x"}, 400),
                ("GET", "/governance/approvals?status=bogus", None, 400),
                ("GET", "/governance/approvals?limit=100000", None, 400),
                ("DELETE", "/governance/approvals", None, 405),
                ("GET", "/governance/nothing", None, 404),
                ("GET", "/governance/stats", None, 200),
                ("POST", "/governance/cleanup", b"", 200)):
            st, _, data = self.s.call(method, path, body=body,
                                      headers={"Content-Type": "application/json"})
            self.assertEqual(st, want, (method, path, data))
            j = json.loads(data)
            if want >= 400:
                self.assertIn("code", j["error"])
        st, _, _ = self.s.raw("GET", "/governance/stats")
        self.assertEqual(st, 401)

    def test_concurrent_approvals_one_winner(self):
        body, j = self.hold(session="sess-g")
        results = []

        def go(i):
            results.append(self.approve(j["approval_id"], who="op-%d" % i)[0])
        ts = [threading.Thread(target=go, args=(i,)) for i in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(results), [200] + [410] * 5)

    def test_cli_list_approve_on_same_store(self):
        import subprocess
        from stack import BUILD
        ocss = os.path.join(BUILD, "ocss")
        body, j = self.hold(session="sess-cli", cmd="uname -a")
        r = subprocess.run([ocss, "governance", "list"], env=self.s.env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(j["approval_id"], r.stdout)
        self.assertIn("exec(system_command)", r.stdout)
        r = subprocess.run([ocss, "governance", "approve", j["approval_id"],
                            "--user", "cli-op"], env=self.s.env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)     # --ack is required
        r = subprocess.run([ocss, "governance", "approve", j["approval_id"], "--user", "cli-op",
                            "--ack", "reviewed uname"], env=self.s.env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        ok = json.loads(r.stdout)
        st, _, _ = self.post_chat(body, session="sess-cli", headers={
            "X-Governance-Plan-Id": ok["plan_id"], "X-Governance-Token": ok["token"]})
        self.assertEqual(st, 200)
        r = subprocess.run([ocss, "governance", "reject", j["approval_id"], "--user", "x"],
                           env=self.s.env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already approved", r.stderr)
        self.assertTrue(any(l.get("event") == "governance_decision" and l.get("method") == "CLI"
                            and l.get("operator") == "cli-op" for l in self.s.audit()))

    def test_invalid_json_refused(self):
        st, _, data = self.s.call("POST", "/v1/chat/completions", body=b'{"messages": [',
                                  headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(data)["error"]["code"], "bad_json")


class OperatorToken(unittest.TestCase):
    def test_governance_needs_the_operator_token(self):
        op = "operator-token-0123456789abcdef"
        s = Stack(env={"OCSS_OPERATOR_TOKEN": op})
        try:
            st, _, _ = s.call("GET", "/governance/stats")
            self.assertEqual(st, 403)          # the agent's token no longer works
            st, _, _ = s.call("GET", "/governance/stats", token=op)
            self.assertEqual(st, 200)
            st, _, _ = s.call("GET", "/v1/models", token=op)
            self.assertEqual(st, 403)          # and the operator's is not an agent's
            st, _, _ = s.call("GET", "/v1/models")
            self.assertEqual(st, 200)
        finally:
            s.stop()
            s.cleanup()


class GovernanceOff(unittest.TestCase):
    def test_disabled_passes_and_is_audited(self):
        s = Stack(env={"GOVERNANCE_ENABLED": "false", "GOVERNANCE_SECRET": ""})
        try:
            st, _, _ = s.call("POST", "/v1/chat/completions",
                              body=chat([("exec", {"command": "id"})]))
            self.assertEqual(st, 200)
            self.assertTrue(any(l.get("event") == "startup" and
                                l.get("decision") == "governance_disabled" for l in s.audit()))
            st, _, data = s.call("GET", "/governance/stats")
            self.assertEqual(st, 404)
        finally:
            s.stop()
            s.cleanup()

    def test_missing_secret_stops_start(self):
        import subprocess
        from stack import BUILD
        env = dict(os.environ, OPENCLAW_TOKEN=TOKEN, OCSS_STATE_DIR="/tmp")
        env.pop("GOVERNANCE_SECRET", None)
        r = subprocess.run([os.path.join(BUILD, "ocss-fcgi"), "--check"], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("GOVERNANCE_SECRET", r.stderr)


if __name__ == "__main__":
    unittest.main()
