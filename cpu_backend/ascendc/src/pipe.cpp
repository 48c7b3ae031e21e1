// TPipe's UB allocator, the queue discipline of TQue/TQueBind, and TBuf.
#include <algorithm>

#include "ascendc_cpu/kernel/pipe.h"
#include "internal.h"

namespace ascendc_cpu {
namespace detail {

namespace {

// The hazard unit that produces a queue's tensors from its source position, and the one that
// consumes them at its destination position: GM->UB DMA fills VECIN, the vector unit fills VECOUT
// and VECCALC; UB->GM DMA drains VECOUT, the vector unit reads VECIN and VECCALC. Other positions
// (A1, B1, ...) carry no synchronisation in the model.
uint8_t ProducerUnit(AscendC::TPosition src)
{
    switch (src) {
        case AscendC::TPosition::VECIN:
            return kMte2;
        case AscendC::TPosition::VECOUT:
        case AscendC::TPosition::VECCALC:
            return kVector;
        default:
            return kUnitCount;
    }
}

uint8_t ConsumerUnit(AscendC::TPosition dst)
{
    switch (dst) {
        case AscendC::TPosition::VECOUT:
            return kMte3;
        case AscendC::TPosition::VECIN:
        case AscendC::TPosition::VECCALC:
            return kVector;
        default:
            return kUnitCount;
    }
}

// What unit `unit` has seen of every unit, with its own entry at "everything issued so far": the
// snapshot a SetFlag issued by that unit carries.
void Snapshot(CoreContext &core, uint8_t unit, uint64_t *out)
{
    IssueTo(core, static_cast<Unit>(unit));
    for (int other = 0; other < kUnitCount; ++other) {
        out[other] = other == unit ? core.seq : core.known[unit][other];
    }
}

void Merge(uint64_t *into, const uint64_t *from)
{
    for (int unit = 0; unit < kUnitCount; ++unit) {
        into[unit] = std::max(into[unit], from[unit]);
    }
}

}  // namespace

// ---- QueueBase ----
//
// Synchronisation a queue carries (hazard checker), only between the two units its
// positions imply (producer P, consumer C; e.g. VECOUT: V and MTE3), as the pipe flags the real
// queues set and wait:
//   EnQue      = SetFlag<P_C>,  DeQue       = WaitFlag<P_C>: C sees everything P did before EnQue;
//   FreeTensor = SetFlag<C_P>,  AllocTensor = WaitFlag<C_P>: P sees everything C did before FreeTensor.
// The scalar unit, and every other pair of units, is not ordered by a queue.

void QueueBase::Attach(CoreContext *core, UbBuffer *buffers, uint32_t num)
{
    core_ = core;
    buffers_ = buffers;
    num_ = num;
    head_ = 0;
    count_ = 0;
    const uint8_t producer = ProducerUnit(src_);
    const uint8_t consumer = ConsumerUnit(dst_);
    for (uint32_t i = 0; i < num; ++i) {
        buffers[i].producer = producer;
        buffers[i].consumer = consumer;
    }
}

bool QueueBase::HasIdleBuffer() const
{
    for (uint32_t i = 0; i < num_; ++i) {
        if (buffers_[i].owner == this && buffers_[i].state == BufferState::kFree) {
            return true;
        }
    }
    return false;
}

UbBuffer *QueueBase::AllocImpl()
{
    if (core_ == nullptr) {
        Violation("queue", "%s::AllocTensor on a queue without buffers (TPipe::InitBuffer not called)", kind_);
    }
    ++core_->counts.queueOps;
    for (uint32_t i = 0; i < num_; ++i) {
        UbBuffer &buffer = buffers_[i];
        if (buffer.owner == this && buffer.state == BufferState::kFree) {
            buffer.state = BufferState::kAllocated;
            if (buffer.producer != kUnitCount) {
                Merge(core_->known[buffer.producer], buffer.freed);  // WaitFlag<C_P>
            }
            return &buffer;
        }
    }
    Violation("queue", "%s::AllocTensor with all %u buffers in use (allocated or queued); FreeTensor one first",
              kind_, num_);
}

UbBuffer *QueueBase::OwnBuffer(const void *bufferId, const char *api) const
{
    const UbBuffer *buffer = static_cast<const UbBuffer *>(bufferId);
    if (buffer == nullptr || buffers_ == nullptr || buffer < buffers_ || buffer >= buffers_ + num_ ||
        buffer->owner != this) {
        Violation("queue", "%s::%s of a tensor not allocated from this queue", kind_, api);
    }
    if (buffer->state == BufferState::kReleased) {
        Violation("queue", "%s::%s of a tensor whose buffer was released by TPipe::Reset", kind_, api);
    }
    return const_cast<UbBuffer *>(buffer);
}

void QueueBase::EnQueImpl(const void *bufferId)
{
    UbBuffer *buffer = OwnBuffer(bufferId, "EnQue");
    ++core_->counts.queueOps;
    if (buffer->state == BufferState::kEnqueued) {
        Violation("queue", "%s::EnQue of a tensor that is already in the queue", kind_);
    }
    if (buffer->state == BufferState::kFree) {
        Violation("queue", "%s::EnQue of a tensor that was freed (AllocTensor it first)", kind_);
    }
    if (count_ >= Capacity()) {
        Violation("queue", "%s::EnQue on a full queue (depth %u, %u tensors queued)", kind_, Capacity(), count_);
    }
    ring_[(head_ + count_) % kMaxBuffersPerPipe] = buffer;
    ++count_;
    buffer->state = BufferState::kEnqueued;
    if (buffer->producer != kUnitCount) {
        Snapshot(*core_, buffer->producer, buffer->enqueued);
    }
}

UbBuffer *QueueBase::DeQueImpl()
{
    if (count_ == 0) {
        Violation("queue", "%s::DeQue on an empty queue (no EnQue pending)", kind_);
    }
    ++core_->counts.queueOps;
    UbBuffer *buffer = ring_[head_];
    head_ = (head_ + 1) % kMaxBuffersPerPipe;
    --count_;
    if (buffer->state != BufferState::kEnqueued) {
        Violation("queue", "%s::DeQue of a buffer released while queued", kind_);
    }
    buffer->state = BufferState::kAllocated;
    if (buffer->consumer != kUnitCount) {
        Merge(core_->known[buffer->consumer], buffer->enqueued);  // WaitFlag<P_C>
    }
    return buffer;
}

void QueueBase::FreeImpl(const void *bufferId)
{
    UbBuffer *buffer = OwnBuffer(bufferId, "FreeTensor");
    ++core_->counts.queueOps;
    if (buffer->state == BufferState::kFree) {
        Violation("queue", "%s::FreeTensor of a tensor that is already free", kind_);
    }
    if (buffer->state == BufferState::kEnqueued) {
        Violation("queue", "%s::FreeTensor of a tensor that is still in the queue (DeQue it first)", kind_);
    }
    buffer->state = BufferState::kFree;
    if (buffer->consumer != kUnitCount) {
        Snapshot(*core_, buffer->consumer, buffer->freed);
    }
}

// ---- BufBase ----

void BufBase::Attach(CoreContext *core, UbBuffer *buffer)
{
    core_ = core;
    buffer_ = buffer;
}

const UbBuffer *BufBase::Require(const char *api) const
{
    if (buffer_ == nullptr || buffer_->owner != this || buffer_->state == BufferState::kReleased) {
        Violation("UB bounds", "%s on a TBuf without a buffer (TPipe::InitBuffer not called, or TPipe::Reset)", api);
    }
    return buffer_;
}

void BufBase::CheckLength(uint64_t bytes) const
{
    if (bytes > buffer_->bytes) {
        Violation("UB bounds", "TBuf::Get of %llu B exceeds the TBuf's %u B", static_cast<unsigned long long>(bytes),
                  buffer_->bytes);
    }
}

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

using ascendc_cpu::detail::BufferState;
using ascendc_cpu::detail::UbBuffer;
using ascendc_cpu::detail::Violation;

TPipe::TPipe() : core_(&ascendc_cpu::detail::RequireCore("TPipe")), base_(core_->ubTop), top_(core_->ubTop)
{
    previousPipe_ = core_->currentPipe;
    core_->currentPipe = this;
}

TPipe::~TPipe()
{
    Reset();
    if (core_->currentPipe == this) {
        core_->currentPipe = previousPipe_;
    }
}

void TPipe::Reset()
{
    for (uint32_t i = 0; i < bufferCount_; ++i) {
        buffers_[i].state = BufferState::kReleased;
    }
    bufferCount_ = 0;
    top_ = base_;
    core_->ubTop = base_;
    std::fill(nextEventId_, nextEventId_ + ascendc_cpu::detail::kHardEventCount, uint8_t{0});
}

UbBuffer *TPipe::Carve(const char *api, uint32_t num, uint32_t len, const void *owner)
{
    if (num == 0 || len == 0) {
        Violation("UB capacity", "%s with num %u and len %u (both must be >= 1)", api, num, len);
    }
    if (bufferCount_ + num > ascendc_cpu::detail::kMaxBuffersPerPipe) {
        Violation("TPipe buffer count", "%s of %u buffers makes %u buffers in one TPipe (at most 64)", api, num,
                  bufferCount_ + num);
    }
    const uint64_t rounded = (static_cast<uint64_t>(len) + 31) / 32 * 32;
    const uint64_t end = static_cast<uint64_t>(top_) + rounded * num;
    if (end > core_->ubBytes) {
        Violation("UB capacity", "%s of %u x %u B (%llu B after 32 B round-up) at UB offset %u needs %llu B > UB size %u B",
                  api, num, len, static_cast<unsigned long long>(rounded), top_,
                  static_cast<unsigned long long>(end), core_->ubBytes);
    }
    UbBuffer *first = &buffers_[bufferCount_];
    for (uint32_t i = 0; i < num; ++i) {
        UbBuffer &buffer = buffers_[bufferCount_ + i];
        buffer.begin = core_->ubBase + top_ + i * rounded;
        buffer.bytes = static_cast<uint32_t>(rounded);
        buffer.owner = owner;
        buffer.state = BufferState::kFree;
        buffer.producer = ascendc_cpu::detail::kUnitCount;  // a queue's Attach sets both
        buffer.consumer = ascendc_cpu::detail::kUnitCount;
        for (int unit = 0; unit < ascendc_cpu::detail::kUnitCount; ++unit) {
            buffer.enqueued[unit] = 0;
            buffer.freed[unit] = 0;
        }
    }
    bufferCount_ += num;
    top_ = static_cast<uint32_t>(end);
    core_->ubTop = std::max(core_->ubTop, top_);
    core_->ubHighWater = std::max(core_->ubHighWater, top_);
    return first;
}

bool TPipe::InitBuffer(ascendc_cpu::detail::QueueBase &que, uint8_t num, uint32_t len)
{
    UbBuffer *first = Carve("TPipe::InitBuffer(queue)", num, len, &que);
    que.Attach(core_, first, num);
    return true;
}

bool TPipe::InitBuffer(ascendc_cpu::detail::BufBase &buf, uint32_t len)
{
    UbBuffer *buffer = Carve("TPipe::InitBuffer(TBuf)", 1, len, &buf);
    buf.Attach(core_, buffer);
    return true;
}

TEventID TPipe::FetchEventID(HardEvent event)
{
    uint8_t &next = nextEventId_[static_cast<int>(event)];
    const TEventID id = static_cast<TEventID>(next);
    next = static_cast<uint8_t>((next + 1) % 6);  // ids 6 and 7 are reserved
    return id;
}

}  // namespace AscendC
