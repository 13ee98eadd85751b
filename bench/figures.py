"""The figures the benchmarks report, for bench/run.sh's closing table and
bench/results/latest.json. A benchmark calls figure() next to its print();
the file named by BENCH_FIGURES collects them, one JSON object a line."""
import json
import os
import sys


def figure(name, value, unit, reference=None, reference_value=None, goal=""):
    """One row: `value` next to `reference_value` measured in the same run; ratio = value / reference."""
    path = os.environ.get("BENCH_FIGURES")
    if not path:
        return
    ratio = None
    if reference_value:
        ratio = value / reference_value
    with open(path, "a") as out:
        out.write(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, "reference": reference,
                              "reference_value": None if reference_value is None else round(float(reference_value), 3),
                              "ratio": None if ratio is None else round(ratio, 3), "goal": goal}) + "\n")


def report(path, json_out=None):
    """Prints the table of the figures in `path`; writes them to `json_out` too when given."""
    rows = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
    print("== summary")
    print(f"{'figure':44s} {'value':>14s}  {'reference':>36s}  {'ratio':>7s}  goal")
    def number(v):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}"

    for r in rows:
        value = f"{number(r['value'])} {r['unit']}"
        ref = "" if r["reference"] is None else f"{r['reference']} {number(r['reference_value'])}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(f"{r['name'][:44]:44s} {value:>14s}  {ref[:36]:>36s}  {ratio:>7s}  {r['goal']}")
    if json_out:
        os.makedirs(os.path.dirname(json_out), exist_ok=True)
        with open(json_out, "w") as out:
            json.dump({"figures": rows}, out, indent=1)
        print(f"written to {json_out}")


if __name__ == "__main__":
    report(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
