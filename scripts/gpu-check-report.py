#!/usr/bin/env python3
"""The GPU check's report: scripts/gpu-check.sh runs it after its stages.

Usage: gpu-check-report.py STEM   (writes STEM.json and STEM.md)

Reads the stage table (stages.tsv) and the stage logs in $GC_LOGS, the
machine's description from the GC_* environment variables gpu-check.sh sets,
and the JSON rows gpu_bench prints (one object per line). Every kind of row is
reported: timed rows (with "ms") in a table, ratios, checks with whatever
fields they carry, other measurements (peak memory, which path a selection
took), and what was not measured. test/gpu-check-report.test.ts runs it on a
log with every kind of row.
"""
import json, os, re, sys

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_check_targets  # noqa: E402 (beside this script)

stem = sys.argv[1]
env = os.environ
logs = env["GC_LOGS"]

def num(value, fmt):
    """A number for the tables: gpu_bench prints null for NaN and infinities."""
    if value is None:
        return "-"
    return "" if value == "" else fmt % value


def read(name):
    try:
        with open(os.path.join(logs, name + ".log"), errors="replace") as f:
            return f.read()
    except OSError:
        return ""

stages = []
with open(os.path.join(logs, "stages.tsv")) as f:
    for line in f:
        name, status, seconds, note = line.rstrip("\n").split("\t")
        stages.append({"name": name, "status": status, "seconds": int(seconds), "note": note})

tests = {}
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", read("tests"))
if m:
    tests = {"failed": int(m.group(2)), "total": int(m.group(3))}
    tests["skipped"] = len(re.findall(r"\*\*\*Skipped|Not Run", read("tests")))
    tests["failed_names"] = re.findall(r"^\s*\d+ - (\S+) \(Failed\)", read("tests"), re.M)

gpu_rows = []
for line in read("gpu_bench").splitlines():
    if line.startswith("{"):
        try:
            gpu_rows.append(json.loads(line))
        except ValueError:
            pass

result = {
    "machine": {
        "gpu": env.get("GC_GPU_NAME"), "driver": env.get("GC_DRIVER"), "compute_capability": env.get("GC_COMPUTE_CAP"),
        "gpu_memory": env.get("GC_GPU_MEMORY"), "cuda_driver_version": env.get("GC_CUDA_DRIVER_VERSION"),
        "nvcc": env.get("GC_NVCC"), "cpu": env.get("GC_CPU"), "cpu_count": env.get("GC_CPU_COUNT"),
        "commit": env.get("GC_COMMIT"),
    },
    "dry_run": env.get("GC_DRY_RUN") == "1", "quick": env.get("GC_QUICK") == "1",
    "elapsed_s": int(env.get("GC_ELAPSED", 0)), "budget_s": int(env.get("GC_BUDGET", 0)),
    "stages": stages, "tests": tests,
    "library_baselines": read("baselines_loaded").splitlines(),
    "targets": gpu_check_targets.evaluate(gpu_rows),
    "benchmarks": {
        "gpu_bench": gpu_rows,
        "matmul_bench": read("matmul_bench").splitlines(),
        "topk_bench": read("topk_bench").splitlines(),
    },
}
with open(stem + ".json", "w") as f:
    json.dump(result, f, indent=1)

md = ["# GPU check: %s" % result["machine"]["gpu"], ""]
for key, value in result["machine"].items():
    md.append("- %s: %s" % (key.replace("_", " "), value or "-"))
md += ["- dry run: %s, quick sizes: %s, %d s of a %d s budget" % (result["dry_run"], result["quick"], result["elapsed_s"], result["budget_s"]), ""]
md += ["## Stages", "", "| stage | status | seconds | note |", "| --- | --- | --- | --- |"]
md += ["| %s | %s | %d | %s |" % (s["name"], s["status"], s["seconds"], s["note"]) for s in stages]
if tests:
    md += ["", "Tests: %d of %d failed%s, %d skipped." % (tests["failed"], tests["total"],
           (" (" + ", ".join(tests["failed_names"]) + ")") if tests["failed_names"] else "", tests["skipped"])]
md += [""] + gpu_check_targets.markdown(result["targets"], result["quick"])
if result["library_baselines"]:
    md += ["", "## Library baselines", "", "```"] + result["library_baselines"] + ["```"]
md += ["", "## gpu_bench", ""]
# The device as gpu_bench saw it: name, memory, the allocator (stream-ordered
# pools, or cudaMalloc where the device has none) and the libraries loaded.
for r in gpu_rows:
    if r.get("op") == "device":
        md += ["Device: " + ", ".join("%s %s" % (k, r[k]) for k in r if k not in ("bench", "op")), ""]
# Timed rows carry "ms"; rows of other kinds (peak memory, which path a
# selection took) are listed after the tables, whatever their fields.
rows = [r for r in gpu_rows if r.get("op") not in ("device", "check", "ratio") and "skipped" not in r and "ms" in r]
others = [r for r in gpu_rows if r.get("op") not in ("device", "check", "ratio") and "skipped" not in r and "ms" not in r]
if rows:
    md += ["| op | impl | shape | ms | GB/s | GFLOP/s |", "| --- | --- | --- | --- | --- | --- |"]
    md += ["| %s | %s | %s | %s | %s | %s |" % (r["op"], r["impl"], r.get("shape", ""), num(r["ms"], "%.4f"),
           num(r.get("gbps", ""), "%s"), num(r.get("gflops", ""), "%s")) for r in rows]
ratios = [r for r in gpu_rows if r.get("op") == "ratio"]
if ratios:
    md += ["", "Speedups measured in the same run (baseline ms / dynasparse ms; > 1: dynasparse is faster):", "",
           "| kernel | versus | shape | speedup |", "| --- | --- | --- | --- |"]
    md += ["| %s | %s | %s | %s |" % (r.get("kernel", ""), r.get("versus", ""), r.get("shape", ""), num(r.get("speedup"), "%.2f"))
           for r in ratios]
checks = [r for r in gpu_rows if r.get("op") == "check"]
if checks:
    # Each check's own fields: max_abs_err and tolerance (baselines against
    # the CPU backend), or what a selection check counted.
    md += ["", "Checks: " + ", ".join(
        "%s %s (%s)" % (c.get("impl", ""), "ok" if c.get("ok") else "FAILED",
                        ", ".join("%s %s" % (k, json.dumps(v)) for k, v in c.items() if k not in ("bench", "op", "impl", "ok")))
        for c in checks)]
if others:
    md += ["", "Other measurements:", ""] + ["- %s / %s / %s: %s" % (r.get("op", ""), r.get("impl", ""), r.get("shape", ""),
           ", ".join("%s %s" % (k, json.dumps(v)) for k, v in r.items() if k not in ("bench", "op", "impl", "shape")))
           for r in others]
skips = [r for r in gpu_rows if "skipped" in r]
if skips:
    md += ["", "Not measured:", ""] + ["- %s / %s: %s" % (r["op"], r["impl"], r["skipped"]) for r in skips]
if not gpu_rows:
    md += ["(no rows: see the gpu_bench stage)"]
for name in ("matmul_bench", "topk_bench"):
    md += ["", "## %s (CPU)" % name, "", "```"] + read(name).splitlines() + ["```"]
with open(stem + ".md", "w") as f:
    f.write("\n".join(md) + "\n")
