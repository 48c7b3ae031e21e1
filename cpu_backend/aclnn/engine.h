// Which engine runs aclnnMoeReRouting on the CPU backend, and the emulator plug-in's loader.
//   native    the native implementation (cpu_backend/native): the default, what applications get
//   emulator  the Ascend C kernel (op_kernel/) on the emulator, every hardware rule checked, with the
//             NPU's tiling and block split; loaded from libmoe_re_routing_emulator.so on first use
#ifndef MOE_RE_ROUTING_ENGINE_H
#define MOE_RE_ROUTING_ENGINE_H

#include "emulator_plugin.h"
#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace cpu {

enum class Engine : int32_t { kNative = 0, kEmulator = 1 };

// "native" / "emulator".
const char *EngineName(Engine engine);

// The engine of a run started now: MoeReRoutingCpuSetEngine's choice, else the environment variable
// MOE_RE_ROUTING_ENGINE (native | emulator; read at the first call), else native. A value of the variable that names no
// engine fails every run with a message naming the variable (it is not silently ignored).
Result CurrentEngine(Engine *engine);

// Selects the engine for later runs of any thread; "" or null: back to the environment's choice.
Result SelectEngine(const char *name);

// Loads the plug-in on first use (next to libmoe_re_routing.so, or MOE_RE_ROUTING_EMULATOR_LIBRARY)
// and launches the kernel. Fails with kErrRuntime when the plug-in cannot be loaded or the launch
// fails.
Result LaunchOnEmulator(const emulator::LaunchRequest &request, ascendc_cpu::LaunchResult *result);

}  // namespace cpu
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_ENGINE_H
