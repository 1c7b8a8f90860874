/** The training engine: backend setup, gradients, kernel fixes, parameters, training step, model files. */
export { BACKEND_NAMES, BackendUnavailableError, initBackend, type BackendName } from './backend.js';
export { GRADIENT_KERNELS, registerGradients } from './gradients.js';
export { isKernelFixed, registerCpuKernelFixes, registerWasmKernelFixes, unregisterCpuKernelFixes, unregisterWasmKernelFixes } from './kernels.js';
export { CONFIG_JSON, loadWeights, ModelFormatError, saveWeights, WEIGHTS_BIN, WEIGHTS_JSON, type WeightDType, type WeightEntry, type WeightMap } from './model-io.js';
export {
  DenseParams,
  EmbeddingBatch,
  PAD_ID,
  SparseEmbedding,
  type AdamConfig,
  type EmbeddingConfig,
  type RandomSource,
} from './sparse-embedding.js';
export { trainStep, type SparseBinding, type TrainStepOptions } from './train.js';
