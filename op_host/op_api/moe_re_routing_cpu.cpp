// CPU-backend extensions of moe_re_routing_cpu.h: the C view of the dtype table, status names,
// version, the emulated platform, the emulator's mode and threads, tracing and the last-run JSON.
#include "moe_re_routing_cpu.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <thread>
#include <string>
#include <utility>

#include "acl_cpu_internal.h"
#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_cpu_state.h"
#include "moe_re_routing_dtypes.h"

namespace moe_re_routing {
namespace cpu {
namespace {

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

// Limits of what MoeReRoutingCpuSetPlatform accepts: a UB must hold at least a few 32-byte
// blocks to be worth asking the tiling about; the bounds above are far beyond any SoC.
constexpr uint32_t kMaxCoreNum = 4096;
constexpr uint32_t kMinUbBytes = 256;
constexpr uint32_t kMaxUbBytes = 1u << 30;
constexpr uint32_t kUbGranule = 32;

struct Settings {
    std::mutex mutex;
    Platform platform;  // defaults: Atlas A2
    TraceSettings trace;
};

Settings &GlobalSettings()
{
    static Settings *settings = new Settings();  // never destroyed: usable from other static destructors
    return *settings;
}

thread_local std::string t_lastRunJson;

}  // namespace

Platform CurrentPlatform()
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.platform;
}

TraceSettings CurrentTrace()
{
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.trace;
}

void SetLastRunJson(std::string json)
{
    t_lastRunJson = std::move(json);
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

const char *MoeReRoutingStatusName(aclnnStatus status)
{
    switch (status) {
        case ACLNN_SUCCESS: return "ACLNN_SUCCESS";
        case ACLNN_ERR_PARAM_NULLPTR: return "ACLNN_ERR_PARAM_NULLPTR";
        case ACLNN_ERR_PARAM_INVALID: return "ACLNN_ERR_PARAM_INVALID";
        case ACLNN_ERR_RUNTIME_ERROR: return "ACLNN_ERR_RUNTIME_ERROR";
        case ACLNN_ERR_INNER: return "ACLNN_ERR_INNER";
        case ACLNN_ERR_INNER_INFERSHAPE_ERROR: return "ACLNN_ERR_INNER_INFERSHAPE_ERROR";
        case ACLNN_ERR_INNER_TILING_ERROR: return "ACLNN_ERR_INNER_TILING_ERROR";
        case ACLNN_ERR_INNER_FIND_KERNEL_ERROR: return "ACLNN_ERR_INNER_FIND_KERNEL_ERROR";
        case ACLNN_ERR_INNER_NULLPTR: return "ACLNN_ERR_INNER_NULLPTR";
        default: return "UNKNOWN";
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
        acl_cpu::SetRecentErrMsg("MoeReRoutingCpuSetPlatform: aivCoreNum is " + std::to_string(aivCoreNum) +
                                 ", expected 1.." + std::to_string(kMaxCoreNum) + " (0 keeps the current value)");
        return ACLNN_ERR_PARAM_INVALID;
    }
    if (ubBytes != 0 && (ubBytes < kMinUbBytes || ubBytes > kMaxUbBytes || ubBytes % kUbGranule != 0)) {
        acl_cpu::SetRecentErrMsg("MoeReRoutingCpuSetPlatform: ubBytes is " + std::to_string(ubBytes) +
                                 ", expected a multiple of " + std::to_string(kUbGranule) + " in " +
                                 std::to_string(kMinUbBytes) + ".." + std::to_string(kMaxUbBytes) +
                                 " (0 keeps the current value)");
        return ACLNN_ERR_PARAM_INVALID;
    }
    Settings &s = GlobalSettings();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (aivCoreNum != 0) {
        s.platform.aivCoreNum = aivCoreNum;
    }
    if (ubBytes != 0) {
        s.platform.ubBytes = ubBytes;
    }
    return ACLNN_SUCCESS;
}

void MoeReRoutingCpuGetPlatform(uint32_t *aivCoreNum, uint32_t *ubBytes)
{
    const moe_re_routing::Platform platform = moe_re_routing::cpu::CurrentPlatform();
    if (aivCoreNum != nullptr) {
        *aivCoreNum = platform.aivCoreNum;
    }
    if (ubBytes != nullptr) {
        *ubBytes = platform.ubBytes;
    }
}

aclnnStatus MoeReRoutingCpuSetMode(int32_t mode)
{
    switch (mode) {
        case 0: ascendc_cpu::SetMode(ascendc_cpu::Mode::kChecked); return ACLNN_SUCCESS;
        case 1: ascendc_cpu::SetMode(ascendc_cpu::Mode::kFast); return ACLNN_SUCCESS;
        default:
            acl_cpu::SetRecentErrMsg("MoeReRoutingCpuSetMode: mode is " + std::to_string(mode) +
                                     ", expected 0 (checked) or 1 (fast)");
            return ACLNN_ERR_PARAM_INVALID;
    }
}

int32_t MoeReRoutingCpuGetMode(void)
{
    return ascendc_cpu::GetMode() == ascendc_cpu::Mode::kFast ? 1 : 0;
}

aclnnStatus MoeReRoutingCpuSetThreads(uint32_t threads)
{
    if (threads == 0) {
        threads = std::max(1u, std::thread::hardware_concurrency());
    }
    ascendc_cpu::SetThreadCount(threads);
    return ACLNN_SUCCESS;
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
    return moe_re_routing::cpu::t_lastRunJson.c_str();
}

}  // extern "C"
