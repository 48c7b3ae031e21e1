// AscendCL runtime subset on the CPU: one device (id 0) whose memory is host memory, streams that
// execute work synchronously at launch and remember the first error, and the thread-local error
// message. See acl/acl_rt.h for the semantics.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "acl_cpu_internal.h"

namespace acl_cpu {
namespace {

constexpr size_t kDeviceAlignment = 64;  // at least a cache line; DMA needs element alignment only
constexpr int32_t kDeviceCount = 1;

thread_local std::string t_recentErrMsg;
thread_local int32_t t_recentErrKind = acl_cpu::kErrorKindNone;
thread_local int32_t t_currentDevice = -1;

struct Stream {
    aclError firstError = ACL_SUCCESS;
};

// Everything the runtime owns, under one mutex: init state, allocations (so a foreign or freed
// pointer is reported instead of crashing) and live streams.
struct RuntimeState {
    std::mutex mutex;
    bool initialized = false;
    std::unordered_map<void *, size_t> deviceAllocations;
    std::unordered_set<void *> hostAllocations;
    std::unordered_set<Stream *> streams;
    Stream defaultStream;
};

RuntimeState &State()
{
    static RuntimeState *state = new RuntimeState();  // never destroyed: usable from atexit code
    return *state;
}

aclError Fail(aclError error, const std::string &message)
{
    SetRecentErrMsg(message);
    return error;
}

Stream *FindStreamLocked(RuntimeState &state, aclrtStream stream)
{
    if (stream == nullptr) {
        return &state.defaultStream;
    }
    auto it = state.streams.find(static_cast<Stream *>(stream));
    return it != state.streams.end() ? *it : nullptr;
}

aclError CheckMemcpyArgs(const char *api, void *dst, size_t destMax, const void *src, size_t count,
                         aclrtMemcpyKind kind)
{
    if (dst == nullptr || src == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, std::string(api) + ": " + (dst == nullptr ? "dst" : "src") + " is null");
    }
    if (static_cast<int>(kind) < ACL_MEMCPY_HOST_TO_HOST || static_cast<int>(kind) > ACL_MEMCPY_INTER_DEVICE_TO_DEVICE) {
        return Fail(ACL_ERROR_INVALID_PARAM, std::string(api) + ": kind is " + std::to_string(static_cast<int>(kind)) +
                                                 ", expected an aclrtMemcpyKind in [0, 7]");
    }
    if (destMax < count) {
        return Fail(ACL_ERROR_INVALID_PARAM, std::string(api) + ": count is " + std::to_string(count) +
                                                 " bytes but destMax is only " + std::to_string(destMax));
    }
    return ACL_SUCCESS;
}

}  // namespace

void SetRecentError(int32_t kind, const std::string &message)
{
    t_recentErrKind = kind;
    t_recentErrMsg = message;
}

void SetRecentErrMsg(const std::string &message)
{
    SetRecentError(acl_cpu::kErrorKindRuntime, message);
}

void ClearRecentError()
{
    t_recentErrKind = acl_cpu::kErrorKindNone;
    t_recentErrMsg.clear();
}

int32_t RecentErrorKind()
{
    return t_recentErrKind;
}

aclError CheckStream(aclrtStream stream)
{
    RuntimeState &state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (FindStreamLocked(state, stream) == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "stream is not a live stream created by aclrtCreateStream");
    }
    return ACL_SUCCESS;
}

void RecordStreamError(aclrtStream stream, aclError error)
{
    RuntimeState &state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    Stream *s = FindStreamLocked(state, stream);
    if (s != nullptr && s->firstError == ACL_SUCCESS) {
        s->firstError = error;
    }
}

}  // namespace acl_cpu

using acl_cpu::Fail;
using acl_cpu::State;

extern "C" {

const char *aclGetRecentErrMsg(void)
{
    return acl_cpu::t_recentErrMsg.c_str();
}

aclError aclInit(const char * /*configPath: no configuration on the CPU backend*/)
{
    auto &state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.initialized) {
        return Fail(ACL_ERROR_REPEAT_INITIALIZE, "aclInit: already initialized (call aclFinalize first)");
    }
    state.initialized = true;
    return ACL_SUCCESS;
}

aclError aclFinalize(void)
{
    auto &state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.initialized) {
        return Fail(ACL_ERROR_UNINITIALIZE, "aclFinalize: aclInit was not called");
    }
    state.initialized = false;
    return ACL_SUCCESS;
}

aclError aclrtSetDevice(int32_t deviceId)
{
    if (deviceId < 0 || deviceId >= acl_cpu::kDeviceCount) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtSetDevice: deviceId is " + std::to_string(deviceId) +
                                                 ", the CPU backend has only device 0");
    }
    acl_cpu::t_currentDevice = deviceId;
    return ACL_SUCCESS;
}

aclError aclrtResetDevice(int32_t deviceId)
{
    if (deviceId < 0 || deviceId >= acl_cpu::kDeviceCount) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtResetDevice: deviceId is " + std::to_string(deviceId) +
                                                 ", the CPU backend has only device 0");
    }
    if (acl_cpu::t_currentDevice == deviceId) {
        acl_cpu::t_currentDevice = -1;
    }
    return ACL_SUCCESS;
}

aclError aclrtGetDevice(int32_t *deviceId)
{
    if (deviceId == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtGetDevice: deviceId is null");
    }
    if (acl_cpu::t_currentDevice < 0) {
        return Fail(ACL_ERROR_FAILURE, "aclrtGetDevice: no device set on this thread (call aclrtSetDevice)");
    }
    *deviceId = acl_cpu::t_currentDevice;
    return ACL_SUCCESS;
}

aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy)
{
    if (devPtr == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMalloc: devPtr is null");
    }
    if (size == 0) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMalloc: size is 0");
    }
    if (static_cast<int>(policy) < ACL_MEM_MALLOC_HUGE_FIRST || static_cast<int>(policy) > ACL_MEM_MALLOC_NORMAL_ONLY) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMalloc: policy is " + std::to_string(static_cast<int>(policy)) +
                                                 ", expected an aclrtMemMallocPolicy in [0, 2]");
    }
    const size_t rounded = (size + acl_cpu::kDeviceAlignment - 1) / acl_cpu::kDeviceAlignment * acl_cpu::kDeviceAlignment;
    if (rounded < size) {
        return Fail(ACL_ERROR_BAD_ALLOC, "aclrtMalloc: size " + std::to_string(size) + " overflows");
    }
    void *p = std::aligned_alloc(acl_cpu::kDeviceAlignment, rounded);
    if (p == nullptr) {
        return Fail(ACL_ERROR_BAD_ALLOC, "aclrtMalloc: out of memory allocating " + std::to_string(size) + " bytes");
    }
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        state.deviceAllocations[p] = size;
    }
    *devPtr = p;
    return ACL_SUCCESS;
}

aclError aclrtFree(void *devPtr)
{
    if (devPtr == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtFree: devPtr is null");
    }
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (state.deviceAllocations.erase(devPtr) == 0) {
            return Fail(ACL_ERROR_INVALID_PARAM, "aclrtFree: devPtr was not returned by aclrtMalloc or was already freed");
        }
    }
    std::free(devPtr);
    return ACL_SUCCESS;
}

aclError aclrtMallocHost(void **hostPtr, size_t size)
{
    if (hostPtr == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMallocHost: hostPtr is null");
    }
    if (size == 0) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMallocHost: size is 0");
    }
    const size_t rounded = (size + acl_cpu::kDeviceAlignment - 1) / acl_cpu::kDeviceAlignment * acl_cpu::kDeviceAlignment;
    void *p = rounded < size ? nullptr : std::aligned_alloc(acl_cpu::kDeviceAlignment, rounded);
    if (p == nullptr) {
        return Fail(ACL_ERROR_BAD_ALLOC, "aclrtMallocHost: out of memory allocating " + std::to_string(size) + " bytes");
    }
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        state.hostAllocations.insert(p);
    }
    *hostPtr = p;
    return ACL_SUCCESS;
}

aclError aclrtFreeHost(void *hostPtr)
{
    if (hostPtr == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtFreeHost: hostPtr is null");
    }
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (state.hostAllocations.erase(hostPtr) == 0) {
            return Fail(ACL_ERROR_INVALID_PARAM,
                        "aclrtFreeHost: hostPtr was not returned by aclrtMallocHost or was already freed");
        }
    }
    std::free(hostPtr);
    return ACL_SUCCESS;
}

aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind)
{
    const aclError status = acl_cpu::CheckMemcpyArgs("aclrtMemcpy", dst, destMax, src, count, kind);
    if (status != ACL_SUCCESS) {
        return status;
    }
    std::memmove(dst, src, count);
    return ACL_SUCCESS;
}

aclError aclrtMemcpyAsync(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind,
                          aclrtStream stream)
{
    aclError status = acl_cpu::CheckStream(stream);
    if (status != ACL_SUCCESS) {
        return status;
    }
    status = acl_cpu::CheckMemcpyArgs("aclrtMemcpyAsync", dst, destMax, src, count, kind);
    if (status != ACL_SUCCESS) {
        return status;
    }
    std::memmove(dst, src, count);  // executed at launch: see acl_rt.h
    return ACL_SUCCESS;
}

aclError aclrtMemset(void *devPtr, size_t maxCount, int32_t value, size_t count)
{
    if (devPtr == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMemset: devPtr is null");
    }
    if (maxCount < count) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtMemset: count is " + std::to_string(count) +
                                                 " bytes but maxCount is only " + std::to_string(maxCount));
    }
    std::memset(devPtr, value, count);
    return ACL_SUCCESS;
}

aclError aclrtCreateStream(aclrtStream *stream)
{
    if (stream == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtCreateStream: stream is null");
    }
    auto *s = new acl_cpu::Stream();
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        state.streams.insert(s);
    }
    *stream = s;
    return ACL_SUCCESS;
}

aclError aclrtDestroyStream(aclrtStream stream)
{
    if (stream == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM, "aclrtDestroyStream: stream is null");
    }
    auto &state = State();
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (state.streams.erase(static_cast<acl_cpu::Stream *>(stream)) == 0) {
            return Fail(ACL_ERROR_INVALID_PARAM,
                        "aclrtDestroyStream: stream was not created by aclrtCreateStream or was already destroyed");
        }
    }
    delete static_cast<acl_cpu::Stream *>(stream);
    return ACL_SUCCESS;
}

aclError aclrtSynchronizeStream(aclrtStream stream)
{
    auto &state = State();
    std::lock_guard<std::mutex> lock(state.mutex);
    acl_cpu::Stream *s = acl_cpu::FindStreamLocked(state, stream);
    if (s == nullptr) {
        return Fail(ACL_ERROR_INVALID_PARAM,
                    "aclrtSynchronizeStream: stream was not created by aclrtCreateStream or was already destroyed");
    }
    // Work already ran at launch; report (and clear) the first error it recorded.
    const aclError error = s->firstError;
    s->firstError = ACL_SUCCESS;
    if (error != ACL_SUCCESS) {
        acl_cpu::SetRecentErrMsg("aclrtSynchronizeStream: work on the stream failed with error " + std::to_string(error));
    }
    return error;
}

}  // extern "C"
