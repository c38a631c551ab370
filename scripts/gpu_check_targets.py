"""The CUDA backend's speed targets (issue 5), read off gpu_bench's JSON rows.

scripts/gpu-check-report.py puts the result in the report ("Targets"), so the
first GPU run says at once which targets it met. A target is met only when
every shape measured meets it (the worst is what counts); the median is shown
beside it. "not measured" where gpu_bench printed no row for it (a library
missing, a section skipped) or only nulls.
"""
import statistics


def _sparsity(shape):
    """The sparsity in percent a sweep shape names ("... sparsity=90%"), or None."""
    for token in shape.split():
        if token.startswith("sparsity=") and token.endswith("%"):
            try:
                return float(token[len("sparsity="):-1])
            except ValueError:
                return None
    return None


def _speedups(rows, kernel, versus, sparsity=None):
    """Speedups (baseline ms / our ms) of `kernel` against the baselines in
    `versus`, one per shape: where several baselines were timed on a shape,
    the fastest of them (the smallest speedup), the fairest reading.
    `sparsity`: a test of the shape's sparsity in percent (None: every shape)."""
    per_shape = {}
    for r in rows:
        if r.get("op") != "ratio" or r.get("kernel") != kernel or r.get("versus") not in versus:
            continue
        shape = r.get("shape", "")
        if sparsity is not None:
            percent = _sparsity(shape)
            if percent is None or not sparsity(percent):
                continue
        value = r.get("speedup")
        if value is None:
            continue
        per_shape[shape] = min(per_shape.get(shape, value), value)
    return list(per_shape.values())


def _bandwidth_fractions(rows, ops, reference_op, reference_impl):
    """GB/s of each of `ops` (ours) as a fraction of the reference copy's GB/s."""
    reference = [r.get("gbps") for r in rows if r.get("op") == reference_op and r.get("impl") == reference_impl]
    reference = [v for v in reference if v]
    if not reference:
        return []
    copy = max(reference)
    return [r["gbps"] / copy for r in rows
            if r.get("op") in ops and r.get("impl") == "dynasparse" and r.get("gbps") is not None]


# (target, criterion, threshold, how to read the rows)
TARGETS = [
    ("SpMM at 90% sparsity vs cuSPARSE",
     "speedup >= 1.5 against the faster of CSR_ALG2 and CSR_ALG3", 1.5,
     lambda rows: _speedups(rows, "spmm", {"cusparse_CSR_ALG2", "cusparse_CSR_ALG3"}, lambda p: p == 90)),
    ("SpMM at 70% sparsity and above vs dense cuBLAS SGEMM",
     "speedup >= 1.0 (break-even by 70%)", 1.0,
     lambda rows: _speedups(rows, "spmm", {"cublas_sgemm"}, lambda p: p >= 70)),
    ("2:4 on sparse tensor cores (bf16) vs dense cuBLAS fp16",
     "speedup >= 1.3", 1.3,
     lambda rows: _speedups(rows, "spmm_24_mma_bf16", {"cublas_gemmex_fp16"})),
    ("topkGrowth vs the equivalent cuBLAS SGEMM",
     "speedup >= 1/1.3 (at most 1.3x the GEMM's time)", 1 / 1.3,
     lambda rows: _speedups(rows, "topk_growth", {"cublas_sgemm"})),
    ("fused optimizer updates (SGD, Adam) vs copy bandwidth",
     "GB/s >= 0.8 x cudaMemcpy device to device", 0.8,
     lambda rows: _bandwidth_fractions(rows, {"sgd_step", "adam_step"}, "copy", "cudaMemcpy_d2d")),
]


def evaluate(rows):
    """One dict per target: target, criterion, threshold, count, worst, median, status."""
    out = []
    for target, criterion, threshold, read in TARGETS:
        values = read(rows)
        entry = {"target": target, "criterion": criterion, "threshold": round(threshold, 4), "count": len(values),
                 "worst": None, "median": None, "status": "not measured"}
        if values:
            entry["worst"] = round(min(values), 3)
            entry["median"] = round(statistics.median(values), 3)
            entry["status"] = "met" if min(values) >= threshold else "not met"
        out.append(entry)
    return out


def markdown(targets, quick):
    """The report's "Targets" section."""
    md = ["## Targets", ""]
    if quick:
        md += ["Quick sizes (a sixteenth of the issue's shapes): indicative only.", ""]
    md += ["| target | criterion | shapes | worst | median | status |", "| --- | --- | --- | --- | --- | --- |"]
    for t in targets:
        fmt = lambda v: "-" if v is None else "%.2f" % v
        md.append("| %s | %s | %d | %s | %s | %s |" % (t["target"], t["criterion"], t["count"], fmt(t["worst"]),
                                                      fmt(t["median"]), t["status"]))
    return md
