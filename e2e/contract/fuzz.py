#!/usr/bin/env python3
"""The contract fuzzer: schemathesis against a running mall, checked against docs/openapi.yaml.

Two runs, as a customer and then as an administrator, each with every check and every
phase (examples, coverage, fuzzing, stateful), a fixed seed and a bounded number of
examples per operation. Each run must report no failure, and the token it signed in with
must still work afterwards (the fuzzer's own logout and revoke-sessions are pointed at a
throwaway user: e2e/contract/schemathesis.toml).

Exit codes: 0 both runs passed; 1 a run failed (its report is kept); 2 usage or setup error.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] contract: {msg}", file=sys.stderr, flush=True)


def call(base, method, path, body=None, token=None):
    """One JSON request; answers (status, parsed body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


def must(what, status, body, expected):
    if status != expected:
        raise SystemExit(f"contract: setup failed: {what} answered {status} (expected {expected}): {body}")
    return body


def sign_up(base, label):
    """A new account (customer role) signed in: answers (id, email, password, access token)."""
    email = f"fuzz-{label}-{uuid.uuid4().hex[:12]}@example.test"
    password = "fuzz-" + uuid.uuid4().hex
    body = {"email": email, "password": password, "name": f"Fuzz {label}"}
    user = must(f"register {label}", *call(base, "POST", "/api/users/register", body), 201)
    return user["id"], email, password, sign_in(base, email, password)


def sign_in(base, email, password):
    body = {"email": email, "password": password}
    return must("login", *call(base, "POST", "/api/users/login", body), 200)["access_token"]


def run_once(args, who, token, victim, protected, report_dir):
    """One schemathesis run; answers (passed, test cases generated)."""
    victim_id, victim_email, victim_password, _ = victim
    env = dict(os.environ)
    env.update(
        MALL_FUZZ_TOKEN=token,
        # A fresh sign-in of the throwaway user for every run: the logout operation ends it.
        MALL_FUZZ_LOGOUT_TOKEN=sign_in(args.url, victim_email, victim_password),
        MALL_FUZZ_VICTIM_ID=str(victim_id),
        MALL_FUZZ_PROTECTED_IDS=",".join(str(i) for i in protected),
        SCHEMATHESIS_HOOKS=str(HERE / "hooks.py"),
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        args.schemathesis, "--config-file", str(HERE / "schemathesis.toml"), "run",
        str(ROOT / "docs" / "openapi.yaml"),
        "--url", args.url,
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", str(args.seed),
        "--max-examples", str(args.examples),
        "--workers", "1",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(report_dir),
    ]
    log(f"{who}: {' '.join(cmd[1:])}")
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=report_dir, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    (report_dir / "output.txt").write_text(out)
    generated = re.search(r"(\d+) generated", out)
    cases = int(generated.group(1)) if generated else -1
    summary = [line for line in out.splitlines() if re.search(r"(passed|failures?|errors?|warnings?) in [\d.]+s", line)]
    log(f"{who}: {cases} test cases in {time.monotonic() - started:.0f}s, exit {proc.returncode}: "
        f"{summary[-1].strip('= ') if summary else 'no summary line'}")
    if proc.returncode != 0:
        print(out, file=sys.stderr)
    status, _ = call(args.url, "GET", "/api/users/me", token=token)
    if status != 200:
        log(f"{who}: the run's own token no longer works afterwards (GET /api/users/me: {status})")
        return False, cases
    return proc.returncode == 0, cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=os.environ.get("MALL_URL"), help="the mall's base URL [MALL_URL]")
    ap.add_argument("--admin-email", default=os.environ.get("MALL_ADMIN_EMAIL", "admin@mall.local"))
    ap.add_argument("--admin-password-file", required=True, help="file holding the admin's password")
    ap.add_argument("--seed", type=int, default=20261206, help="the fuzzer's random seed [%(default)s]")
    ap.add_argument("--examples", type=int, default=25, help="examples per operation and phase [%(default)s]")
    ap.add_argument("--report-dir", type=Path, required=True, help="where each run's output and JUnit report go")
    ap.add_argument("--schemathesis", default="schemathesis", help="the schemathesis command")
    ap.add_argument("--only", choices=["customer", "admin"], help="one run only (by hand)")
    args = ap.parse_args()
    if not args.url:
        ap.error("--url (or MALL_URL) is required")
    args.url = args.url.rstrip("/")

    admin_password = Path(args.admin_password_file).read_text().strip()
    customer = sign_up(args.url, "customer")
    victim = sign_up(args.url, "victim")
    admin_token = sign_in(args.url, args.admin_email, admin_password)
    admin_id = must("GET /api/users/me (admin)", *call(args.url, "GET", "/api/users/me", token=admin_token), 200)["id"]
    protected = [customer[0], admin_id]
    runs = [("customer", customer[3]), ("admin", admin_token)]
    results = []
    for who, token in runs:
        if args.only and args.only != who:
            continue
        results.append((who, *run_once(args, who, token, victim, protected, args.report_dir / who)))
    for who, passed, cases in results:
        log(f"{who}: {'passed' if passed else 'FAILED'} ({cases} test cases, seed {args.seed})")
    return 0 if all(passed for _, passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
