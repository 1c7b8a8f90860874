/** `gist pipeline --plan` flags: what shapes a plan (written instead of run) rather than the run itself. */
import { Flags } from '@oclif/core';
import { PLAN_DEFAULTS, PLAN_KINDS } from '../core/pipeline/plan.js';

export const planFlags = {
    plan: Flags.string({ description: 'write the run as a plan instead of running it: Kubernetes Jobs, an Argo Workflow, or a GNU parallel script', options: [...PLAN_KINDS], helpGroup: 'PLAN' }),
    shards: Flags.integer({ description: `shards of each sharded step (GSU search, …) [default: ${PLAN_DEFAULTS.shards}]`, min: 1, helpGroup: 'PLAN' }),
    'plan-file': Flags.string({ description: 'where the plan goes (- = stdout) [default: -]', helpGroup: 'PLAN' }),
    image: Flags.string({ description: `k8s/argo: container image with gist on its PATH [default: ${PLAN_DEFAULTS.image}]`, helpGroup: 'PLAN' }),
    cpu: Flags.string({ description: `k8s/argo: CPU of each step's container, requests = limits [default: ${PLAN_DEFAULTS.cpu}]`, helpGroup: 'PLAN' }),
    memory: Flags.string({ description: `k8s/argo: memory of each step's container, requests = limits [default: ${PLAN_DEFAULTS.memory}]`, helpGroup: 'PLAN' }),
    'volume-claim': Flags.string({ description: `k8s/argo: PersistentVolumeClaim every pod mounts [default: ${PLAN_DEFAULTS.volumeClaim}]`, helpGroup: 'PLAN' }),
    mount: Flags.string({ description: 'k8s/argo: where the volume is mounted; --out and --data lie under it [default: --out]', helpGroup: 'PLAN' }),
    'run-id': Flags.string({ description: "k8s: this run's id in Job names and completion markers [default: from the clock]", helpGroup: 'PLAN' }),
};

/** Flags that only shape a plan: an error without --plan. */
export const PLAN_ONLY_FLAGS = ['shards', 'plan-file', 'image', 'cpu', 'memory', 'volume-claim', 'mount', 'run-id'] as const;
