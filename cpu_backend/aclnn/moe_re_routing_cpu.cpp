// CPU-backend extensions of moe_re_routing_cpu.h: the C view of the dtype table, status names,
// version, the engine, threads, the emulator engine's platform and tracing, and the last-run JSON.
// Nothing here calls the emulator: its headers give the SoC table and the trace types only.
#include "moe_re_routing_cpu.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "acl_cpu_internal.h"
#include "ascendc_cpu/platform.h"
#include "ascendc_cpu/runtime.h"
#include "engine.h"
#include "moe_re_routing_cpu_state.h"
#include "moe_re_routing_dtypes.h"
#include "parallel.h"
#include "time_model.h"

namespace moe_re_routing {
namespace cpu {
namespace {

// The error kinds of the public header are op_host's.
static_assert(MOE_RE_ROUTING_ERROR_NONE == static_cast<int32_t>(ErrorKind::kNone) &&
                  MOE_RE_ROUTING_ERROR_NULLPTR == static_cast<int32_t>(ErrorKind::kNullptr) &&
                  MOE_RE_ROUTING_ERROR_TYPE == static_cast<int32_t>(ErrorKind::kType) &&
                  MOE_RE_ROUTING_ERROR_VALUE == static_cast<int32_t>(ErrorKind::kValue) &&
                  MOE_RE_ROUTING_ERROR_TILING == static_cast<int32_t>(ErrorKind::kTiling) &&
                  MOE_RE_ROUTING_ERROR_RUNTIME == static_cast<int32_t>(ErrorKind::kRuntime) &&
                  MOE_RE_ROUTING_ERROR_INNER == static_cast<int32_t>(ErrorKind::kInner),
              "MoeReRoutingErrorKind and moe_re_routing::ErrorKind disagree");
static_assert(MOE_RE_ROUTING_ERROR_NONE == acl_cpu::kErrorKindNone &&
                  MOE_RE_ROUTING_ERROR_NULLPTR == acl_cpu::kErrorKindNullptr &&
                  MOE_RE_ROUTING_ERROR_VALUE == acl_cpu::kErrorKindValue &&
                  MOE_RE_ROUTING_ERROR_RUNTIME == acl_cpu::kErrorKindRuntime &&
                  MOE_RE_ROUTING_ERROR_INNER == acl_cpu::kErrorKindInner,
              "MoeReRoutingErrorKind and the AscendCL subset's error kinds disagree");

#define MRR_STATUS(name) MoeReRoutingStatusInfo{name, #name}
constexpr MoeReRoutingStatusInfo kStatusTable[] = {
    MRR_STATUS(ACLNN_SUCCESS),
    MRR_STATUS(ACLNN_ERR_PARAM_NULLPTR),
    MRR_STATUS(ACLNN_ERR_PARAM_INVALID),
    MRR_STATUS(ACLNN_ERR_RUNTIME_ERROR),
    MRR_STATUS(ACLNN_ERR_INNER),
    MRR_STATUS(ACLNN_ERR_INNER_INFERSHAPE_ERROR),
    MRR_STATUS(ACLNN_ERR_INNER_TILING_ERROR),
    MRR_STATUS(ACLNN_ERR_INNER_FIND_KERNEL_ERROR),
    MRR_STATUS(ACLNN_ERR_INNER_NULLPTR),
    MRR_STATUS(ACL_SUCCESS),
    MRR_STATUS(ACL_ERROR_INVALID_PARAM),
    MRR_STATUS(ACL_ERROR_UNINITIALIZE),
    MRR_STATUS(ACL_ERROR_REPEAT_INITIALIZE),
    MRR_STATUS(ACL_ERROR_RT_PARAM_INVALID),
    MRR_STATUS(ACL_ERROR_BAD_ALLOC),
    MRR_STATUS(ACL_ERROR_INTERNAL_ERROR),
    MRR_STATUS(ACL_ERROR_FAILURE),
};
#undef MRR_STATUS

// The role bits documented in moe_re_routing_cpu.h for C and Python readers.
static_assert(kRoleTokens == 1 && kRoleTokensOfficial == 2 && kRoleCounts == 4 && kRoleScales == 8 &&
                  kRolePacked4 == 16,
              "moe_re_routing_cpu.h documents the DtypeRole bit values");

constexpr std::array<MoeReRoutingDtypeInfo, kDtypeCount> MakeCDtypeTable()
{
    std::array<MoeReRoutingDtypeInfo, kDtypeCount> table{};
    for (int32_t i = 0; i < kDtypeCount; ++i) {
        table[i] = MoeReRoutingDtypeInfo{kDtypeTable[i].code, kDtypeTable[i].name, kDtypeTable[i].bits,
                                         kDtypeTable[i].roles};
    }
    return table;
}
constexpr std::array<MoeReRoutingDtypeInfo, kDtypeCount> kCDtypeTable = MakeCDtypeTable();

constexpr std::array<MoeReRoutingSocInfo, ascendc_cpu::kSocPlatformCount> MakeCSocTable()
{
    std::array<MoeReRoutingSocInfo, ascendc_cpu::kSocPlatformCount> table{};
    for (int i = 0; i < ascendc_cpu::kSocPlatformCount; ++i) {
        const ascendc_cpu::SocPlatform &soc = ascendc_cpu::kSocPlatforms[i];
        table[i] = MoeReRoutingSocInfo{soc.name, soc.aivCoreNum, soc.ubBytes, soc.ubReservedBytes, soc.UsableUbBytes()};
    }
    return table;
}
constexpr std::array<MoeReRoutingSocInfo, ascendc_cpu::kSocPlatformCount> kCSocTable = MakeCSocTable();

// Limits of what MoeReRoutingCpuSetPlatform accepts: a UB must hold at least a few 32-byte
// blocks to be worth asking the tiling about; the bounds above are far beyond any SoC.
constexpr uint32_t kMaxCoreNum = 4096;
constexpr uint32_t kMinUbBytes = 256;
constexpr uint32_t kMaxUbBytes = 1u << 30;
constexpr uint32_t kUbGranule = 32;

// The same reserved area in the tiling's assumption and in the SoC table.
static_assert(ascendc_cpu::kDefaultSoc.ubReservedBytes == kAscendCReservedUbBytes,
              "op_host and ascendc_cpu/platform.h disagree on the Ascend C reserved UB area");

constexpr const char *kCustomName = "custom";

struct Settings {
    std::mutex mutex;
    Platform soc{ascendc_cpu::kDefaultSoc.aivCoreNum, ascendc_cpu::kDefaultSoc.UsableUbBytes()};
    const char *socName = ascendc_cpu::kDefaultSoc.name;  // kCustomName when set by numbers
    ascendc_cpu::Arch socArch = ascendc_cpu::kDefaultSoc.arch;
    uint32_t emulatorThreads = 0;  // 0: the emulator's default
    TraceSettings trace;
};

Settings &GlobalSettings()
{
    static Settings *settings = new Settings();  // never destroyed: usable from other static destructors
    return *settings;
}

// The numbers of SoC `soc` with `cores` AIV cores (0: the SoC's own).
Platform SocNumbers(const ascendc_cpu::SocPlatform &soc, uint32_t cores)
{
    return Platform{cores != 0 ? cores : soc.aivCoreNum, soc.UsableUbBytes()};
}

struct ThreadLastRun {
    bool present = false;
    bool formatted = false;  // json matches run
    LastRun run;
    std::string json;
};

thread_local ThreadLastRun t_lastRun;

std::string FormatLastRun(const LastRun &run)
{
    std::ostringstream os;
    if (!run.emulated) {
        const Problem &p = run.problem;
        os << "{\"engine\": \"native\", \"threads\": " << run.threads << ", \"tokenNum\": " << p.tokenNum
           << ", \"rankNum\": " << p.rankNum << ", \"expertNum\": " << p.expertNum
           << ", \"tokenRowBytes\": " << p.tokenRowBytes << ", \"scaleRowBytes\": " << p.scaleRowBytes
           << ", \"outScaleRowBytes\": " << p.outScaleRowBytes << ", \"countBytes\": " << p.countBytes
           << ", \"weightRowBytes\": " << p.weightRowBytes << ", \"expertTokenNumType\": " << p.expertTokenNumType
           << ", \"idxType\": " << p.idxType << ", \"srcSlotRows\": " << p.srcSlotRows
           << ", \"dstSlotRows\": " << p.dstSlotRows << "}";
        return os.str();
    }
    static_assert(sizeof(MoeReRoutingTilingData) == 144,
                  "MoeReRoutingTilingData changed: list the new field in FormatLastRun");
    const MoeReRoutingTilingData &t = run.tiling;
    const MoeReRoutingTilingReport &r = run.report;
    os << "{\"engine\": \"emulator\", ";
#define MRR_FIELD(f) os << "\"" #f "\": " << t.f << ", "
    MRR_FIELD(tokenNum); MRR_FIELD(rankNum); MRR_FIELD(expertNum); MRR_FIELD(tokenRowBytes);
    MRR_FIELD(scaleRowBytes); MRR_FIELD(weightRowBytes); MRR_FIELD(srcSlotRows); MRR_FIELD(dstSlotRows);
    MRR_FIELD(expertTokenNumType); MRR_FIELD(idxType); MRR_FIELD(usedCoreNum);
    MRR_FIELD(rowsPerCore); MRR_FIELD(rowsRemainder); MRR_FIELD(tokenBufBytes); MRR_FIELD(scaleBufBytes); MRR_FIELD(weightBufBytes);
    MRR_FIELD(idxBufBytes); MRR_FIELD(countsResident); MRR_FIELD(countBufBytes); MRR_FIELD(countTileRanks);
    MRR_FIELD(countWorkBytes); MRR_FIELD(countSumBytes); MRR_FIELD(cursorBufBytes); MRR_FIELD(columnBufBytes);
    MRR_FIELD(expertBufBytes); MRR_FIELD(zeroBufBytes);
#undef MRR_FIELD
    // What the tiling planned beyond the kernel's fields (MoeReRoutingTilingReport).
#define MRR_REPORT(f) os << "\"" #f "\": " << r.f << ", "
    MRR_REPORT(tilingKey); MRR_REPORT(countBytes); MRR_REPORT(outScaleRowBytes); MRR_REPORT(bufferNum);
    MRR_REPORT(chunkRows); MRR_REPORT(segmentBytes); MRR_REPORT(countTileCols); MRR_REPORT(ubBytesUsed);
#undef MRR_REPORT
    os << "\"block_dim\": " << run.blockDim << ", \"ub_bytes\": " << r.ubBytesUsed
       << ", \"platform\": \"" << run.platformName << "\", \"platform_cores\": " << run.platformCores
       << ", \"platform_ub_bytes\": " << run.platformUbBytes
       << ", \"sequential\": " << (run.sequential ? "true" : "false");
    if (run.traced) {
        os << ", \"cores\": [";
        for (size_t i = 0; i < run.cores.size(); ++i) {
            const ascendc_cpu::CoreTrace &c = run.cores[i];
            os << (i == 0 ? "" : ", ") << "{\"bytes_in\": " << c.bytesIn << ", \"bytes_out\": " << c.bytesOut
               << ", \"dma_ops\": " << c.dmaOps << ", \"ub_high_water\": " << c.ubHighWater
               << ", \"seconds\": " << c.seconds << ", \"scalar_ub_reads\": " << c.scalarUbReads
               << ", \"scalar_ub_writes\": " << c.scalarUbWrites << ", \"scalar_gm_reads\": " << c.scalarGmReads
               << ", \"scalar_gm_writes\": " << c.scalarGmWrites << ", \"scalar_ops\": " << c.ScalarOps()
               << ", \"vector_ops\": " << c.vectorOps << ", \"vector_repeats\": " << c.vectorRepeats
               << ", \"set_flags\": " << c.setFlags << ", \"wait_flags\": " << c.waitFlags
               << ", \"pipe_barriers\": " << c.pipeBarriers << ", \"queue_ops\": " << c.queueOps << ", \"dma\": [";
            for (size_t k = 0; k < c.dma.size(); ++k) {
                const ascendc_cpu::DmaOp &d = c.dma[k];
                os << (k == 0 ? "" : ", ") << "{\"dir\": \"" << d.direction << "\", \"api\": \"" << d.api
                   << "\", \"bytes\": " << d.bytes << ", \"bursts\": " << d.bursts
                   << ", \"burst_bytes\": " << d.burstBytes << "}";
            }
            os << "]}";
        }
        os << "]";
    }
    os << "}";
    return os.str();
}

}  // namespace

RunPlatform CurrentPlatform()
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return RunPlatform{s.soc, s.socName, s.socArch};
}

uint32_t EmulatorThreads()
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.emulatorThreads;
}

TraceSettings CurrentTrace()
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.trace;
}

// The calling thread's last run, about to be replaced by a run of `emulated`'s engine.
static LastRun &NewLastRun(bool emulated)
{
    ThreadLastRun &last = t_lastRun;
    last.present = true;
    last.formatted = false;
    last.run.emulated = emulated;
    return last.run;
}

void SetLastRun(const MoeReRoutingTilingData &tiling, const MoeReRoutingTilingReport &report,
                const RunPlatform &platform, const emulator::LaunchSettings &config,
                std::vector<ascendc_cpu::CoreTrace> *cores)
{
    LastRun &run = NewLastRun(true);
    run.tiling = tiling;
    run.report = report;
    run.blockDim = config.blockDim;
    run.platformUbBytes = config.ubBytes;
    run.platformCores = platform.platform.aivCoreNum;
    run.platformName = platform.name;
    run.sequential = config.sequential;
    run.traced = config.collectTrace;
    if (config.collectTrace && cores != nullptr) {
        run.cores = std::move(*cores);
    } else {
        run.cores.clear();
    }
}

void SetLastNativeRun(const Problem &problem, uint32_t threads)
{
    LastRun &run = NewLastRun(false);
    run.problem = problem;
    run.threads = threads;
    run.traced = false;
    run.cores.clear();
}

}  // namespace cpu
}  // namespace moe_re_routing

using moe_re_routing::cpu::GlobalSettings;
using moe_re_routing::cpu::Settings;

extern "C" {

int32_t MoeReRoutingDtypeTable(const MoeReRoutingDtypeInfo **table)
{
    if (table != nullptr) {
        *table = moe_re_routing::cpu::kCDtypeTable.data();
    }
    return moe_re_routing::kDtypeCount;
}

uint32_t MoeReRoutingDtypeRole(const char *role)
{
    static const std::pair<const char *, uint32_t> kRoles[] = {
        {"tokens", moe_re_routing::kRoleTokens},
        {"tokens_official", moe_re_routing::kRoleTokensOfficial},
        {"counts", moe_re_routing::kRoleCounts},
        {"scales", moe_re_routing::kRoleScales},
        {"packed4", moe_re_routing::kRolePacked4},
    };
    for (const auto &entry : kRoles) {
        if (role != nullptr && std::strcmp(role, entry.first) == 0) {
            return entry.second;
        }
    }
    return 0;
}

int32_t MoeReRoutingStatusTable(const MoeReRoutingStatusInfo **table)
{
    using moe_re_routing::cpu::kStatusTable;
    if (table != nullptr) {
        *table = kStatusTable;
    }
    return static_cast<int32_t>(sizeof(kStatusTable) / sizeof(kStatusTable[0]));
}

const char *MoeReRoutingStatusName(aclnnStatus status)
{
    for (const MoeReRoutingStatusInfo &info : moe_re_routing::cpu::kStatusTable) {
        if (info.code == status) {  // the first match: 0 is ACLNN_SUCCESS
            return info.name;
        }
    }
    return "UNKNOWN";
}

int32_t MoeReRoutingLastErrorKind(void)
{
    return acl_cpu::RecentErrorKind();
}

const char *MoeReRoutingErrorKindName(int32_t kind)
{
    switch (kind) {
        case MOE_RE_ROUTING_ERROR_NONE: return "none";
        case MOE_RE_ROUTING_ERROR_NULLPTR: return "nullptr";
        case MOE_RE_ROUTING_ERROR_TYPE: return "type";
        case MOE_RE_ROUTING_ERROR_VALUE: return "value";
        case MOE_RE_ROUTING_ERROR_TILING: return "tiling";
        case MOE_RE_ROUTING_ERROR_RUNTIME: return "runtime";
        case MOE_RE_ROUTING_ERROR_INNER: return "inner";
        default: return "unknown";
    }
}

const char *MoeReRoutingVersion(void)
{
    return MOE_RE_ROUTING_VERSION_STRING;
}

aclnnStatus MoeReRoutingCpuSetPlatform(uint32_t aivCoreNum, uint32_t ubBytes)
{
    using namespace moe_re_routing::cpu;
    if (aivCoreNum > kMaxCoreNum) {
        acl_cpu::SetRecentError(MOE_RE_ROUTING_ERROR_VALUE, "MoeReRoutingCpuSetPlatform: aivCoreNum is " + std::to_string(aivCoreNum) +
                                 ", expected 1.." + std::to_string(kMaxCoreNum) + " (0 keeps the current value)");
        return ACLNN_ERR_PARAM_INVALID;
    }
    if (ubBytes != 0 && (ubBytes < kMinUbBytes || ubBytes > kMaxUbBytes || ubBytes % kUbGranule != 0)) {
        acl_cpu::SetRecentError(MOE_RE_ROUTING_ERROR_VALUE, "MoeReRoutingCpuSetPlatform: ubBytes is " + std::to_string(ubBytes) +
                                 ", expected a multiple of " + std::to_string(kUbGranule) + " in " +
                                 std::to_string(kMinUbBytes) + ".." + std::to_string(kMaxUbBytes) +
                                 " (0 keeps the current value)");
        return ACLNN_ERR_PARAM_INVALID;
    }
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (aivCoreNum != 0) {
        s.soc.aivCoreNum = aivCoreNum;
    }
    if (ubBytes != 0) {
        s.soc.ubBytes = ubBytes;
    }
    // Still the named SoC only if the numbers are still that SoC's.
    const ascendc_cpu::SocPlatform *named = ascendc_cpu::FindSoc(s.socName);
    if (named == nullptr || s.soc.aivCoreNum != named->aivCoreNum || s.soc.ubBytes != named->UsableUbBytes()) {
        s.socName = kCustomName;
    }
    return ACLNN_SUCCESS;
}

aclnnStatus MoeReRoutingCpuSelectPlatform(const char *name, uint32_t aivCoreNum)
{
    using namespace moe_re_routing::cpu;
    const std::string what = name != nullptr ? name : "(null)";
    const auto fail = [&](const std::string &message) {
        acl_cpu::SetRecentError(MOE_RE_ROUTING_ERROR_VALUE, "MoeReRoutingCpuSelectPlatform: " + message);
        return ACLNN_ERR_PARAM_INVALID;
    };
    if (aivCoreNum > kMaxCoreNum) {
        return fail("aivCoreNum is " + std::to_string(aivCoreNum) + ", expected 1.." + std::to_string(kMaxCoreNum) +
                    " (0: the SoC's own count)");
    }
    Settings &s = GlobalSettings();
    const ascendc_cpu::SocPlatform *soc = ascendc_cpu::FindSoc(name);
    if (soc == nullptr) {
        std::string known;
        for (const ascendc_cpu::SocPlatform &entry : ascendc_cpu::kSocPlatforms) {
            known += std::string(entry.name) + ", ";
        }
        known.resize(known.size() - 2);
        return fail("name is " + what + ", expected one of " + known);
    }
    if (soc->aivCoreNum == 0 && aivCoreNum == 0) {
        return fail("the AIV core count of " + what + " is not known; pass it as aivCoreNum");
    }
    std::lock_guard<std::mutex> lock(s.mutex);
    s.soc = SocNumbers(*soc, aivCoreNum);
    s.socName = aivCoreNum == 0 || aivCoreNum == soc->aivCoreNum ? soc->name : kCustomName;
    s.socArch = soc->arch;
    return ACLNN_SUCCESS;
}

void MoeReRoutingCpuGetPlatform(uint32_t *aivCoreNum, uint32_t *ubBytes)
{
    const moe_re_routing::cpu::RunPlatform run = moe_re_routing::cpu::CurrentPlatform();
    if (aivCoreNum != nullptr) {
        *aivCoreNum = run.platform.aivCoreNum;
    }
    if (ubBytes != nullptr) {
        *ubBytes = run.platform.ubBytes;
    }
}

const char *MoeReRoutingCpuPlatformName(void)
{
    return moe_re_routing::cpu::CurrentPlatform().name;
}

int32_t MoeReRoutingCpuSocTable(const MoeReRoutingSocInfo **table)
{
    if (table != nullptr) {
        *table = moe_re_routing::cpu::kCSocTable.data();
    }
    return ascendc_cpu::kSocPlatformCount;
}

const char *MoeReRoutingCpuDefaultSoc(void)
{
    return ascendc_cpu::kDefaultSoc.name;
}

aclnnStatus MoeReRoutingCpuSetEngine(const char *engine)
{
    const moe_re_routing::Result result = moe_re_routing::cpu::SelectEngine(engine);
    if (!result.ok()) {
        acl_cpu::SetRecentError(MOE_RE_ROUTING_ERROR_VALUE, "MoeReRoutingCpuSetEngine: " + result.message);
    }
    return result.status;
}

const char *MoeReRoutingCpuEngineName(void)
{
    moe_re_routing::cpu::Engine engine;
    const moe_re_routing::Result result = moe_re_routing::cpu::CurrentEngine(&engine);
    return result.ok() ? moe_re_routing::cpu::EngineName(engine) : "invalid";
}

aclnnStatus MoeReRoutingCpuSetThreads(uint32_t threads)
{
    moe_re_routing::native::SetThreadCount(threads);
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.emulatorThreads = threads;
    return ACLNN_SUCCESS;
}

uint32_t MoeReRoutingCpuGetThreads(void)
{
    return moe_re_routing::native::ThreadCount();
}

aclnnStatus MoeReRoutingCpuSetTrace(int32_t enabled, const char *chromeTracePath)
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.trace.enabled = enabled != 0;
    s.trace.chromeTracePath = chromeTracePath != nullptr ? chromeTracePath : "";
    return ACLNN_SUCCESS;
}

const char *MoeReRoutingCpuLastRunJson(void)
{
    moe_re_routing::cpu::ThreadLastRun &last = moe_re_routing::cpu::t_lastRun;
    if (!last.present) {
        last.json.clear();
    } else if (!last.formatted) {
        last.json = moe_re_routing::cpu::FormatLastRun(last.run);
        last.formatted = true;
    }
    return last.json.c_str();
}

int32_t MoeReRoutingCpuLastRunModelCores(MoeReRoutingModelCore *cores, int32_t capacity)
{
    const moe_re_routing::cpu::ThreadLastRun &last = moe_re_routing::cpu::t_lastRun;
    if (!last.present || !last.run.traced) {
        return 0;
    }
    const int32_t n = static_cast<int32_t>(last.run.cores.size());
    for (int32_t i = 0; i < n && i < capacity && cores != nullptr; ++i) {
        cores[i] = moe_re_routing::model::FromTrace(last.run.cores[i]);
    }
    return n;
}

}  // extern "C"
