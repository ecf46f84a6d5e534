"""Start the real stack for a test: mock upstream, ocss-fcgi (spawn-fcgi),
lighttpd, all on loopback ports chosen at random, and take it down again.

Everything a test talks to is a real process; only the LLM behind OpenClaw
is a mock (tests/mock/mock-upstream.c speaking the OpenAI wire format).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("OCSS_BUILD", os.path.join(SRC, "build", "default")))
TOKEN = "test-token-0123456789abcdefghij"
GOV_SECRET = "test-governance-secret-0123456789abcdef"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = cond()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + what)


class Mock:
    """The mock upstream on a random port."""

    def __init__(self, tmp):
        self.portfile = os.path.join(tmp, "mock.port")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "tests", "mock", "mock-upstream"), "--port", "0",
             "--port-file", self.portfile, "--quiet"],
            stdout=subprocess.DEVNULL)
        self.port = int(wait_for(lambda: open(self.portfile).read().strip()
                                 if os.path.exists(self.portfile) else None,
                                 what="mock upstream"))
        self.url = "http://127.0.0.1:%d" % self.port

    def requests(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/_mock/requests")
        # Bodies may be binary: the mock copies them as bytes.
        data = json.loads(c.getresponse().read().decode("utf-8", "replace"))
        c.close()
        return data

    def reset(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", "/_mock/reset", body=b"")
        c.getresponse().read()
        c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Stack:
    """lighttpd -> spawn-fcgi'd ocss-fcgi -> upstream, in a temp dir."""

    def __init__(self, *args, **kwargs):
        # Whatever started before a failure is stopped again: a test that
        # cannot start its stack must not leave servers behind.
        self.mock = None
        self.fcgi_pid = self.lighttpd_pid = None
        self.own_socket = False
        try:
            self._start(*args, **kwargs)
        except BaseException:
            self._kill_all()
            raise

    def _kill_all(self):
        for pid in (self.lighttpd_pid, self.fcgi_pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.mock:
            self.mock.stop()
        shutil.rmtree(getattr(self, "tmp", "/nonexistent"), ignore_errors=True)

    def _start(self, upstream_url=None, env=None, workers=2, threads=4,
               with_mock=True, valgrind=False, own_socket=False):
        self.tmp = tempfile.mkdtemp(prefix="ocss-it-")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state)
        self.mock = Mock(self.tmp) if with_mock else None
        self.upstream_url = upstream_url or (self.mock.url if self.mock else
                                             "http://127.0.0.1:%d" % free_port())
        self.sock = os.path.join(self.tmp, "ocss.sock")
        self.audit_path = os.path.join(self.state, "audit.jsonl")
        self.env = dict(os.environ)
        self.env.update({
            "OPENCLAW_TOKEN": TOKEN,
            "UPSTREAM_URL": self.upstream_url,
            "OCSS_CONF_DIR": os.path.join(SRC, "conf"),
            "OCSS_STATE_DIR": self.state,
            "GOVERNANCE_SECRET": GOV_SECRET,
        })
        self.env.pop("OCSS_ENV_FILE", None)
        self.env.update(env or {})
        self.pidfile = os.path.join(self.tmp, "ocss-fcgi.pid")
        self.own_socket = own_socket
        if own_socket:
            cmd = []    # ocss-fcgi opens the socket itself (--socket)
        else:
            cmd = ["spawn-fcgi", "-s", self.sock, "-M", "0600", "-P", self.pidfile, "--"]
        valgrind = valgrind or os.environ.get("OCSS_VALGRIND") == "1"
        if valgrind:
            workers = 0    # one process: a clean exit valgrind can check
            self.vglog = os.path.join(self.tmp, "valgrind.%p.log")
            cmd += [shutil.which("valgrind"), "--quiet", "--error-exitcode=99",
                    "--leak-check=full", "--errors-for-leak-kinds=definite",
                    "--show-leak-kinds=definite", "--log-file=" + self.vglog]
        self.workers = workers
        cmd += [os.path.join(BUILD, "ocss-fcgi"), "--workers", str(workers),
                "--threads", str(threads)]
        self.errlog = open(os.path.join(self.tmp, "ocss-fcgi.err"), "w")
        if own_socket:
            cmd += ["--socket", self.sock, "--socket-mode", "0600"]
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=self.errlog)
            self.fcgi_pid = self.proc.pid
            wait_for(lambda: os.path.exists(self.sock), what="ocss-fcgi socket")
        else:
            subprocess.run(cmd, env=self.env, check=True, stdout=subprocess.DEVNULL,
                           stderr=self.errlog)
            self.fcgi_pid = int(wait_for(lambda: open(self.pidfile).read().strip(),
                                         what="spawn-fcgi pid file"))
        self.port = free_port()
        self.lighttpd_conf = os.path.join(self.tmp, "lighttpd.conf")
        render(os.path.join(SRC, "contrib", "lighttpd", "ocss.conf.in"),
               self.lighttpd_conf, {
                   "PORT": str(self.port), "BIND": "127.0.0.1",
                   "WWW_DIR": os.path.join(SRC, "www"), "RUN_DIR": self.tmp,
                   "SOCKET": self.sock, "MAX_KB": str(11 * 1024)})
        subprocess.run(["lighttpd", "-f", self.lighttpd_conf], check=True)
        self.lighttpd_pid = int(wait_for(
            lambda: open(os.path.join(self.tmp, "lighttpd.pid")).read().strip(),
            what="lighttpd pid file"))
        wait_for(lambda: self.raw("GET", "/health")[0] in (200, 503),
                 timeout=30, what="gateway /health")

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def raw(self, method, path, body=None, headers=None, timeout=30):
        c = self.conn(timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def call(self, method, path, body=None, headers=None, token=TOKEN, timeout=30):
        h = {"Authorization": "Bearer " + token} if token else {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return self.raw(method, path, body, h, timeout)

    def audit(self):
        if not os.path.exists(self.audit_path):
            return []
        with open(self.audit_path) as f:
            return [json.loads(l) for l in f]

    @property
    def single_process(self):
        return self.workers == 0

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.fcgi_pid)],
                             capture_output=True, text=True).stdout
        return sorted(int(p) for p in out.split())

    def stop(self):
        for pid in (self.lighttpd_pid, self.fcgi_pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.own_socket:
            self.proc.wait(60)
        wait_for(lambda: not alive(self.fcgi_pid), timeout=60, what="ocss-fcgi exit")
        if self.mock:
            self.mock.stop()
        self.errlog.close()
        self.check_logs()

    def check_logs(self):
        """Fail when a sanitizer or valgrind reported anything."""
        reports = []
        with open(os.path.join(self.tmp, "ocss-fcgi.err"), errors="replace") as f:
            text = f.read()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in text:
                reports.append(text)
                break
        for name in os.listdir(self.tmp):
            if name.startswith("valgrind."):
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    v = f.read()
                if v.strip():
                    reports.append(v)
        if reports:
            raise AssertionError("memory checker reports:\n" + "\n".join(reports)[:20000])

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def render(src, dst, values):
    with open(src) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    with open(dst, "w") as f:
        f.write(text)
