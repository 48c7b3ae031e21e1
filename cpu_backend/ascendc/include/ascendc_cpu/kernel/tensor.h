// GlobalTensor (a view of global memory) and LocalTensor (a view of one UB buffer of one core).
#ifndef ASCENDC_CPU_KERNEL_TENSOR_H
#define ASCENDC_CPU_KERNEL_TENSOR_H

#include <cstdint>
#include <cstring>

#include "ascendc_cpu/kernel/core.h"

namespace ascendc_cpu {
namespace detail {
struct TensorAccess;
class QueueBase;
template <typename T>
inline T LoadScalar(const void *address)
{
    T value;
    std::memcpy(&value, address, sizeof(T));
    return value;
}
template <typename T>
inline void StoreScalar(void *address, const T &value)
{
    std::memcpy(address, &value, sizeof(T));
}
}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

template <typename T>
class GlobalTensor {
public:
    using PrimType = T;

    GlobalTensor() = default;

    // `bufferSize` in elements: accesses outside [buffer, buffer + bufferSize) are rule violations.
    void SetGlobalBuffer(__gm__ T *buffer, uint64_t bufferSize)
    {
        address_ = buffer;
        tensorBegin_ = buffer;
        tensorEnd_ = buffer + bufferSize;
        size_ = bufferSize;
    }

    // Without a size only the registered GM regions bound the accesses.
    void SetGlobalBuffer(__gm__ T *buffer)
    {
        address_ = buffer;
        tensorBegin_ = buffer;
        tensorEnd_ = nullptr;
        size_ = 0;
    }

    // A view starting `offset` elements further; GetSize() of the view is what remains.
    GlobalTensor operator[](uint64_t offset) const
    {
        GlobalTensor view = *this;
        view.address_ = address_ + offset;
        view.size_ = size_ > offset ? size_ - offset : 0;
        return view;
    }

    T GetValue(uint64_t offset, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE) const
    {
        ascendc_cpu::detail::CoreContext *core = ascendc_cpu::detail::CurrentCore();
        const T *element = CheckedElement(core, offset, "GlobalTensor::GetValue");
        if (core != nullptr) {
            ++core->counts.scalarGmReads;
            ascendc_cpu::detail::EnterApi(*core, "GlobalTensor::GetValue", where);
            ascendc_cpu::detail::RecordInstr(*core, ascendc_cpu::InstrKind::kScalarGmRead, sizeof(T));
        }
        return ascendc_cpu::detail::LoadScalar<T>(element);
    }

    void SetValue(uint64_t offset, T value, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
    {
        ascendc_cpu::detail::CoreContext *core = ascendc_cpu::detail::CurrentCore();
        T *element = CheckedElement(core, offset, "GlobalTensor::SetValue");
        if (core != nullptr) {
            ++core->counts.scalarGmWrites;
            ascendc_cpu::detail::EnterApi(*core, "GlobalTensor::SetValue", where);
            ascendc_cpu::detail::RecordInstr(*core, ascendc_cpu::InstrKind::kScalarGmWrite, sizeof(T));
        }
        ascendc_cpu::detail::StoreScalar<T>(element, value);
    }

    uint64_t GetSize() const { return size_; }
    __gm__ T *GetPhyAddr() const { return address_; }
    __gm__ T *GetPhyAddr(uint64_t offset) const { return address_ + offset; }

private:
    friend struct ascendc_cpu::detail::TensorAccess;

    T *CheckedElement(const ascendc_cpu::detail::CoreContext *core, uint64_t offset, const char *api) const
    {
        T *element = address_ + offset;
        if (address_ == nullptr ||
            (tensorEnd_ != nullptr && (element < tensorBegin_ || element + 1 > tensorEnd_))) {
            ascendc_cpu::detail::GmOutOfBounds(api, element, sizeof(T), tensorBegin_, tensorEnd_);
        }
        (void)core;
        ascendc_cpu::detail::CheckGmRegistered(element, sizeof(T), api);
        return element;
    }

    T *address_ = nullptr;
    T *tensorBegin_ = nullptr;
    T *tensorEnd_ = nullptr;  // nullptr: no size given
    uint64_t size_ = 0;
};

template <typename T>
class LocalTensor {
public:
    using PrimType = T;

    LocalTensor() = default;

    T GetValue(uint32_t index, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE) const
    {
        const T *element = CheckedElement(index, "LocalTensor::GetValue");
        ++core_->counts.scalarUbReads;
        ascendc_cpu::detail::EnterApi(*core_, "LocalTensor::GetValue", where);
        ascendc_cpu::detail::RecordInstr(*core_, ascendc_cpu::InstrKind::kScalarUbRead, sizeof(T));
        ascendc_cpu::detail::CheckUbRead(*core_, ascendc_cpu::detail::kScalar, element, sizeof(T),
                                         "LocalTensor::GetValue");
        return ascendc_cpu::detail::LoadScalar<T>(element);
    }

    void SetValue(uint32_t index, T value, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE) const
    {
        T *element = CheckedElement(index, "LocalTensor::SetValue");
        ++core_->counts.scalarUbWrites;
        ascendc_cpu::detail::EnterApi(*core_, "LocalTensor::SetValue", where);
        ascendc_cpu::detail::RecordInstr(*core_, ascendc_cpu::InstrKind::kScalarUbWrite, sizeof(T));
        ascendc_cpu::detail::NoteUbWrite(*core_, ascendc_cpu::detail::kScalar, element, sizeof(T),
                                         "LocalTensor::SetValue");
        ascendc_cpu::detail::StoreScalar<T>(element, value);
    }

    // A view starting `offset` elements further into the same buffer.
    LocalTensor operator[](uint32_t offset) const
    {
        LocalTensor view = *this;
        view.data_ = data_ + offset;
        view.size_ = size_ > offset ? size_ - offset : 0;
        return view;
    }

    uint32_t GetSize() const { return size_; }
    uint32_t GetLength() const { return static_cast<uint32_t>(size_ * sizeof(T)); }
    void SetSize(uint32_t size) { size_ = size; }
    // The logical position: a TQue/TQueBind's source position after AllocTensor, its destination
    // position after DeQue, a TBuf's position.
    TPosition GetPosition() const { return position_; }

    template <typename U>
    LocalTensor<U> ReinterpretCast() const
    {
        LocalTensor<U> cast;
        cast.data_ = reinterpret_cast<U *>(data_);
        cast.size_ = static_cast<uint32_t>(static_cast<uint64_t>(size_) * sizeof(T) / sizeof(U));
        cast.bufferBegin_ = bufferBegin_;
        cast.bufferEnd_ = bufferEnd_;
        cast.bufferId_ = bufferId_;
        cast.position_ = position_;
        cast.core_ = core_;
        return cast;
    }

    // The address of the first element (a host address in the emulator; 32 B alignment of it equals
    // the alignment of the UB offset because the emulated UB is page aligned).
    uint64_t GetPhyAddr() const { return reinterpret_cast<uint64_t>(data_); }

private:
    template <typename U>
    friend class LocalTensor;
    friend struct ascendc_cpu::detail::TensorAccess;
    friend class ascendc_cpu::detail::QueueBase;

    T *CheckedElement(uint32_t index, const char *api) const
    {
        if (core_ == nullptr) {
            ascendc_cpu::detail::Violation("UB bounds", "%s on a LocalTensor that holds no buffer", api);
        }
        T *element = data_ + index;
        ascendc_cpu::detail::CheckUbRange(*core_, api, element, sizeof(T), bufferBegin_, bufferEnd_);
        return element;
    }

    T *data_ = nullptr;
    uint32_t size_ = 0;  // elements
    const uint8_t *bufferBegin_ = nullptr;
    const uint8_t *bufferEnd_ = nullptr;
    const void *bufferId_ = nullptr;  // the UB buffer record this tensor lives in
    TPosition position_ = TPosition::VECCALC;
    ascendc_cpu::detail::CoreContext *core_ = nullptr;
};

}  // namespace AscendC

namespace ascendc_cpu {
namespace detail {

// Internal access to tensor fields for the DMA, vector and queue implementations.
struct TensorAccess {
    template <typename T>
    static UbOperand Ub(const AscendC::LocalTensor<T> &tensor, const char *api)
    {
        if (tensor.core_ == nullptr) {
            Violation("UB bounds", "%s on a LocalTensor that holds no buffer", api);
        }
        return UbOperand{reinterpret_cast<uint8_t *>(tensor.data_), tensor.bufferBegin_, tensor.bufferEnd_};
    }
    template <typename T>
    static CoreContext &Core(const AscendC::LocalTensor<T> &tensor)
    {
        if (tensor.core_ == nullptr) {
            Violation("UB bounds", "operation on a LocalTensor that holds no buffer");
        }
        return *tensor.core_;
    }
    template <typename T>
    static T *Data(const AscendC::LocalTensor<T> &tensor)
    {
        return tensor.data_;
    }
    template <typename T>
    static const void *BufferId(const AscendC::LocalTensor<T> &tensor)
    {
        return tensor.bufferId_;
    }
    template <typename T>
    static AscendC::TPosition Position(const AscendC::LocalTensor<T> &tensor)
    {
        return tensor.position_;
    }
    template <typename T>
    static AscendC::LocalTensor<T> Make(CoreContext *core, uint8_t *begin, uint32_t bytes, uint32_t elements,
                                        const void *bufferId, AscendC::TPosition position)
    {
        AscendC::LocalTensor<T> tensor;
        tensor.data_ = reinterpret_cast<T *>(begin);
        tensor.size_ = elements;
        tensor.bufferBegin_ = begin;
        tensor.bufferEnd_ = begin + bytes;
        tensor.bufferId_ = bufferId;
        tensor.position_ = position;
        tensor.core_ = core;
        return tensor;
    }
    template <typename T>
    static GmOperand Gm(const AscendC::GlobalTensor<T> &tensor)
    {
        return GmOperand{reinterpret_cast<uint8_t *>(tensor.address_),
                         reinterpret_cast<const uint8_t *>(tensor.tensorBegin_),
                         reinterpret_cast<const uint8_t *>(tensor.tensorEnd_)};
    }
};

}  // namespace detail
}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_KERNEL_TENSOR_H
