// aclnnMoeReRouting, aclnnMoeReRoutingV2 and aclnnMoeReRoutingWithCapacity on the CPU backend (V1 is
// V2 without the weight pair; WithCapacity is V2 with a slot stride).
// Phase 1 validates every host-visible property with the
// pure op_host checks and hands out an executor; phase 2 runs it on the selected engine (engine.h):
// the native implementation (cpu_backend/native), or the unchanged kernel (op_kernel/) on the Ascend
// C emulator with the NPU's tiling and block split (the emulator plug-in, loaded on first use).
#include "aclnn_moe_re_routing.h"
#include "aclnn_moe_re_routing_v2.h"
#include "aclnn_moe_re_routing_with_capacity.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "acl_cpu_internal.h"
#include "engine.h"
#include "moe_re_routing_cpu.h"
#include "moe_re_routing_cpu_state.h"
#include "moe_re_routing_dtypes.h"
#include "moe_re_routing_host.h"
#include "moe_re_routing_native.h"
#include "simulator_profile.h"
#include "time_model.h"

namespace moe_re_routing {
namespace {

// ---- facts that must agree across headers ----------------------------------------------------
static_assert(ACLNN_SUCCESS == kSuccess && ACLNN_ERR_PARAM_NULLPTR == kErrParamNullptr &&
                  ACLNN_ERR_PARAM_INVALID == kErrParamInvalid && ACLNN_ERR_RUNTIME_ERROR == kErrRuntime &&
                  ACLNN_ERR_INNER == kErrInner && ACLNN_ERR_INNER_TILING_ERROR == kErrTiling,
              "aclnn status values and moe_re_routing::Status disagree");
static_assert(ACL_FORMAT_NCHW == kFormatNCHW && ACL_FORMAT_NHWC == kFormatNHWC && ACL_FORMAT_ND == kFormatND,
              "aclFormat values and op_host format constants disagree");

// Problems that move less than this run their blocks one after another on the caller: the
// thread-pool hand-off would cost more than the copy.
constexpr int64_t kSequentialBytes = 64 * 1024;

// Required workspace: the kernel uses none (no system workspace is needed on the CPU).
constexpr uint64_t kWorkspaceBytes = 0;

// ---- errors ----------------------------------------------------------------------------------
// A failure: the thread's last error gets the message and its kind (moe_re_routing_cpu.h).
aclnnStatus Fail(const Result &result)
{
    acl_cpu::SetRecentError(static_cast<int32_t>(result.Kind()), result.message);
    return result.status;
}

aclnnStatus Fail(int32_t status, const std::string &message)
{
    return Fail(Result{status, message});
}

// ---- tensors -------------------------------------------------------------------------------
// One tensor argument as validated: its host description and, once the problem is known, its
// data range.
struct TensorArg {
    const char *name;        // parameter name as in the operator contract
    const aclTensor *tensor; // may be null for the optional input
    int64_t bytes = 0;
};

bool CheckedMul(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

Result Describe(const TensorArg &arg, TensorDesc *desc)
{
    Result result;
    *desc = TensorDesc{};
    if (arg.tensor == nullptr) {
        return result;  // absent (only reachable for the optional tensor)
    }
    const aclTensor &t = *arg.tensor;
    if (t.viewDims.size() > kMaxDims) {
        result.status = kErrParamInvalid;
        result.message = std::string(arg.name) + " has " + std::to_string(t.viewDims.size()) +
                         " dimensions; at most " + std::to_string(kMaxDims) + " are supported";
        return result;
    }
    desc->present = true;
    desc->dtype = t.dataType;
    desc->format = t.format;
    desc->dimNum = static_cast<uint32_t>(t.viewDims.size());
    for (size_t i = 0; i < t.viewDims.size(); ++i) {
        desc->dims[i] = t.viewDims[i];
    }
    // A shape whose element count does not fit int64 describes no memory.
    int64_t elements = 1;
    for (int64_t d : t.viewDims) {
        if (d >= 0 && !CheckedMul(elements, d, &elements)) {
            result.status = kErrParamInvalid;
            result.message = std::string(arg.name) + " has a shape of more than 2^63 elements (dimension " +
                             std::to_string(d) + ")";
            return result;
        }
    }
    // Contiguous: offset 0 and each stride equals the row-major stride (dims of size 1 may carry
    // any stride, as they are never stepped over). The element count fits int64, but a shape with
    // a zero dimension can still have a product of its other dimensions that does not: a row-major
    // stride that cannot be represented matches no stride, so such a view is not contiguous.
    bool contiguous = t.offset == 0;
    if (!t.strides.empty()) {
        int64_t expected = 1;
        for (size_t i = t.viewDims.size(); i-- > 0 && contiguous;) {
            if (t.viewDims[i] != 1 && t.strides[i] != expected) {
                contiguous = false;
            }
            const int64_t dim = t.viewDims[i] >= 0 ? t.viewDims[i] : 1;
            if (!CheckedMul(expected, dim, &expected)) {
                contiguous = false;
            }
        }
    }
    desc->contiguous = contiguous;
    return result;
}

// Byte sizes of every buffer, from the checked problem.
Result ComputeBytes(const Problem &p, TensorArg *args)
{
    const int64_t countCells = p.rankNum * p.expertNum;
    // In the order of emulator::Slot.
    const int64_t sizes[emulator::kTensorCount][2] = {
        {p.tokenNum, p.tokenRowBytes},  {countCells, p.countBytes},         {p.tokenNum, p.scaleRowBytes},
        {p.tokenNum, p.weightRowBytes}, {p.tokenNum, p.tokenRowBytes},      {p.tokenNum, p.outScaleRowBytes},
        {p.tokenNum, int64_t{sizeof(int32_t)}}, {p.expertNum, p.countBytes}, {p.tokenNum, p.weightRowBytes},
    };
    Result result;
    for (int i = 0; i < emulator::kTensorCount; ++i) {
        if (!CheckedMul(sizes[i][0], sizes[i][1], &args[i].bytes)) {
            result.status = kErrParamInvalid;
            result.message = std::string(args[i].name) + " is larger than 2^63 bytes";
            return result;
        }
    }
    return result;
}

// Outputs must not share memory with any other tensor: the kernel reads inputs while other cores
// write outputs.
Result CheckNoOverlap(const TensorArg *args, int count, int firstOutput)
{
    Result result;
    for (int out = firstOutput; out < count; ++out) {
        for (int other = 0; other < count; ++other) {
            if (other == out || args[out].bytes == 0 || args[other].bytes == 0 || args[other].tensor == nullptr) {
                continue;
            }
            // Addresses as integers and distances instead of end pointers: a claimed size can
            // exceed the address space (the check that the memory exists is the caller's).
            const auto a = reinterpret_cast<uintptr_t>(args[out].tensor->data);
            const auto b = reinterpret_cast<uintptr_t>(args[other].tensor->data);
            const bool overlaps = a >= b ? a - b < static_cast<uint64_t>(args[other].bytes)
                                         : b - a < static_cast<uint64_t>(args[out].bytes);
            if (overlaps) {
                result.status = kErrParamInvalid;
                result.message = std::string(args[out].name) + " overlaps " + args[other].name +
                                 " in memory; each output needs its own buffer";
                return result;
            }
        }
    }
    return result;
}

}  // namespace
}  // namespace moe_re_routing

// The executor of one aclnnMoeReRouting call: the checked problem, the buffers, the engine and (on
// the emulator) the tiling; nothing borrowed from the aclTensors (they may be destroyed between the
// two phases, as on CANN).
struct aclOpExecutor {
    static constexpr int kTensorCount = moe_re_routing::emulator::kTensorCount;
    uint8_t *data[kTensorCount] = {};  // by moe_re_routing::emulator::Slot
    int64_t bytes[kTensorCount] = {};
    moe_re_routing::Problem problem;
    moe_re_routing::cpu::Engine engine = moe_re_routing::cpu::Engine::kNative;
    MoeReRoutingTilingData tiling{};            // emulator only
    moe_re_routing::MoeReRoutingTilingReport report;  // emulator only: the tiling key, what reports show
    moe_re_routing::cpu::RunPlatform platform;  // emulator only
    std::string profileDir;  // read once when planned: a profile models the NPU, so it runs the emulator
    bool profileSimulator = false;  // the profile also writes simulator/ (read with profileDir)
};

namespace moe_re_routing {
namespace {

// Executors handed out and not yet consumed. A pointer not in the set (reused, foreign) is
// rejected without being dereferenced.
struct ExecutorRegistry {
    std::mutex mutex;
    std::unordered_set<aclOpExecutor *> live;
};

ExecutorRegistry &Executors()
{
    static ExecutorRegistry *registry = new ExecutorRegistry();  // never destroyed
    return *registry;
}

void RegisterExecutor(aclOpExecutor *executor)
{
    ExecutorRegistry &r = Executors();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.live.insert(executor);
}

// MOE_RE_ROUTING_PROFILE_DIR / MoeReRoutingCpuSetProfileDir: an msprof-shaped directory of
// modelled times for this run (docs/time_model.md). A directory that cannot be written costs the
// call nothing but a warning on stderr: the operator's result is already complete.
void WriteRunProfile(const std::string &dir, const aclOpExecutor &ex, const emulator::LaunchSettings &config,
                     const std::vector<ascendc_cpu::CoreTrace> &cores)
{
    const Problem &p = ex.problem;
    model::ProfileRun run;
    run.shapeText = "A " + std::to_string(p.tokenNum) + ", token row " + std::to_string(p.tokenRowBytes) +
                    " B, N " + std::to_string(p.rankNum) + ", E " + std::to_string(p.expertNum) + ", counts " +
                    std::to_string(p.countBytes) + " B, scale row " + std::to_string(p.scaleRowBytes) + " B";
    if (p.srcSlotRows > 0 || p.dstSlotRows > 0) {
        run.shapeText += ", capacity " + std::to_string(std::max(p.srcSlotRows, p.dstSlotRows)) +
                         (p.dstSlotRows > 0 ? " (restore)" : "");
    }
    run.blockDim = config.blockDim;
    run.platformCores = ex.platform.platform.aivCoreNum;
    run.platformUbBytes = ex.platform.platform.ubBytes;
    run.cores = cores;
    run.simulator = config.collectInstructions;
    std::string error;
    const std::string path = model::WriteProfile(dir, run, &error);
    if (path.empty()) {
        std::fprintf(stderr, "moe_re_routing: warning: no profile written (MOE_RE_ROUTING_PROFILE_DIR): %s\n",
                     error.c_str());
    }
    model::SetLastProfilePath(path);
}

std::unique_ptr<aclOpExecutor> TakeExecutor(aclOpExecutor *executor)
{
    ExecutorRegistry &r = Executors();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.live.erase(executor) == 0) {
        return nullptr;
    }
    return std::unique_ptr<aclOpExecutor>(executor);
}

// ---- phase 1 ---------------------------------------------------------------------------------
using TensorArgs = TensorArg[aclOpExecutor::kTensorCount];
using emulator::Slot;

// The attributes of one call. MoeReRouting and MoeReRoutingV2 have no capacity.
struct Attributes {
    int64_t expertTokenNumType = 1;
    int64_t idxType = 0;
    bool withCapacity = false;  // MoeReRoutingWithCapacity
    int64_t numMaxTokensPerRank = 0;
    bool restore = false;
};

// The nine tensors in the order of aclnnMoeReRoutingV2GetWorkspaceSize (emulator::Slot), with their
// contract names. MoeReRouting passes null for the weight pair.
void NameArgs(const aclTensor *const (&tensors)[aclOpExecutor::kTensorCount], TensorArgs &args)
{
    static const char *const kNames[aclOpExecutor::kTensorCount] = {
        "tokens",         "expert_token_num_per_rank", "per_token_scales", "expert_topk_weight",
        "permute_tokens", "permute_per_token_scales",  "permute_token_idx", "expert_token_num",
        "permute_topk_weight",
    };
    for (int i = 0; i < aclOpExecutor::kTensorCount; ++i) {
        args[i] = TensorArg{kNames[i], tensors[i]};
    }
}

bool IsOptional(int slot)
{
    return slot == Slot::kScales || slot == Slot::kWeights || slot == Slot::kPermuteWeights;
}

// Every required tensor and both out-pointers are present (the weight pair is checked by op_host:
// both or neither).
Result CheckRequired(const TensorArgs &args, const uint64_t *workspaceSize, aclOpExecutor *const *executor)
{
    for (int i = 0; i < aclOpExecutor::kTensorCount; ++i) {
        if (!IsOptional(i) && args[i].tensor == nullptr) {
            return Result{kErrParamNullptr, std::string(args[i].name) + " is null; it is a required tensor"};
        }
    }
    if (workspaceSize == nullptr) {
        return Result{kErrParamNullptr, "workspaceSize is null; it receives the workspace size"};
    }
    if (executor == nullptr) {
        return Result{kErrParamNullptr, "executor is null; it receives the executor for aclnnMoeReRouting"};
    }
    return Result{};
}

// The host descriptions of the tensors and the attributes, as op_host checks them.
Result DescribeArgs(const TensorArgs &args, const Attributes &attrs, OpArgs *opArgs)
{
    TensorDesc *descs[aclOpExecutor::kTensorCount] = {
        &opArgs->tokens,         &opArgs->expertTokenNumPerRank,  &opArgs->perTokenScales,
        &opArgs->expertTopkWeight, &opArgs->permuteTokens,        &opArgs->permutePerTokenScales,
        &opArgs->permuteTokenIdx, &opArgs->expertTokenNum,        &opArgs->permuteTopkWeight,
    };
    for (int i = 0; i < aclOpExecutor::kTensorCount; ++i) {
        const Result described = Describe(args[i], descs[i]);
        if (!described.ok()) {
            return described;
        }
    }
    opArgs->expertTokenNumType = attrs.expertTokenNumType;
    opArgs->idxType = attrs.idxType;
    opArgs->withCapacity = attrs.withCapacity;
    opArgs->numMaxTokensPerRank = attrs.numMaxTokensPerRank;
    opArgs->restore = attrs.restore;
    return Result{};
}

// The memory behind a valid problem: each tensor's bytes, a data address for every non-empty
// tensor, no output overlapping anything, and (host memory on the CPU backend) the count values.
Result CheckBuffers(const Problem &problem, TensorArgs &args)
{
    Result result = ComputeBytes(problem, args);
    if (!result.ok()) {
        return result;
    }
    for (const TensorArg &arg : args) {
        if (arg.tensor != nullptr && arg.bytes > 0 && arg.tensor->data == nullptr) {
            return Result{kErrParamNullptr, std::string(arg.name) + " has no data (null address) but holds " +
                                                std::to_string(arg.bytes) + " bytes"};
        }
    }
    result = CheckNoOverlap(args, aclOpExecutor::kTensorCount, Slot::kPermuteTokens);
    if (!result.ok()) {
        return result;
    }
    return CheckCountValues(problem, args[Slot::kCounts].tensor->data);
}

// The executor: the engine, and on the emulator the tiling on the selected SoC platform.
Result PlanRun(const Problem &problem, const TensorArgs &args, std::unique_ptr<aclOpExecutor> *executor)
{
    auto ex = std::make_unique<aclOpExecutor>();
    ex->problem = problem;
    ex->profileDir = model::CurrentProfileDir();
    ex->profileSimulator = !ex->profileDir.empty() && model::ProfileSimulatorEnabled();
    Result result = cpu::CurrentEngine(&ex->engine);
    if (!result.ok()) {
        return result;
    }
    if (!ex->profileDir.empty()) {
        ex->engine = cpu::Engine::kEmulator;  // a profile is the emulated kernel's, priced by the model
    }
    if (ex->engine == cpu::Engine::kEmulator) {
        ex->platform = cpu::CurrentPlatform();
        result = ComputeTiling(problem, ex->platform.platform, &ex->tiling, &ex->report);
        if (!result.ok()) {
            return result;
        }
        if (ex->tiling.usedCoreNum == 0) {
            return Result{kErrTiling, "the tiling launches 0 cores; at least 1 is needed to write expert_token_num"};
        }
    }
    for (int i = 0; i < aclOpExecutor::kTensorCount; ++i) {
        ex->data[i] = args[i].tensor != nullptr ? static_cast<uint8_t *>(args[i].tensor->data) : nullptr;
        ex->bytes[i] = args[i].tensor != nullptr ? args[i].bytes : 0;
    }
    *executor = std::move(ex);
    return Result{};
}

// Phase 1: every check, then the plan; on success *planned holds the executor, on any failure
// nothing (and nothing was written).
aclnnStatus Plan(TensorArgs &args, const Attributes &attrs, uint64_t *workspaceSize, aclOpExecutor *const *executor,
                 std::unique_ptr<aclOpExecutor> *planned)
{
    OpArgs opArgs;
    Problem problem;
    Result result = CheckRequired(args, workspaceSize, executor);
    if (result.ok()) {
        result = DescribeArgs(args, attrs, &opArgs);
    }
    if (result.ok()) {
        result = CheckArgs(opArgs, &problem);
    }
    if (result.ok()) {
        result = CheckBuffers(problem, args);
    }
    if (result.ok()) {
        result = PlanRun(problem, args, planned);
    }
    if (!result.ok()) {
        return Fail(result);
    }
    *workspaceSize = kWorkspaceBytes;
    return kSuccess;
}

// aclnnMoeReRoutingGetWorkspaceSize: the plan, handed to the caller as a registered executor.
aclnnStatus Prepare(TensorArgs &args, const Attributes &attrs, uint64_t *workspaceSize, aclOpExecutor **executor)
{
    if (executor != nullptr) {
        *executor = nullptr;  // whatever fails below, the caller holds no executor
    }
    std::unique_ptr<aclOpExecutor> ex;
    const aclnnStatus status = Plan(args, attrs, workspaceSize, executor, &ex);
    if (status != kSuccess) {
        return status;
    }
    *executor = ex.get();
    RegisterExecutor(ex.release());
    return kSuccess;
}

// Phase 1 of an entry point: the nine tensors in emulator::Slot order (null for an absent one);
// nothing escapes a C API (bad_alloc becomes ACLNN_ERR_INNER naming `api`).
aclnnStatus PrepareEntry(const char *api, const aclTensor *const (&tensors)[aclOpExecutor::kTensorCount],
                         const Attributes &attrs, uint64_t *workspaceSize, aclOpExecutor **executor)
{
    acl_cpu::ClearRecentError();
    try {
        TensorArgs args;
        NameArgs(tensors, args);
        return Prepare(args, attrs, workspaceSize, executor);
    } catch (const std::exception &e) {
        return Fail(kErrInner, std::string(api) + ": " + e.what());
    }
}

// ---- phase 2 ---------------------------------------------------------------------------------
Result RunNative(const aclOpExecutor &ex)
{
    native::Buffers b;
    b.tokens = ex.data[Slot::kTokens];
    b.counts = ex.data[Slot::kCounts];
    b.scales = ex.data[Slot::kScales];
    b.weights = ex.data[Slot::kWeights];
    b.permuteTokens = ex.data[Slot::kPermuteTokens];
    b.permuteScales = ex.data[Slot::kPermuteScales];
    b.permuteTokenIdx = ex.data[Slot::kPermuteTokenIdx];
    b.expertTokenNum = ex.data[Slot::kExpertTokenNum];
    b.permuteWeights = ex.data[Slot::kPermuteWeights];
    const Result result = native::Run(ex.problem, b);
    if (result.ok()) {
        cpu::SetLastNativeRun(ex.problem, native::PartsFor(ex.problem));
    }
    return result;
}

Result RunEmulated(aclOpExecutor &ex, void *workspace, uint64_t workspaceSize)
{
    const cpu::TraceSettings trace = cpu::CurrentTrace();
    emulator::LaunchRequest request;
    request.tiling = &ex.tiling;
    request.tilingKey = ex.report.tilingKey;
    request.config.blockDim = ex.tiling.usedCoreNum;
    request.config.ubBytes = ex.platform.platform.ubBytes;
    request.config.arch = ex.platform.arch;
    request.threads = cpu::EmulatorThreads();
    // Small runs stay on the calling thread. Each size fits int64 but their sum need not.
    int64_t movedBytes = 0;
    bool small = true;
    for (int i : {Slot::kTokens, Slot::kScales, Slot::kWeights, Slot::kPermuteTokens, Slot::kPermuteScales,
                  Slot::kPermuteTokenIdx, Slot::kPermuteWeights}) {
        small = small && !__builtin_add_overflow(movedBytes, ex.bytes[i], &movedBytes);
    }
    request.config.sequential = small && movedBytes < kSequentialBytes;
    request.config.collectTrace = trace.enabled || !ex.profileDir.empty();
    request.config.collectInstructions = ex.profileSimulator;
    request.config.chromeTracePath = trace.chromeTracePath;
    for (int i = 0; i < aclOpExecutor::kTensorCount; ++i) {
        request.data[i] = ex.data[i];
        request.bytes[i] = ex.bytes[i];
    }
    request.workspace = workspace;
    request.workspaceSize = workspaceSize;
    ascendc_cpu::LaunchResult launched;
    const Result result = cpu::LaunchOnEmulator(request, &launched);
    if (!result.ok()) {
        return result;
    }
    if (!ex.profileDir.empty()) {
        WriteRunProfile(ex.profileDir, ex, request.config, launched.cores);
    }
    cpu::SetLastRun(ex.tiling, ex.report, ex.platform, request.config, &launched.cores);
    return Result{};
}

// Phase 2 of an executor the caller no longer holds.
aclnnStatus Run(std::unique_ptr<aclOpExecutor> ex, void *workspace, uint64_t workspaceSize, aclrtStream stream)
{
    if (workspaceSize > 0 && workspace == nullptr) {
        return Fail(kErrParamNullptr, "workspace is null but workspaceSize is " + std::to_string(workspaceSize));
    }
    if (workspaceSize < kWorkspaceBytes) {
        return Fail(kErrParamInvalid, "workspaceSize is " + std::to_string(workspaceSize) + " but " +
                                          std::to_string(kWorkspaceBytes) + " bytes are required");
    }
    if (acl_cpu::CheckStream(stream) != ACL_SUCCESS) {
        return Fail(kErrParamInvalid, "stream is neither null (the default stream) nor a live stream created by "
                                      "aclrtCreateStream");
    }
    const Result ran = ex->engine == cpu::Engine::kNative ? RunNative(*ex) : RunEmulated(*ex, workspace, workspaceSize);
    if (!ran.ok()) {
        if (ran.status == kErrRuntime) {
            acl_cpu::RecordStreamError(stream, ACL_ERROR_FAILURE);
        }
        return Fail(ran);
    }
    return kSuccess;
}

aclnnStatus Execute(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream)
{
    if (executor == nullptr) {
        return Fail(kErrParamNullptr, "executor is null; pass the one aclnnMoeReRoutingGetWorkspaceSize returned");
    }
    // From here on the executor is consumed whatever happens, as on CANN.
    std::unique_ptr<aclOpExecutor> ex = TakeExecutor(executor);
    if (ex == nullptr) {
        return Fail(kErrParamInvalid,
                    "executor was already consumed by an earlier aclnnMoeReRouting call or was not returned by "
                    "aclnnMoeReRoutingGetWorkspaceSize; call aclnnMoeReRoutingGetWorkspaceSize again");
    }
    return Run(std::move(ex), workspace, workspaceSize, stream);
}

}  // namespace
}  // namespace moe_re_routing

extern "C" {

aclnnStatus aclnnMoeReRoutingGetWorkspaceSize(const aclTensor *tokens, const aclTensor *expertTokenNumPerRank,
                                              const aclTensor *perTokenScalesOptional, int64_t expertTokenNumType,
                                              int64_t idxType, const aclTensor *permuteTokensOut,
                                              const aclTensor *permutePerTokenScalesOut,
                                              const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
                                              uint64_t *workspaceSize, aclOpExecutor **executor)
{
    return moe_re_routing::PrepareEntry(
        "aclnnMoeReRoutingGetWorkspaceSize",
        {tokens, expertTokenNumPerRank, perTokenScalesOptional, nullptr, permuteTokensOut, permutePerTokenScalesOut,
         permuteTokenIdxOut, expertTokenNumOut, nullptr},
        {expertTokenNumType, idxType}, workspaceSize, executor);
}

aclnnStatus aclnnMoeReRouting(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream)
{
    acl_cpu::ClearRecentError();
    return moe_re_routing::Execute(workspace, workspaceSize, executor, stream);
}

aclnnStatus aclnnMoeReRoutingV2GetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank, const aclTensor *perTokenScalesOptional,
    const aclTensor *expertTopkWeightOptional, int64_t expertTokenNumTypeOptional, int64_t idxTypeOptional,
    const aclTensor *permuteTokensOut, const aclTensor *permutePerTokenScalesOut, const aclTensor *permuteTokenIdxOut,
    const aclTensor *expertTokenNumOut, const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize,
    aclOpExecutor **executor)
{
    return moe_re_routing::PrepareEntry(
        "aclnnMoeReRoutingV2GetWorkspaceSize",
        {tokens, expertTokenNumPerRank, perTokenScalesOptional, expertTopkWeightOptional, permuteTokensOut,
         permutePerTokenScalesOut, permuteTokenIdxOut, expertTokenNumOut, permuteTopkWeightOutOptional},
        {expertTokenNumTypeOptional, idxTypeOptional}, workspaceSize, executor);
}

aclnnStatus aclnnMoeReRoutingV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream)
{
    acl_cpu::ClearRecentError();
    return moe_re_routing::Execute(workspace, workspaceSize, executor, stream);
}

aclnnStatus aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank, const aclTensor *perTokenScalesOptional,
    const aclTensor *expertTopkWeightOptional, int64_t numMaxTokensPerRank, int64_t expertTokenNumTypeOptional,
    int64_t idxTypeOptional, bool restoreOptional, const aclTensor *permuteTokensOut,
    const aclTensor *permutePerTokenScalesOut, const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
    const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor)
{
    return moe_re_routing::PrepareEntry(
        "aclnnMoeReRoutingWithCapacityGetWorkspaceSize",
        {tokens, expertTokenNumPerRank, perTokenScalesOptional, expertTopkWeightOptional, permuteTokensOut,
         permutePerTokenScalesOut, permuteTokenIdxOut, expertTokenNumOut, permuteTopkWeightOutOptional},
        {expertTokenNumTypeOptional, idxTypeOptional, true, numMaxTokensPerRank, restoreOptional}, workspaceSize,
        executor);
}

aclnnStatus aclnnMoeReRoutingWithCapacity(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                          aclrtStream stream)
{
    acl_cpu::ClearRecentError();
    return moe_re_routing::Execute(workspace, workspaceSize, executor, stream);
}

}  // extern "C"

namespace moe_re_routing {
namespace {

// MoeReRoutingCpuRunHost(V2): `count` tensors described in `desc` (7: MoeReRouting's, 9: V2's),
// optional ones absent as {-1, 0} with a null pointer; the plan is run at once.
aclnnStatus RunHost(const char *api, const int64_t *desc, int64_t descLen, void *const *data, int count,
                    const Attributes &attrs)
{
    if (desc == nullptr) {
        return Fail(ACLNN_ERR_PARAM_NULLPTR, std::string(api) + ": desc is null");
    }
    // Where the i-th described tensor goes: V1 has no weight pair.
    static const int kV1Slots[] = {Slot::kTokens,        Slot::kCounts,          Slot::kScales,
                                   Slot::kPermuteTokens, Slot::kPermuteScales,   Slot::kPermuteTokenIdx,
                                   Slot::kExpertTokenNum};
    // Kept per thread, so a warm call allocates no dims vectors (one call at a time per thread).
    thread_local aclTensor tensors[emulator::kTensorCount];
    const aclTensor *args[emulator::kTensorCount] = {};
    int64_t at = 0;
    for (int i = 0; i < count; ++i) {
        const int slot = count == emulator::kTensorCount ? i : kV1Slots[i];
        if (at + 2 > descLen || desc[at + 1] < 0 || desc[at + 1] > 64 || at + 2 + desc[at + 1] > descLen) {
            return Fail(ACLNN_ERR_PARAM_INVALID, std::string(api) + ": desc ends before tensor " + std::to_string(i));
        }
        const int64_t dtype = desc[at];
        const int64_t dimNum = desc[at + 1];
        const int64_t *dims = desc + at + 2;
        at += 2 + dimNum;
        if (IsOptional(slot) && dtype == -1 && dimNum == 0 && data[i] == nullptr) {
            continue;  // absent optional tensor ({-1, 0}, null): a null aclTensor
        }
        if (dtype != static_cast<int32_t>(dtype)) {  // not truncated into a valid code
            return Fail(Result{ACLNN_ERR_PARAM_INVALID,
                               std::string(api) + ": tensor " + std::to_string(i) + " has dtype code " +
                                   std::to_string(dtype) + ", outside aclDataType",
                               ErrorKind::kType});
        }
        for (int64_t d = 0; d < dimNum; ++d) {
            if (dims[d] < 0) {  // as aclCreateTensor would reject it
                return Fail(ACLNN_ERR_PARAM_INVALID, "aclCreateTensor: viewDims[" + std::to_string(d) + "] is " +
                                                         std::to_string(dims[d]) + ", expected >= 0");
            }
        }
        aclTensor &t = tensors[slot];
        t.viewDims.assign(dims, dims + dimNum);
        t.dataType = static_cast<int32_t>(dtype);
        t.format = ACL_FORMAT_ND;
        t.data = data[i];
        args[slot] = &t;  // storageDims stay empty: the checks never read them
    }
    uint64_t workspaceSize = 0;
    aclOpExecutor *unused = nullptr;
    std::unique_ptr<aclOpExecutor> planned;
    TensorArgs named;
    NameArgs(args, named);
    const aclnnStatus status = Plan(named, attrs, &workspaceSize, &unused, &planned);
    if (status != ACLNN_SUCCESS) {
        return status;
    }
    static_assert(kWorkspaceBytes == 0, "MoeReRoutingCpuRunHost passes no workspace");
    // The executor never leaves this call, so it is not registered.
    return Run(std::move(planned), nullptr, 0, nullptr);
}

}  // namespace
}  // namespace moe_re_routing

extern "C" {

aclnnStatus MoeReRoutingCpuRunHost(const int64_t *desc, int64_t descLen, void *tokens, void *expertTokenNumPerRank,
                                   void *perTokenScales, void *permuteTokens, void *permutePerTokenScales,
                                   void *permuteTokenIdx, void *expertTokenNum, int64_t expertTokenNumType,
                                   int64_t idxType)
{
    void *const data[] = {tokens,        expertTokenNumPerRank, perTokenScales, permuteTokens,
                          permutePerTokenScales, permuteTokenIdx, expertTokenNum};
    acl_cpu::ClearRecentError();
    try {
        return moe_re_routing::RunHost("MoeReRoutingCpuRunHost", desc, descLen, data, 7, {expertTokenNumType, idxType});
    } catch (const std::exception &e) {  // bad_alloc: nothing escapes a C API
        return moe_re_routing::Fail(moe_re_routing::kErrInner, std::string("MoeReRoutingCpuRunHost: ") + e.what());
    }
}

aclnnStatus MoeReRoutingCpuRunHostV2(const int64_t *desc, int64_t descLen, void *tokens, void *expertTokenNumPerRank,
                                     void *perTokenScales, void *expertTopkWeight, void *permuteTokens,
                                     void *permutePerTokenScales, void *permuteTokenIdx, void *expertTokenNum,
                                     void *permuteTopkWeight, int64_t expertTokenNumType, int64_t idxType)
{
    void *const data[] = {tokens,        expertTokenNumPerRank, perTokenScales,  expertTopkWeight, permuteTokens,
                          permutePerTokenScales, permuteTokenIdx, expertTokenNum, permuteTopkWeight};
    acl_cpu::ClearRecentError();
    try {
        return moe_re_routing::RunHost("MoeReRoutingCpuRunHostV2", desc, descLen, data, 9, {expertTokenNumType, idxType});
    } catch (const std::exception &e) {  // bad_alloc: nothing escapes a C API
        return moe_re_routing::Fail(moe_re_routing::kErrInner, std::string("MoeReRoutingCpuRunHostV2: ") + e.what());
    }
}

aclnnStatus MoeReRoutingCpuRunHostWithCapacity(const int64_t *desc, int64_t descLen, void *tokens,
                                               void *expertTokenNumPerRank, void *perTokenScales, void *expertTopkWeight,
                                               void *permuteTokens, void *permutePerTokenScales, void *permuteTokenIdx,
                                               void *expertTokenNum, void *permuteTopkWeight,
                                               int64_t numMaxTokensPerRank, int64_t expertTokenNumType, int64_t idxType,
                                               int32_t restore)
{
    void *const data[] = {tokens,        expertTokenNumPerRank, perTokenScales,  expertTopkWeight, permuteTokens,
                          permutePerTokenScales, permuteTokenIdx, expertTokenNum, permuteTopkWeight};
    acl_cpu::ClearRecentError();
    try {
        return moe_re_routing::RunHost("MoeReRoutingCpuRunHostWithCapacity", desc, descLen, data, 9,
                                       {expertTokenNumType, idxType, true, numMaxTokensPerRank, restore != 0});
    } catch (const std::exception &e) {  // bad_alloc: nothing escapes a C API
        return moe_re_routing::Fail(moe_re_routing::kErrInner,
                                    std::string("MoeReRoutingCpuRunHostWithCapacity: ") + e.what());
    }
}

}  // extern "C"
