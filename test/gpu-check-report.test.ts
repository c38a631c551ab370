/**
 * scripts/gpu-check-report.py, the GPU check's report, on a gpu_bench log
 * holding every kind of row gpu_bench prints (test/fixtures/gpu_bench-rows.jsonl):
 * timed rows, rows without a time (peak memory, a selection's path), checks
 * with and without an error bound, ratios, skips, and null where a value was
 * NaN or infinite. Each must reach the
 * markdown and the JSON; the report runs once, on a real GPU, where a crash
 * would lose the markdown of the whole run. Skipped where python3 is missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const python = spawnSync('python3', ['--version']).status === 0;
const maybe = python ? describe : describe.skip;

// Runs the report on the logs in `logs`; returns its markdown and JSON.
function report(logs: string, stem: string, env: Record<string, string>): { md: string; json: any } {
  const run = spawnSync('python3', [path.join(root, 'scripts', 'gpu-check-report.py'), stem], {
    env: { ...process.env, GC_LOGS: logs, GC_GPU_NAME: 'NVIDIA H200', GC_DRY_RUN: '0', ...env },
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return { md: fs.readFileSync(`${stem}.md`, 'utf8'), json: JSON.parse(fs.readFileSync(`${stem}.json`, 'utf8')) };
}

maybe('gpu-check-report.py', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynasparse-gpu-report-'));
    fs.mkdirSync(path.join(dir, 'logs'));
    fs.writeFileSync(path.join(dir, 'logs', 'stages.tsv'), 'build\tok\t120\texit 0\ngpu_bench\tok\t200\texit 0\n');
    fs.copyFileSync(path.join(root, 'test', 'fixtures', 'gpu_bench-rows.jsonl'), path.join(dir, 'logs', 'gpu_bench.log'));
    fs.writeFileSync(path.join(dir, 'logs', 'tests.log'), '100% tests passed, 0 tests failed out of 180\n');
    fs.writeFileSync(
      path.join(dir, 'logs', 'baselines_loaded.log'),
      'cuBLAS     loaded from /x/nvidia/cu13/lib/libcublas.so.13\ncuSPARSELt NOT loaded: cannot load libcusparseLt.so.0\n',
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reports every kind of gpu_bench row in the markdown and the JSON', () => {
    const stem = path.join(dir, 'nvidia-h200-2026-12-02');
    const { md, json } = report(path.join(dir, 'logs'), stem, { GC_ELAPSED: '400', GC_BUDGET: '570', GC_QUICK: '0' });
    expect(md).toContain('# GPU check: NVIDIA H200');
    expect(md).toContain('Device: name NVIDIA H200, compute_capability 90, memory_bytes 150000000000, allocator cudaMallocAsync, cublas loaded');
    expect(md).toContain('| spmm | dynasparse | m=4096,k=4096,n=256,sparsity=0.9 | 0.1234 |  | 1234.5 |');
    expect(md).toContain('| sgd_step | dynasparse | n=16777216 | 0.0500 | 4000.0 |  |');
    expect(md).toContain('| spmm | cusparse_alg2 | m=4096,k=4096,n=256,sparsity=0.9 | 1.62 |');
    expect(md).toContain('cusparse_spmm_alg2 ok (max_abs_err 3.1e-06, tolerance 0.0001)');
    expect(md).toContain('topk_growth_vs_dense_route ok (shared 150990, k 150995)');
    expect(md).toContain('topk_dense_vs_sort FAILED');
    expect(md).toContain('- topk_growth / dynasparse / rows=4096,cols=4096,batch=256,nnz=1677722,k=150995: peak_extra_bytes 3641344');
    expect(md).toContain('- topk_growth_path / dynasparse / rows=4096,cols=4096,batch=256,nnz=1677722,k=150995: one_pass true');
    expect(md).toContain('- spmm_24 / cusparselt: cuSPARSELt not found');
    expect(md).toContain('Tests: 0 of 180 failed, 0 skipped.');
    expect(md).toContain('## Library baselines\n\n```\ncuBLAS     loaded from /x/nvidia/cu13/lib/libcublas.so.13\ncuSPARSELt NOT loaded');
    // gpu_bench prints null where a value is NaN or infinite.
    expect(md).toContain('| relu | dynasparse | features=4096 batch=4096 | - | - |  |');
    expect(md).toContain('| sddmm | cusparse | m=1 | - |');
    expect(md).toContain('spmm_24_bf16_vs_fp32 FAILED (max_abs_err null, tolerance 16)');
    expect(json.benchmarks.gpu_bench).toHaveLength(14); // every JSON line, the device row included
    expect(json.stages.map((s: { name: string }) => s.name)).toEqual(['build', 'gpu_bench']);
    expect(json.tests).toMatchObject({ failed: 0, total: 180 });
    expect(json.library_baselines).toEqual([
      'cuBLAS     loaded from /x/nvidia/cu13/lib/libcublas.so.13',
      'cuSPARSELt NOT loaded: cannot load libcusparseLt.so.0',
    ]);
  });

  // Rows as gpu_bench prints them (bench/native/gpu_bench.cu: report_ratio, report).
  test("reads the issue's targets off the ratio and bandwidth rows: the worst shape decides", () => {
    const logs = path.join(dir, 'targets-logs');
    fs.mkdirSync(logs);
    fs.writeFileSync(path.join(logs, 'stages.tsv'), 'gpu_bench\tok\t200\texit 0\n');
    const ratio = (kernel: string, versus: string, shape: string, speedup: number | null) =>
      JSON.stringify({ bench: 'gpu', op: 'ratio', kernel, versus, shape, speedup });
    const at = (batch: number, sparsity: number) => `out=4096 in=4096 batch=${batch} nnz=1677722 sparsity=${sparsity}%`;
    const rows = [
      ratio('spmm', 'cusparse_CSR_ALG2', at(256, 90), 1.8),
      ratio('spmm', 'cusparse_CSR_ALG3', at(256, 90), 1.6), // the faster baseline of the shape counts
      ratio('spmm', 'cusparse_CSR_ALG2', at(1024, 90), 2.0),
      ratio('spmm', 'cusparse_CSR_ALG2', at(256, 95), 0.5), // another sparsity: not this target's
      ratio('spmm', 'cublas_sgemm', at(256, 70), 0.9),
      ratio('spmm', 'cublas_sgemm', at(1024, 70), 1.2),
      ratio('spmm', 'cublas_sgemm', at(256, 90), 3.0), // sparser than 70%: counts too
      ratio('spmm', 'cublas_sgemm', at(256, 50), 0.4), // denser: does not
      ratio('spmm_24_mma_bf16', 'cublas_gemmex_fp16', 'm=4096 n=256 k=4096 fp32 io', null),
      ratio('topk_growth', 'cublas_sgemm', 'rows=4096 cols=4096 batch=256', 0.8),
      ratio('topk_growth', 'cublas_sgemm+cub_sort', 'rows=4096 cols=4096 batch=256', 3.0),
      JSON.stringify({ bench: 'gpu', op: 'copy', impl: 'cudaMemcpy_d2d', shape: 'n=1', ms: 1, gbps: 4000, runs: 20 }),
      JSON.stringify({ bench: 'gpu', op: 'sgd_step', impl: 'dynasparse', shape: 'n=1', ms: 1, gbps: 3600, runs: 20 }),
      JSON.stringify({ bench: 'gpu', op: 'adam_step', impl: 'dynasparse', shape: 'n=1', ms: 1, gbps: 2800, runs: 20 }),
    ];
    fs.writeFileSync(path.join(logs, 'gpu_bench.log'), rows.join('\n') + '\n');
    const { md, json } = report(logs, path.join(dir, 'targets'), { GC_QUICK: '1' });
    expect(md).toContain("## Targets\n\nQuick sizes (a sixteenth of the issue's shapes): indicative only.");
    expect(md).toContain('| SpMM at 90% sparsity vs cuSPARSE | speedup >= 1.5 against the faster of CSR_ALG2 and CSR_ALG3 | 2 | 1.60 | 1.80 | met |');
    expect(md).toContain('| SpMM at 70% sparsity and above vs dense cuBLAS SGEMM | speedup >= 1.0 (break-even by 70%) | 3 | 0.90 | 1.20 | not met |');
    expect(md).toContain('| 2:4 on sparse tensor cores (bf16) vs dense cuBLAS fp16 | speedup >= 1.3 | 0 | - | - | not measured |');
    expect(md).toContain('| topkGrowth vs the equivalent cuBLAS SGEMM | speedup >= 1/1.3 (at most 1.3x the GEMM\'s time) | 1 | 0.80 | 0.80 | met |');
    expect(md).toContain('| fused optimizer updates (SGD, Adam) vs copy bandwidth | GB/s >= 0.8 x cudaMemcpy device to device | 2 | 0.70 | 0.80 | not met |');
    expect(json.targets.map((t: { status: string }) => t.status)).toEqual(['met', 'not met', 'not measured', 'met', 'not met']);
    expect(json.targets[0]).toMatchObject({ count: 2, worst: 1.6, median: 1.8, threshold: 1.5 });
  });
});
