// The time model (docs/time_model.md) and the msprof-shaped profile writer. Every time here is
// *modelled* for Ascend910B (Atlas A2) from the emulator's per-core trace.
#include "time_model.h"

#include "simulator_profile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

namespace moe_re_routing {
namespace model {
namespace {

enum Param { kLaunchUs, kDmaUs, kCoreGbps, kHbmGbps, kScalarGmUs, kScalarUbUs, kVectorUs, kParamCount };
static_assert(kParamCount == MOE_RE_ROUTING_MODEL_PARAM_COUNT, "moe_re_routing_cpu.h lists the parameters");

const char *const kParamNames[kParamCount] = {"launch_us",    "dma_us",       "core_gbps", "hbm_gbps",
                                              "scalar_gm_us", "scalar_ub_us", "vector_us"};

// Calibrated values, written by benchmarks/official_model/calibrate.py.
const double kFitted[kParamCount] = {
#include "time_model_fit.inc"
};

// The clock msprof would report for Atlas A2 AI cores (rated 1800 MHz; an assumption of the
// model, used only to express modelled times as cycles).
constexpr int kFreqMhz = kAssumedFreqMhz;

constexpr const char *kPlatformText = "Ascend910B (Atlas A2)";
constexpr uint32_t kA2Cores = 48;  // AIV cores of Ascend910B1/B2

double UsFor(double bytes, double gbps) { return gbps > 0.0 ? bytes / (gbps * 1e3) : 0.0; }

struct ProfileSettings {
    std::mutex mutex;
    std::string dir;
};

ProfileSettings &Settings()
{
    static ProfileSettings *settings = [] {
        auto *created = new ProfileSettings;  // never destroyed: usable from static destructors
        const char *env = std::getenv("MOE_RE_ROUTING_PROFILE_DIR");
        if (env != nullptr) {
            created->dir = env;
        }
        return created;
    }();
    return *settings;
}

thread_local std::string t_lastProfilePath;

bool MakeDirs(const std::string &path)
{
    std::string partial;
    for (size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/') {
            if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
                return false;
            }
        }
        if (i < path.size()) {
            partial += path[i];
        }
    }
    return true;
}

std::string Fmt(double v)
{
    char text[64];
    std::snprintf(text, sizeof(text), "%.3f", v);
    return text;
}

std::string FmtParam(double v)
{
    char text[64];
    std::snprintf(text, sizeof(text), "%.6g", v);
    return text;
}

std::string Ratio(double part, double whole) { return whole > 0.0 ? Fmt(part / whole) : "0.000"; }

bool WriteFile(const std::string &path, const std::string &text)
{
    std::FILE *file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
        return false;
    }
    const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    return std::fclose(file) == 0 && ok;
}

std::string JsonEscape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out;
}

}  // namespace

double Evaluate(const MoeReRoutingModelCore *cores, int32_t coreNum, const double *params,
                MoeReRoutingModelCoreTime *perCore)
{
    if (cores == nullptr || coreNum < 1) {
        return -1.0;
    }
    const double *p = params != nullptr ? params : kFitted;
    double slowest = 0.0, bytes = 0.0;
    for (int32_t i = 0; i < coreNum; ++i) {
        const MoeReRoutingModelCore &c = cores[i];
        MoeReRoutingModelCoreTime t{};
        t.mte2Us = c.dmaInOps * p[kDmaUs] + UsFor(c.bytesIn, p[kCoreGbps]);
        t.mte3Us = c.dmaOutOps * p[kDmaUs] + UsFor(c.bytesOut, p[kCoreGbps]);
        t.scalarUs = c.gmScalarOps * p[kScalarGmUs] + c.scalarUbOps * p[kScalarUbUs];
        t.vectorUs = c.vectorOps * p[kVectorUs];
        // The scalar unit issues everything in order and waits for its own accesses; the vector
        // unit and the two DMA engines are queues that run beside it and beside each other
        // (double buffering), so a core is as slow as its scalar work plus its busiest pipe.
        t.coreUs = t.scalarUs + std::max(t.vectorUs, std::max(t.mte2Us, t.mte3Us));
        slowest = std::max(slowest, t.coreUs);
        bytes += c.bytesIn + c.bytesOut;
        if (perCore != nullptr) {
            perCore[i] = t;
        }
    }
    return p[kLaunchUs] + std::max(slowest, UsFor(bytes, p[kHbmGbps]));
}

const double *FittedParameters() { return kFitted; }

int64_t UsToCycles(double us) { return std::llround(us * kFreqMhz); }

int64_t CoreCycles(const MoeReRoutingModelCoreTime &time)
{
    return UsToCycles(time.scalarUs) +
           std::max(UsToCycles(time.vectorUs), std::max(UsToCycles(time.mte2Us), UsToCycles(time.mte3Us)));
}

const char *ModelPipeName(ModelPipe pipe)
{
    static const char *const kNames[] = {"SCALAR", "VECTOR", "MTE2", "MTE3", "FLOWCTRL"};
    const auto index = static_cast<size_t>(pipe);
    return index < sizeof(kNames) / sizeof(kNames[0]) ? kNames[index] : "?";
}

InstructionCost PriceInstruction(const ascendc_cpu::InstrRecord &record, const double *params)
{
    using ascendc_cpu::InstrKind;
    const double *p = params != nullptr ? params : kFitted;
    const double bytes = static_cast<double>(record.bytes);
    switch (record.kind) {
        case InstrKind::kDmaGmToUb:  // a no-op moves nothing and is not a dma_in_op (FromTrace)
            return {ModelPipe::kMte2, record.bytes == 0 ? 0.0 : p[kDmaUs] + UsFor(bytes, p[kCoreGbps])};
        case InstrKind::kDmaUbToGm:
            return {ModelPipe::kMte3, record.bytes == 0 ? 0.0 : p[kDmaUs] + UsFor(bytes, p[kCoreGbps])};
        case InstrKind::kDmaUbToUb:  // not in the model (our kernels issue none); V in the hazard model
            return {ModelPipe::kVector, 0.0};
        case InstrKind::kScalarGmRead:
        case InstrKind::kScalarGmWrite:
            return {ModelPipe::kScalar, p[kScalarGmUs]};
        case InstrKind::kScalarUbRead:
        case InstrKind::kScalarUbWrite:
            return {ModelPipe::kScalar, p[kScalarUbUs]};
        case InstrKind::kVector:
            return {ModelPipe::kVector, p[kVectorUs]};
        case InstrKind::kSetFlag:
        case InstrKind::kWaitFlag:
        case InstrKind::kPipeBarrier:
        case InstrKind::kQueue:
            break;
    }
    return {ModelPipe::kFlowCtrl, 0.0};
}

std::string CurrentProfileDir()
{
    ProfileSettings &s = Settings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.dir;
}

std::string WriteProfile(const std::string &dir, const ProfileRun &run, std::string *error)
{
    std::vector<MoeReRoutingModelCore> cores;
    for (const ascendc_cpu::CoreTrace &t : run.cores) {
        cores.push_back(FromTrace(t));
    }
    if (cores.empty()) {
        *error = "the run has no per-core trace";
        return "";
    }
    std::vector<MoeReRoutingModelCoreTime> times(cores.size());
    const double total = Evaluate(cores.data(), static_cast<int32_t>(cores.size()), kFitted, times.data());
    double bytes = 0.0;
    for (const MoeReRoutingModelCore &c : cores) {
        bytes += c.bytesIn + c.bytesOut;
    }
    const double hbmUs = UsFor(bytes, kFitted[kHbmGbps]);  // the HBM-bound term of Evaluate
    if (!MakeDirs(dir)) {
        *error = "cannot create " + dir + ": " + std::strerror(errno);
        return "";
    }
    static std::atomic<uint32_t> counter{0};
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    std::string path;
    for (int attempt = 0; attempt < 1000; ++attempt) {
        char id[32];
        std::snprintf(id, sizeof(id), "%05u%03u", static_cast<unsigned>(getpid()) % 100000u,
                      counter.fetch_add(1) % 1000u);
        path = dir + "/OPPROF_" + stamp + "_" + id;
        if (mkdir(path.c_str(), 0755) == 0) {
            break;
        }
        if (errno != EEXIST) {
            *error = "cannot create " + path + ": " + std::strerror(errno);
            return "";
        }
        path.clear();
    }
    if (path.empty()) {
        *error = "no free OPPROF_ directory name under " + dir;
        return "";
    }

    const std::string basic = std::string("Op Name,Op Type,Task Duration(us),Block Dim,Mix Block Dim,Device Id,Pid,"
                                          "Current Freq,Rated Freq\n") +
                              run.opName + "," + run.opName + "," + Fmt(total) + "," + std::to_string(run.blockDim) +
                              ",0,0," + std::to_string(getpid()) + "," + std::to_string(kFreqMhz) + "," +
                              std::to_string(kFreqMhz) + "\n";
    std::string pipes =
        "block_id,sub_block_id,aiv_time(us),aiv_total_cycles,aiv_vec_time(us),aiv_vec_ratio,aiv_mte2_time(us),"
        "aiv_mte2_ratio,aiv_mte2_active_bw(GB/s),aiv_mte3_time(us),aiv_mte3_ratio,aiv_mte3_active_bw(GB/s),"
        "aiv_icache_miss_rate,aiv_scalar_time(us),aiv_scalar_ratio,aiv_scalar_single_time(us),"
        "aiv_scalar_dual_time(us),aiv_scalar_wait_time(us),aiv_scalar_mte2_stall_time(us),"
        "aiv_scalar_mte3_stall_time(us),aiv_scalar_vector_stall_time(us),aiv_scalar_wait_ib_time(us),"
        "aiv_scalar_stall_by_ub_time(us)\n";
    for (size_t i = 0; i < cores.size(); ++i) {
        const MoeReRoutingModelCoreTime &t = times[i];
        const double bw2 = t.mte2Us > 0.0 ? cores[i].bytesIn / (t.mte2Us * 1e3) : 0.0;
        const double bw3 = t.mte3Us > 0.0 ? cores[i].bytesOut / (t.mte3Us * 1e3) : 0.0;
        // The model's scalar unit is blocked while the busiest other pipe works (core = scalar +
        // max(vector, MTE2, MTE3)): that is the modelled wait time. Which part of it a real core
        // spends in wait instructions and which in full instruction queues, single or dual issue,
        // iCache and UB stalls are not modelled: N/A.
        const double waitUs = t.coreUs - t.scalarUs;
        pipes += std::to_string(i) + ",0," + Fmt(t.coreUs) + "," +
                 std::to_string(static_cast<long long>(CoreCycles(t))) + "," + Fmt(t.vectorUs) + "," +
                 Ratio(t.vectorUs, t.coreUs) + "," + Fmt(t.mte2Us) + "," + Ratio(t.mte2Us, t.coreUs) + "," + Fmt(bw2) +
                 "," + Fmt(t.mte3Us) + "," + Ratio(t.mte3Us, t.coreUs) + "," + Fmt(bw3) + ",N/A," + Fmt(t.scalarUs) +
                 "," + Ratio(t.scalarUs, t.coreUs) + ",N/A,N/A," + Fmt(waitUs) + ",N/A,N/A,N/A,N/A,N/A\n";
    }

    std::string params;
    for (int i = 0; i < kParamCount; ++i) {
        params += std::string(i == 0 ? "" : ", ") + "\"" + kParamNames[i] + "\": " + FmtParam(kFitted[i]);
    }
    std::string trace = "{\"displayTimeUnit\":\"ns\",\"metadata\":{\"time_source\":\"modelled\",\"model\":"
                        "\"moe-re-routing time model (docs/time_model.md)\",\"platform\":\"" +
                        std::string(kPlatformText) + "\",\"op\":\"" + JsonEscape(run.opName) + "\",\"shapes\":\"" +
                        JsonEscape(run.shapeText) + "\",\"block_dim\":" + std::to_string(run.blockDim) + ",\"run_platform_cores\":" +
                        std::to_string(run.platformCores) + ",\"run_platform_ub_bytes\":" +
                        std::to_string(run.platformUbBytes) +
                        ",\"task_duration_us\":" + Fmt(total) + ",\"launch_us\":" + Fmt(kFitted[kLaunchUs]) +
                        ",\"hbm_bound_us\":" + Fmt(hbmUs) + ",\"parameters\":{" + params + "}},\"traceEvents\":[\n";
    trace += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"" + JsonEscape(run.opName) +
             " (modelled, " + kPlatformText + ")\"}},\n";
    trace += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"Task\"}},\n";
    trace += "{\"name\":\"" + JsonEscape(run.opName) + "\",\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":0,"
             "\"dur\":" + Fmt(total) + ",\"args\":{\"Task Type\":\"AI_VECTOR_CORE\",\"modelled\":true}}";
    const double launch = kFitted[kLaunchUs];
    static const char *const kPipes[4] = {"SCALAR", "VECTOR", "MTE2", "MTE3"};
    for (size_t i = 0; i < cores.size(); ++i) {
        const MoeReRoutingModelCoreTime &t = times[i];
        const double piped = launch + t.scalarUs;  // V, MTE2 and MTE3 side by side after the scalar work
        const double start[4] = {launch, piped, piped, piped};
        const double dur[4] = {t.scalarUs, t.vectorUs, t.mte2Us, t.mte3Us};
        for (int p = 0; p < 4; ++p) {
            const std::string tid = std::to_string(1 + i * 4 + p);
            trace += ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + tid +
                     ",\"args\":{\"name\":\"core " + std::to_string(i) + " " + kPipes[p] + "\"}}";
            if (dur[p] > 0.0) {
                trace += ",\n{\"name\":\"" + std::string(kPipes[p]) + "\",\"cat\":\"pipe\",\"ph\":\"X\",\"pid\":1,\"tid\":" +
                         tid + ",\"ts\":" + Fmt(start[p]) + ",\"dur\":" + Fmt(dur[p]) + ",\"args\":{\"core\":" +
                         std::to_string(i) + ",\"modelled\":true}}";
            }
        }
    }
    trace += "\n]}\n";
    const std::string readme =
        std::string("Every time in this directory is MODELLED, not measured: moe-re-routing's time model "
                    "(docs/time_model.md), calibrated for ") +
        kPlatformText +
        ", applied to the per-core trace of a run of the kernel on the CPU emulator. No NPU was involved. "
        "Run: " + run.shapeText + ", block dim " + std::to_string(run.blockDim) + ", tiled for " +
        std::to_string(run.platformCores) + " cores x " + std::to_string(run.platformUbBytes) + " B UB" +
        (run.platformCores == kA2Cores ? "" : " (not the Atlas A2 core count: the schedule is not the one A2 would run)") +
        ".\n" +
        (run.simulator ? "simulator/: the msprof op simulator layout, per core, instruction and kernel source line "
                         "(all MODELLED; see simulator/README.txt).\n"
                       : "");
    if (!WriteFile(path + "/OpBasicInfo.csv", basic) || !WriteFile(path + "/PipeUtilization.csv", pipes) ||
        !WriteFile(path + "/trace.json", trace) || !WriteFile(path + "/README.txt", readme)) {
        *error = "cannot write the profile files in " + path + ": " + std::strerror(errno);
        return "";
    }
    if (run.simulator && !WriteSimulatorTree(path, run, times, total, hbmUs, error)) {
        return "";
    }
    return path;
}

}  // namespace model
}  // namespace moe_re_routing

using moe_re_routing::model::Settings;

extern "C" {

int32_t MoeReRoutingModelParameters(const char *const **names, const double **values)
{
    if (names != nullptr) {
        *names = moe_re_routing::model::kParamNames;
    }
    if (values != nullptr) {
        *values = moe_re_routing::model::kFitted;
    }
    return MOE_RE_ROUTING_MODEL_PARAM_COUNT;
}

double MoeReRoutingModelEvaluate(const MoeReRoutingModelCore *cores, int32_t coreNum, const double *params,
                                 MoeReRoutingModelCoreTime *perCore)
{
    return moe_re_routing::model::Evaluate(cores, coreNum, params, perCore);
}

aclnnStatus MoeReRoutingCpuSetProfileDir(const char *dir)
{
    auto &s = Settings();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.dir = dir != nullptr ? dir : "";
    return 0;
}

const char *MoeReRoutingCpuLastProfilePath(void) { return moe_re_routing::model::t_lastProfilePath.c_str(); }

}  // extern "C"

namespace moe_re_routing {
namespace model {
void SetLastProfilePath(const std::string &path) { t_lastProfilePath = path; }
}  // namespace model
}  // namespace moe_re_routing
