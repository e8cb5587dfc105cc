#!/usr/bin/env python3
"""The demo as a person starts it: scripts/demo.sh on a free port, its files in a temporary
directory, watched through the API until what the demo promises is there: at least 160 sites
with data, roll calls with their evidence pictures, and an alert of each scripted kind
(tp-01 late start, sh-01 offline, pt-01 camera covered, td-01 early leave). Fails with what
is missing after DEMO_TEST_LIMIT_S (780 s by default: the first run counts the pictures). Prints how long each took.

    python3 tests/demo_test.py            (ctest -R '^demo$' runs it)
"""
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT_S = float(os.environ.get("DEMO_TEST_LIMIT_S", "780"))
SCRIPTED = {"late_start": "tp-01", "offline": "sh-01", "camera_fault": "pt-01",
            "early_leave": "td-01"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def login(self, user):
        body = json.dumps({"user": user, "password": "demo-password"}).encode()
        req = urllib.request.Request(self.base + "/api/v1/login", data=body,
                                     headers={"Content-Type": "application/json"})
        with self.opener.open(req, timeout=30) as r:
            return json.load(r)

    def get(self, path):
        with self.opener.open(self.base + path, timeout=60) as r:
            return json.load(r)


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="demo-test-") as tmp:
        log = open(os.path.join(tmp, "demo.out"), "w")
        env = dict(os.environ, PORT=str(port), DEMO_DIR=os.path.join(tmp, "demo"))
        started = time.monotonic()
        demo = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "demo.sh")], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        seen = {}  # what was found, and after how many seconds
        missing = ["the service"]
        try:
            api = Api(base)
            while time.monotonic() - started < LIMIT_S and demo.poll() is None:
                time.sleep(10)
                try:
                    if "page" not in seen:
                        with urllib.request.urlopen(base + "/", timeout=10) as r:
                            if r.status == 200:
                                seen["page"] = time.monotonic() - started
                                api.login("auditor")
                    sites = api.get("/api/v1/sites")["sites"]
                    with_data = sum(1 for s in sites if s.get("latest"))
                    calls = api.get("/api/v1/roll-calls")["roll_calls"]
                    evidence = [c for c in calls if c.get("evidence_url")]
                    alerts = api.get("/api/v1/alerts")["alerts"]
                except (OSError, ValueError, KeyError) as e:
                    missing = [f"an answer from the API ({e})"]
                    continue
                now = time.monotonic() - started
                if with_data >= 160:
                    seen.setdefault("160 sites with data", now)
                if evidence:
                    seen.setdefault("a roll call with evidence", now)
                for kind, site in SCRIPTED.items():
                    if any(a["kind"] == kind and a["site_id"] == site for a in alerts):
                        seen.setdefault(f"{kind} at {site}", now)
                missing = []
                if with_data < 160:
                    missing.append(f"160 sites with data (now {with_data})")
                if not evidence:
                    missing.append(f"a roll call with evidence ({len(calls)} roll calls)")
                missing += [f"{k} at {s}" for k, s in SCRIPTED.items()
                            if f"{k} at {s}" not in seen]
                if not missing:
                    # The evidence picture itself is served, as the auditor's page shows it.
                    with api.opener.open(base + evidence[0]["evidence_url"], timeout=30) as r:
                        if r.headers.get("Content-Type") != "image/jpeg" or not r.read(3):
                            missing.append("the evidence picture")
                    break
        finally:
            os.killpg(demo.pid, signal.SIGINT)  # as Ctrl-C: the demo stops what it started
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
            log.close()
        for what, t in sorted(seen.items(), key=lambda kv: kv[1]):
            print(f"demo: {what} after {t:.0f} s")
        if missing:
            print("demo: missing after %.0f s: %s" % (time.monotonic() - started, "; ".join(missing)))
            with open(os.path.join(tmp, "demo.out")) as f:
                print(f.read()[-4000:])
            for name in ("server.log", "sim.log"):
                path = os.path.join(tmp, "demo", name)
                if os.path.exists(path):
                    with open(path) as f:
                        print(f"--- {name} (end)\n" + f.read()[-3000:])
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
