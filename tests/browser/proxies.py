"""What sits between the browser and the demo in tests/browser/run.py:

- Recorder: a recording reverse proxy (plain HTTP/1.1, Python standard
  library). Firefox has no DevTools protocol under geckodriver, so the run
  puts this in front of the demo and reads from it the headers each request
  carried and the status and Set-Cookie headers each response set.
- make_certificate: a self-signed certificate for a test name (openssl).
- Nginx: an nginx of the run's own, terminating TLS on a free loopback port
  in front of one demo or a round-robin upstream of several.
"""

import base64
import hashlib
import http.client
import http.server
import itertools
import os
import socket
import ssl
import subprocess
import threading
import urllib.parse

from e2e import HOST, Fatal, Proc, free_port, port_open, wait_until

SEQUENCE = itertools.count()  # orders the records of several recorders
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "proxy-authenticate", "proxy-authorization"}


class Record:
    """One exchange as the recorder passed it on: headers by lower-case
    name, repeated headers joined with newlines (as DevTools reports them)."""

    def __init__(self, method, target, sent, status, received):
        self.seq = next(SEQUENCE)
        self.method = method
        self.target = target
        self.sent = sent
        self.status = status
        self.received = received

    @property
    def path(self):
        return urllib.parse.urlsplit(self.target).path


def joined(pairs):
    out = {}
    for k, v in pairs:
        k = k.lower()
        out[k] = v if k not in out else out[k] + "\n" + v
    return out


class Recorder:
    """A reverse proxy on a free loopback port that forwards every request
    unchanged (but for hop-by-hop headers) to 127.0.0.1:upstream_port and
    keeps a Record of it. Whatever talks to it (the browser, or nginx) is
    on one side, the demo on the other."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.records = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                pairs = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
                try:
                    conn = http.client.HTTPConnection(HOST, recorder.upstream_port, timeout=30)
                    conn.putrequest(self.command, self.path, skip_host=True,
                                    skip_accept_encoding=True)
                    for k, v in pairs:
                        conn.putheader(k, v)
                    conn.endheaders(body)
                    r = conn.getresponse()
                    data = r.read()
                    got = r.getheaders()
                    status, reason = r.status, r.reason
                    conn.close()
                except OSError as e:
                    status, reason, got, data = 502, "Bad Gateway", [], ("recorder: %s" % e).encode()
                out = [(k, v) for k, v in got if k.lower() not in HOP_BY_HOP | {"content-length"}]
                with recorder.lock:
                    recorder.records.append(Record(self.command, self.path, joined(pairs),
                                                   status, joined(out)))
                self.send_response_only(status, reason)
                for k, v in out:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self):
        with self.lock:
            self.records = []

    def find(self, method, path):
        with self.lock:
            for rec in reversed(self.records):
                if rec.method == method and rec.path == path:
                    return rec
        return None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# TLS


def make_certificate(tmp, name):
    """A self-signed certificate for name (an EC key, valid 2 days) in tmp.
    Returns (cert_path, key_path, spki_sha256_base64): the last is what
    Chromium's --ignore-certificate-errors-spki-list takes."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
            "-addext", "subjectAltName=DNS:" + name]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der.stdout,
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Fatal("openssl: %s (Debian: apt-get install openssl)" % e) from e
    for step in (done, der, spki):
        if step.returncode != 0 or not os.path.exists(cert):
            raise Fatal("openssl failed: %s" % step.stderr.decode("utf-8", "replace")[-500:])
    return cert, key, base64.b64encode(hashlib.sha256(spki.stdout).digest()).decode()


def tls_get(port, name, cafile, path, cookie=None):
    """GET https://name:port/path from Python, connecting to 127.0.0.1 and
    verifying the certificate for name against cafile. Returns
    (status, [(header, value)], body)."""
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(name, port, context=ctx, timeout=10)
    conn._create_connection = lambda addr, *a, **k: socket.create_connection((HOST, port), *a, **k)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------
# nginx

# The lines the crate's docs give to raise nginx's limits for chunked
# sessions: the buffer for the upstream's response headers (its Set-Cookie
# lines), and the request-header buffers (the browser's Cookie header).
RAISED = ["proxy_buffer_size 16k;", "proxy_buffers 8 16k;", "large_client_header_buffers 4 32k;"]

CONF = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/temp/body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    upstream demo {{
{servers}
    }}
    server {{
        listen {host}:{port} ssl;
        server_name {name};
        ssl_certificate {cert};
        ssl_certificate_key {key};
{extra}
        location / {{
            proxy_pass http://demo;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $remote_addr;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """nginx terminating TLS for name on a free loopback port, proxying to
    the given upstream ports round-robin (max_fails=0: an instance being
    restarted is not taken out). extra: directives for the server block
    (RAISED, or none for nginx's defaults)."""

    def __init__(self, binary, tmp, label, name, cert, key, upstream_ports, extra=()):
        self.dir = os.path.join(tmp, "nginx-" + label)
        os.makedirs(os.path.join(self.dir, "temp"))
        # Workers run as nobody when the master is root: they need the temp dirs.
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "temp"), 0o777)
        self.port = free_port()
        self.name = name
        self.cert = cert
        self.extra = list(extra)
        conf = CONF.format(
            dir=self.dir, host=HOST, port=self.port, name=name, cert=cert, key=key,
            servers="\n".join("        server %s:%d max_fails=0;" % (HOST, p) for p in upstream_ports),
            extra="\n".join("        " + x for x in self.extra))
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.base = "https://%s:%d" % (name, self.port)
        self.proc = Proc("nginx (%s)" % label,
                         [binary, "-p", self.dir, "-c", self.conf, "-e", os.path.join(self.dir, "error.log")],
                         os.path.join(self.dir, "stdout.log"))
        try:
            wait_until("nginx (%s) on port %d" % (label, self.port),
                       lambda: not self.proc.alive() or port_open(self.port), 20)
        except Fatal:
            self.proc.stop()
            raise
        if not self.proc.alive():
            self.proc.stop()
            raise Fatal("nginx (%s) exited: %s\n%s" % (label, self.proc.tail(), self.error_log()))

    def error_log(self, lines=20):
        try:
            with open(os.path.join(self.dir, "error.log"), "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def errors_since(self, mark):
        """The error.log lines written after mark (a byte offset from mark())
        that are errors, such as 'upstream sent too big header'."""
        try:
            with open(os.path.join(self.dir, "error.log"), "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [x for x in text.splitlines() if "[error]" in x or "[crit]" in x or "[alert]" in x]

    def mark(self):
        try:
            return os.path.getsize(os.path.join(self.dir, "error.log"))
        except OSError:
            return 0

    def get(self, path, cookie=None):
        return tls_get(self.port, self.name, self.cert, path, cookie)

    def stop(self):
        self.proc.stop()
