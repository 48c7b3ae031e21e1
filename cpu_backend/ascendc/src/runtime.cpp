// Launch over emulated cores on a thread pool, process-wide settings, GmAlloc and the trace.
#include "ascendc_cpu/runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "internal.h"
#include "tikicpulib.h"

namespace ascendc_cpu {
namespace {

using detail::CoreContext;
using detail::DmaEvent;

constexpr uint8_t kPoisonByte = 0xA5;

// ASCENDC_CPU_AUTO_SYNC=on|off; unset or empty: on (how CANN builds custom operators). Anything
// else is reported and the default kept.
bool AutoSyncFromEnvironment()
{
    const char *value = std::getenv("ASCENDC_CPU_AUTO_SYNC");
    if (value == nullptr || *value == '\0' || std::strcmp(value, "on") == 0) {
        return true;
    }
    if (std::strcmp(value, "off") == 0) {
        return false;
    }
    std::fprintf(stderr, "ascendc_cpu: warning: ASCENDC_CPU_AUTO_SYNC=%s is neither on nor off; using on\n", value);
    return true;
}

// ASCENDC_CPU_SOC=<name>: an entry of kSocPlatforms or a toolkit SoC version of its family
// (FindSocByVersion); unset or empty: kDefaultSoc. An unknown name is reported with the known ones
// and the default kept.
const SocPlatform *SocFromEnvironment()
{
    const char *value = std::getenv("ASCENDC_CPU_SOC");
    if (value == nullptr || *value == '\0') {
        return &kDefaultSoc;
    }
    if (const SocPlatform *soc = FindSocByVersion(value)) {
        return soc;
    }
    std::string known;
    for (const SocPlatform &soc : kSocPlatforms) {
        known += known.empty() ? "" : ", ";
        known += soc.name;
    }
    std::fprintf(stderr, "ascendc_cpu: warning: ASCENDC_CPU_SOC=%s is not a known SoC (%s); using %s\n", value,
                 known.c_str(), kDefaultSoc.name);
    return &kDefaultSoc;
}

// ASCENDC_CPU_MODE (checked|fast) chose between the checked emulator and a fast one until the native
// engine took the fast path (issue 20); nothing reads it now. A setting left in an environment is
// reported once, so nobody takes a checked run for the fast one or the other way round.
void WarnAboutRetiredModeVariable()
{
    const char *value = std::getenv("ASCENDC_CPU_MODE");
    if (value != nullptr && *value != '\0') {
        std::fprintf(stderr,
                     "ascendc_cpu: warning: ASCENDC_CPU_MODE=%s is no longer read: the emulator has one mode, "
                     "every rule on (the fast path is moe-re-routing's native engine)\n",
                     value);
    }
}

uint32_t ThreadsFromEnvironment()
{
    const char *value = std::getenv("ASCENDC_CPU_THREADS");
    if (value != nullptr && *value != '\0') {
        char *end = nullptr;
        const long threads = std::strtol(value, &end, 10);
        if (end != value && *end == '\0' && threads >= 1 && threads <= 4096) {
            return static_cast<uint32_t>(threads);
        }
        std::fprintf(stderr, "ascendc_cpu: warning: ASCENDC_CPU_THREADS=%s is not a thread count; ignoring it\n",
                     value);
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::atomic<bool> &AutoSyncSetting()
{
    static std::atomic<bool> on{AutoSyncFromEnvironment()};
    return on;
}

std::atomic<const SocPlatform *> &SocSetting()
{
    static std::atomic<const SocPlatform *> soc{SocFromEnvironment()};
    return soc;
}

// UB and the hazard shadow of the cores this thread runs; reused across launches. The sequence
// counter never goes back, so old shadow records count as synchronised without clearing them.
struct ThreadCoreMemory {
    std::unique_ptr<uint8_t, void (*)(void *)> ub{nullptr, std::free};
    size_t ubCapacity = 0;
    std::unique_ptr<uint64_t[]> shadow;
    size_t shadowPlane = 0;
    uint64_t seq = 1;

    uint8_t *Ub(size_t bytes)
    {
        if (ubCapacity < bytes) {
            const size_t rounded = (bytes + 4095) / 4096 * 4096;
            ub.reset(static_cast<uint8_t *>(std::aligned_alloc(4096, rounded)));
            if (!ub) {
                std::fprintf(stderr, "ascendc_cpu: out of memory for %zu B of UB\n", bytes);
                std::abort();
            }
            ubCapacity = rounded;
        }
        return ub.get();
    }

    // The hazard shadow: 1 + kReaderCount planes (last writes, then the last reads of each reading
    // unit) of `plane` entries each. The plane size only grows (a new allocation starts zeroed), so
    // a launch with a smaller UB never reads one plane's old records as another plane's.
    uint64_t *Shadow(size_t ubBytes)
    {
        if (shadowPlane < ubBytes) {
            shadow.reset(new uint64_t[ubBytes * (1 + detail::kReaderCount)]());
            shadowPlane = ubBytes;
        }
        return shadow.get();
    }
};

thread_local ThreadCoreMemory t_memory;

struct Job {
    LaunchConfig config;
    const std::function<void()> *body = nullptr;
    bool autoSync = true;
    uint64_t tilingKey = 0;
    double startUs = 0.0;
    bool recordEvents = false;

    std::atomic<uint32_t> next{0};
    std::atomic<uint32_t> finished{0};
    std::mutex doneMutex;
    std::condition_variable doneCv;

    std::vector<CoreTrace> traces;  // one per block when collectTrace or a Chrome trace is asked for
    std::vector<std::vector<DmaEvent>> events;
    struct Span {
        double startUs;
        double durationUs;
    };
    std::vector<Span> blockSpans;  // per block, relative to startUs (Chrome trace only)
};

// One CoreContext per thread and nesting depth (a block may itself launch), reused by every block
// this thread runs instead of being allocated and zeroed per block.
struct ThreadCores {
    std::vector<std::unique_ptr<CoreContext>> stack;
    size_t depth = 0;
};

thread_local ThreadCores t_cores;

// Takes this thread's next CoreContext for the duration of one block and makes it current; gives
// both back on every exit path (a kernel body may throw through Launch).
class BlockScope {
public:
    BlockScope()
    {
        if (t_cores.depth == t_cores.stack.size()) {
            t_cores.stack.push_back(std::make_unique<CoreContext>());
        }
        core_ = t_cores.stack[t_cores.depth++].get();
        core_->BeginBlock();
    }
    ~BlockScope()
    {
        if (entered_) {
            detail::SwapCurrentCore(previous_);
        }
        if (core_->flagsSet != 0) {
            core_->ClearFlags();  // only after an exception: a normal end with a flag set aborts
        }
        if (core_->shadow != nullptr) {
            // Also after an exception: the thread's next block must start past every record this
            // one left in the shadow, or they would count as unsynchronised work of that block.
            t_memory.seq = std::max(t_memory.seq, core_->seq + 1);
        }
        --t_cores.depth;
    }
    BlockScope(const BlockScope &) = delete;
    BlockScope &operator=(const BlockScope &) = delete;

    CoreContext &core() { return *core_; }
    void Enter()
    {
        previous_ = detail::SwapCurrentCore(core_);
        entered_ = true;
    }
    void Leave()
    {
        detail::SwapCurrentCore(previous_);
        entered_ = false;
    }

private:
    CoreContext *core_ = nullptr;
    CoreContext *previous_ = nullptr;
    bool entered_ = false;
};

void RunBlock(Job &job, uint32_t blockIdx)
{
    BlockScope scope;
    CoreContext &core = scope.core();
    core.blockIdx = blockIdx;
    core.blockDim = job.config.blockDim;
    core.arch = job.config.arch;
    // dav-3510 orders PIPE_V in hardware; on dav-c220 only auto-sync (or the kernel) does.
    core.vectorOrderRule = !job.autoSync && job.config.arch == Arch::kDavC220;
    core.ubBytes = job.config.ubBytes;
    core.ubBase = t_memory.Ub(job.config.ubBytes);
    core.tilingKey = job.tilingKey;
    std::memset(core.ubBase, kPoisonByte, job.config.ubBytes);
    core.shadow = t_memory.Shadow(job.config.ubBytes);
    core.readShadow = core.shadow + t_memory.shadowPlane;
    core.shadowPlane = t_memory.shadowPlane;
    core.seq = t_memory.seq;
    for (auto &row : core.known) {
        std::fill(row, row + detail::kUnitCount, core.seq);
    }
    if (job.recordEvents) {
        core.events = &job.events[blockIdx];
        core.launchStartUs = job.startUs;
    }
    const bool traced = !job.traces.empty();
    if (job.config.collectTrace) {
        job.traces[blockIdx].dma.clear();
        core.dmaLog = &job.traces[blockIdx].dma;
        job.traces[blockIdx].instructions.clear();
        if (job.config.collectInstructions) {
            core.instrLog = &job.traces[blockIdx].instructions;
        }
    }

    const bool timed = traced;  // the clock is read only when someone asks for it
    scope.Enter();
    const double startUs = timed ? detail::NowUs() : 0.0;
    (*job.body)();
    const double endUs = timed ? detail::NowUs() : 0.0;
    detail::EndBlock(core);
    scope.Leave();

    if (traced) {
        CoreTrace &trace = job.traces[blockIdx];
        trace.bytesIn = core.bytesIn;
        trace.bytesOut = core.bytesOut;
        trace.dmaOps = core.dmaOps;
        trace.ubHighWater = core.ubHighWater;
        trace.seconds = (endUs - startUs) * 1e-6;
        static_cast<InstructionCounters &>(trace) = core.counts;
        if (job.recordEvents) {
            job.blockSpans[blockIdx] = {startUs - job.startUs, endUs - startUs};
        }
    }
}

// Runs blocks of this job until none is left unclaimed; returns when it claimed nothing more.
void DrainBlocks(Job &job)
{
    for (;;) {
        const uint32_t blockIdx = job.next.fetch_add(1, std::memory_order_relaxed);
        if (blockIdx >= job.config.blockDim) {
            return;
        }
        RunBlock(job, blockIdx);
        if (job.finished.fetch_add(1, std::memory_order_acq_rel) + 1 == job.config.blockDim) {
            std::lock_guard<std::mutex> lock(job.doneMutex);
            job.doneCv.notify_all();
        }
    }
}

// How long a thread that runs out of work spins before it blocks on a condition variable. A
// worker that spins catches the next launch of a caller that launches back to back (a decode loop)
// without a futex sleep and wake-up, which costs several microseconds each on a VM; the launching
// thread spins for the last blocks of its launch the same way. Bounded, so an idle process stops
// burning CPU after this long.
constexpr double kSpinMicroseconds = 50.0;

inline void CpuRelax()
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Spins until `ready()` holds or the budget is spent; returns ready().
template <typename Ready>
bool SpinUntil(Ready ready)
{
    const auto start = std::chrono::steady_clock::now();
    const auto budget = std::chrono::duration<double, std::micro>(kSpinMicroseconds);
    for (uint32_t i = 1;; ++i) {
        if (ready()) {
            return true;
        }
        CpuRelax();
        if (i % 256 == 0) {
            if (std::chrono::steady_clock::now() - start > budget) {
                return ready();
            }
            std::this_thread::yield();  // more spinning threads than host cores must not starve workers
        }
    }
}

// Worker threads that help with the blocks of pending launches. The launching thread always works
// on its own launch too, so a launch completes even when every worker is busy elsewhere.
class ThreadPool {
public:
    void Submit(const std::shared_ptr<Job> &job)
    {
        bool wake;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            jobs_.push_back(job);
            queued_.fetch_add(1, std::memory_order_release);
            wake = sleepers_ > 0;  // spinning workers see queued_; only sleeping ones need the futex
        }
        if (wake) {
            cv_.notify_all();
        }
    }

    void Retire(const std::shared_ptr<Job> &job)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = std::find(jobs_.begin(), jobs_.end(), job);
        if (it != jobs_.end()) {
            jobs_.erase(it);
            queued_.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    // Total threads working on launches = workers + the launching thread.
    void Resize(uint32_t threads)
    {
        std::lock_guard<std::mutex> resizeLock(resizeMutex_);
        const uint32_t workers = threads > 0 ? threads - 1 : 0;
        if (workers == workers_.size()) {
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_.store(true);
        }
        cv_.notify_all();
        for (std::thread &worker : workers_) {
            worker.join();
        }
        workers_.clear();
        stop_.store(false);
        for (uint32_t i = 0; i < workers; ++i) {
            workers_.emplace_back([this] { WorkerLoop(); });
        }
    }

private:
    void WorkerLoop()
    {
        for (;;) {
            SpinUntil([this] {
                return queued_.load(std::memory_order_acquire) != 0 || stop_.load(std::memory_order_relaxed);
            });
            std::shared_ptr<Job> job;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                ++sleepers_;
                cv_.wait(lock, [this] { return stop_.load() || !jobs_.empty(); });
                --sleepers_;
                if (stop_.load()) {
                    return;
                }
                job = jobs_.front();
                if (job->next.load(std::memory_order_relaxed) >= job->config.blockDim) {
                    jobs_.pop_front();  // every block claimed: nothing left to help with
                    queued_.fetch_sub(1, std::memory_order_relaxed);
                    continue;
                }
            }
            DrainBlocks(*job);
            Retire(job);
        }
    }

    std::mutex resizeMutex_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> jobs_;
    std::atomic<uint32_t> queued_{0};  // jobs_.size(), readable without the mutex
    uint32_t sleepers_ = 0;            // workers inside cv_.wait (guarded by mutex_)
    std::vector<std::thread> workers_;
    std::atomic<bool> stop_{false};
};

std::atomic<uint32_t> &ThreadSetting()
{
    static std::atomic<uint32_t> threads{ThreadsFromEnvironment()};
    return threads;
}

ThreadPool &Pool()
{
    // Never destroyed: idle workers block on a condition variable and die with the process.
    static ThreadPool *pool = [] {
        auto *created = new ThreadPool;
        created->Resize(ThreadSetting().load());
        return created;
    }();
    return *pool;
}

void WriteChromeTrace(const std::string &path, const Job &job)
{
    std::FILE *file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
        std::fprintf(stderr, "ascendc_cpu: warning: cannot write Chrome trace %s\n", path.c_str());
        return;
    }
    std::fprintf(file, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    bool first = true;
    for (uint32_t core = 0; core < job.config.blockDim; ++core) {
        std::fprintf(file, "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":\"core %u\"}}",
                     first ? "" : ",\n", core, core);
        first = false;
        // The block's instruction counters (see CoreTrace) as one counter event at the block's end.
        const CoreTrace &t = job.traces[core];
        const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
        std::fprintf(file,
                     ",\n{\"name\":\"core %u counters\",\"cat\":\"counters\",\"ph\":\"C\",\"pid\":1,\"tid\":%u,"
                     "\"ts\":%.3f,\"args\":{\"scalar_ub_reads\":%llu,\"scalar_ub_writes\":%llu,"
                     "\"scalar_gm_reads\":%llu,\"scalar_gm_writes\":%llu,\"scalar_ops\":%llu,\"vector_ops\":%llu,"
                     "\"vector_repeats\":%llu,\"set_flags\":%llu,\"wait_flags\":%llu,\"pipe_barriers\":%llu,"
                     "\"queue_ops\":%llu,\"dma_ops\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu}}",
                     core, core, job.blockSpans[core].startUs + job.blockSpans[core].durationUs, u(t.scalarUbReads),
                     u(t.scalarUbWrites), u(t.scalarGmReads), u(t.scalarGmWrites), u(t.ScalarOps()), u(t.vectorOps),
                     u(t.vectorRepeats), u(t.setFlags), u(t.waitFlags), u(t.pipeBarriers), u(t.queueOps), u(t.dmaOps),
                     u(t.bytesIn), u(t.bytesOut));
        for (const DmaEvent &event : job.events[core]) {
            std::fprintf(file,
                         ",\n{\"name\":\"%s\",\"cat\":\"dma\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,"
                         "\"args\":{\"direction\":\"%s\",\"bytes\":%llu,\"bursts\":%u,\"burst_bytes\":%u}}",
                         event.direction, core, event.startUs, event.durationUs, event.direction,
                         static_cast<unsigned long long>(event.bytes), event.bursts, event.burstBytes);
        }
    }
    std::fprintf(file, "\n]}\n");
    std::fclose(file);
}

}  // namespace

void SetAutoSync(bool on) { AutoSyncSetting().store(on); }
bool GetAutoSync() { return AutoSyncSetting().load(); }

const SocPlatform &SelectedSoc() { return *SocSetting().load(); }
bool SelectSoc(const char *name)
{
    const SocPlatform *soc = FindSocByVersion(name);
    if (soc != nullptr) {
        SocSetting().store(soc);
    }
    return soc != nullptr;
}

void SetThreadCount(uint32_t threads)
{
    threads = std::max(1u, threads);
    ThreadSetting().store(threads);
    Pool().Resize(threads);
}

uint32_t GetThreadCount() { return ThreadSetting().load(); }

void Launch(const LaunchConfig &config, const std::function<void()> &body, LaunchResult *result)
{
    if (config.blockDim == 0) {
        detail::Violation("launch", "Launch with blockDim 0 (must be >= 1)");
    }
    static std::once_flag retiredModeWarning;
    std::call_once(retiredModeWarning, WarnAboutRetiredModeVariable);
    auto job = std::make_shared<Job>();
    job->config = config;
    job->body = &body;
    job->autoSync = GetAutoSync();
    job->tilingKey = config.tilingKey.value_or(detail::HostTilingKey());
    job->recordEvents = !config.chromeTracePath.empty();
    job->startUs = job->recordEvents ? detail::NowUs() : 0.0;
    if (config.collectTrace || job->recordEvents) {
        job->traces.resize(config.blockDim);
    }
    if (job->recordEvents) {
        job->events.resize(config.blockDim);
        job->blockSpans.resize(config.blockDim);
    }

    const bool onCaller = config.sequential || config.blockDim == 1 || GetThreadCount() <= 1;
    if (onCaller) {
        DrainBlocks(*job);
    } else {
        ThreadPool &pool = Pool();
        pool.Submit(job);
        DrainBlocks(*job);
        pool.Retire(job);
        const auto done = [&] { return job->finished.load(std::memory_order_acquire) == config.blockDim; };
        if (!SpinUntil(done)) {
            std::unique_lock<std::mutex> lock(job->doneMutex);
            job->doneCv.wait(lock, done);
        }
    }

    if (job->recordEvents) {
        WriteChromeTrace(config.chromeTracePath, *job);
    }
    if (result != nullptr) {
        if (config.collectTrace) {
            result->cores = std::move(job->traces);
        } else {
            result->cores.clear();
        }
    }
}

namespace detail {

void RunKernel(const char * /*name*/, uint32_t blockDim, const std::function<void()> &body)
{
    LaunchConfig config;
    config.blockDim = blockDim;
    Launch(config, body, nullptr);
}

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

void SetKernelMode(KernelMode /*mode*/) {}

void *GmAlloc(size_t size)
{
    const size_t rounded = std::max<size_t>(32, (size + 31) / 32 * 32);
    void *memory = std::aligned_alloc(32, rounded);
    if (memory == nullptr) {
        std::fprintf(stderr, "ascendc_cpu: GmAlloc(%zu) failed\n", size);
        std::abort();
    }
    ascendc_cpu::RegisterGm(memory, size == 0 ? rounded : size);
    return memory;
}

void GmFree(void *ptr)
{
    if (ptr == nullptr) {
        return;
    }
    ascendc_cpu::UnregisterGm(ptr);
    std::free(ptr);
}

}  // namespace AscendC
