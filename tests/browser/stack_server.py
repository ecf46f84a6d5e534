"""Start the real ocss stack (tests/integration/stack.py: mock upstream,
spawn-fcgi'd ocss-fcgi, lighttpd serving www/, random loopback ports) for
the browser test.  Prints one JSON line {"port", "token"} on stdout, then
waits until stdin reaches EOF or SIGTERM/SIGINT arrives, stops every process
it started and removes its temporary directory.  On a failed start it
prints {"error": "..."} instead and exits 1, leaving nothing running."""
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import stack  # noqa: E402


def kill(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, TypeError):
        pass


class BrowserStack(stack.Stack):
    """Stack that takes down what it already started when start-up fails
    half-way (stack.Stack leaves the mock running then)."""

    def __init__(self, **kw):
        try:
            super().__init__(**kw)
        except BaseException:
            kill(getattr(self, "lighttpd_pid", None))
            kill(getattr(self, "fcgi_pid", None))
            if getattr(self, "mock", None):
                self.mock.stop()
            errlog = getattr(self, "errlog", None)
            if errlog:
                errlog.close()
                with open(errlog.name, errors="replace") as f:
                    sys.stderr.write(f.read()[-4000:])
            if getattr(self, "tmp", None):
                self.cleanup()
            raise


def main():
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    try:
        s = BrowserStack(workers=1, threads=4)
    except Exception as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}), flush=True)
        return 1
    rc = 0
    try:
        print(json.dumps({"port": s.port, "token": stack.TOKEN}), flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                         daemon=True).start()
        done.wait()
    finally:
        try:
            s.stop()
        except Exception as e:  # a memory checker report, a stuck process
            print("stack_server: %s" % e, file=sys.stderr)
            rc = 1
        s.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
