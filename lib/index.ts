/**
 * dynasparse: dynamic sparse training for Node.js.
 *
 * Everything public is exported from here with full types. See README.md and
 * the examples/ folder for complete training programs.
 */
export { DynasparseError } from './errors';
export type { ErrorCode } from './errors';
export { backends, defaultDevice, setDefaultDevice, memory, resetPeakMemory, synchronize } from './device';
export type { Device, CpuBackendInfo, CudaBackendInfo, MemoryInfo } from './device';
export { Tensor, tensor, zeros, full, randn, rand } from './tensor';
export type { DType, ArrayOf, TensorData, NestedArray, TensorOptions, RandnOptions, RandOptions } from './tensor';
export { CsrMatrix } from './csr';
export type { CsrArrays, CsrInit, CsrRandomOptions, CsrFromDenseOptions } from './csr';
export { gatherValues } from './csr';
export type { CsrTransposed, GatherValuesOptions } from './csr';
export { Sparse24Matrix } from './sparse24';
export { spmm } from './spmm';
export type { SpmmOptions } from './spmm';
export { sddmm } from './sddmm';
export type { SddmmOptions } from './sddmm';
export { uniform, erdosRenyi, erk, sparsityDistribution } from './distributions';
export type { LayerSpec, LayerSparsity, DistributionOptions, ErkOptions, DistributionName } from './distributions';
export { constant, cosineDecay, gradualPruning, UpdateSchedule } from './schedules';
export type { Schedule, CosineDecayOptions, GradualPruningOptions, UpdateScheduleOptions } from './schedules';
export { relu, reluBackward, addBias, biasGrad, softmaxCrossEntropy, accuracy, add, axpy } from './elementwise';
export type { Labels, AddBiasOptions, SoftmaxCrossEntropyResult } from './elementwise';
export { Optimizer, SGD, Adam } from './optim';
export type { ParamUpdate, ParamState, SgdState, AdamState, SgdOptions, AdamOptions } from './optim';
export { topkGrowth, bottomkMagnitude } from './topk';
export type { GrowthSelection, DropSelection } from './topk';
export { matmul } from './matmul';
export type { MatmulOptions } from './matmul';
export { gradmaxOutgoing } from './gradmax';
export type { GradmaxOutgoingOptions, GradmaxOutgoing } from './gradmax';
