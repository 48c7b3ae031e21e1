// The emulator engine of libmoe_re_routing, as a plug-in: libmoe_re_routing_emulator.so holds the
// kernel (op_kernel/) compiled for the Ascend C emulator and links the emulator (libascendc_cpu).
// libmoe_re_routing.so loads it with dlopen only when a run asks for the emulator (engine
// "emulator", a profile directory, plan/profile/model and the tests), so the library that
// applications link runs the native implementation and does not depend on the emulator.
//
// Both libraries are built from the same tree and installed side by side; the plug-in is refused
// when its version differs from the library's. Internal interface: C++ types of this tree.
#ifndef MOE_RE_ROUTING_EMULATOR_PLUGIN_H
#define MOE_RE_ROUTING_EMULATOR_PLUGIN_H

#include <cstdint>
#include <string>

#include "ascendc_cpu/platform.h"
#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_tiling_data.h"

namespace moe_re_routing {
namespace emulator {

// The tensors of a call, in the order of aclnnMoeReRoutingV2GetWorkspaceSize: the four inputs, then
// the five outputs. MoeReRouting leaves the weight pair null.
enum Slot : int {
    kTokens = 0,
    kCounts,
    kScales,
    kWeights,
    kPermuteTokens,
    kPermuteScales,
    kPermuteTokenIdx,
    kExpertTokenNum,
    kPermuteWeights,
    kTensorCount,
};

// How to launch: the fields of ascendc_cpu::LaunchConfig this library sets. A plain struct of its
// own because LaunchConfig's defaults call into the emulator, which this library does not link.
struct LaunchSettings {
    uint32_t blockDim = 1;
    uint32_t ubBytes = 0;
    ascendc_cpu::Arch arch = ascendc_cpu::kDefaultSoc.arch;
    bool sequential = false;
    bool collectTrace = false;
    bool collectInstructions = false;  // with collectTrace: CoreTrace::instructions (simulator profiles)
    std::string chromeTracePath;
};

// One kernel launch on the emulator.
struct LaunchRequest {
    const MoeReRoutingTilingData *tiling = nullptr;
    uint64_t tilingKey = 0;                // the kernel instantiation (MoeReRoutingTilingReport::tilingKey)
    LaunchSettings config;
    uint32_t threads = 0;                  // emulator threads (0: the emulator's default)
    uint8_t *data[kTensorCount] = {};      // null for an absent tensor
    int64_t bytes[kTensorCount] = {};
    void *workspace = nullptr;
    uint64_t workspaceSize = 0;
};

// The plug-in's entry points, looked up by these names.
inline constexpr const char *kLibraryName = "libmoe_re_routing_emulator.so";
inline constexpr const char *kVersionSymbol = "MoeReRoutingEmulatorVersion";
inline constexpr const char *kLaunchSymbol = "MoeReRoutingEmulatorLaunch";

using VersionFn = const char *(*)();
// Returns true when the kernel ran; false with *error set when the launch failed (a rule
// violation is not a failure: the emulator aborts the process, naming the rule).
using LaunchFn = bool (*)(const LaunchRequest &request, ascendc_cpu::LaunchResult *result, std::string *error);

}  // namespace emulator
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_EMULATOR_PLUGIN_H
