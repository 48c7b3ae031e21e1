// TPipe (the UB allocator of one core), TQue/TQueBind (buffer queues that carry the pipe
// synchronisation between producer and consumer) and TBuf (a plain UB buffer).
#ifndef ASCENDC_CPU_KERNEL_PIPE_H
#define ASCENDC_CPU_KERNEL_PIPE_H

#include <cstdint>

#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/kernel/tensor.h"

namespace AscendC {
class TPipe;
}

namespace ascendc_cpu {
namespace detail {

enum class BufferState : uint8_t { kFree, kAllocated, kEnqueued, kReleased };

// One buffer carved out of UB by TPipe::InitBuffer. No member initialisers: TPipe holds 64 of
// them and only the first bufferCount_ are ever read, each written in full by TPipe::Carve, so a
// TPipe's construction does not have to clear them all.
struct UbBuffer {
    uint8_t *begin;
    uint32_t bytes;
    const void *owner;  // the queue or TBuf that owns it
    BufferState state;
    // Hazard checker (see QueueBase in pipe.cpp): the units the owning queue's
    // positions imply (kUnitCount: none, e.g. a TBuf), the producer's knowledge at EnQue (for
    // DeQue) and the consumer's at FreeTensor (for the next AllocTensor).
    uint8_t producer;
    uint8_t consumer;
    uint64_t enqueued[kUnitCount];
    uint64_t freed[kUnitCount];
};

// The non-template part of TQue/TQueBind.
class QueueBase {
public:
    QueueBase(const QueueBase &) = delete;
    QueueBase &operator=(const QueueBase &) = delete;

    template <typename T>
    AscendC::LocalTensor<T> AllocTensor(SourceLocation where = ASCENDC_CPU_HERE)
    {
        UbBuffer *buffer = AllocImpl();
        NoteQueueOp("AllocTensor", where);
        return TensorAccess::Make<T>(core_, buffer->begin, buffer->bytes, buffer->bytes / sizeof(T), buffer, src_);
    }

    template <typename T>
    bool EnQue(const AscendC::LocalTensor<T> &tensor, SourceLocation where = ASCENDC_CPU_HERE)
    {
        EnQueImpl(TensorAccess::BufferId(tensor));
        NoteQueueOp("EnQue", where);
        return true;
    }

    template <typename T>
    AscendC::LocalTensor<T> DeQue(SourceLocation where = ASCENDC_CPU_HERE)
    {
        UbBuffer *buffer = DeQueImpl();
        NoteQueueOp("DeQue", where);
        return TensorAccess::Make<T>(core_, buffer->begin, buffer->bytes, buffer->bytes / sizeof(T), buffer, dst_);
    }

    template <typename T>
    void FreeTensor(AscendC::LocalTensor<T> &tensor, SourceLocation where = ASCENDC_CPU_HERE)
    {
        FreeImpl(TensorAccess::BufferId(tensor));
        NoteQueueOp("FreeTensor", where);
    }

    bool HasTensorInQue() const { return count_ > 0; }
    bool VacantInQue() const { return count_ < Capacity(); }
    bool HasIdleBuffer() const;

    // Called by TPipe::InitBuffer.
    void Attach(CoreContext *core, UbBuffer *buffers, uint32_t num);

protected:
    QueueBase(int32_t depth, const char *kind, AscendC::TPosition src, AscendC::TPosition dst)
        : depth_(depth), kind_(kind), src_(src), dst_(dst)
    {
    }

private:
    // A queue operation done (it was counted in queueOps): one instruction record.
    void NoteQueueOp(const char *api, const SourceLocation &where)
    {
        EnterApi(*core_, api, where);
        RecordInstr(*core_, InstrKind::kQueue, 0, api);
    }
    uint32_t Capacity() const { return depth_ > 0 ? static_cast<uint32_t>(depth_) : num_; }
    UbBuffer *AllocImpl();
    void EnQueImpl(const void *bufferId);
    UbBuffer *DeQueImpl();
    void FreeImpl(const void *bufferId);
    UbBuffer *OwnBuffer(const void *bufferId, const char *api) const;

    int32_t depth_;
    const char *kind_;
    AscendC::TPosition src_;  // position of a tensor from AllocTensor (the producer's side)
    AscendC::TPosition dst_;  // position of a tensor from DeQue (the consumer's side)
    CoreContext *core_ = nullptr;
    UbBuffer *buffers_ = nullptr;
    uint32_t num_ = 0;
    UbBuffer *ring_[kMaxBuffersPerPipe];  // only slots EnQue wrote are read: no clearing per kernel
    uint32_t head_ = 0;
    uint32_t count_ = 0;
};

// The non-template part of TBuf.
class BufBase {
public:
    BufBase(const BufBase &) = delete;
    BufBase &operator=(const BufBase &) = delete;

    template <typename T>
    AscendC::LocalTensor<T> Get()
    {
        const UbBuffer *buffer = Require("TBuf::Get");
        return TensorAccess::Make<T>(core_, buffer->begin, buffer->bytes, buffer->bytes / sizeof(T), buffer, pos_);
    }

    // `len` in elements.
    template <typename T>
    AscendC::LocalTensor<T> Get(uint32_t len)
    {
        const UbBuffer *buffer = Require("TBuf::Get");
        CheckLength(static_cast<uint64_t>(len) * sizeof(T));
        return TensorAccess::Make<T>(core_, buffer->begin, buffer->bytes, len, buffer, pos_);
    }

    void Attach(CoreContext *core, UbBuffer *buffer);

protected:
    explicit BufBase(AscendC::TPosition pos) : pos_(pos) {}

private:
    const UbBuffer *Require(const char *api) const;
    void CheckLength(uint64_t bytes) const;

    AscendC::TPosition pos_;
    CoreContext *core_ = nullptr;
    UbBuffer *buffer_ = nullptr;
};

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

template <TPosition src, TPosition dst, int32_t depth>
class TQueBind : public ascendc_cpu::detail::QueueBase {
public:
    TQueBind() : QueueBase(depth, src == dst ? "TQue" : "TQueBind", src, dst) {}
};

template <TPosition pos, int32_t depth>
class TQue : public TQueBind<pos, pos, depth> {
};

template <TPosition pos = TPosition::VECCALC>
class TBuf : public ascendc_cpu::detail::BufBase {
public:
    TBuf() : BufBase(pos) {}
};

class TPipe {
public:
    TPipe();
    ~TPipe();
    TPipe(const TPipe &) = delete;
    TPipe &operator=(const TPipe &) = delete;

    // `num` buffers of `len` bytes each (rounded up to 32 B) for a TQue or TQueBind.
    bool InitBuffer(ascendc_cpu::detail::QueueBase &que, uint8_t num, uint32_t len);
    // One buffer of `len` bytes (rounded up to 32 B).
    bool InitBuffer(ascendc_cpu::detail::BufBase &buf, uint32_t len);

    // Releases every buffer so that InitBuffer can carve UB again from this pipe's start.
    void Reset();
    void Destroy() { Reset(); }

    template <HardEvent event>
    TEventID FetchEventID()
    {
        return FetchEventID(event);
    }
    TEventID FetchEventID(HardEvent event);

private:
    ascendc_cpu::detail::UbBuffer *Carve(const char *api, uint32_t num, uint32_t len, const void *owner);

    ascendc_cpu::detail::CoreContext *core_;
    uint32_t base_;  // UB offset where this pipe's buffers start
    uint32_t top_;   // next free UB offset
    uint32_t bufferCount_ = 0;
    uint8_t nextEventId_[ascendc_cpu::detail::kHardEventCount] = {};
    void *previousPipe_ = nullptr;
    ascendc_cpu::detail::UbBuffer buffers_[ascendc_cpu::detail::kMaxBuffersPerPipe];
};

// The pipe the current kernel constructed last (nullptr when none is alive).
inline TPipe *GetTPipePtr()
{
    return static_cast<TPipe *>(ascendc_cpu::detail::RequireCore("GetTPipePtr").currentPipe);
}

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_PIPE_H
