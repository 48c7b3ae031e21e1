#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace moe_re_routing {
namespace native {
namespace {

uint32_t HardwareThreads()
{
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

class Pool {
public:
    ~Pool() { Stop(); }

    void SetThreads(uint32_t threads)
    {
        std::lock_guard<std::mutex> job(jobMutex_);  // no job is running while the workers change
        Stop();
        threads_.store(threads == 0 ? HardwareThreads() : threads);
    }

    uint32_t Threads() const { return threads_.load(); }

    void Run(uint32_t parts, const std::function<void(uint32_t)> &part)
    {
        std::unique_lock<std::mutex> job(jobMutex_, std::try_to_lock);
        if (parts <= 1 || !job.owns_lock() || parts > threads_.load()) {
            for (uint32_t i = 0; i < parts; ++i) {
                part(i);
            }
            return;
        }
        StartWorkers(parts - 1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            part_ = &part;
            parts_ = parts;
            next_.store(1);
            pending_ = parts - 1;
            ++generation_;
        }
        wake_.notify_all();
        part(0);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return pending_ == 0; });
        part_ = nullptr;
    }

private:
    void StartWorkers(uint32_t wanted)
    {
        while (workers_.size() < wanted) {
            workers_.emplace_back([this] { WorkerLoop(); });
        }
    }

    void Stop()
    {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread &w : workers_) {
            w.join();
        }
        workers_.clear();
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = false;
    }

    void WorkerLoop()
    {
        uint64_t seen = 0;
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) {
                return;
            }
            seen = generation_;
            // Claim parts until none is left; a worker that wakes late finds none and goes back.
            for (;;) {
                const uint32_t i = next_.fetch_add(1);
                if (i >= parts_) {
                    break;
                }
                lock.unlock();
                (*part_)(i);
                lock.lock();
                if (--pending_ == 0) {
                    done_.notify_one();
                }
            }
        }
    }

    std::mutex jobMutex_;  // one job at a time
    std::atomic<uint32_t> threads_{HardwareThreads()};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::vector<std::thread> workers_;
    const std::function<void(uint32_t)> *part_ = nullptr;
    uint32_t parts_ = 0;
    std::atomic<uint32_t> next_{0};
    uint32_t pending_ = 0;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

Pool &ThePool()
{
    // Never destroyed: worker threads must not be joined from a static destructor that may run
    // after other libraries are gone; the process exit ends them.
    static Pool *pool = new Pool();
    return *pool;
}

}  // namespace

void SetThreadCount(uint32_t threads)
{
    ThePool().SetThreads(threads);
}

uint32_t ThreadCount()
{
    return ThePool().Threads();
}

void RunParts(uint32_t parts, const std::function<void(uint32_t)> &part)
{
    ThePool().Run(parts, part);
}

}  // namespace native
}  // namespace moe_re_routing
