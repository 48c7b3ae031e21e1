/* Extensions of the CPU backend next to the official aclnn API: the facts the Python layer reads
 * from C (dtype table, status names, version), the engine that runs the operator (the native
 * implementation, or the kernel on the Ascend C emulator), threads, the emulator engine's platform
 * and per-core trace, and the time model. Not part of CANN; a program that uses only
 * aclnn_moe_re_routing.h builds against CANN unchanged. */
#ifndef MOE_RE_ROUTING_CPU_H
#define MOE_RE_ROUTING_CPU_H

#include <stdint.h>

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MOE_RE_ROUTING_API __attribute__((visibility("default")))

/* One row of the operator's dtype table (op_host/moe_re_routing_dtypes.h). */
typedef struct {
    int32_t code;      /* aclDataType */
    const char *name;  /* e.g. "BF16" */
    uint32_t bits;     /* bits per element (4 for packed fp4) */
    uint32_t roles;    /* mask of the role bits MoeReRoutingDtypeRole returns */
} MoeReRoutingDtypeInfo;

/* Sets *table to the dtype table and returns its length. */
MOE_RE_ROUTING_API int32_t MoeReRoutingDtypeTable(const MoeReRoutingDtypeInfo **table);

/* The bit of a role in MoeReRoutingDtypeInfo.roles: "tokens", "tokens_official" (accepted by the
 * official operator), "counts", "scales" or "packed4" (two elements per byte); 0 for other names. */
MOE_RE_ROUTING_API uint32_t MoeReRoutingDtypeRole(const char *role);

/* One status value this library returns or reports: the aclnn statuses of aclnn_base.h and the
 * aclError values of acl/acl_base.h. */
typedef struct {
    int32_t code;      /* e.g. 161002 */
    const char *name;  /* e.g. "ACLNN_ERR_PARAM_INVALID" */
} MoeReRoutingStatusInfo;

/* Sets *table to the status table (every ACLNN_* and ACL_* value of the headers) and returns its
 * length. Language bindings read the values from here instead of retyping them. */
MOE_RE_ROUTING_API int32_t MoeReRoutingStatusTable(const MoeReRoutingStatusInfo **table);

/* The name of a status in the table ("ACLNN_ERR_PARAM_INVALID"; 0 is "ACLNN_SUCCESS"); "UNKNOWN"
 * for other values. */
MOE_RE_ROUTING_API const char *MoeReRoutingStatusName(aclnnStatus status);

/* What the calling thread's last error is about, so that a caller can classify it without reading
 * the message. Every entry point of the operator (aclnnMoeReRoutingGetWorkspaceSize,
 * aclnnMoeReRouting, MoeReRoutingCpuRunHost) first resets it to NONE, so after a success it is
 * NONE and aclGetRecentErrMsg() is ""; a failure sets both. Per thread, like the message. */
typedef enum {
    MOE_RE_ROUTING_ERROR_NONE = 0,     /* no error */
    MOE_RE_ROUTING_ERROR_NULLPTR = 1,  /* a required tensor or pointer is null (ACLNN_ERR_PARAM_NULLPTR) */
    MOE_RE_ROUTING_ERROR_TYPE = 2,     /* a dtype the parameter does not accept (ACLNN_ERR_PARAM_INVALID) */
    MOE_RE_ROUTING_ERROR_VALUE = 3,    /* rank, shape, format, attribute, count value, overlap (ACLNN_ERR_PARAM_INVALID) */
    MOE_RE_ROUTING_ERROR_TILING = 4,   /* the tiling cannot be built (ACLNN_ERR_INNER_TILING_ERROR) */
    MOE_RE_ROUTING_ERROR_RUNTIME = 5,  /* the launch, a stream or an AscendCL runtime call failed */
    MOE_RE_ROUTING_ERROR_INNER = 6,    /* internal failure, e.g. out of memory (ACLNN_ERR_INNER) */
} MoeReRoutingErrorKind;

/* The MoeReRoutingErrorKind of the calling thread's last error. */
MOE_RE_ROUTING_API int32_t MoeReRoutingLastErrorKind(void);

/* "none", "nullptr", "type", "value", "tiling", "runtime", "inner"; "unknown" for other values. */
MOE_RE_ROUTING_API const char *MoeReRoutingErrorKindName(int32_t kind);

/* Package version, e.g. "0.1.0". */
MOE_RE_ROUTING_API const char *MoeReRoutingVersion(void);

/* One SoC the CPU backend can stand in for (the table is ascendc_cpu/platform.h). */
typedef struct {
    const char *name;          /* e.g. "Ascend910B" */
    uint32_t aivCoreNum;       /* vector cores; 0 when not known (Ascend950) */
    uint32_t ubBytes;          /* UB per core as the SoC reports it (GetCoreMemSize(UB)) */
    uint32_t ubReservedBytes;  /* kept by the Ascend C runtime (the kernel is built keeping it) */
    uint32_t ubUsableBytes;    /* ubBytes - ubReservedBytes: what the tiling plans within */
} MoeReRoutingSocInfo;

/* Sets *table to the SoC table and returns its length. */
MOE_RE_ROUTING_API int32_t MoeReRoutingCpuSocTable(const MoeReRoutingSocInfo **table);
/* The SoC of the default platform ("Ascend910B"). */
MOE_RE_ROUTING_API const char *MoeReRoutingCpuDefaultSoc(void);

/* The engine that runs aclnnMoeReRouting (and MoeReRoutingCpuRunHost):
 * - "native": the native multi-threaded implementation, plain row-block copies (the default; what
 *   applications, the Python package, ONNX Runtime and MindSpore run);
 * - "emulator": the Ascend C kernel of op_kernel/ on the emulator with every hardware rule checked,
 *   tiled for the selected SoC platform, from the plug-in libmoe_re_routing_emulator.so installed
 *   next to this library (loaded on first use; MOE_RE_ROUTING_EMULATOR_LIBRARY overrides its path).
 * Initially the environment variable MOE_RE_ROUTING_ENGINE (native | emulator; unset: native; any
 * other value fails every call with a message naming the variable), read at the first call. MoeReRoutingCpuSetEngine
 * selects for later runs of every thread ("" or NULL: back to the environment's choice). A run that
 * writes a profile (MoeReRoutingCpuSetProfileDir) always runs the emulator. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetEngine(const char *engine);
/* "native", "emulator", or "invalid" when MOE_RE_ROUTING_ENGINE names no engine. */
MOE_RE_ROUTING_API const char *MoeReRoutingCpuEngineName(void);

/* Threads of later runs, the caller included (0 = hardware concurrency): the native engine splits a
 * large call over up to this many; the emulator engine runs its blocks on this many. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetThreads(uint32_t threads);
MOE_RE_ROUTING_API uint32_t MoeReRoutingCpuGetThreads(void);

/* The SoC platform the emulator engine tiles for: a SoC of the table (default Ascend910B: 48 AIV
 * cores, 196352 - 8192 = 188160 B of UB) or numbers set by hand (named "custom").
 * MoeReRoutingCpuSelectPlatform(SoC name, aivCoreNum) selects a SoC; aivCoreNum 0 means the SoC's
 * own count (required for a SoC whose count is not known). Unusable values return
 * ACLNN_ERR_PARAM_INVALID with the reason in aclGetRecentErrMsg(). */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSelectPlatform(const char *name, uint32_t aivCoreNum);
/* Sets the SoC platform's numbers (0 keeps a field). */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetPlatform(uint32_t aivCoreNum, uint32_t ubBytes);
/* The platform an emulator run started now uses: its numbers and its name. */
MOE_RE_ROUTING_API void MoeReRoutingCpuGetPlatform(uint32_t *aivCoreNum, uint32_t *ubBytes);
MOE_RE_ROUTING_API const char *MoeReRoutingCpuPlatformName(void);

/* Per-core tracing of later emulator runs on any thread; chromeTracePath (may be NULL) receives a Chrome
 * trace JSON of the DMA operations per core for each run. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetTrace(int32_t enabled, const char *chromeTracePath);

/* The whole operator on host memory in one call, for language bindings whose per-call cost is
 * dominated by building aclTensors (Python/cffi): equivalent to aclCreateTensor for the seven
 * tensors (contiguous ND, offset 0), aclnnMoeReRoutingGetWorkspaceSize, aclnnMoeReRouting on the
 * default stream and aclDestroyTensor, with the same checks, status codes and
 * aclGetRecentErrMsg() messages. `desc` lists the tensors in the order of
 * aclnnMoeReRoutingGetWorkspaceSize (tokens, counts, scales, then the four outputs), each as
 * {aclDataType, dimNum, dims[0..dimNum)}; an absent per_token_scales is {-1, 0} with a null
 * pointer. descLen is the number of int64 values in desc. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuRunHost(const int64_t *desc, int64_t descLen, void *tokens,
                                                      void *expertTokenNumPerRank, void *perTokenScales,
                                                      void *permuteTokens, void *permutePerTokenScales,
                                                      void *permuteTokenIdx, void *expertTokenNum,
                                                      int64_t expertTokenNumType, int64_t idxType);

/* MoeReRoutingCpuRunHost for MoeReRoutingV2: `desc` lists the nine tensors in the order of
 * aclnnMoeReRoutingV2GetWorkspaceSize (tokens, counts, scales, weights, then the five outputs); the
 * optional scales and the weight pair are {-1, 0} with a null pointer when absent. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuRunHostV2(const int64_t *desc, int64_t descLen, void *tokens,
                                                        void *expertTokenNumPerRank, void *perTokenScales,
                                                        void *expertTopkWeight, void *permuteTokens,
                                                        void *permutePerTokenScales, void *permuteTokenIdx,
                                                        void *expertTokenNum, void *permuteTopkWeight,
                                                        int64_t expertTokenNumType, int64_t idxType);

/* MoeReRoutingCpuRunHostV2 for MoeReRoutingWithCapacity (aclnn_moe_re_routing_with_capacity.h): the
 * same nine tensors, plus num_max_tokens_per_rank and restore (0 or 1). */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuRunHostWithCapacity(
    const int64_t *desc, int64_t descLen, void *tokens, void *expertTokenNumPerRank, void *perTokenScales,
    void *expertTopkWeight, void *permuteTokens, void *permutePerTokenScales, void *permuteTokenIdx,
    void *expertTokenNum, void *permuteTopkWeight, int64_t numMaxTokensPerRank, int64_t expertTokenNumType,
    int64_t idxType, int32_t restore);

/* Output inference (op_host's InferOutputs, docs/spec.md "Outputs"), for language bindings that
 * allocate outputs: the dtypes and shapes of permute_tokens, permute_per_token_scales,
 * permute_token_idx, expert_token_num and (MoeReRoutingV2) permute_topk_weight from the inputs'.
 * `inputs` (inputsLen int64 values) describes tokens, expert_token_num_per_rank, per_token_scales
 * and optionally (MoeReRoutingV2) expert_topk_weight, in that order, each
 * {aclDataType, dimNum, dims[0..dimNum)} as in MoeReRoutingCpuRunHost; an absent optional input is
 * {-1, 0} (expert_topk_weight may also be left out); dimNum -1 is a rank not known yet (no dims
 * follow) and a dimension -1 one not known yet. Input dtype codes are copied to the outputs that
 * take an input's dtype, never interpreted.
 * `outputs` receives MOE_RE_ROUTING_INFER_OUTPUTS_LEN values: per output, in the order above, a
 * slot of MOE_RE_ROUTING_INFER_SLOT values {aclDataType, dimNum, dims[0..MOE_RE_ROUTING_MAX_DIMS)}
 * (dimNum -1: rank not known; unused dims 0; permute_topk_weight without expert_topk_weight:
 * {-1, 0, ...}).
 * Returns ACLNN_SUCCESS; ACLNN_ERR_PARAM_NULLPTR for a null pointer or an absent tokens / counts;
 * ACLNN_ERR_PARAM_INVALID for a malformed `inputs`, more than MOE_RE_ROUTING_MAX_DIMS dimensions or
 * a known rank the operator never takes, with the reason in aclGetRecentErrMsg() and the kind in
 * MoeReRoutingLastErrorKind(); on failure nothing is written. Dimension values are checked by the
 * operator's entry points, not here. */
#define MOE_RE_ROUTING_MAX_DIMS 8
#define MOE_RE_ROUTING_INFER_SLOT (2 + MOE_RE_ROUTING_MAX_DIMS)
#define MOE_RE_ROUTING_INFER_OUTPUTS_LEN (5 * MOE_RE_ROUTING_INFER_SLOT)
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingInferOutputs(const int64_t *inputs, int64_t inputsLen, int64_t *outputs);

/* JSON of the last aclnnMoeReRouting run on the calling thread. "engine" says which ran. A native
 * run reports "threads" and the problem (tokenNum, rankNum, expertNum, row bytes, countBytes,
 * expertTokenNumType, idxType). An emulator run reports the tiling fields, "block_dim", "ub_bytes", the platform that ran ("platform", "platform_cores",
 * "platform_ub_bytes") and, when tracing was on, "cores": one object per block with
 * "bytes_in", "bytes_out", "dma_ops", "ub_high_water", "seconds", the instruction counters
 * "scalar_ub_reads", "scalar_ub_writes", "scalar_gm_reads", "scalar_gm_writes", "scalar_ops" (their
 * sum), "vector_ops", "vector_repeats", "set_flags", "wait_flags", "pipe_barriers", "queue_ops",
 * and "dma": every DMA instruction in issue order as {"dir": "GM->UB"|"UB->GM"|"UB->UB",
 * "api": "DataCopy"|"DataCopyPad", "bytes", "bursts", "burst_bytes"} (docs/cpu_backend.md, Trace).
 * "" when this thread has not run the operator. Valid until the next run on this thread. */
MOE_RE_ROUTING_API const char *MoeReRoutingCpuLastRunJson(void);

/* ---- Time model (docs/time_model.md): modelled Atlas A2 times from the emulator's trace ---- */

/* One core's trace as the model reads it (ascendc_cpu::CoreTrace / the last-run JSON "cores"). */
typedef struct {
    double bytesIn;       /* GM -> UB data bytes */
    double bytesOut;      /* UB -> GM data bytes */
    double dmaInOps;      /* GM -> UB DMA instructions that move data */
    double dmaOutOps;     /* UB -> GM DMA instructions that move data */
    double gmScalarOps;   /* scalar GM reads + writes (GlobalTensor::GetValue/SetValue) */
    double scalarUbOps;   /* scalar UB reads + writes (LocalTensor::GetValue/SetValue) */
    double vectorOps;     /* vector instructions */
} MoeReRoutingModelCore;

/* Modelled busy time of each unit of one core, in microseconds; coreUs is the core's time. */
typedef struct {
    double mte2Us;
    double mte3Us;
    double scalarUs;
    double vectorUs;
    double coreUs;
} MoeReRoutingModelCoreTime;

#define MOE_RE_ROUTING_MODEL_PARAM_COUNT 7

/* The model's parameter names (e.g. "launch_us") and calibrated values, in evaluation order.
 * Returns MOE_RE_ROUTING_MODEL_PARAM_COUNT. */
MOE_RE_ROUTING_API int32_t MoeReRoutingModelParameters(const char *const **names, const double **values);

/* Modelled kernel time in microseconds of a run whose cores did `cores[0..coreNum)`, with
 * `params` (MOE_RE_ROUTING_MODEL_PARAM_COUNT values; NULL = the calibrated ones). perCore may be
 * NULL. Returns a negative value for coreNum < 1 or a null cores pointer. */
MOE_RE_ROUTING_API double MoeReRoutingModelEvaluate(const MoeReRoutingModelCore *cores, int32_t coreNum,
                                                    const double *params, MoeReRoutingModelCoreTime *perCore);

/* The calling thread's last run as model input, one entry per core (tracing must have been on):
 * fills cores[0..min(n, capacity)) and returns n (0 when there is no traced run). */
MOE_RE_ROUTING_API int32_t MoeReRoutingCpuLastRunModelCores(MoeReRoutingModelCore *cores, int32_t capacity);

/* msprof-shaped profiles of later aclnnMoeReRouting runs (any thread; such runs use the emulator
 * engine, whose trace the model prices): each run writes
 * <dir>/OPPROF_<timestamp>_<id>/ with OpBasicInfo.csv, PipeUtilization.csv, trace.json and a
 * README.txt, all times *modelled*. NULL or "" turns it off. The initial value is the environment
 * variable MOE_RE_ROUTING_PROFILE_DIR. */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetProfileDir(const char *dir);

/* Whether profiled runs (MoeReRoutingCpuSetProfileDir) also write simulator/: the msprof op
 * simulator layout, per core, instruction and kernel source line, all *modelled*
 * (docs/profiling.md). Nonzero: on. The initial value is the environment variable
 * MOE_RE_ROUTING_PROFILE_SIMULATOR (set and not "0": on). */
MOE_RE_ROUTING_API aclnnStatus MoeReRoutingCpuSetProfileSimulator(int32_t enabled);

/* The directory the calling thread's last profiled run wrote ("" when none). */
MOE_RE_ROUTING_API const char *MoeReRoutingCpuLastProfilePath(void);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RE_ROUTING_CPU_H */
