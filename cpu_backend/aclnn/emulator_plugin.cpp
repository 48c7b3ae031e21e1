// libmoe_re_routing_emulator.so: the kernel of op_kernel/ run on the Ascend C emulator, for the
// "emulator" engine of libmoe_re_routing (emulator_plugin.h).
#include "emulator_plugin.h"

#include <cstdlib>

#include <exception>
#include <optional>
#include <type_traits>

// The kernel entry `moe_re_routing` of op_kernel/moe_re_routing.cpp (GM_ADDR is uint8_t* on the CPU
// build). Its C name equals our namespace's, so it is declared under another C++ name bound to
// the same symbol.
extern "C" void MoeReRoutingKernel(uint8_t *tokens, uint8_t *expertTokenNumPerRank, uint8_t *perTokenScales,
                                   uint8_t *permuteTokens, uint8_t *permutePerTokenScales, uint8_t *permuteTokenIdx,
                                   uint8_t *expertTokenNum, uint8_t *workspace, uint8_t *tiling)
    __asm__("moe_re_routing");
// MoeReRoutingV2's entry (op_kernel/moe_re_routing_v2.cpp): the same kernel with the weight pair.
extern "C" void MoeReRoutingV2Kernel(uint8_t *tokens, uint8_t *expertTokenNumPerRank, uint8_t *perTokenScales,
                                     uint8_t *expertTopkWeight, uint8_t *permuteTokens, uint8_t *permutePerTokenScales,
                                     uint8_t *permuteTokenIdx, uint8_t *expertTokenNum, uint8_t *permuteTopkWeight,
                                     uint8_t *workspace, uint8_t *tiling) __asm__("moe_re_routing_v2");

namespace moe_re_routing {
namespace emulator {
namespace {

// The kernel carries its own synchronisation, so the engine checks it with compiler auto-sync off
// (the stricter setting) unless ASCENDC_CPU_AUTO_SYNC says otherwise.
const bool g_autoSyncChosen = [] {
    const char *env = std::getenv("ASCENDC_CPU_AUTO_SYNC");
    if (env == nullptr || *env == '\0') {
        ascendc_cpu::SetAutoSync(false);
    }
    return true;
}();

bool Launch(const LaunchRequest &request, ascendc_cpu::LaunchResult *result, std::string *error)
{
    (void)g_autoSyncChosen;
    try {
        if (request.threads != 0 && request.threads != ascendc_cpu::GetThreadCount()) {
            ascendc_cpu::SetThreadCount(request.threads);
        }
        // Every buffer the kernel may touch is global memory for the emulator's bounds checks.
        std::optional<ascendc_cpu::ScopedGm> gm[kTensorCount];
        for (int i = 0; i < kTensorCount; ++i) {
            if (request.data[i] != nullptr && request.bytes[i] > 0) {
                gm[i].emplace(request.data[i], static_cast<size_t>(request.bytes[i]));
            }
        }
        // The kernel reads its tiling from a GM buffer of its own (GET_TILING_DATA copies it).
        MoeReRoutingTilingData tiling = *request.tiling;
        ascendc_cpu::ScopedGm tilingGm(&tiling, sizeof(tiling));
        std::optional<ascendc_cpu::ScopedGm> workspaceGm;
        if (request.workspace != nullptr && request.workspaceSize > 0) {
            workspaceGm.emplace(request.workspace, static_cast<size_t>(request.workspaceSize));
        }
        uint8_t *const *d = request.data;
        auto *tilingBytes = reinterpret_cast<uint8_t *>(&tiling);
        auto *workspaceBytes = static_cast<uint8_t *>(request.workspace);
        ascendc_cpu::LaunchConfig config;
        config.blockDim = request.config.blockDim;
        config.ubBytes = request.config.ubBytes;
        config.arch = request.config.arch;
        config.sequential = request.config.sequential;
        config.collectTrace = request.config.collectTrace;
        config.collectInstructions = request.config.collectInstructions;
        config.chromeTracePath = request.config.chromeTracePath;
        config.tilingKey = request.tilingKey;  // as CANN selects the binary of the tiling key
        ascendc_cpu::Launch(
            config,
            [&] {
                // As on CANN, a call with weights is MoeReRoutingV2's binary, one without MoeReRouting's.
                if (tiling.weightRowBytes > 0) {
                    MoeReRoutingV2Kernel(d[kTokens], d[kCounts], d[kScales], d[kWeights], d[kPermuteTokens],
                                         d[kPermuteScales], d[kPermuteTokenIdx], d[kExpertTokenNum],
                                         d[kPermuteWeights], workspaceBytes, tilingBytes);
                } else {
                    MoeReRoutingKernel(d[kTokens], d[kCounts], d[kScales], d[kPermuteTokens], d[kPermuteScales],
                                       d[kPermuteTokenIdx], d[kExpertTokenNum], workspaceBytes, tilingBytes);
                }
            },
            result);
        return true;
    } catch (const std::exception &e) {
        *error = e.what();
    } catch (...) {
        *error = "an unknown exception";
    }
    return false;
}

}  // namespace
}  // namespace emulator
}  // namespace moe_re_routing

extern "C" {

__attribute__((visibility("default"))) const char *MoeReRoutingEmulatorVersion()
{
    return MOE_RE_ROUTING_VERSION_STRING;
}

__attribute__((visibility("default"))) bool MoeReRoutingEmulatorLaunch(const moe_re_routing::emulator::LaunchRequest &request,
                                                                        ascendc_cpu::LaunchResult *result,
                                                                        std::string *error)
{
    return moe_re_routing::emulator::Launch(request, result, error);
}

}  // extern "C"

// The signatures above are the ones libmoe_re_routing looks up.
static_assert(std::is_same<decltype(&MoeReRoutingEmulatorLaunch), moe_re_routing::emulator::LaunchFn>::value,
              "MoeReRoutingEmulatorLaunch does not match emulator::LaunchFn");
static_assert(std::is_same<decltype(&MoeReRoutingEmulatorVersion), moe_re_routing::emulator::VersionFn>::value,
              "MoeReRoutingEmulatorVersion does not match emulator::VersionFn");
