#!/usr/bin/env python3
"""End-to-end test of sealed-session's cookies in headless Chromium and Firefox.

Builds and starts the axum demo (docs/DEMO.md) on 127.0.0.1 and runs one
scenario in each browser over each transport: http://127.0.0.1 (the demo
itself), and https://app.sealed.test behind an nginx of the run's own that
terminates TLS with a self-signed certificate; then a fleet of two demo
instances behind nginx through a staged key rotation.

Chromium is driven through chromedriver: its cookie store through the
DevTools protocol (goog/cdp/execute), what each request carried and each
response set from chromedriver's performance log. Firefox (firefox-esr) is
driven through geckodriver: its cookie store through classic WebDriver
cookies, the traffic from a recording reverse proxy in front of the demo
(tests/browser/proxies.py).

Every check prints `ok` or `FAIL`, its name and what the browser did; the run
ends with a line per browser and transport and `N passed, M failed`, and
exits non-zero on any failure.

    python3 tests/browser/run.py                         # the real demo
    python3 tests/browser/run.py --browsers firefox --transports https --no-fleet
    python3 tests/browser/run.py --demo-cmd 'python3 stub.py'

Standard library only. See tests/browser/README.md.
"""

import argparse
import base64
import http.server
import threading
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from e2e import (  # noqa: E402
    HOST, ROOT, Demo, Fatal, Proc, b64key, build_demo, free_port, wait_until)
from proxies import RAISED, Nginx, Recorder, make_certificate  # noqa: E402
COOKIE = "__Host-session"
OURS = re.compile(re.escape(COOKIE) + r"(\.\d+)?\Z")
DAY = 86400
CAP = 400 * DAY  # RFC 6265bis §5.6 steps 3 and 4: Max-Age/Expires capped at 400 days
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",  # the machine's network is closed:
    "--disable-component-update",  # without these Chromium keeps dialling out
    "--disable-sync",
    "--disable-quic",
]
APT_PACKAGES = ["chromium", "chromium-driver"]
TLS_NAME = "app.sealed.test"  # the HTTPS transport's host: not localhost, no /etc/hosts entry
FIREFOX_PREFS = {
    "network.dns.localDomains": TLS_NAME,  # resolves to loopback inside this Firefox only
    "network.proxy.type": 0,  # direct connections, whatever the environment says
    "network.captive-portal-service.enabled": False,  # no calls out of a closed network
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "app.update.auto": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
}


# --------------------------------------------------------------------------
# Reporting


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.groups = []  # [name, passed, failed, seconds]: one per browser and transport
        self.started = None

    def group(self, name):
        """Counts the checks from here on under name (a browser and transport)."""
        self.end_group()
        self.groups.append([name, 0, 0, 0.0])
        self.started = time.monotonic()
        print("\n== %s" % name, flush=True)

    def end_group(self):
        if self.groups and self.started is not None:
            self.groups[-1][3] = time.monotonic() - self.started
        self.started = None

    def check(self, name, ok, observed, expected=None):
        if self.groups and self.started is not None:
            self.groups[-1][1 if ok else 2] += 1
        if ok:
            self.passed += 1
            print("ok   %s: %s" % (name, observed), flush=True)
        else:
            self.failed += 1
            extra = "" if expected is None else " (expected %s)" % expected
            print("FAIL %s: %s%s" % (name, observed, extra), flush=True)
        return ok

    def note(self, text):
        print("     %s" % text, flush=True)

    def section(self, title):
        print("\n-- %s" % title, flush=True)


def log(text):
    print("browser-test: %s" % text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes


def kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_processes_using(marker):
    """SIGKILLs processes whose command line contains marker (our unique
    --user-data-dir), so no Chromium of this run outlives it."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if marker.encode() in cmdline:
            kill_pid(int(entry))


def run_quiet(argv, timeout):
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return out.returncode, (out.stdout + out.stderr).strip()


# --------------------------------------------------------------------------
# Chromium and chromedriver


def ensure_browser(chromium, chromedriver):
    missing = [p for p in (chromium, chromedriver) if not os.access(p, os.X_OK)]
    if missing:
        log("missing %s; installing Debian's %s" % (", ".join(missing), " ".join(APT_PACKAGES)))
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise Fatal("%s missing and cannot install (need root and apt-get): "
                        "apt-get install chromium chromium-driver" % ", ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for argv, limit in ((["apt-get", "update", "-q"], 600),
                            (["apt-get", "install", "-y", "-q"] + APT_PACKAGES, 1200)):
            try:
                done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                                      stdout=sys.stderr, stderr=sys.stderr, timeout=limit)
            except subprocess.TimeoutExpired as e:
                raise Fatal("%s timed out after %ds" % (" ".join(argv), limit)) from e
            if done.returncode != 0:
                raise Fatal("%s failed with exit code %d" % (" ".join(argv), done.returncode))
        still = [p for p in (chromium, chromedriver) if not os.access(p, os.X_OK)]
        if still:
            raise Fatal("still missing after apt-get install: %s" % ", ".join(still))
    versions = []
    for p in (chromium, chromedriver):
        rc, out = run_quiet([p, "--version"], 60)
        if rc != 0:
            raise Fatal("%s --version failed: %s" % (p, out))
        # Debian's launcher script may print a shell warning besides the version.
        versions.append(next((x for x in out.splitlines()
                              if x.startswith(("Chromium", "ChromeDriver"))), out))
    return versions


def run_install(argv, limit):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                              stdout=sys.stderr, stderr=sys.stderr, timeout=limit)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Fatal("%s: %s" % (" ".join(argv), e)) from e
    if done.returncode != 0:
        raise Fatal("%s failed with exit code %d" % (" ".join(argv), done.returncode))


def apt_install(packages, why):
    log("%s; installing Debian's %s" % (why, " ".join(packages)))
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Fatal("%s and cannot install (need root and apt-get): apt-get install %s"
                    % (why, " ".join(packages)))
    run_install(["apt-get", "update", "-q"], 600)
    run_install(["apt-get", "install", "-y", "-q"] + packages, 1200)


def find_geckodriver(given):
    if given:
        return given
    for p in (shutil.which("geckodriver"), os.path.expanduser("~/.cargo/bin/geckodriver")):
        if p and os.access(p, os.X_OK):
            return p
    return os.path.expanduser("~/.cargo/bin/geckodriver")


def ensure_firefox(firefox, geckodriver):
    """Installs Debian's firefox-esr and `cargo install geckodriver --locked`
    when missing (never skips); returns the two version lines."""
    if not os.access(firefox, os.X_OK):
        apt_install(["firefox-esr"], "missing %s" % firefox)
        if not os.access(firefox, os.X_OK):
            raise Fatal("still missing after apt-get install firefox-esr: %s" % firefox)
    if not os.access(geckodriver, os.X_OK):
        log("missing %s; running cargo install geckodriver --locked (a few minutes)" % geckodriver)
        if not shutil.which("cargo"):
            raise Fatal("missing %s and no cargo to install it with" % geckodriver)
        run_install(["cargo", "install", "geckodriver", "--locked"], 2400)
        if not os.access(geckodriver, os.X_OK):
            raise Fatal("still missing after cargo install geckodriver: %s" % geckodriver)
    versions = []
    for p in (firefox, geckodriver):
        rc, out = run_quiet([p, "--version"], 60)
        if rc != 0:
            raise Fatal("%s --version failed: %s" % (p, out))
        versions.append(next((x for x in out.splitlines()
                              if x.startswith(("Mozilla Firefox", "geckodriver"))), out))
    return versions


def ensure_nginx(nginx):
    if not os.access(nginx, os.X_OK):
        # Debian's package starts the system service; the run uses its own
        # instance on a free port and leaves that one alone.
        apt_install(["nginx"], "missing %s" % nginx)
        if not os.access(nginx, os.X_OK):
            raise Fatal("still missing after apt-get install nginx: %s" % nginx)
    rc, out = run_quiet([nginx, "-v"], 30)
    if rc != 0:
        raise Fatal("%s -v failed: %s" % (nginx, out))
    if not shutil.which("openssl"):
        apt_install(["openssl"], "missing openssl")
    return out.strip()


class WebDriverError(Fatal):
    pass


class WebDriver:
    """A minimal W3C WebDriver client for chromedriver."""

    def __init__(self, url):
        self.url = url
        self.session = None

    def request(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                value = json.loads(payload)["value"]
                detail = "%s: %s" % (value.get("error"), value.get("message", "").splitlines()[0])
            except (ValueError, KeyError, AttributeError, IndexError):
                detail = payload[:300].decode("utf-8", "replace")
            raise WebDriverError("webdriver %s %s: HTTP %d %s" % (method, path, e.code, detail)) from e
        except (urllib.error.URLError, OSError) as e:
            raise WebDriverError("webdriver %s %s: %s" % (method, path, e)) from e
        return json.loads(payload)["value"]

    def status_ready(self):
        try:
            return self.request("GET", "/status", timeout=2).get("ready")
        except Fatal:
            return False

    def start(self, capabilities):
        value = self.request("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}},
                             timeout=120)
        self.session = value["sessionId"]
        return value["capabilities"]

    def s(self, method, path, body=None, timeout=60):
        return self.request(method, "/session/%s%s" % (self.session, path), body, timeout)

    def quit(self):
        if self.session:
            try:
                self.request("DELETE", "/session/" + self.session, timeout=30)
            finally:
                self.session = None

    def cdp(self, cmd, params=None):
        return self.s("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params or {}})

    def navigate(self, url):
        self.s("POST", "/url", {"url": url}, timeout=60)

    def refresh(self):
        self.s("POST", "/refresh", {}, timeout=60)

    def execute(self, script, *args):
        """Runs script in the page; a returned promise is awaited."""
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def performance_log(self):
        return self.s("POST", "/se/log", {"type": "performance"})


# --------------------------------------------------------------------------
# Cookies and network traffic as the browser saw them


def parse_set_cookie(line):
    """(name, value, {attribute-lowercase: value}) of one Set-Cookie line."""
    parts = line.split(";")
    name, _, value = parts[0].strip().partition("=")
    attrs = {}
    for part in parts[1:]:
        k, _, v = part.strip().partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name.strip(), value.strip(), attrs


def is_removal(attrs, now):
    if "max-age" in attrs:
        try:
            return int(attrs["max-age"]) <= 0
        except ValueError:
            return False
    if "expires" in attrs:
        try:
            return parsedate_to_datetime(attrs["expires"]).timestamp() <= now
        except (TypeError, ValueError):
            return False
    return False


def header_values(headers, name):
    """All values of a header in a DevTools headers object (case-insensitive;
    repeated headers are joined with newlines)."""
    out = []
    for k, v in (headers or {}).items():
        if k.lower() == name:
            out.extend(x for x in v.split("\n") if x)
    return out


def parse_cookie_header(values):
    jar = {}
    for value in values:
        for part in value.split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                jar[k] = v
    return jar


class Exchange:
    """One request and its response, from the DevTools Network events."""

    def __init__(self, url, method, sent_headers, response):
        self.url = url
        self.method = method
        self.sent_headers = sent_headers  # the headers really sent
        self.status = response.get("statusCode")
        self.response_headers = response.get("headers", {})
        self.blocked = response.get("blockedCookies", [])  # refused Set-Cookie, with reasons

    @property
    def path(self):
        return urllib.parse.urlsplit(self.url or "").path

    @property
    def sent_cookies(self):
        return parse_cookie_header(header_values(self.sent_headers, "cookie"))

    @property
    def set_cookies(self):
        return [parse_set_cookie(x) for x in header_values(self.response_headers, "set-cookie")]

    def describe(self):
        return "%s %s -> %s" % (self.method, self.path, self.status)


class Network:
    """Network events from chromedriver's performance log.

    One requestId covers a request and its redirects: requestWillBeSent comes
    once per hop (url, method), and the ExtraInfo events (the headers really
    sent and received, which may come before or after it) once per hop that
    reached the network, in the same order."""

    def __init__(self, wd, report):
        self.wd = wd
        self.report = report
        self.requests = {}
        self.order = []
        self.blocked_ours = []

    def drain(self):
        """Forgets all traffic so far."""
        self.pull()
        self.requests = {}
        self.order = []

    def pull(self):
        for entry in self.wd.performance_log():
            try:
                msg = json.loads(entry["message"])["message"]
            except (ValueError, KeyError, TypeError):
                continue
            method = msg.get("method", "")
            p = msg.get("params", {})
            rid = p.get("requestId")
            if not method.startswith("Network.") or rid is None:
                continue
            rec = self.requests.get(rid)
            if rec is None:
                rec = self.requests[rid] = {"hops": [], "sent": [], "received": []}
                self.order.append(rid)
            if method == "Network.requestWillBeSent":
                rec["hops"].append((p["request"]["url"], p["request"]["method"]))
            elif method == "Network.requestWillBeSentExtraInfo":
                rec["sent"].append(p.get("headers", {}))
            elif method == "Network.responseReceivedExtraInfo":
                rec["received"].append(p)
                for b in p.get("blockedCookies", []):
                    line = b.get("cookieLine", "")
                    if OURS.match(parse_set_cookie(line)[0]):
                        self.blocked_ours.append((line[:60] + "...", b.get("blockedReasons")))
                        if len(self.blocked_ours) <= 5:
                            self.report.note("browser BLOCKED Set-Cookie %s...: %s"
                                             % (line[:60], b.get("blockedReasons")))

    def find(self, method, path):
        for rid in reversed(self.order):
            rec = self.requests[rid]
            for i in reversed(range(len(rec["hops"]))):
                url, m = rec["hops"][i]
                if (m == method and urllib.parse.urlsplit(url).path == path
                        and i < len(rec["sent"]) and i < len(rec["received"])):
                    return Exchange(url, m, rec["sent"][i], rec["received"][i])
        return None

    def wait(self, method, path, timeout=15):
        """The latest exchange for method+path whose request and response
        headers have both been seen."""
        def find():
            self.pull()
            return self.find(method, path)
        return wait_until("the browser's record of %s %s" % (method, path), find, timeout)


class RecorderNetwork:
    """The Network interface over a Recorder (tests/browser/proxies.py), for
    Firefox: what the proxy in front of the demo passed on. Between the
    browser and the demo (http transport) that is what the browser sent and
    received; behind nginx (https) it is what nginx forwarded, and what nginx
    answered itself (a 400 or 502) comes from the page (Browser.post)."""

    def __init__(self, recorders):
        self.recorders = recorders  # one per demo instance behind the front
        self.blocked_ours = []  # Firefox tells no reasons; the store is compared instead

    def drain(self):
        for rec in self.recorders:
            rec.clear()

    def pull(self):
        pass

    def find(self, method, path):
        found = [x for x in (rec.find(method, path) for rec in self.recorders) if x is not None]
        if not found:
            return None
        rec = max(found, key=lambda x: x.seq)
        return Exchange(rec.target, rec.method, rec.sent,
                        {"statusCode": rec.status, "headers": rec.received})

    def wait(self, method, path, timeout=15):
        return wait_until("the recorder's record of %s %s" % (method, path),
                          lambda: self.find(method, path), timeout)


def store(wd, host=HOST):
    """Our cookies in the browser's store for host, by name (all of them,
    whatever their path, so a wrong Path is still seen)."""
    cookies = wd.cdp("Network.getAllCookies")["cookies"]
    return {c["name"]: c for c in cookies if OURS.match(c["name"])
            and c["domain"].lstrip(".") == host}


class ChromiumStore:
    """Chromium's cookie store through DevTools (Network.*)."""
    name = "chromium"

    def __init__(self, wd):
        self.wd = wd

    def clear(self, b):
        self.wd.navigate("about:blank")
        self.wd.cdp("Network.clearBrowserCookies")

    def store(self, b):
        return store(self.wd, b.host)

    def set_cookie(self, b, name, value):
        return self.wd.cdp("Network.setCookie", {
            "name": name, "value": value, "url": b.base + "/", "path": "/",
            "secure": True, "httpOnly": True, "sameSite": "Lax"}).get("success", True)

    def cookies_at(self, url):
        """(name, domain, secure) of every cookie the store holds for url."""
        return [(c["name"], c["domain"], c["secure"])
                for c in self.wd.cdp("Network.getCookies", {"urls": [url]})["cookies"]]


def webdriver_cookie(c):
    """A classic WebDriver cookie in the shape of a DevTools one."""
    return {"name": c["name"], "value": c["value"], "domain": c["domain"], "path": c["path"],
            "secure": c["secure"], "httpOnly": c["httpOnly"], "sameSite": c.get("sameSite"),
            "session": "expiry" not in c, "expires": c.get("expiry", -1)}


class FirefoxStore:
    """Firefox's cookie store through classic WebDriver: Get All Cookies
    (HttpOnly ones included, with their flags and expiry) of the current
    page's host, Delete All Cookies and Add Cookie."""
    name = "firefox"
    CLEAR_PATH = "/__no-such-page"  # a 404 of the demo: it writes no cookie

    def __init__(self, wd):
        self.wd = wd

    def clear(self, b):
        self.wd.navigate(b.base + self.CLEAR_PATH)
        self.wd.s("DELETE", "/cookie")

    def store(self, b):
        return {c["name"]: webdriver_cookie(c) for c in self.wd.s("GET", "/cookie")
                if OURS.match(c["name"]) and c["domain"].lstrip(".") == b.host}

    def set_cookie(self, b, name, value):
        self.wd.s("POST", "/cookie", {"cookie": {
            "name": name, "value": value, "path": "/", "secure": True, "httpOnly": True,
            "sameSite": "Lax"}})
        return True

    def cookies_at(self, url):
        """Those of the page the browser is on, which must be url."""
        return [(c["name"], c["domain"], c["secure"]) for c in self.wd.s("GET", "/cookie")]


def names(jar):
    def key(n):
        m = re.search(r"\.(\d+)\Z", n)
        return (1, int(m.group(1))) if m else (0, 0)
    return sorted(jar, key=key)


def short(value, n=12):
    return value if len(value) <= 2 * n else "%s...%s" % (value[:n], value[-n:])


# --------------------------------------------------------------------------
# The scenarios


# The demo's defaults fit a default nginx, so a session is one cookie; the
# chunk phases need both budgets raised, as README's "Behind a reverse
# proxy" does for nginx with proxy_buffer_size 16k and
# large_client_header_buffers 4 32k.
RAISED_BUDGETS = {"SESSION_COOKIE_BUDGET": "16384", "SESSION_SET_COOKIE_BUDGET": "15360"}


def start_demo(ctx, label, env, keys=None, port=None):
    """One running demo instance (SESSION_KEYS: keys, else the run's)."""
    full_env = dict(env, SESSION_KEYS=keys or ctx.keys)
    shown = " ".join("%s=%s" % kv for kv in sorted(env.items()))
    ctx.demo_count += 1
    demo = Demo(ctx.demo_argv, full_env,
                os.path.join(ctx.tmp, "demo-%02d-%s.log" % (ctx.demo_count, label)),
                label=label, timeout=ctx.args.startup_timeout, port=port)
    ctx.procs.append(demo.proc)
    log("started demo %s on %s %s" % (label, demo.base, shown))
    return demo


class Front:
    """Where the browser reaches one or more demo instances.

    transport "http": http://127.0.0.1:PORT, the demo itself (Chromium) or
    the Recorder in front of it (Firefox). transport "https": nginx
    terminating TLS for app.sealed.test, in front of the demos (Chromium) or
    of a Recorder per demo (Firefox); raised: nginx with the RAISED lines,
    else nginx's defaults."""

    def __init__(self, ctx, label, demos, transport, raised=False):
        self.label = label
        self.transport = transport
        self.recorders = []
        self.nginx = None
        self.stopped = False
        ctx.fronts.append(self)
        ports = [d.port for d in demos]
        if ctx.kind == "firefox":
            self.recorders = [Recorder(p) for p in ports]
            ports = [r.port for r in self.recorders]
        self.upstream_ports = ports  # what nginx's X-Upstream names, in the order of demos
        try:
            if transport == "https":
                self.nginx = Nginx(ctx.args.nginx, ctx.tmp, "%s-%s-%d" % (ctx.kind, label, free_port()),
                                   TLS_NAME, ctx.tls[0], ctx.tls[1], ports,
                                   RAISED if raised else ())
                self.base, self.host, self.port = self.nginx.base, TLS_NAME, self.nginx.port
            else:
                self.port = ports[0]
                self.base, self.host = "http://%s:%d" % (HOST, self.port), HOST
        except BaseException:
            self.stop()
            raise
        log("front %s: %s -> %s" % (label, self.base, " ".join(
            "recorder:%d->demo:%d" % (r.port, r.upstream_port) for r in self.recorders)
            or " ".join("demo:%d" % d.port for d in demos)))

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        if self.nginx:
            self.nginx.stop()
        for r in self.recorders:
            r.stop()


class Ctx:
    def __init__(self, args, report, tmp):
        self.args = args
        self.report = report
        self.tmp = tmp
        self.procs = []
        self.keys = "2:%s,1:%s" % (b64key(), b64key())
        self.demo_argv = None
        self.wd = None
        self.net = None
        self.profile = None
        self.browser_pid = None
        self.driver = None
        self.fronts = []
        self.demo_base = None
        self.demo_count = 0
        self.kind = None  # "chromium" or "firefox"
        self.cookies = None  # ChromiumStore or FirefoxStore
        self.tls = None  # (cert, key, spki_sha256_b64) for TLS_NAME


class Browser:
    """Page-level helpers bound to one demo instance."""

    def __init__(self, ctx, front):
        self.ctx = ctx
        self.wd = ctx.wd
        self.cookies = ctx.cookies
        self.front = front
        self.net = RecorderNetwork(front.recorders) if front.recorders else ctx.net
        self.base = front.base
        self.host = front.host
        self.port = front.port

    def fresh(self):
        """Empties the browser's cookie store (cookies ignore ports, so each
        instance must start from nothing) and loads the home page."""
        self.clear()
        self.net.drain()
        self.load()

    def clear(self):
        self.cookies.clear(self)

    def load(self):
        """A top-level GET / (as typing the address); returns its exchange."""
        self.net.drain()
        self.wd.navigate(self.base + "/")
        return self.net.wait("GET", "/")

    def reload(self):
        """The browser's reload of the current page; returns its exchange."""
        self.net.drain()
        self.wd.refresh()
        return self.net.wait("GET", "/")

    def api(self):
        """GET /api/session from the page (cookies as the browser sends them)."""
        r = self.wd.execute(
            "return fetch('/api/session', {cache: 'no-store', credentials: 'same-origin'})"
            ".then(async r => ({status: r.status, text: await r.text()}));")
        if r["status"] != 200:
            raise Fatal("GET /api/session answered %s: %s" % (r["status"], r["text"][:200]))
        try:
            return json.loads(r["text"])
        except ValueError as e:
            raise Fatal("GET /api/session is not JSON: %r" % r["text"][:200]) from e

    def post(self, path, fields):
        """POSTs a form from the page with fetch, not following the redirect,
        so the browser's cookie store shows this response alone. Returns the
        exchange (status and Set-Cookie as the browser received them)."""
        self.net.drain()
        page = self.wd.execute(
            "return fetch(arguments[0], {method: 'POST', body: new URLSearchParams(arguments[1]),"
            " redirect: 'manual', credentials: 'same-origin', cache: 'no-store'})"
            ".then(r => r.type + ' ' + r.status);", path, fields)
        if not isinstance(self.net, RecorderNetwork):
            return self.net.wait("POST", path)
        # The recorder keeps a record before it answers, so it has one now
        # if the request got that far. A redirect is "opaqueredirect 0" to
        # the page; any other status the page sees is the browser's.
        kind, _, code = page.partition(" ")
        ex = self.net.find("POST", path)
        if ex is not None and (ex.status == int(code) or (
                kind == "opaqueredirect" and 300 <= (ex.status or 0) < 400)):
            return ex
        # Answered by nginx, not the demo (a 400 or 502): no headers to show.
        return Exchange(self.base + path, "POST", ex.sent_headers if ex else {},
                        {"statusCode": int(code) if code.isdigit() and kind != "opaqueredirect"
                         else None, "headers": {}})

    def action(self, path, **fields):
        token = self.api()["csrf"]
        return self.post(path, dict(fields, csrf=token))

    def store(self):
        return self.cookies.store(self)


def expect_303(report, what, ex):
    return report.check("%s answers 303" % what, ex.status == 303, ex.describe(), "303 See Other")


def phase_sign_in(ctx, b):
    r = ctx.report
    r.section("sign in, reload (%s)" % b.base)
    b.fresh()
    jar0 = b.store()
    r.check("first visit stores %s" % COOKIE, COOKIE in jar0, "store has %s" % names(jar0))
    before = b.api()
    r.check("first visit is an anonymous session", before["signed_in"] is False
            and before["user"] is None, "signed_in=%s user=%s" % (before["signed_in"], before["user"]))
    token = b.api()["csrf"]
    old_value = b.store().get(COOKIE, {}).get("value", "")
    ex = b.post("/login", {"user": "ada", "csrf": token})
    expect_303(r, "POST /login", ex)
    jar = b.store()
    value = jar.get(COOKIE, {}).get("value")
    set_value = next((v for n, v, _ in ex.set_cookies if n == COOKIE), None)
    r.check("signing in sets the cookie",
            set_value is not None and value == set_value and value != old_value,
            "response %s %s; store has %s, value %s" % (
                "set" if set_value else "did not set", COOKIE, names(jar),
                "absent" if value is None else "unchanged" if value == old_value
                else "the one set" if value == set_value else "another one"))
    ex = b.reload()
    sent = ex.sent_cookies.get(COOKIE)
    r.check("reload sends the stored cookie", sent is not None and sent == value,
            "Cookie header carried %s=%s" % (COOKIE, short(sent) if sent else "(nothing)"),
            "the stored value %s" % short(value or ""))
    s1 = b.api()
    r.check("sign-in regenerates the session id", s1["session_id"] != before["session_id"],
            "%s -> %s" % (before["session_id"], s1["session_id"]))
    r.check("reload keeps the session", s1["signed_in"] is True and s1["user"] == "ada",
            "signed_in=%s user=%s id=%s visits=%s" % (s1["signed_in"], s1["user"],
                                                      s1["session_id"], s1["visits"]))
    b.reload()
    b.reload()
    s2 = b.api()
    r.check("two more reloads keep the same session",
            s2["session_id"] == s1["session_id"] and s2["user"] == "ada" and s2["visits"] > s1["visits"],
            "id=%s user=%s visits %s -> %s" % (s2["session_id"], s2["user"], s1["visits"], s2["visits"]))


def attacker_site(ctx):
    """A page on another site (http://localhost is a different site from
    http://127.0.0.1) that auto-submits a form to the demo: GET
    /?action=PATH&field=value... answers the attacking page."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            action = q.pop("action", ["/login"])[0]
            inputs = "".join('<input name="%s" value="%s">' % (k, v[0]) for k, v in q.items())
            body = ('<!doctype html><title>win a prize</title>'
                    '<form id="f" method="POST" action="%s%s">%s</form>'
                    '<script>document.getElementById("f").submit()</script>'
                    % (ctx.demo_base, action, inputs)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((HOST, 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def phase_cross_site(ctx, b):
    """Login CSRF and cross-site form posts: a page on another site makes
    the browser post to sign-in, sign-out and a state change. Each is
    refused with 403 and the visitor's session is left as it was: signed in
    as ada, or without a session."""
    r = ctx.report
    r.section("cross-site forms from http://localhost (%s)" % b.base)
    ctx.demo_base = b.base
    server = attacker_site(ctx)
    attacker = "http://localhost:%d/" % server.server_address[1]
    try:
        for signed_in in (True, False):
            b.fresh()
            if signed_in:
                expect_303(r, "POST /login", b.action("/login", user="ada"))
            else:
                b.clear()
            before_jar = b.store()
            who = "signed in" if signed_in else "no session"
            for action, fields in (("/login", {"user": "mallory"}), ("/logout", {}),
                                   ("/grow", {"bytes": "64"})):
                b.net.drain()
                query = urllib.parse.urlencode(dict(fields, action=action))
                b.wd.navigate(attacker + "?" + query)
                ex = b.net.wait("POST", action)
                site = {k.lower(): v for k, v in ex.sent_headers.items()}.get("sec-fetch-site")
                r.check("%s, cross-site POST %s is refused" % (who, action),
                        ex.status == 403 and site == "cross-site",
                        "%s; Sec-Fetch-Site: %s" % (ex.describe(), site), "403, cross-site")
                r.check("%s, cross-site POST %s sets no cookie" % (who, action),
                        not ex.set_cookies and b.store() == before_jar,
                        "Set-Cookie %s; store %s" % ([n for n, _, _ in ex.set_cookies],
                                                      names(b.store())))
            b.load()
            after = b.api()
            if signed_in:
                r.check("the victim is still ada with nothing grown",
                        after["user"] == "ada" and after["filler_bytes"] == 0,
                        "user=%s filler=%s" % (after["user"], after["filler_bytes"]))
            else:
                r.check("the visitor is not signed in as the attacker",
                        after["signed_in"] is False and after["user"] is None,
                        "signed_in=%s user=%s" % (after["signed_in"], after["user"]))
    finally:
        server.shutdown()


def phase_attributes(ctx, b):
    r = ctx.report
    r.section("cookie attributes in the store")
    ex = b.reload()
    jar = b.store()
    c = jar.get(COOKIE)
    if not r.check("the session is one cookie named %s" % COOKIE, c is not None and len(jar) == 1,
                   "store has %s" % names(jar)):
        return
    r.check("name has the __Host- prefix", c["name"].startswith("__Host-"), c["name"])
    r.check("Secure", c["secure"] is True, "secure=%s" % c["secure"])
    r.check("HttpOnly", c["httpOnly"] is True, "httpOnly=%s" % c["httpOnly"])
    r.check("SameSite=Lax", c.get("sameSite") == "Lax", "sameSite=%s" % c.get("sameSite"))
    r.check("Path=/", c["path"] == "/", "path=%s" % c["path"])
    r.check("no Domain (host-only cookie for %s)" % b.host, c["domain"] == b.host,
            "domain=%s (a leading dot would mean a Domain attribute)" % c["domain"])
    lines = [(n, a) for n, _, a in ex.set_cookies if n == COOKIE]
    r.check("Set-Cookie carries no Domain attribute", bool(lines) and all("domain" not in a for _, a in lines),
            "%d Set-Cookie for %s on reload; attributes %s" % (
                len(lines), COOKIE, sorted({k for _, a in lines for k in a})))
    r.check("browser-session cookie (SESSION_PERSISTENT=0)", c["session"] is True,
            "session=%s expires=%s" % (c["session"], c["expires"]))
    if "sourceScheme" in c:  # DevTools only
        r.note("stored: size=%s sourceScheme=%s sourcePort=%s priority=%s" % (
            c.get("size"), c.get("sourceScheme"), c.get("sourcePort"), c.get("priority")))


def phase_document_cookie(ctx, b):
    r = ctx.report
    r.section("document.cookie")
    seen = b.wd.execute(
        "document.cookie = 'js_probe=1; path=/; SameSite=Lax';"
        "const seen = document.cookie;"
        "document.cookie = 'js_probe=; path=/; max-age=0';"
        "return seen;")
    r.check("document.cookie hides the session", "js_probe=1" in seen and COOKIE not in seen,
            "document.cookie=%r" % seen, "js_probe=1 only (the probe proves scripts see cookies)")
    jar = b.store()
    r.check("the session cookie is still stored", COOKIE in jar, "store has %s" % names(jar))


def phase_tamper(ctx, b):
    r = ctx.report
    r.section("altered cookie")
    before = b.api()
    c = b.store().get(COOKIE)
    if c is None:
        raise Fatal("no %s in the store to alter" % COOKIE)
    original = c["value"]
    i = len(original) // 2
    altered = original[:i] + ("B" if original[i] == "A" else "A") + original[i + 1:]
    ok = b.cookies.set_cookie(b, COOKIE, altered)
    stored = b.store().get(COOKIE, {}).get("value")
    if not r.check("altered value is in the store (setup)", ok and stored == altered,
                   "setCookie success=%s; stored value %s" % (ok, "altered" if stored == altered else short(stored or "(none)"))):
        return
    ex = b.reload()
    r.check("the browser sends the altered cookie", ex.sent_cookies.get(COOKIE) == altered,
            "Cookie header %s=%s" % (COOKIE, short(ex.sent_cookies.get(COOKIE, "(nothing)"))))
    after = b.api()
    r.check("an altered cookie gives a fresh session",
            after["session_id"] != before["session_id"] and after["signed_in"] is False
            and after["user"] is None,
            "id %s -> %s signed_in=%s user=%s" % (before["session_id"], after["session_id"],
                                                  after["signed_in"], after["user"]))
    now = b.store().get(COOKIE, {}).get("value")
    r.check("the altered cookie is replaced", now is not None and now not in (altered, original),
            "store value %s" % ("absent" if now is None else "still the altered one" if now == altered
                                else "back to the original" if now == original else "new (%s)" % short(now)))
    b.reload()
    again = b.api()
    r.check("the replacement cookie keeps the fresh session", again["session_id"] == after["session_id"],
            "id %s -> %s" % (after["session_id"], again["session_id"]))


def phase_sign_out(ctx, b):
    r = ctx.report
    r.section("sign out")
    b.fresh()
    b.action("/login", user="ada")
    b.reload()
    signed = b.api()
    jar = b.store()
    if not r.check("signed in before signing out (setup)", signed["signed_in"] and COOKIE in jar,
                   "signed_in=%s store has %s" % (signed["signed_in"], names(jar))):
        return
    ex = b.post("/logout", {"csrf": signed["csrf"]})
    expect_303(r, "POST /logout", ex)
    jar = b.store()
    removals = [n for n, _, a in ex.set_cookies if OURS.match(n) and is_removal(a, time.time())]
    r.check("signing out removes the cookie from the store", not jar,
            "store has %s; response removed %s" % (names(jar), removals))
    b.reload()
    after = b.api()
    r.check("after signing out a reload is a new anonymous session",
            after["signed_in"] is False and after["session_id"] != signed["session_id"],
            "signed_in=%s id %s -> %s" % (after["signed_in"], signed["session_id"], after["session_id"]))


def check_chunks(r, what, jar, host):
    bad = []
    for n, c in jar.items():
        wrong = [k for k, ok in (("Secure", c["secure"]), ("HttpOnly", c["httpOnly"]),
                                 ("SameSite=Lax", c.get("sameSite") == "Lax"), ("Path=/", c["path"] == "/"),
                                 ("host-only", c["domain"] == host)) if not ok]
        if wrong:
            bad.append("%s lacks %s" % (n, "/".join(wrong)))
    sizes = ["%s:%d" % (n, len(n) + len(jar[n]["value"])) for n in names(jar)]
    r.check("%s: every chunk has the session's attributes, within 4096 bytes" % what,
            not bad and all(len(n) + len(c["value"]) <= 4096 for n, c in jar.items()),
            "; ".join(bad) or "name+value sizes %s" % sizes)


def grow(ctx, b, nbytes, label):
    """POST /grow and the checks every grow shares. Returns the store and
    the names of the cookies the response set."""
    r = ctx.report
    ex = b.action("/grow", bytes=str(nbytes))
    expect_303(r, "POST /grow bytes=%d" % nbytes, ex)
    jar = b.store()
    now = time.time()
    set_names = {n for n, _, a in ex.set_cookies if OURS.match(n) and not is_removal(a, now)}
    removed = {n for n, _, a in ex.set_cookies if OURS.match(n) and is_removal(a, now)}
    r.check("%s: the store holds exactly the cookies the response set" % label,
            set(jar) == set_names,
            "store %s; response set %s, removed %s" % (names(jar), names(set_names), names(removed)))
    return jar, set_names


def session_survives(ctx, b, label, sid, nbytes, jar):
    r = ctx.report
    for n in (1, 2):
        ex = b.reload()
        sent = ex.sent_cookies
        missing = [k for k in jar if sent.get(k) != jar[k]["value"]]
        extra = [k for k in sent if OURS.match(k) and k not in jar]
        r.check("%s: reload %d sends every stored chunk back" % (label, n), not missing and not extra,
                "Cookie header carried %s%s%s" % (
                    names([k for k in sent if OURS.match(k)]),
                    "; missing or different: %s" % missing if missing else "",
                    "; not in store: %s" % extra if extra else ""))
        s = b.api()
        r.check("%s: reload %d keeps the session" % (label, n),
                s["session_id"] == sid and s["filler_bytes"] == nbytes and s["signed_in"] is True,
                "id=%s filler_bytes=%s signed_in=%s" % (s["session_id"], s["filler_bytes"], s["signed_in"]),
                "id=%s filler_bytes=%d" % (sid, nbytes))
        jar = b.store()
    return jar


def phase_chunks(ctx, b):
    r = ctx.report
    big, mid = ctx.args.grow_big, ctx.args.grow_mid
    r.section("a chunked session (grow %d, shrink to %d, then 0)" % (big, mid))
    b.fresh()
    b.action("/login", user="ada")
    b.reload()
    s = b.api()
    sid = s["session_id"]
    small = b.store()
    r.check("small session: one cookie", list(small) == [COOKIE], "store has %s" % names(small))

    jar, _ = grow(ctx, b, big, "grow %d" % big)
    r.check("grow %d: the session is split over several cookies" % big, len(jar) >= 2,
            "store has %d: %s" % (len(jar), names(jar)))
    check_chunks(r, "grow %d" % big, jar, b.host)
    big_jar = session_survives(ctx, b, "grow %d" % big, sid, big, jar)

    jar, set_names = grow(ctx, b, mid, "shrink to %d" % mid)
    stale = names(set(jar) - set_names)
    r.check("shrink to %d: fewer cookies, no stale chunk left" % mid,
            len(jar) < len(big_jar) and not stale,
            "%d -> %d cookies; gone from store: %s; stale still stored: %s" % (
                len(big_jar), len(jar), names(set(big_jar) - set(jar)), stale))
    check_chunks(r, "shrink to %d" % mid, jar, b.host)
    session_survives(ctx, b, "shrink to %d" % mid, sid, mid, jar)

    jar, _ = grow(ctx, b, 0, "shrink to 0")
    r.check("shrink to 0: back to the one cookie of a small session", set(jar) == set(small),
            "store has %s" % names(jar), names(small))
    session_survives(ctx, b, "shrink to 0", sid, 0, jar)

    jar, _ = grow(ctx, b, big, "grow %d again" % big)
    s = b.api()
    ex = b.post("/logout", {"csrf": s["csrf"]})
    expect_303(r, "POST /logout (chunked)", ex)
    after = b.store()
    r.check("signing out removes every chunk", not after,
            "%d chunks before; store has %s after" % (len(jar), names(after)))


def phase_localhost(ctx, b):
    r = ctx.report
    r.section("http://localhost")
    url = "http://localhost:%d/" % b.port
    b.clear()
    b.wd.navigate(url)
    cookies = b.cookies.cookies_at(url)
    r.check("a Secure cookie from http://localhost is stored",
            any(n == COOKIE and secure is True and domain == "localhost" for n, domain, secure in cookies),
            "cookies for %s: %s" % (url, [(n, domain, "Secure" if secure else "-")
                                         for n, domain, secure in cookies]))


def phase_plain_http_name(ctx, b):
    """The deployment mistake of issue 17: plain http:// on a real name.
    The browser must refuse the Secure __Host- cookie, so no session
    sticks (two reads are two different sessions)."""
    r = ctx.report
    url = "http://%s:%d/" % (TLS_NAME, b.port)
    r.section("plain %s (no TLS on a real name)" % url)
    b.clear()
    chromium = isinstance(b.net, Network)
    if chromium:
        b.net.pull()
        before = len(b.net.blocked_ours)
    b.wd.navigate(url)
    first = b.api()
    second = b.api()
    cookies = b.cookies.cookies_at(url)
    if chromium:
        # Refused on purpose here: kept out of the run's blocked-cookie check.
        b.net.pull()
        blocked = b.net.blocked_ours[before:]
        del b.net.blocked_ours[before:]
        r.check("Chromium reports the Set-Cookie refused",
                blocked and all(reasons for _, reasons in blocked),
                "%d refused, reasons %s" % (len(blocked), sorted({x for _, rs in blocked for x in rs})))
    r.check("the browser stores no cookie of ours from plain http on a real name",
            not [n for n, _, _ in cookies if OURS.match(n)],
            "cookies for %s: %s" % (url, [(n, d) for n, d, _ in cookies]))
    r.check("so no session sticks: two reads are two sessions",
            first["session_id"] != second["session_id"],
            "ids %s, %s" % (first["session_id"], second["session_id"]))


def phase_persistent(ctx, b, lifetime):
    r = ctx.report
    days = lifetime / DAY
    tag = "persistent %gd" % days
    r.section("persistent cookie, SESSION_ABSOLUTE_SECS=%d (%g days)" % (lifetime, days))
    b.fresh()
    t0 = time.time()
    s = b.api()
    t1 = time.time()
    ex = b.net.wait("GET", "/api/session")
    c = b.store().get(COOKIE)
    if not r.check(tag + ": %s is stored" % COOKIE, c is not None, "store has %s" % names(b.store())):
        return
    r.check(tag + ": not a browser-session cookie", c["session"] is False and s.get("persistent") is True,
            "session=%s; /api/session persistent=%s" % (c["session"], s.get("persistent")))
    expected = min(lifetime, CAP)
    lo = min(s["expires"], t0 + CAP) - 5
    hi = min(s["expires"] + 1, t1 + CAP) + 5
    got = c["expires"]
    r.check(tag + ": expiry in store is %s" % ("the configured lifetime" if lifetime <= CAP
                                                  else "capped at 400 days"),
            lo <= got <= hi,
            "expires = now + %.0fs (%.2f days); session deadline = now + %.0fs" % (
                got - t1, (got - t1) / DAY, s["expires"] - t1),
            "now + %ds (%g days) +-5s" % (expected, expected / DAY))
    lines = [a for n, _, a in ex.set_cookies if n == COOKIE]
    max_age = None
    if lines:
        try:
            max_age = int(lines[-1].get("max-age", ""))
        except ValueError:
            pass
    r.check(tag + ": Set-Cookie Max-Age %s" % ("is the remaining lifetime" if lifetime <= CAP
                                                  else "is capped at 400 days by the server"),
            max_age is not None and abs(max_age - min(s["expires"] - t1, CAP)) <= 5 and max_age <= CAP,
            "Max-Age=%s Expires=%s" % (max_age, lines[-1].get("expires") if lines else None),
            "%d" % expected)
    expires = None
    if lines:
        try:
            expires = parsedate_to_datetime(lines[-1].get("expires", "")).timestamp()
        except (TypeError, ValueError):
            pass
    r.check(tag + ": Set-Cookie Expires is the same moment as Max-Age, and as the store's expiry",
            expires is not None and max_age is not None and abs(expires - (t1 + max_age)) <= 5
            and abs(expires - got) <= 5,
            "Expires = now + %s; store expiry = now + %.0fs" % (
                "(none)" if expires is None else "%.0fs" % (expires - t1), got - t1),
            "now + Max-Age +-5s")
    big = ctx.args.grow_big
    b.action("/grow", bytes=str(big))
    jar = b.store()
    spread = [(n, "session" if c["session"] else "%+.0fs" % (c["expires"] - got)) for n, c in
              sorted(jar.items())]
    r.check(tag + ": every chunk of a %d-byte session has the same expiry" % big,
            len(jar) >= 2 and all(not c["session"] and abs(c["expires"] - got) <= 5
                                  for c in jar.values()),
            "expiry relative to the small session's cookie: %s" % spread)


# --------------------------------------------------------------------------
# Setup and the run


def demo_argv(args):
    if args.demo_cmd:
        return shlex.split(args.demo_cmd)
    if not os.path.exists(os.path.join(ROOT, "examples", "axum.rs")):
        raise Fatal("examples/axum.rs does not exist; pass --demo-cmd or set BROWSER_TEST_DEMO_CMD")
    return [build_demo("axum", timeout=args.build_timeout)]


def wait_driver(name, driver, wd):
    try:
        wait_until("%s to be ready" % name, lambda: driver.alive() is False or wd.status_ready(), 30)
    except Fatal as e:
        raise Fatal("%s\n--- %s log ---\n%s" % (e, name, driver.tail())) from e
    if not driver.alive():
        raise Fatal("%s exited\n%s" % (name, driver.tail()))


def start_chromium(ctx):
    args = ctx.args
    port = free_port()
    driver = Proc("chromedriver", [args.chromedriver, "--port=%d" % port],
                  os.path.join(ctx.tmp, "chromedriver.log"))
    ctx.driver = driver
    wd = WebDriver("http://%s:%d" % (HOST, port))
    wait_driver("chromedriver", driver, wd)
    ctx.profile = os.path.join(ctx.tmp, "profile")
    os.mkdir(ctx.profile)
    https = [
        # app.sealed.test on loopback for this browser only (no /etc/hosts),
        # and the run's certificate trusted by its key alone.
        "--host-resolver-rules=MAP %s %s" % (TLS_NAME, HOST),
        "--ignore-certificate-errors-spki-list=" + ctx.tls[2],
    ] if ctx.tls else []
    caps = {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"script": 30000, "pageLoad": 30000, "implicit": 0},
        "goog:chromeOptions": {
            "binary": args.chromium,
            "args": CHROMIUM_FLAGS + https + ["--user-data-dir=" + ctx.profile],
            "perfLoggingPrefs": {"enableNetwork": True, "enablePage": False},
        },
        "goog:loggingPrefs": {"performance": "ALL"},
    }
    ctx.wd = wd
    got = wd.start(caps)
    ctx.browser_pid = got.get("goog:processID")
    ctx.cookies = ChromiumStore(wd)
    ctx.net = Network(wd, ctx.report)
    log("WebDriver session %s, browser %s (pid %s)" % (wd.session, got.get("browserVersion"),
                                                         ctx.browser_pid))
    return "Chromium %s" % got.get("browserVersion")


def start_firefox(ctx):
    args = ctx.args
    port = free_port()
    ctx.profile = os.path.join(ctx.tmp, "firefox-profiles")
    os.mkdir(ctx.profile)
    driver = Proc("geckodriver", [args.geckodriver, "--port", str(port), "--host", HOST,
                                  "--profile-root", ctx.profile],
                  os.path.join(ctx.tmp, "geckodriver.log"))
    ctx.driver = driver
    wd = WebDriver("http://%s:%d" % (HOST, port))
    wait_driver("geckodriver", driver, wd)
    caps = {
        "browserName": "firefox",
        "pageLoadStrategy": "normal",
        # Firefox takes no certificate by key: the run's self-signed one is
        # accepted as any would be (the run checks it in Python, proxies.tls_get).
        "acceptInsecureCerts": True,
        "timeouts": {"script": 30000, "pageLoad": 30000, "implicit": 0},
        "moz:firefoxOptions": {"binary": args.firefox, "args": ["-headless"], "prefs": FIREFOX_PREFS},
    }
    ctx.wd = wd
    got = wd.start(caps)
    ctx.browser_pid = got.get("moz:processID")
    ctx.cookies = FirefoxStore(wd)
    ctx.net = None
    log("WebDriver session %s, Firefox %s, geckodriver %s (pid %s)" % (
        wd.session, got.get("browserVersion"), got.get("moz:geckodriverVersion"), ctx.browser_pid))
    return "Firefox %s" % got.get("browserVersion")


def close_browser(ctx):
    """Ends the WebDriver session, its driver and every process of its
    profile; safe to call twice."""
    if ctx.wd is not None:
        try:
            ctx.wd.quit()
        except Fatal as e:
            log("closing the WebDriver session: %s" % e)
        ctx.wd = None
    if ctx.driver is not None:
        ctx.driver.stop()
        ctx.driver = None
    if ctx.browser_pid:
        kill_pid(ctx.browser_pid)
        ctx.browser_pid = None
    if ctx.profile:
        kill_processes_using(ctx.profile)
        shutil.rmtree(ctx.profile, ignore_errors=True)
        ctx.profile = None


def cleanup(ctx):
    close_browser(ctx)
    for f in reversed(ctx.fronts):
        f.stop()
    for p in reversed(ctx.procs):
        p.stop()


def run_phase(ctx, name, fn, *args):
    """Runs one scenario; an error ends it with a failed check, and the run
    goes on with the next scenario."""
    try:
        fn(ctx, *args)
    except Fatal as e:
        ctx.report.check("%s: ran to the end" % name, False, "aborted: %s" % e)
    except (KeyError, TypeError, ValueError) as e:
        # The demo answered something other than docs/DEMO.md describes.
        ctx.report.check("%s: ran to the end" % name, False,
                         "aborted: %s: %s (a reply not as docs/DEMO.md says?)" % (type(e).__name__, e))


def phase_proxy_headers(ctx, b, demo):
    """The Set-Cookie headers come through nginx as the demo wrote them:
    a Python client (verifying the certificate for app.sealed.test) asks
    nginx and the demo itself for a new session and compares the
    attributes of each Set-Cookie line."""
    r = ctx.report
    r.section("Set-Cookie through nginx (%s)" % b.base)
    status, headers, _ = b.front.nginx.get("/api/session")
    via = [parse_set_cookie(v) for k, v in headers if k.lower() == "set-cookie"]
    with urllib.request.urlopen(demo.base + "/api/session", timeout=10) as resp:
        direct = [parse_set_cookie(v) for v in resp.headers.get_all("Set-Cookie") or []]

    def shape(lines):
        return [(n, sorted((k, v) for k, v in a.items() if k not in ("expires", "max-age")),
                 "max-age" in a, "expires" in a) for n, _, a in lines]
    r.check("Set-Cookie attributes through nginx are the demo's",
            status == 200 and via and shape(via) == shape(direct),
            "status %s; via nginx %s; direct %s" % (status, shape(via), shape(direct)))
    upstream = [v for k, v in headers if k.lower() == "x-upstream"]
    r.check("the answer came from the demo behind nginx", bool(upstream), "X-Upstream: %s" % upstream)


def phase_grow_steps(ctx, b, steps):
    """nginx with its default buffers in front of a demo with its default
    budgets: growing the session step by step never gets a 502 (upstream
    sent too big header) or a 400 (Request Header Or Cookie Too Large);
    the demo answers 413 once the session no longer fits, and the session
    goes on working."""
    r = ctx.report
    r.section("grow behind nginx's default buffers (%s)" % b.base)
    mark = b.front.nginx.mark()
    b.fresh()
    expect_303(r, "POST /login", b.action("/login", user="ada"))
    s = b.api()
    sid, kept = s["session_id"], 0
    for n in steps:
        ex = b.action("/grow", bytes=str(n))
        r.check("grow %d: 303 or the demo's 413, never 502/400" % n, ex.status in (303, 413),
                ex.describe(), "303, or 413 from the demo")
        if ex.status == 303:
            kept = n
        s = b.api()  # raises (a failed phase) on a 400 from nginx
        jar = b.store()
        r.check("grow %d: the session keeps its id and %d filler bytes" % (n, kept),
                s["session_id"] == sid and s["filler_bytes"] == kept and s["signed_in"] is True,
                "id=%s filler_bytes=%s signed_in=%s; store %s (%s bytes)" % (
                    s["session_id"], s["filler_bytes"], s["signed_in"], names(jar),
                    sum(len(k) + len(c["value"]) for k, c in jar.items())))
    r.check("the steps reached the demo's limit (a 413 at the last step)",
            kept < steps[-1], "largest accepted: %d of %d bytes" % (kept, steps[-1]))
    ex = b.reload()
    s = b.api()
    r.check("after the last step a reload keeps the session",
            ex.status == 200 and s["session_id"] == sid and s["filler_bytes"] == kept,
            "%s; id=%s filler_bytes=%s" % (ex.describe(), s["session_id"], s["filler_bytes"]))
    errors = b.front.nginx.errors_since(mark)
    r.check("nginx logged no error", not errors, "%d: %s" % (len(errors), errors[:2]))


PERSISTENT = (("500d", 500 * DAY), ("30d", 30 * DAY))


def run_transport(ctx, transport, demos):
    """The scenario over one transport, in the browser that is running."""
    r = ctx.report
    r.group("%s, %s" % (ctx.kind, "http://127.0.0.1" if transport == "http"
                        else "https://%s via nginx" % TLS_NAME))
    front = Front(ctx, "default", [demos["default"]], transport)
    try:
        b = Browser(ctx, front)
        run_phase(ctx, "sign in", phase_sign_in, b)
        run_phase(ctx, "attributes", phase_attributes, b)
        if transport == "https":
            run_phase(ctx, "Set-Cookie through nginx", phase_proxy_headers, b, demos["default"])
        run_phase(ctx, "document.cookie", phase_document_cookie, b)
        run_phase(ctx, "altered cookie", phase_tamper, b)
        run_phase(ctx, "sign out", phase_sign_out, b)
        if transport == "http":
            run_phase(ctx, "localhost", phase_localhost, b)
            if ctx.tls:  # the browser resolves app.sealed.test
                run_phase(ctx, "plain http on a real name", phase_plain_http_name, b)
        elif ctx.args.grow_steps:
            run_phase(ctx, "grow behind default nginx", phase_grow_steps, b, ctx.args.grow_steps)
        run_phase(ctx, "cross-site forms", phase_cross_site, b)
    finally:
        front.stop()
    # Chunks need raised limits on both sides: the demo's budgets, and over
    # HTTPS the RAISED nginx lines in front of it.
    front = Front(ctx, "chunks", [demos["chunks"]], transport, raised=transport == "https")
    try:
        run_phase(ctx, "chunks", phase_chunks, Browser(ctx, front))
    finally:
        front.stop()
    for label, lifetime in PERSISTENT:
        front = Front(ctx, label, [demos[label]], transport, raised=transport == "https")
        try:
            run_phase(ctx, "persistent %s" % label, phase_persistent, Browser(ctx, front), lifetime)
        finally:
            front.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo-cmd", default=os.environ.get("BROWSER_TEST_DEMO_CMD"),
                    help="command that starts a demo honouring PORT and SESSION_* "
                         "(default: build and run the axum example)")
    ap.add_argument("--browsers", default="chromium,firefox",
                    help="comma-separated: chromium, firefox (default both)")
    ap.add_argument("--transports", default="http,https",
                    help="comma-separated: http (127.0.0.1), https (nginx, app.sealed.test)")
    ap.add_argument("--no-fleet", action="store_true", help="skip the fleet behind nginx")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    ap.add_argument("--firefox", default="/usr/bin/firefox-esr")
    ap.add_argument("--geckodriver", default=None,
                    help="default: geckodriver on PATH, else ~/.cargo/bin/geckodriver")
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--grow-big", type=int, default=7000, help="bytes for the chunked session")
    ap.add_argument("--grow-mid", type=int, default=3500, help="bytes to shrink it to")
    ap.add_argument("--grow-steps", type=lambda v: [int(x) for x in v.split(",") if x],
                    default=[1000, 2000, 2500, 2800, 3000, 4000, 6000, 9000],
                    help="POST /grow sizes behind nginx's defaults (empty: skip)")
    ap.add_argument("--fleet-reads", type=int, default=6,
                    help="GET /api/session through nginx per fleet state")
    ap.add_argument("--startup-timeout", type=float, default=60)
    ap.add_argument("--build-timeout", type=int, default=1800)
    ap.add_argument("--keep", action="store_true", help="keep the logs folder")
    args = ap.parse_args()
    args.geckodriver = find_geckodriver(args.geckodriver)
    browsers = [x for x in args.browsers.split(",") if x]
    transports = [x for x in args.transports.split(",") if x]
    if set(browsers) - {"chromium", "firefox"} or set(transports) - {"http", "https"}:
        ap.error("unknown browser or transport: %s %s" % (browsers, transports))
    fleet = not args.no_fleet

    report = Report()
    tmp = tempfile.mkdtemp(prefix="browser-test-")
    ctx = Ctx(args, report, tmp)
    versions = {}

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        if "chromium" in browsers:
            log("; ".join(ensure_browser(args.chromium, args.chromedriver)))
        if "firefox" in browsers:
            log("; ".join(ensure_firefox(args.firefox, args.geckodriver)))
        if "https" in transports or fleet:
            log(ensure_nginx(args.nginx))
            ctx.tls = make_certificate(tmp, TLS_NAME)
        ctx.demo_argv = demo_argv(args)
        # "default": the demo's own defaults (one cookie, fits a default
        # nginx); the chunked ones with both budgets raised.
        demos = {"default": start_demo(ctx, "default", {}),
                 "chunks": start_demo(ctx, "chunks", RAISED_BUDGETS)}
        for label, lifetime in PERSISTENT:
            demos[label] = start_demo(ctx, label, dict(RAISED_BUDGETS, SESSION_PERSISTENT="1",
                                                       SESSION_ABSOLUTE_SECS=str(lifetime)))
        for kind in browsers:
            ctx.kind = kind
            try:
                versions[kind] = (start_chromium if kind == "chromium" else start_firefox)(ctx)
            except Fatal as e:
                report.check("%s: start" % kind, False, str(e))
                close_browser(ctx)
                continue
            try:
                for transport in transports:
                    run_transport(ctx, transport, demos)
                if fleet:
                    run_phase(ctx, "fleet", run_fleet, demos)
                if kind == "chromium":
                    report.section("overall (%s)" % kind)
                    blocked = ctx.net.blocked_ours
                    report.check("the browser blocked no Set-Cookie of ours", not blocked,
                                 "%d blocked, first: %s" % (len(blocked), blocked[:3])
                                 if blocked else "none blocked")
            finally:
                report.end_group()
                close_browser(ctx)
    except Fatal as e:
        report.check("setup", False, str(e))
    except Exception as e:  # reported as a failure, with its traceback
        report.check("run", False, "%s: %s" % (type(e).__name__, e))
        traceback.print_exc()
    except KeyboardInterrupt:
        report.check("run", False, "interrupted")
    finally:
        report.end_group()
        cleanup(ctx)
        if args.keep or report.failed:
            log("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    for kind, version in versions.items():
        print("browser %s: %s" % (kind, version))
    for name, passed, failed, seconds in report.groups:
        print("%s: %d passed, %d failed (%.0f s)" % (name, passed, failed, seconds))
    print("%d passed, %d failed" % (report.passed, report.failed), flush=True)
    return 1 if report.failed else 0


def sealed_key_id(value):
    """The key id of a sealed value: bytes 1 to 4 of the envelope, u32be
    (docs/FORMAT.md)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return None
    return int.from_bytes(raw[1:5], "big") if len(raw) > 5 else None


def fleet_reads(ctx, b, front, what, want, count):
    """count GET /api/session through nginx: every answer is the same
    session (id, user, filler), and both instances answered."""
    r = ctx.report
    names_by_port = {"%s:%d" % (HOST, p): n for p, n in zip(front.upstream_ports, "AB")}
    seen, bad = [], []
    for _ in range(count):
        got = b.wd.execute(
            "return fetch('/api/session', {cache: 'no-store', credentials: 'same-origin'})"
            ".then(async r => ({status: r.status, upstream: r.headers.get('x-upstream'),"
            " text: await r.text()}));")
        who = names_by_port.get(got.get("upstream"), got.get("upstream"))
        seen.append(who)
        try:
            s = json.loads(got["text"]) if got["status"] == 200 else {}
        except ValueError:
            s = {}
        now = tuple(s.get(k) for k in ("session_id", "user", "filler_bytes"))
        if got["status"] != 200 or now != want:
            bad.append("%s answered %s %s" % (who, got["status"], now))
    r.check("%s: %d reads keep the session %s" % (what, count, short(want[0], 6)), not bad,
            "; ".join(bad[:3]) or "answered by %s" % "".join(seen))
    r.check("%s: both instances answered" % what, set(seen) == {"A", "B"}, "answered by %s" % "".join(seen))


def run_fleet(ctx, demos):
    """Two demo instances round-robin behind one nginx (TLS, default
    buffers); the browser's session survives the three stages of a key
    rotation (docs/CLI.md, keyring rotate: add, promote, retire), each
    deployed to A and then to B."""
    r = ctx.report
    r.group("%s, fleet of 2 behind nginx (https://%s)" % (ctx.kind, TLS_NAME))
    r.section("staged key rotation across A and B")
    k1, k2 = b64key(), b64key()
    stages = [
        ("0 (1:K1)", "1:%s" % k1, 1),
        ("1, add (1:K1,2:K2)", "1:%s,2:%s" % (k1, k2), 1),
        None,  # promote: stamped with the time it is deployed
        ("3, retire (2:K2)", "2:%s" % k2, 2),
    ]
    inst = {n: start_demo(ctx, "fleet-%s-stage0" % n, {}, keys=stages[0][1]) for n in "AB"}
    front = Front(ctx, "fleet", [inst["A"], inst["B"]], "https")
    reads = ctx.args.fleet_reads
    try:
        b = Browser(ctx, front)
        b.fresh()
        expect_303(r, "POST /login (fleet)", b.action("/login", user="ada"))
        expect_303(r, "POST /grow bytes=300 (fleet)", b.action("/grow", bytes="300"))
        s = b.api()
        want = (s["session_id"], "ada", 300)
        old_value = b.store().get(COOKIE, {}).get("value", "")
        r.check("stage 0: signed in as ada with 300 filler bytes, sealed under key 1",
                s["user"] == "ada" and s["filler_bytes"] == 300 and sealed_key_id(old_value) == 1,
                "user=%s filler=%s key id %s" % (s["user"], s["filler_bytes"], sealed_key_id(old_value)))
        fleet_reads(ctx, b, front, "stage 0 on A and B", want, reads)
        for n in (1, 2, 3):
            if n == 2:
                stages[2] = ("2, promote (2:K2,1:K1@%d)" % int(time.time()),
                             "2:%s,1:%s@%d" % (k2, k1, int(time.time())), 2)
            label, keys, sealing = stages[n]
            for name in "AB":
                old = inst[name]
                old.stop()
                inst[name] = start_demo(ctx, "fleet-%s-stage%d" % (name, n), {}, keys=keys, port=old.port)
                state = ("stage %s on A, stage %s on B" % (n, n - 1) if name == "A"
                         else "stage %s on A and B" % n)
                fleet_reads(ctx, b, front, state, want, reads)
            value = b.store().get(COOKIE, {}).get("value", "")
            r.check("stage %s deployed: the cookie is sealed under key %d" % (label, sealing),
                    sealed_key_id(value) == sealing, "key id %s" % sealed_key_id(value))
        # Retirement is real: the value sealed under key 1 at stage 0 no
        # longer opens anywhere.
        b.cookies.set_cookie(b, COOKIE, old_value)
        s = b.api()
        r.check("after retirement the stage-0 cookie (key 1) is refused",
                s["session_id"] != want[0] and s["signed_in"] is False,
                "id %s signed_in=%s" % (s["session_id"], s["signed_in"]))
    finally:
        front.stop()
        for d in inst.values():
            d.stop()




if __name__ == "__main__":
    sys.exit(main())
