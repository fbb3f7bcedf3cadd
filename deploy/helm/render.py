"""`helm template` with Helm's own engine, where no helm binary can be had.

The `helm` CLI is not on PyPI or in Debian bookworm; helm-python-sdk (PyPI) binds Helm's Go
SDK (libhelm_c, Helm v4) and renders a chart offline exactly as `helm template` does. The
operator CLI's CI step `kubernetes` runs this from the test virtualenv:

    python render.py CHART OUT.yaml NAMESPACE [VALUES.yaml ...]

It lints the chart (any error fails), merges the values files in order over the chart's
defaults (as `helm template -f a.yaml -f b.yaml` does) and writes every rendered object into
OUT.yaml, one document each, templates in name order. Exit status: 0 written, 1 a lint
error or a template that does not render.
"""

import sys

import helm_python as helm


def merge(into, over):
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 64
    chart_dir, out, namespace, value_files = argv[1], argv[2], argv[3], argv[4:]
    values = {}
    for path in value_files:
        with open(path, encoding="utf-8") as f:
            merge(values, helm.values_from_yaml(f.read()) or {})
    lint = helm.lint(chart_dir, values=values, namespace=namespace)
    # Severity 3 is an error (helm lint's [ERROR]); 1 and 2 are info and warnings.
    bad = [m for m in lint.get("messages") or [] if m.get("severity", 0) >= 3]
    bad += [{"error": e} for e in lint.get("errors") or []]
    for m in bad:
        print(f"render: helm lint: {m.get('path', '')} {m.get('error')}", file=sys.stderr)
    if bad:
        return 1
    with helm.Chart.load(chart_dir) as chart:
        rendered = chart.render(values, name="mall", namespace=namespace)
    docs = []
    for name in sorted(rendered):
        text = rendered[name].strip()
        if name.endswith(".yaml") and text:
            docs.append(f"# Source: {name}\n{text}\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write("---\n".join(docs))
    objects = sum(d.count("\nkind: ") + d.startswith("kind: ") for d in docs)
    print(f"render: {out}: {objects} objects from {len(docs)} templates, Helm {helm.helm_sdk_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
