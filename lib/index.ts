/**
 * dynasparse: dynamic sparse training for Node.js.
 *
 * Everything public is exported from here with full types. See README.md and
 * the examples/ folder for complete training programs.
 */
export { DynasparseError } from './errors';
export type { ErrorCode } from './errors';
export { backends, defaultDevice, setDefaultDevice, memory, resetPeakMemory, synchronize } from './device';
import { warnAboutEnvironment } from './device';
export type { Device, CpuBackendInfo, CudaBackendInfo, MemoryInfo } from './device';
export { Tensor, tensor, zeros, full, randn, rand } from './tensor';
export type { DType, ArrayOf, TensorData, NestedArray, TensorOptions, RandnOptions, RandOptions } from './tensor';
export { CsrMatrix } from './csr';
export type { CsrArrays, CsrInit, CsrRandomOptions, CsrFromDenseOptions } from './csr';
export { rebuildTopology, gatherByMap, randomGrowth } from './topology';
export type { TopologyChange } from './topology';
export { CHECKPOINT_VERSION, crc32, encodeCheckpoint, decodeCheckpoint, writeCheckpointFile, readCheckpointFile } from './checkpoint';
export type { CheckpointArray, CheckpointContents, JsonValue } from './checkpoint';
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
export { topkGrowth, topkDense, bottomkMagnitude } from './topk';
export type { GrowthSelection, DropSelection } from './topk';
export { matmul } from './matmul';
export type { MatmulOptions } from './matmul';
export { gradmaxOutgoing } from './gradmax';
export type { GradmaxOutgoingOptions, GradmaxOutgoing } from './gradmax';
export { toFeatureMajor, toBatchMajor } from './layers/layer';
export type { Layer, Parameter } from './layers/layer';
export { SparseLinear } from './layers/sparse-linear';
export type { SparseLinearOptions } from './layers/sparse-linear';
export { Linear } from './layers/linear';
export type { LinearOptions } from './layers/linear';
export { ReLU } from './layers/relu';
export { Sequential, mlp } from './layers/sequential';
export type { MlpOptions } from './layers/sequential';
export { Trainer } from './train';
export type { TrainerOptions, StepResult, LossFunction } from './train';
export type { Updater, UpdaterOptions, DropGrowOptions, UpdateReport, LayerUpdateReport } from './updaters/updater';
export { Static } from './updaters/static';
export { SET } from './updaters/set';
export { RigL } from './updaters/rigl';
export { SNFS } from './updaters/snfs';
export type { SnfsOptions } from './updaters/snfs';
export { MagnitudePruning } from './updaters/magnitude-pruning';
export type { MagnitudePruningOptions } from './updaters/magnitude-pruning';
export { save, load } from './training-checkpoint';
export type { ReluBackwardOptions } from './elementwise';
export type { ReLUOptions } from './layers/relu';
export type { GrowthMaps } from './layers/growth';
export { growNeurons } from './grow';
export type { GrowMethod, GrowScaleMethod, GrowableLayer, GrowNeuronsOptions, GrowReport } from './grow';

// Once per load: environment variables with values the library ignores.
warnAboutEnvironment();
