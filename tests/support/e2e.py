"""What the end-to-end runs share (tests/browser/run.py, tests/fleet/run.py):
free ports on loopback, building the axum demo (examples/axum.rs), and
running processes in their own process group with a log file."""

import base64
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = "127.0.0.1"


class Fatal(Exception):
    """The run cannot go on (setup failed); the message says why."""


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout, interval=0.05):
    """Polls predicate() until it returns a true value; Fatal after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Fatal("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(interval)


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def b64key():
    """A fresh 32-byte key in the keyring's base64url text form."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def build_demo(features, timeout=None):
    """Builds the axum example with `features` and returns its executable."""
    argv = ["cargo", "build", "--example", "axum", "--features", features,
            "--message-format=json-render-diagnostics"]
    print("e2e: %s" % " ".join(argv), file=sys.stderr, flush=True)
    try:
        done = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=sys.stderr, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Fatal("cargo build timed out after %ds" % timeout) from e
    if done.returncode != 0:
        raise Fatal("%s failed (exit %d)" % (" ".join(argv[:6]), done.returncode))
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        t = msg.get("target", {})
        if (msg.get("reason") == "compiler-artifact" and t.get("name") == "axum"
                and "example" in t.get("kind", []) and msg.get("executable")):
            return msg["executable"]
    raise Fatal("cargo built no executable for the axum example")


class Proc:
    """A child in its own process group, output to a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        try:
            self.popen = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            self.log.close()
            raise Fatal("cannot start %s (%s): %s" % (name, argv[0], e)) from e

    def alive(self):
        return self.popen.poll() is None

    def tail(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.popen.poll() is None:
            for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # The leader is gone; end anything it left in its group.
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()


class Demo:
    """One running demo instance on a free loopback port, ready once
    GET /api/session answers with a session id."""

    def __init__(self, argv, env, log_path, label="demo", timeout=60, port=None):
        self.argv = argv
        self.label = label
        self.port = port or free_port()  # a given port: a restart behind a proxy
        self.base = "http://%s:%d" % (HOST, self.port)
        full_env = dict(os.environ)
        full_env.update(env)
        full_env["PORT"] = str(self.port)
        self.proc = Proc("demo (%s)" % label, argv, log_path, env=full_env, cwd=ROOT)
        try:
            wait_until("the demo to answer GET %s/api/session" % self.base, self.answers,
                       timeout, interval=0.1)
        except Fatal as e:
            self.proc.stop()
            raise Fatal("%s\n--- demo log (%s) ---\n%s" % (e, log_path, self.proc.tail())) from e

    def answers(self):
        if not self.proc.alive():
            raise Fatal("the demo (%s) exited with code %s before answering"
                        % (shlex.join(self.argv), self.proc.popen.returncode))
        try:
            with urllib.request.urlopen(self.base + "/api/session", timeout=2) as r:
                body = json.loads(r.read())
        except (OSError, ValueError):
            return False
        if "session_id" not in body:
            raise Fatal("GET /api/session answered without session_id: %r" % body)
        return True

    def alive(self):
        return self.proc.alive()

    def tail(self, lines=40):
        return self.proc.tail(lines)

    def stop(self):
        self.proc.stop()
