// The msprof op simulator look-alike (docs/profiling.md). Every figure written here is *modelled*:
// the time model's per-instruction price (PriceInstruction) of what the emulator recorded per core,
// attributed to the kernel source line that issued it.
#include "simulator_profile.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#ifndef MOE_RE_ROUTING_SOURCE_DIR
#define MOE_RE_ROUTING_SOURCE_DIR ""
#endif

namespace moe_re_routing {
namespace model {
namespace {

constexpr int kPipeCount = static_cast<int>(ModelPipe::kCount);

// -1: not set by the C API yet (the environment decides).
std::atomic<int> g_simulator{-1};

bool EnvironmentAsksForSimulator()
{
    const char *env = std::getenv("MOE_RE_ROUTING_PROFILE_SIMULATOR");
    return env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
}

std::string Fixed(double v, int decimals)
{
    char text[64];
    std::snprintf(text, sizeof(text), "%.*f", decimals, v);
    return text;
}

// Modelled cycles as microseconds at the assumed clock.
std::string CyclesUs(int64_t cycles) { return Fixed(static_cast<double>(cycles) / kAssumedFreqMhz, 6); }

std::string Csv(const std::string &field)
{
    if (field.find_first_of(",\"\n") == std::string::npos) {
        return field;
    }
    std::string out = "\"";
    for (char c : field) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string Json(const std::string &s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

bool WriteText(const std::string &path, const std::string &text, std::string *error)
{
    std::FILE *file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
        *error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    const bool ok = std::fwrite(text.data(), 1, text.size(), file) == text.size();
    if (std::fclose(file) != 0 || !ok) {
        *error = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

bool MakeDir(const std::string &path, std::string *error)
{
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = "cannot create " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

// The instr column: the Ascend C API the kernel called, with the direction for DMAs.
std::string InstrName(const ascendc_cpu::InstrRecord &r)
{
    using ascendc_cpu::InstrKind;
    std::string name = r.api;
    if (r.kind == InstrKind::kDmaGmToUb) {
        name += "(GM->UB)";
    } else if (r.kind == InstrKind::kDmaUbToGm) {
        name += "(UB->GM)";
    } else if (r.kind == InstrKind::kDmaUbToUb) {
        name += "(UB->UB)";
    }
    return name;
}

// The detail column: the source line, then what the instruction did.
std::string Detail(const std::string &code, const ascendc_cpu::InstrRecord &r)
{
    using ascendc_cpu::InstrKind;
    std::string d = "code=" + code;
    switch (r.kind) {
        case InstrKind::kDmaGmToUb:
        case InstrKind::kDmaUbToGm:
        case InstrKind::kDmaUbToUb:
            d += " bursts=" + std::to_string(r.bursts) + " burst_bytes=" + std::to_string(r.burstBytes) +
                 " bytes=" + std::to_string(r.bytes) + " src_pitch_bytes=" + std::to_string(r.srcPitch) +
                 " dst_pitch_bytes=" + std::to_string(r.dstPitch);
            if (r.kind == InstrKind::kDmaGmToUb) {
                d += " pad_bytes=" + std::to_string(r.padBytes);
            }
            if (r.bytes == 0) {
                d += " no-op";
            }
            break;
        case InstrKind::kScalarGmRead:
            d += " scalar GM read element_bytes=" + std::to_string(r.bytes);
            break;
        case InstrKind::kScalarGmWrite:
            d += " scalar GM write element_bytes=" + std::to_string(r.bytes);
            break;
        case InstrKind::kScalarUbRead:
            d += " scalar UB read element_bytes=" + std::to_string(r.bytes);
            break;
        case InstrKind::kScalarUbWrite:
            d += " scalar UB write element_bytes=" + std::to_string(r.bytes);
            break;
        case InstrKind::kVector:
            d += " vector";
            if (r.elementBytes != 0) {
                d += " count=" + std::to_string(r.bytes / r.elementBytes) +
                     " element_bytes=" + std::to_string(r.elementBytes);
            }
            d += " dst_bytes=" + std::to_string(r.bytes) + " repeats=" + std::to_string((r.bytes + 255) / 256);
            break;
        case InstrKind::kSetFlag:
            d += std::string(" set_flag event=") + r.note + (r.id >= 0 ? " id=" + std::to_string(r.id) : "");
            break;
        case InstrKind::kWaitFlag:
            d += std::string(" wait_flag event=") + r.note + (r.id >= 0 ? " id=" + std::to_string(r.id) : "");
            break;
        case InstrKind::kPipeBarrier:
            d += std::string(" barrier pipe=") + r.note;
            break;
        case InstrKind::kQueue:
            d += std::string(" queue ") + r.note;
            break;
    }
    return d;
}

struct LineKey {
    std::string file;
    uint32_t line;
    bool operator<(const LineKey &o) const { return std::tie(file, line) < std::tie(o.file, o.line); }
};

struct Tally {
    uint64_t calls = 0;
    int64_t cycles = 0;
};

// One event of a timeline lane: consecutive records of one source line and instruction merged.
struct LaneEvent {
    std::string name;
    std::string code;
    std::string detail;
    uint64_t calls = 0;
    int64_t startCycles = 0;  // from the lane's start
    int64_t cycles = 0;
};

struct CoreReport {
    std::string name;
    std::string codeCsv;
    std::string instrCsv;
    std::vector<LaneEvent> lanes[kPipeCount];
    int64_t pipeCycles[kPipeCount] = {};
    int64_t totalCycles = 0;
    int64_t busyCycles = 0;
    std::string criticalPipe;
};

// Lanes drawn in the timelines: the priced pipes (FLOWCTRL instructions cost 0 in the model).
constexpr ModelPipe kLanes[] = {ModelPipe::kScalar, ModelPipe::kVector, ModelPipe::kMte2, ModelPipe::kMte3};

CoreReport BuildCore(uint32_t block, const ascendc_cpu::CoreTrace &trace, const PricedCore &priced)
{
    CoreReport rep;
    rep.name = SimulatorCoreName(block);
    std::map<LineKey, Tally> lines;
    std::map<std::tuple<LineKey, std::string, int, std::string>, Tally> instrs;
    for (size_t i = 0; i < trace.instructions.size(); ++i) {
        const ascendc_cpu::InstrRecord &r = trace.instructions[i];
        const LineKey key{SourceName(r.where.file), r.where.line};
        const std::string code = key.file + ":" + std::to_string(key.line);
        const std::string name = InstrName(r);
        const std::string detail = Detail(code, r);
        const int pipe = static_cast<int>(priced.costs[i].pipe);
        const int64_t cycles = priced.cycles[i];
        Tally &line = lines[key];
        ++line.calls;
        line.cycles += cycles;
        Tally &instr = instrs[std::make_tuple(key, name, pipe, detail)];
        ++instr.calls;
        instr.cycles += cycles;
        if (cycles == 0) {
            continue;  // nothing to draw (synchronisation, no-ops)
        }
        std::vector<LaneEvent> &lane = rep.lanes[pipe];
        const int64_t start = lane.empty() ? 0 : lane.back().startCycles + lane.back().cycles;
        if (!lane.empty() && lane.back().name == name && lane.back().detail == detail) {
            ++lane.back().calls;
            lane.back().cycles += cycles;
        } else {
            lane.push_back(LaneEvent{name, code, detail, 1, start, cycles});
        }
    }
    rep.codeCsv = "code,call_count,cycles,running_time(us)\n";
    for (const auto &entry : lines) {
        rep.codeCsv += Csv(entry.first.file + ":" + std::to_string(entry.first.line)) + "," +
                       std::to_string(entry.second.calls) + "," + std::to_string(entry.second.cycles) + "," +
                       CyclesUs(entry.second.cycles) + "\n";
    }
    rep.instrCsv = "instr,addr,pipe,call_count,cycles,running_time(us),detail\n";
    for (const auto &entry : instrs) {
        rep.instrCsv += Csv(std::get<1>(entry.first)) + ",N/A," +
                        ModelPipeName(static_cast<ModelPipe>(std::get<2>(entry.first))) + "," +
                        std::to_string(entry.second.calls) + "," + std::to_string(entry.second.cycles) + "," +
                        CyclesUs(entry.second.cycles) + "," + Csv(std::get<3>(entry.first)) + "\n";
    }
    int64_t busiest = -1;
    for (int p = 0; p < kPipeCount; ++p) {
        rep.pipeCycles[p] = priced.pipeCycles[p];
        rep.busyCycles += priced.pipeCycles[p];
        if (p != static_cast<int>(ModelPipe::kScalar) && p != static_cast<int>(ModelPipe::kFlowCtrl) &&
            priced.pipeCycles[p] > busiest) {
            busiest = priced.pipeCycles[p];
            rep.criticalPipe = ModelPipeName(static_cast<ModelPipe>(p));
        }
    }
    rep.totalCycles = priced.pipeCycles[static_cast<int>(ModelPipe::kScalar)] + busiest;
    return rep;
}

// Chrome trace events of one core: process `pid` named after the core, a thread per priced pipe,
// the scalar lane from the launch, the other pipes side by side after the scalar work (the
// model's structure: core = SCALAR + max(VECTOR, MTE2, MTE3)).
std::string CoreEvents(const CoreReport &rep, int pid, double launchUs)
{
    std::string out;
    const std::string p = std::to_string(pid);
    out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" + p + ",\"args\":{\"name\":" + Json(rep.name) + "}},\n";
    out += "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" + p + ",\"args\":{\"sort_index\":" + p + "}}";
    const double scalarUs = static_cast<double>(rep.pipeCycles[static_cast<int>(ModelPipe::kScalar)]) / kAssumedFreqMhz;
    for (ModelPipe pipe : kLanes) {
        const int index = static_cast<int>(pipe);
        const std::string tid = std::to_string(index + 1);
        out += ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" + p + ",\"tid\":" + tid + ",\"args\":{\"name\":" +
               Json(std::string(ModelPipeName(pipe))) + "}}";
        out += ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":" + p + ",\"tid\":" + tid +
               ",\"args\":{\"sort_index\":" + tid + "}}";
        const double base = launchUs + (pipe == ModelPipe::kScalar ? 0.0 : scalarUs);
        for (const LaneEvent &e : rep.lanes[index]) {
            out += ",\n{\"name\":" + Json(e.name) + ",\"cat\":" + Json(std::string(ModelPipeName(pipe))) +
                   ",\"ph\":\"X\",\"pid\":" + p + ",\"tid\":" + tid +
                   ",\"ts\":" + Fixed(base + static_cast<double>(e.startCycles) / kAssumedFreqMhz, 6) +
                   ",\"dur\":" + Fixed(static_cast<double>(e.cycles) / kAssumedFreqMhz, 6) +
                   ",\"args\":{\"code\":" + Json(e.code) + ",\"calls\":" + std::to_string(e.calls) +
                   ",\"cycles\":" + std::to_string(e.cycles) + ",\"detail\":" + Json(e.detail) +
                   ",\"modelled\":true}}";
        }
    }
    return out;
}

std::string CoreMetadata(const CoreReport &rep, uint32_t block)
{
    std::string pipes;
    for (int p = 0; p < kPipeCount; ++p) {
        pipes += std::string(p == 0 ? "" : ",") + Json(std::string(ModelPipeName(static_cast<ModelPipe>(p)))) + ":" +
                 std::to_string(rep.pipeCycles[p]);
    }
    return "{\"core\":" + Json(rep.name) + ",\"block_id\":" + std::to_string(block) + ",\"pipe_cycles\":{" + pipes +
           "},\"total_cycles\":" + std::to_string(rep.totalCycles) + ",\"busy_cycles\":" +
           std::to_string(rep.busyCycles) + ",\"critical_pipe\":" + Json(rep.criticalPipe) + "}";
}

std::string CommonMetadata(const ProfileRun &run, double taskUs, double hbmUs)
{
    return "\"time_source\":\"modelled\",\"model\":\"moe-re-routing time model per instruction "
           "(docs/profiling.md)\",\"platform\":\"Ascend910B (Atlas A2)\",\"frequency_mhz\":" +
           std::to_string(kAssumedFreqMhz) + ",\"op\":" + Json(run.opName) + ",\"shapes\":" + Json(run.shapeText) +
           ",\"block_dim\":" + std::to_string(run.blockDim) + ",\"run_platform_cores\":" +
           std::to_string(run.platformCores) + ",\"run_platform_ub_bytes\":" + std::to_string(run.platformUbBytes) +
           ",\"task_duration_us\":" + Fixed(taskUs, 3) +
           ",\"launch_us\":" + Fixed(FittedParameters()[0], 6) + ",\"hbm_bound_us\":" + Fixed(hbmUs, 3) +
           ",\"source_root\":" + Json(std::string(MOE_RE_ROUTING_SOURCE_DIR));
}

std::string Readme(const ProfileRun &run, double taskUs)
{
    return std::string(
               "Every figure in this directory is MODELLED, not measured: moe-re-routing's time model "
               "(docs/time_model.md), calibrated for Ascend910B (Atlas A2), applied to each instruction the CPU "
               "emulator recorded while it ran the kernel. No NPU and no msprof were involved; the layout follows "
               "msprof op simulator's documented output so that the usual tools read it.\n\n"
               "Run: ") +
           run.shapeText + ", block dim " + std::to_string(run.blockDim) + ", modelled task duration " +
           Fixed(taskUs, 3) +
           " us.\n\n"
           "core<i>.veccore<j>/: block b of the launch is core<b/2>.veccore<b%2> (two vector cores per AI core, as "
           "on A2/A3); PipeUtilization.csv's block_id is b.\n"
           "  *_code_exe.csv  code,call_count,cycles,running_time(us): per kernel source line "
           "(file:line of the Ascend C call, recorded by the emulator), the instructions it issued, their "
           "modelled cycles and cycles / 1800 MHz (the assumed clock of OpBasicInfo.csv).\n"
           "  *_instr_exe.csv instr,addr,pipe,call_count,cycles,running_time(us),detail: per call site, "
           "instruction and parameters; addr is N/A (there is no program counter in an emulator); detail "
           "starts with code=<file:line> and gives DMA bursts, lengths and pitches, vector element counts, "
           "destination bytes and repeats, flag events.\n"
           "  trace.json      Chrome trace (chrome://tracing, Perfetto) of that core, one lane per pipe.\n"
           "trace.json: all cores, a process per core and a lane per pipe.\n\n"
           "Cycles: each instruction costs what the model charges its unit of work (MTE2/MTE3: dma_us + "
           "bytes / core_gbps per DMA; SCALAR: scalar_gm_us per GM access, scalar_ub_us per UB access; "
           "VECTOR: vector_us per instruction; FLOWCTRL: flags, barriers and queue operations, 0), rounded to "
           "whole cycles cumulatively per pipe. Per core: the cycles of a pipe add up to that pipe's modelled "
           "time in PipeUtilization.csv (as whole cycles); all lines add up to the busy cycles (sum over pipes); "
           "aiv_total_cycles = SCALAR + max(VECTOR, MTE2, MTE3) cycles. Task Duration = launch_us + max(largest "
           "core time, HBM-bound time).\n"
           "Timelines are schematic: the model does not order instructions in time, so each lane lists its "
           "instructions back to back in issue order, SCALAR from the launch and the other pipes after the "
           "scalar work, which is how the model composes a core's time. Instructions of 0 modelled cycles "
           "(FLOWCTRL, no-op DMAs) are in the CSVs only.\n";
}

}  // namespace

bool ProfileSimulatorEnabled()
{
    const int set = g_simulator.load(std::memory_order_relaxed);
    return set < 0 ? EnvironmentAsksForSimulator() : set != 0;
}

std::string SimulatorCoreName(uint32_t block)
{
    return "core" + std::to_string(block / 2) + ".veccore" + std::to_string(block % 2);
}

std::string SourceName(const char *file)
{
    const std::string path = file != nullptr ? file : "";
    const std::string root = MOE_RE_ROUTING_SOURCE_DIR;
    if (!root.empty() && path.compare(0, root.size(), root) == 0) {
        return path.substr(root.size());
    }
    return path;
}

bool PriceCore(const ascendc_cpu::CoreTrace &trace, const MoeReRoutingModelCoreTime &time, PricedCore *priced,
               std::string *error)
{
    const size_t n = trace.instructions.size();
    priced->costs.resize(n);
    priced->cycles.assign(n, 0);
    double exact[kPipeCount] = {};
    for (size_t i = 0; i < n; ++i) {
        priced->costs[i] = PriceInstruction(trace.instructions[i], nullptr);
        exact[static_cast<int>(priced->costs[i].pipe)] += priced->costs[i].us;
    }
    const double model[kPipeCount] = {time.scalarUs, time.vectorUs, time.mte2Us, time.mte3Us, 0.0};
    for (int p = 0; p < kPipeCount; ++p) {
        if (std::fabs(exact[p] - model[p]) > 1e-9 * std::max(1.0, model[p])) {
            *error = std::string("the instruction records disagree with the trace counters on ") +
                     ModelPipeName(static_cast<ModelPipe>(p)) + ": " + Fixed(exact[p], 9) + " us against " +
                     Fixed(model[p], 9) + " us";
            return false;
        }
    }
    // Cumulative rounding per pipe: the cycles of a pipe's first k instructions are the rounded
    // cycles of their exact sum, so the pipe's total is UsToCycles of its exact time.
    double cumulative[kPipeCount] = {};
    int64_t rounded[kPipeCount] = {};
    size_t last[kPipeCount];
    std::fill(last, last + kPipeCount, n);
    for (size_t i = 0; i < n; ++i) {
        const int p = static_cast<int>(priced->costs[i].pipe);
        cumulative[p] += priced->costs[i].us;
        const int64_t now = UsToCycles(cumulative[p]);
        priced->cycles[i] = now - rounded[p];
        rounded[p] = now;
        if (priced->costs[i].us > 0.0) {
            last[p] = i;
        }
    }
    for (int p = 0; p < kPipeCount; ++p) {
        // The target is the model's own pipe term; the exact sums agree with it to 1e-9, so this
        // moves at most one cycle, and only when the two fall on either side of a rounding tie.
        const int64_t target = UsToCycles(model[p]);
        if (target != rounded[p]) {
            if (last[p] == n) {
                *error = std::string("no priced instruction on ") + ModelPipeName(static_cast<ModelPipe>(p));
                return false;
            }
            priced->cycles[last[p]] += target - rounded[p];
        }
        priced->pipeCycles[p] = target;
    }
    return true;
}

bool WriteSimulatorTree(const std::string &opprofDir, const ProfileRun &run,
                        const std::vector<MoeReRoutingModelCoreTime> &times, double taskUs, double hbmUs,
                        std::string *error)
{
    if (times.size() != run.cores.size()) {
        *error = "simulator profile: per-core times do not match the cores";
        return false;
    }
    const std::string root = opprofDir + "/simulator";
    if (!MakeDir(root, error)) {
        return false;
    }
    const double launchUs = FittedParameters()[0];
    std::string summary = "{\"displayTimeUnit\":\"ns\",\"metadata\":{" + CommonMetadata(run, taskUs, hbmUs) +
                          ",\"cores\":[";
    std::string summaryEvents =
        "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"args\":{\"name\":" +
        Json(run.opName + " (modelled, Ascend910B)") + "}},\n" +
        "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":0,\"args\":{\"sort_index\":0}},\n" +
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,\"args\":{\"name\":\"Task\"}},\n" +
        "{\"name\":" + Json(run.opName) + ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":0,\"dur\":" +
        Fixed(taskUs, 3) + ",\"args\":{\"Task Type\":\"AI_VECTOR_CORE\",\"launch_us\":" + Fixed(launchUs, 6) +
        ",\"hbm_bound_us\":" + Fixed(hbmUs, 3) + ",\"modelled\":true}}";
    for (size_t b = 0; b < run.cores.size(); ++b) {
        PricedCore priced;
        if (!PriceCore(run.cores[b], times[b], &priced, error)) {
            *error = "simulator profile, block " + std::to_string(b) + ": " + *error;
            return false;
        }
        const uint32_t block = static_cast<uint32_t>(b);
        const CoreReport rep = BuildCore(block, run.cores[b], priced);
        const std::string dir = root + "/" + rep.name;
        const std::string meta = CoreMetadata(rep, block);
        const std::string events = CoreEvents(rep, static_cast<int>(b) + 1, launchUs);
        const std::string coreTrace = "{\"displayTimeUnit\":\"ns\",\"metadata\":{" +
                                      CommonMetadata(run, taskUs, hbmUs) + ",\"cores\":[" + meta +
                                      "]},\"traceEvents\":[\n" + events + "\n]}\n";
        if (!MakeDir(dir, error) || !WriteText(dir + "/" + rep.name + "_code_exe.csv", rep.codeCsv, error) ||
            !WriteText(dir + "/" + rep.name + "_instr_exe.csv", rep.instrCsv, error) ||
            !WriteText(dir + "/trace.json", coreTrace, error)) {
            return false;
        }
        summary += std::string(b == 0 ? "" : ",") + meta;
        summaryEvents += ",\n" + events;
    }
    summary += "]},\"traceEvents\":[\n" + summaryEvents + "\n]}\n";
    return WriteText(root + "/trace.json", summary, error) && WriteText(root + "/README.txt", Readme(run, taskUs), error);
}

}  // namespace model
}  // namespace moe_re_routing

extern "C" {

aclnnStatus MoeReRoutingCpuSetProfileSimulator(int32_t enabled)
{
    moe_re_routing::model::g_simulator.store(enabled != 0 ? 1 : 0, std::memory_order_relaxed);
    return 0;
}

}  // extern "C"
