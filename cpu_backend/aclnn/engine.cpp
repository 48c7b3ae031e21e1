#include "engine.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace moe_re_routing {
namespace cpu {
namespace {

constexpr int32_t kFromEnvironment = -1;
std::atomic<int32_t> g_selected{kFromEnvironment};

bool ParseEngine(const char *name, Engine *engine)
{
    if (std::strcmp(name, "native") == 0) {
        *engine = Engine::kNative;
        return true;
    }
    if (std::strcmp(name, "emulator") == 0) {
        *engine = Engine::kEmulator;
        return true;
    }
    return false;
}

struct Plugin {
    std::once_flag once;
    emulator::LaunchFn launch = nullptr;
    std::string error;  // why it could not be loaded
};

Plugin &ThePlugin()
{
    static Plugin *plugin = new Plugin();  // never unloaded
    return *plugin;
}

// The plug-in's path: MOE_RE_ROUTING_EMULATOR_LIBRARY, else the directory of this library.
std::string PluginPath()
{
    const char *env = std::getenv("MOE_RE_ROUTING_EMULATOR_LIBRARY");
    if (env != nullptr && *env != '\0') {
        return env;
    }
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&PluginPath), &info) != 0 && info.dli_fname != nullptr) {
        std::string self = info.dli_fname;
        const size_t slash = self.rfind('/');
        if (slash != std::string::npos) {
            return self.substr(0, slash + 1) + emulator::kLibraryName;
        }
    }
    return emulator::kLibraryName;  // the dynamic linker's search path
}

void Load(Plugin *plugin)
{
    const std::string path = PluginPath();
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char *why = dlerror();
        plugin->error = "cannot load the emulator engine " + path + ": " + (why != nullptr ? why : "unknown error");
        return;
    }
    auto version = reinterpret_cast<emulator::VersionFn>(dlsym(handle, emulator::kVersionSymbol));
    auto launch = reinterpret_cast<emulator::LaunchFn>(dlsym(handle, emulator::kLaunchSymbol));
    if (version == nullptr || launch == nullptr) {
        plugin->error = "the emulator engine " + path + " does not export " + emulator::kVersionSymbol + " and " +
                        emulator::kLaunchSymbol;
        return;
    }
    if (std::strcmp(version(), MOE_RE_ROUTING_VERSION_STRING) != 0) {
        plugin->error = "the emulator engine " + path + " is version " + version() + " but libmoe_re_routing is " +
                        MOE_RE_ROUTING_VERSION_STRING + "; install both from one build";
        return;
    }
    plugin->launch = launch;
}

}  // namespace

const char *EngineName(Engine engine)
{
    return engine == Engine::kEmulator ? "emulator" : "native";
}

Result CurrentEngine(Engine *engine)
{
    const int32_t selected = g_selected.load(std::memory_order_relaxed);
    if (selected != kFromEnvironment) {
        *engine = static_cast<Engine>(selected);
        return Result{};
    }
    // The environment is read once: a process chooses its engine when it starts (the setter is for
    // changes at run time).
    static const char *const env = std::getenv("MOE_RE_ROUTING_ENGINE");
    *engine = Engine::kNative;
    if (env == nullptr || *env == '\0' || ParseEngine(env, engine)) {
        return Result{};
    }
    return Result{kErrParamInvalid,
                  std::string("the environment variable MOE_RE_ROUTING_ENGINE is '") + env +
                      "'; expected native or emulator (or unset: native)"};
}

Result SelectEngine(const char *name)
{
    if (name == nullptr || *name == '\0') {
        g_selected.store(kFromEnvironment);
        return Result{};
    }
    Engine engine;
    if (!ParseEngine(name, &engine)) {
        return Result{kErrParamInvalid,
                      std::string("engine is '") + name + "'; expected native, emulator or \"\" (the environment's)"};
    }
    g_selected.store(static_cast<int32_t>(engine));
    return Result{};
}

Result LaunchOnEmulator(const emulator::LaunchRequest &request, ascendc_cpu::LaunchResult *result)
{
    Plugin &plugin = ThePlugin();
    std::call_once(plugin.once, [&] { Load(&plugin); });
    if (plugin.launch == nullptr) {
        return Result{kErrRuntime, plugin.error};
    }
    std::string error;
    if (!plugin.launch(request, result, &error)) {
        return Result{kErrRuntime, "the kernel launch failed: " + error};
    }
    return Result{};
}

}  // namespace cpu
}  // namespace moe_re_routing
