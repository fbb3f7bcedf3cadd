#!/usr/bin/env python3
"""Static checks of the compose profile `observability` (run by scripts/test; no promtool,
no Grafana needed). Usage: check-observability.py <repo root>

Checked:
- compose/observability/prometheus.yml parses as YAML; only known top-level keys; durations
  are Prometheus durations and scrape_timeout <= scrape_interval; job names are unique;
  every target is host:port; relabel regexes compile; both slots of auth-proxy and of every
  service that has slots in compose/docker-compose.yml are scraped, and every target host
  is a compose service;
- the Grafana provisioning files parse, have apiVersion 1, the data source points at the
  compose Prometheus, and the dashboard provider's path is where compose mounts the JSON;
- every dashboard JSON parses; uid, title and schemaVersion are set; panel ids are unique;
  panels fit the 24-column grid; every query has an expression with balanced brackets and
  quotes, a unique refId and the provisioned data source; every metric a query names is
  one the mall exports (read from the Rust sources), nginx's exporter or `up`;
- the profile's services in docker-compose.yml carry `profiles: [observability]` and mount
  files that exist.
"""

import json
import re
import sys
from pathlib import Path

import yaml

PROBLEMS = []


def problem(where, what):
    PROBLEMS.append(f"{where}: {what}")


DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", d))


def load_yaml(path):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        problem(path, f"not valid YAML: {e}")
        return None


def compose_services(root):
    compose = load_yaml(root / "compose/docker-compose.yml") or {}
    return compose.get("services") or {}


def check_prometheus(root, services):
    path = root / "compose/observability/prometheus.yml"
    conf = load_yaml(path)
    if not isinstance(conf, dict):
        problem(path, "not a mapping")
        return
    known = {"global", "scrape_configs", "rule_files", "alerting", "remote_write",
             "remote_read", "storage", "tracing", "scrape_config_files", "runtime", "otlp"}
    for key in conf:
        if key not in known:
            problem(path, f"unknown top-level key {key!r}")
    glob = conf.get("global") or {}
    for key in ("scrape_interval", "scrape_timeout", "evaluation_interval"):
        if key in glob and not DURATION.match(str(glob[key])):
            problem(path, f"global.{key} {glob[key]!r} is not a duration")
    interval = seconds(str(glob.get("scrape_interval", "1m")))
    if seconds(str(glob.get("scrape_timeout", "10s"))) > interval:
        problem(path, "scrape_timeout is longer than scrape_interval")
    jobs = conf.get("scrape_configs") or []
    if not jobs:
        problem(path, "no scrape_configs")
    names = [j.get("job_name") for j in jobs]
    if len(names) != len(set(names)) or None in names:
        problem(path, f"job names missing or repeated: {names}")
    targets = set()
    for job in jobs:
        where = f"{path} job {job.get('job_name')}"
        for sc in job.get("static_configs") or []:
            for t in sc.get("targets") or []:
                if not re.match(r"^[A-Za-z0-9._-]+:[0-9]{1,5}$", str(t)):
                    problem(where, f"target {t!r} is not host:port")
                targets.add(str(t))
        for rc in job.get("relabel_configs") or []:
            try:
                re.compile(rc.get("regex", "(.*)"))
            except re.error as e:
                problem(where, f"relabel regex {rc.get('regex')!r}: {e}")
    hosts = {t.rsplit(":", 1)[0] for t in targets}
    for host in sorted(hosts - set(services)):
        problem(path, f"target host {host!r} is not a compose service")
    slotted = {n for n in services if re.search(r"-(blue|green)$", n)}
    for name in sorted(slotted):
        if f"{name}:8080" not in targets:
            problem(path, f"compose slot {name} is not scraped ({name}:8080)")


def check_grafana(root, services):
    base = root / "compose/observability/grafana"
    ds = load_yaml(base / "provisioning/datasources/prometheus.yml") or {}
    if ds.get("apiVersion") != 1:
        problem("datasources", "apiVersion is not 1")
    uids = set()
    for d in ds.get("datasources") or []:
        for key in ("name", "type", "url", "uid"):
            if not d.get(key):
                problem("datasources", f"a data source lacks {key}")
        host = re.sub(r"^https?://([^:/]+).*$", r"\1", str(d.get("url", "")))
        if host not in services:
            problem("datasources", f"url host {host!r} is not a compose service")
        uids.add(d.get("uid"))
    prov = load_yaml(base / "provisioning/dashboards/mall.yml") or {}
    if prov.get("apiVersion") != 1:
        problem("dashboard provider", "apiVersion is not 1")
    grafana = services.get("grafana") or {}
    mounts = {str(v).split(":")[1] for v in grafana.get("volumes") or [] if ":" in str(v)}
    for p in prov.get("providers") or []:
        target = (p.get("options") or {}).get("path")
        if target not in mounts:
            problem("dashboard provider", f"path {target!r} is not mounted in the grafana service")
    metrics = exported_metrics(root)
    dashboards = sorted((base / "dashboards").glob("*.json"))
    if not dashboards:
        problem(base / "dashboards", "no dashboard JSON")
    for path in dashboards:
        check_dashboard(path, uids, metrics)


def exported_metrics(root):
    """Metric names the mall exports, read from the Rust sources, plus nginx's exporter."""
    names = {"up"}
    for src in list((root / "services").glob("*/src/**/*.rs")) + list((root / "auth-proxy/src").glob("**/*.rs")):
        text = src.read_text(errors="replace")
        for m in re.finditer(r'(Opts::new|HistogramOpts::new|IntCounter::new|IntGauge::new|Gauge::new|Counter::new|Histogram::new|counter|gauge)\(\s*"([a-z_:][a-z0-9_:]*)"', text):
            names.add(m.group(2))
    for n in list(names):
        names.update({n + "_bucket", n + "_sum", n + "_count"})
    names.update({"nginx_up", "nginx_http_requests_total", "nginx_connections_active",
                  "nginx_connections_accepted", "nginx_connections_handled",
                  "nginx_connections_reading", "nginx_connections_writing",
                  "nginx_connections_waiting"})
    return names


PROMQL_WORDS = {"sum", "by", "without", "rate", "irate", "increase", "histogram_quantile",
                "topk", "bottomk", "max", "min", "avg", "count", "on", "ignoring",
                "group_left", "group_right", "and", "or", "unless", "offset", "bool",
                "label_values", "abs", "clamp_min", "clamp_max", "delta", "deriv"}


def balanced(expr):
    pairs = {")": "(", "]": "[", "}": "{"}
    stack, quote = [], None
    for ch in expr:
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack and quote is None


def check_dashboard(path, uids, metrics):
    try:
        dash = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        problem(path, f"not valid JSON: {e}")
        return
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in dash:
            problem(path, f"no {key}")
    ids = []
    for panel in dash.get("panels") or []:
        ids.append(panel.get("id"))
        where = f"{path.name} panel {panel.get('id')} {panel.get('title')!r}"
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
            problem(where, "gridPos needs integer h, w, x, y")
        elif grid["x"] + grid["w"] > 24:
            problem(where, "wider than the 24-column grid")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            problem(where, "no queries")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            problem(where, f"repeated refIds {refs}")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                problem(where, "an empty query")
            if not balanced(expr):
                problem(where, f"unbalanced brackets or quotes: {expr}")
            if (t.get("datasource") or panel.get("datasource") or {}).get("uid") not in uids:
                problem(where, "query not on the provisioned data source")
            bare = re.sub(r'"[^"]*"', '""', expr)
            bare = re.sub(r"\{[^}]*\}", "{}", bare)
            bare = re.sub(r"\[[^\]]*\]", "[]", bare)
            bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", bare)
            for word in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare):
                if word in PROMQL_WORDS or word.startswith("__") or word in ("le",):
                    continue
                if word not in metrics:
                    problem(where, f"unknown metric {word!r} in {expr}")
    if len(ids) != len(set(ids)) or None in ids:
        problem(path, "panel ids missing or repeated")


def check_compose_profile(root, services):
    for name in ("prometheus", "grafana", "nginx-exporter"):
        svc = services.get(name)
        if svc is None:
            problem("docker-compose.yml", f"no service {name}")
            continue
        if "observability" not in (svc.get("profiles") or []):
            problem("docker-compose.yml", f"{name} is not in the observability profile")
        for v in svc.get("volumes") or []:
            src = str(v).split(":")[0]
            if src.startswith("."):
                if not (root / "compose" / src).exists():
                    problem("docker-compose.yml", f"{name} mounts {src}, which does not exist")


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    services = compose_services(root)
    check_prometheus(root, services)
    check_grafana(root, services)
    check_compose_profile(root, services)
    if PROBLEMS:
        for p in PROBLEMS:
            print(f"observability config: {p}", file=sys.stderr)
        return 1
    print("observability config: prometheus.yml, Grafana provisioning and dashboards check out",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
