"""The gateway behind real Apache (mod_proxy_fcgi) or real Caddy.

Neither server can start FastCGI applications, so ocss-fcgi opens its own
unix socket (--socket, as Stack(own_socket=True) does) and the server is
pointed at it with contrib/apache/ocss.conf.in or contrib/caddy/Caddyfile.in.
Everything listens on 127.0.0.1, on random ports, inside one temp dir.

FrontendStack keeps Stack's client side (raw, call, audit, worker_pids,
check_logs, cleanup); only the start and stop differ, since Stack's own
constructor always starts lighttpd.
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import stack
from stack import (BUILD, SRC, TOKEN, Mock, Stack, alive, free_port, render,
                   wait_for)

APACHE_CANDIDATES = ("apache2", "/usr/sbin/apache2", "httpd", "/usr/sbin/httpd")

# 10M (ocss's default OCSS_MAX_BODY) plus a margin, as the lighttpd stack.
MAX_KB = 11 * 1024


def server_binary(server):
    """Path of the server's binary, or None when it is not installed."""
    names = APACHE_CANDIDATES if server == "apache" else ("caddy", "/usr/bin/caddy")
    for n in names:
        p = shutil.which(n) if "/" not in n else (n if os.access(n, os.X_OK) else None)
        if p:
            return p
    return None


def run_as():
    """User and group Apache's children switch to (only when run as root)."""
    if os.geteuid() == 0:
        for u in ("www-data", "apache", "nobody"):
            try:
                pw = pwd.getpwnam(u)
            except KeyError:
                continue
            return u, grp.getgrgid(pw.pw_gid).gr_name
    pw = pwd.getpwuid(os.geteuid())
    return pw.pw_name, grp.getgrgid(os.getegid()).gr_name


class FrontendStack(Stack):
    """Apache or Caddy -> ocss-fcgi --socket -> mock upstream, in a temp dir."""

    def __init__(self, server, env=None, workers=2, threads=4):
        assert server in ("apache", "caddy")
        self.server = server
        self.binary = server_binary(server)
        if self.binary is None:
            raise RuntimeError(server + " is not installed")
        self.front = None
        self.proc = None
        self.mock = None
        self.errlog = None
        self.stopped = False
        self.tmp = tempfile.mkdtemp(prefix="ocss-fe-%s-" % server)
        try:
            self._start(env, workers, threads)
        except BaseException:
            self.stop(check=False)
            self.cleanup()
            raise

    # -- start -------------------------------------------------------------

    def _start(self, env, workers, threads):
        # Apache's children run as www-data: they must be able to reach the
        # socket (and the static files) through the temp dir.
        os.chmod(self.tmp, 0o711)
        self.user, self.group = run_as()
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state, 0o700)
        self.audit_path = os.path.join(self.state, "audit.jsonl")
        self.mock = Mock(self.tmp)
        self.upstream_url = self.mock.url

        # The socket's directory is setgid to the server's group, so the
        # socket ocss-fcgi creates there (mode 0660) is the server's to use:
        # the same layout as /run/ocss in INSTALL.
        sockdir = os.path.join(self.tmp, "sock")
        os.mkdir(sockdir)
        if os.geteuid() == 0:
            os.chown(sockdir, 0, grp.getgrnam(self.group).gr_gid)
        os.chmod(sockdir, 0o2750)
        self.sock = os.path.join(sockdir, "ocss.sock")

        # The static approval page: the tree's www/ plus a marker file.
        self.www = os.path.join(self.tmp, "www")
        shutil.copytree(os.path.join(SRC, "www"), self.www)
        self.static_name = "ocss-frontend-test.txt"
        self.static_body = b"static approval page marker\n"
        os.makedirs(os.path.join(self.www, "approve"), exist_ok=True)
        with open(os.path.join(self.www, "approve", self.static_name), "wb") as f:
            f.write(self.static_body)
        for root, dirs, files in os.walk(self.www):
            os.chmod(root, 0o755)
            for n in files:
                os.chmod(os.path.join(root, n), 0o644)

        # The settings Stack gives its workers (keep in step with stack.py).
        self.env = dict(os.environ)
        self.env.update({
            "OPENCLAW_TOKEN": TOKEN,
            "UPSTREAM_URL": self.upstream_url,
            "OCSS_CONF_DIR": os.path.join(SRC, "conf"),
            "OCSS_STATE_DIR": self.state,
        })
        # Governance signs plan tokens with it and refuses to start without;
        # the same secret as Stack's once stack.py names one.
        self.env["GOVERNANCE_SECRET"] = getattr(
            stack, "GOV_SECRET", "test-governance-secret-0123456789abcdef")
        self.env.pop("OCSS_ENV_FILE", None)
        self.env.update(env or {})

        cmd = []
        if os.environ.get("OCSS_VALGRIND") == "1":
            workers = 0    # one process: a clean exit valgrind can check
            cmd += [shutil.which("valgrind"), "--quiet", "--error-exitcode=99",
                    "--leak-check=full", "--errors-for-leak-kinds=definite",
                    "--show-leak-kinds=definite",
                    "--log-file=" + os.path.join(self.tmp, "valgrind.%p.log")]
        self.workers = workers
        cmd += [os.path.join(BUILD, "ocss-fcgi"), "--socket", self.sock,
                "--socket-mode", "0660", "--workers", str(workers),
                "--threads", str(threads)]
        self.errlog = open(os.path.join(self.tmp, "ocss-fcgi.err"), "w")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=self.errlog)
        self.fcgi_pid = self.proc.pid
        wait_for(lambda: self._fcgi_up() and os.path.exists(self.sock),
                 what="ocss-fcgi socket")

        # A free port can be taken between free_port() and the server's
        # bind: try a few.
        for attempt in range(3):
            self.port = free_port()
            try:
                self._start_front()
                break
            except _BindFailed:
                if attempt == 2:
                    raise
        wait_for(lambda: self._front_up() and
                 self.raw("GET", "/health", timeout=5)[0] in (200, 503),
                 timeout=30, what=self.server + " -> ocss /health")

    def _fcgi_up(self):
        if self.proc.poll() is not None:
            raise RuntimeError("ocss-fcgi exited (%s): %s" % (
                self.proc.returncode, self._tail("ocss-fcgi.err")))
        return True

    def _front_up(self):
        if self.front.poll() is not None:
            raise RuntimeError("%s exited (%s): %s" % (
                self.server, self.front.returncode, self._front_log()))
        return True

    def _tail(self, name, n=3000):
        try:
            with open(os.path.join(self.tmp, name), errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def _front_log(self):
        if self.server == "apache":
            return self._tail("apache.out") + self._tail("apache-error.log")
        return self._tail("caddy.log")

    def _values(self):
        return {"PORT": str(self.port), "BIND": "127.0.0.1",
                "WWW_DIR": self.www, "RUN_DIR": self.tmp, "SOCKET": self.sock,
                "MAX_KB": str(MAX_KB), "MAX_BYTES": str(MAX_KB * 1024),
                "USER": self.user, "GROUP": self.group}

    def _start_front(self):
        if self.server == "apache":
            self.conf = os.path.join(self.tmp, "apache.conf")
            render(os.path.join(SRC, "contrib", "apache", "ocss.conf.in"),
                   self.conf, self._values())
            cmd = [self.binary, "-f", self.conf, "-D", "FOREGROUND"]
            out = os.path.join(self.tmp, "apache.out")
            fenv = dict(os.environ)
        else:
            self.conf = os.path.join(self.tmp, "Caddyfile")
            render(os.path.join(SRC, "contrib", "caddy", "Caddyfile.in"),
                   self.conf, self._values())
            home = os.path.join(self.tmp, "caddy-home")
            os.makedirs(home, exist_ok=True)
            cmd = [self.binary, "run", "--config", self.conf, "--adapter", "caddyfile"]
            out = os.path.join(self.tmp, "caddy.log")
            fenv = dict(os.environ, HOME=home,
                        XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"))
        with open(out, "w") as o:
            # Its own session: on a hung stop, its whole group can be killed.
            self.front = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=o,
                                          stderr=subprocess.STDOUT, env=fenv,
                                          cwd=self.tmp, start_new_session=True)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.front.poll() is not None:
                log = self._front_log()
                if "in use" in log:    # Apache AH00072, Caddy "address already in use"
                    raise _BindFailed(log)
                self._front_up()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("%s did not listen on %d: %s"
                           % (self.server, self.port, self._front_log()))

    # -- stop --------------------------------------------------------------

    def stop(self, check=True):
        if self.stopped:
            return
        self.stopped = True
        if self.front is not None and self.front.poll() is None:
            self.front.terminate()
            try:
                self.front.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.front.pid, signal.SIGKILL)
                self.front.wait(10)
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            wait_for(lambda: not alive(self.fcgi_pid), timeout=30, what="ocss-fcgi exit")
        if self.mock is not None:
            self.mock.stop()
        if self.errlog is not None:
            self.errlog.close()
            if check:
                self.check_logs()


class _BindFailed(Exception):
    pass


def sse_arrivals(stack, events, delay_ms, extra_headers=None):
    """POST a streamed chat completion on a raw socket and note when each SSE
    event arrives.  Returns (start, [(t, line)...], raw bytes)."""
    body = json.dumps({"model": "m", "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    extra = "".join("%s: %s\r\n" % kv for kv in (extra_headers or {}).items())
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
           "X-Mock-Events: %d\r\nX-Mock-Delay-Ms: %d\r\n%sContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % (TOKEN, events, delay_ms, extra, len(body))
           ).encode() + body
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
        # Servers may frame the answer in HTTP chunks: look for the SSE
        # lines wherever they are.
        while b"\n\n" in pending:
            ev, pending = pending.split(b"\n\n", 1)
            for line in ev.split(b"\n"):
                if line.startswith(b"data: "):
                    arrivals.append((now, line.rstrip(b"\r")))
    s.close()
    return start, arrivals, raw


def raw_exchange(stack, request, timeout=30):
    """Send raw bytes, read to EOF; returns (status, head bytes, body bytes)
    with a chunked body decoded."""
    s = socket.create_connection(("127.0.0.1", stack.port), timeout=timeout)
    s.sendall(request)
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        out += d
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if b"\r\ntransfer-encoding: chunked" in head.lower():
        dec = b""
        while body:
            line, _, rest = body.partition(b"\r\n")
            n = int(line.split(b";")[0], 16)
            if n == 0:
                break
            dec += rest[:n]
            body = rest[n + 2:]
        body = dec
    return status, head, body


def chunked(payload, size=700):
    return b"".join(b"%x\r\n%s\r\n" % (len(payload[k:k + size]), payload[k:k + size])
                    for k in range(0, len(payload), size)) + b"0\r\n\r\n"
