// The vector instructions a data-movement kernel needs: Duplicate, CreateVecIndex, Adds, and for
// count metadata Add (element-wise sum of two tensors) and Cast (int64 -> int32).
// Operands must start 32-byte aligned in UB; they run on the vector unit (PIPE_V), except the
// scalar first block of CreateVecIndex on dav-c220.
#ifndef ASCENDC_CPU_KERNEL_VECTOR_H
#define ASCENDC_CPU_KERNEL_VECTOR_H

#include <cstdint>
#include <type_traits>

#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/kernel/sync.h"
#include "ascendc_cpu/kernel/tensor.h"

namespace ascendc_cpu {
namespace detail {

template <typename T, typename... Allowed>
struct IsOneOf : std::false_type {
};
template <typename T, typename First, typename... Rest>
struct IsOneOf<T, First, Rest...>
    : std::integral_constant<bool, std::is_same<T, First>::value || IsOneOf<T, Rest...>::value> {
};

// Checks alignment and extent of one vector operand.
template <typename T>
inline void CheckVectorOperand(const AscendC::LocalTensor<T> &tensor, uint64_t count, const char *api,
                               const char *operand)
{
    CoreContext &core = TensorAccess::Core(tensor);
    const UbOperand ub = TensorAccess::Ub(tensor, api);
    CheckUbAligned(core, ub.address, api, operand);
    CheckUbRange(core, api, ub.address, static_cast<size_t>(count * sizeof(T)), ub.bufferBegin, ub.bufferEnd);
}

// Checks one operand of the vector instruction begun with BeginVectorInstruction and returns its
// first element; notes the access for the hazard checker. Sources first, then the destination, so
// an instruction that works in place reads before it writes.
template <typename T>
inline T *VectorOperand(const AscendC::LocalTensor<T> &tensor, uint64_t count, bool write, const char *api,
                        const char *operand)
{
    CheckVectorOperand(tensor, count, api, operand);
    CoreContext &core = TensorAccess::Core(tensor);
    const UbOperand ub = TensorAccess::Ub(tensor, api);
    const size_t bytes = static_cast<size_t>(count * sizeof(T));
    if (write) {
        NoteUbWrite(core, kVector, ub.address, bytes, api);
    } else {
        CheckUbRead(core, kVector, ub.address, bytes, api);
    }
    return reinterpret_cast<T *>(ub.address);
}

inline void CheckVectorCount(int64_t count, const char *api)
{
    if (count < 0) {
        Violation("vector params", "%s count %lld is negative", api, static_cast<long long>(count));
    }
}

// dav-3510 documents no no-op for a count of 0 in Duplicate and CreateVecIndex (asc-devkit
// impl/basic_api/dav_3510), so a kernel must not issue one there.
inline void CheckNonZeroCountOnDav3510(const CoreContext &core, int64_t count, const char *api)
{
    if (count == 0 && core.arch == Arch::kDav3510) {
        Violation("vector params", "%s with count 0: dav-3510 (Ascend 950) does not guarantee it is a no-op; skip "
                  "the call instead", api);
    }
}

template <typename T>
inline T AddScalar(const T &a, const T &b)
{
    if constexpr (std::is_same<T, half>::value || std::is_same<T, bfloat16_t>::value) {
        return T(static_cast<float>(a) + static_cast<float>(b));
    } else if constexpr (std::is_integral<T>::value) {
        using Unsigned = std::make_unsigned_t<T>;  // wraps like the hardware instead of overflowing
        return static_cast<T>(static_cast<Unsigned>(static_cast<Unsigned>(a) + static_cast<Unsigned>(b)));
    } else {
        return a + b;
    }
}

template <typename T>
inline T IndexValue(const T &firstValue, uint32_t i)
{
    if constexpr (std::is_integral<T>::value) {
        return AddScalar<T>(firstValue, static_cast<T>(i));
    } else {
        return T(static_cast<float>(firstValue) + static_cast<float>(i));
    }
}

// One vector Adds instruction: dst[i] = src[i] + scalarValue, i < count; `api` names it in messages.
template <typename T>
inline void AddsImpl(const AscendC::LocalTensor<T> &dstLocal, const AscendC::LocalTensor<T> &srcLocal,
                     const T &scalarValue, uint32_t count, const char *api)
{
    BeginVectorInstruction(TensorAccess::Core(dstLocal));
    const T *src = VectorOperand(srcLocal, count, false, api, "src");
    T *dst = VectorOperand(dstLocal, count, true, api, "dst");
    CountVector(TensorAccess::Core(dstLocal), static_cast<uint64_t>(count) * sizeof(T), sizeof(T));
    for (uint32_t i = 0; i < count; ++i) {
        dst[i] = AddScalar<T>(src[i], scalarValue);
    }
}

// CreateVecIndex as the dav-c220 (Atlas A2/A3) implementation runs it: the first 32-byte block
// (or all of `count`, when smaller) by scalar stores on PIPE_S, then an S->V fence, then vector
// Adds that each extend the run from the block or repeat before it, one block at a time up to one
// repeat (256 B), then one repeat at a time, with PipeBarrier<PIPE_V> between them.
template <typename T>
inline void CreateVecIndexDavC220(const AscendC::LocalTensor<T> &dst, const T &firstValue, uint32_t count)
{
    constexpr uint32_t kBlock = 32 / sizeof(T);
    constexpr uint32_t kRepeat = 256 / sizeof(T);
    const char *api = "CreateVecIndex";
    CoreContext &core = TensorAccess::Core(dst);
    T *out = TensorAccess::Data(dst);
    const uint32_t head = count < kBlock ? count : kBlock;
    for (uint32_t i = 0; i < head; ++i) {  // LocalTensor::SetValue semantics
        ++core.counts.scalarUbWrites;
        RecordInstr(core, ascendc_cpu::InstrKind::kScalarUbWrite, sizeof(T));
        NoteUbWrite(core, kScalar, out + i, sizeof(T), "CreateVecIndex (scalar store)");
        out[i] = IndexValue<T>(firstValue, i);
    }
    FenceUnits(core, kScalar, kVector);  // SetFlag/WaitFlag<HardEvent::S_V>
    if (count <= kBlock) {
        return;
    }
    const T blockStep = static_cast<T>(kBlock);
    const uint32_t blockLoops = count >= kRepeat ? kRepeat / kBlock - 1 : count / kBlock - 1;
    for (uint32_t i = 0; i < blockLoops; ++i) {
        AddsImpl(dst[(i + 1) * kBlock], dst[i * kBlock], blockStep, kBlock, api);
        PipeBarrierImpl(PIPE_V);
    }
    const uint32_t blockTail = count >= kRepeat ? 0 : count % kBlock;
    if (blockTail > 0) {
        const uint32_t at = count / kBlock * kBlock;
        AddsImpl(dst[at], dst[at - kBlock], blockStep, blockTail, api);
        PipeBarrierImpl(PIPE_V);
    }
    if (count <= kRepeat) {
        return;
    }
    const T repeatStep = static_cast<T>(kRepeat);
    const uint32_t repeatLoops = count / kRepeat - 1;
    for (uint32_t i = 0; i < repeatLoops; ++i) {
        AddsImpl(dst[(i + 1) * kRepeat], dst[i * kRepeat], repeatStep, kRepeat, api);
        PipeBarrierImpl(PIPE_V);
    }
    const uint32_t repeatTail = count % kRepeat;
    if (repeatTail > 0) {
        const uint32_t at = count / kRepeat * kRepeat;
        AddsImpl(dst[at], dst[at - kRepeat], repeatStep, repeatTail, api);
    }
}

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

// dst[i] = scalarValue for i in [0, count).
template <typename T, bool isSetMask = true>
inline void Duplicate(const LocalTensor<T> &dstLocal, const T &scalarValue, const int32_t &count,
                      ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "Duplicate", where);
    static_assert(IsOneOf<T, half, bfloat16_t, int16_t, uint16_t, int32_t, uint32_t, float>::value,
                  "Duplicate supports half, bfloat16_t, int16_t, uint16_t, int32_t, uint32_t, float");
    CheckVectorCount(count, "Duplicate");
    CheckNonZeroCountOnDav3510(TensorAccess::Core(dstLocal), count, "Duplicate");
    BeginVectorInstruction(TensorAccess::Core(dstLocal));
    T *dst = VectorOperand(dstLocal, static_cast<uint64_t>(count), true, "Duplicate", "dst");
    CountVector(TensorAccess::Core(dstLocal), static_cast<uint64_t>(count) * sizeof(T), sizeof(T));
    for (int32_t i = 0; i < count; ++i) {
        dst[i] = scalarValue;
    }
}

// dst[i] = firstValue + i for i in [0, count). How it runs depends on the architecture (see
// CreateVecIndexDavC220 below); on dav-3510 it is one vector instruction.
template <typename T>
inline void CreateVecIndex(LocalTensor<T> dst, const T &firstValue, uint32_t count,
                           ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    static_assert(IsOneOf<T, half, int16_t, int32_t, float>::value,
                  "CreateVecIndex supports half, int16_t, int32_t, float");
    CoreContext &core = TensorAccess::Core(dst);
    CheckNonZeroCountOnDav3510(core, count, "CreateVecIndex");
    EnterApi(core, "CreateVecIndex", where);
    if (core.arch == ascendc_cpu::Arch::kDavC220) {
        CheckVectorOperand(dst, count, "CreateVecIndex", "dst");
        CreateVecIndexDavC220(dst, firstValue, count);
        return;
    }
    BeginVectorInstruction(core);
    T *out = VectorOperand(dst, count, true, "CreateVecIndex", "dst");
    CountVector(core, static_cast<uint64_t>(count) * sizeof(T), sizeof(T));
    for (uint32_t i = 0; i < count; ++i) {
        out[i] = IndexValue<T>(firstValue, i);
    }
}

// dst[i] = src[i] + scalarValue for i in [0, count). dst may equal src.
template <typename T, bool isSetMask = true>
inline void Adds(const LocalTensor<T> &dstLocal, const LocalTensor<T> &srcLocal, const T &scalarValue,
                 const int32_t &count, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "Adds", where);
    static_assert(IsOneOf<T, half, int16_t, int32_t, float>::value, "Adds supports half, int16_t, int32_t, float");
    CheckVectorCount(count, "Adds");
    AddsImpl(dstLocal, srcLocal, scalarValue, static_cast<uint32_t>(count), "Adds");
}

// dst[i] = src0[i] + src1[i] for i in [0, count). dst may equal either source; integer sums wrap.
template <typename T>
inline void Add(const LocalTensor<T> &dstLocal, const LocalTensor<T> &src0Local, const LocalTensor<T> &src1Local,
                const int32_t &count, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "Add", where);
    static_assert(IsOneOf<T, half, int16_t, int32_t, float>::value, "Add supports half, int16_t, int32_t, float");
    CheckVectorCount(count, "Add");
    BeginVectorInstruction(TensorAccess::Core(dstLocal));
    const T *src0 = VectorOperand(src0Local, static_cast<uint64_t>(count), false, "Add", "src0");
    const T *src1 = VectorOperand(src1Local, static_cast<uint64_t>(count), false, "Add", "src1");
    T *dst = VectorOperand(dstLocal, static_cast<uint64_t>(count), true, "Add", "dst");
    CountVector(TensorAccess::Core(dstLocal), static_cast<uint64_t>(count) * sizeof(T), sizeof(T));
    for (int32_t i = 0; i < count; ++i) {
        dst[i] = AddScalar<T>(src0[i], src1[i]);
    }
}

// Precision conversion modes (the documented enum, in its order).
enum class RoundMode {
    CAST_NONE = 0,
    CAST_RINT,
    CAST_FLOOR,
    CAST_CEIL,
    CAST_ROUND,
    CAST_TRUNC,
    CAST_ODD,
};

// dst[i] = src[i] converted, for i in [0, count). Only int64_t -> int32_t with CAST_NONE is
// emulated (the one mode A2/A3 offer for that conversion). The result for a value outside int32_t
// is not documented; the emulator keeps the low 32 bits, so a kernel must not rely on saturation.
template <typename T, typename U>
inline void Cast(const LocalTensor<T> &dstLocal, const LocalTensor<U> &srcLocal, const RoundMode &roundMode,
                 const uint32_t count, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "Cast", where);
    static_assert(std::is_same<T, int32_t>::value && std::is_same<U, int64_t>::value,
                  "Cast: the emulator provides int64_t -> int32_t only");
    if (roundMode != RoundMode::CAST_NONE) {
        Violation("vector params", "Cast int64_t -> int32_t supports only RoundMode::CAST_NONE (got %d)",
                  static_cast<int>(roundMode));
    }
    BeginVectorInstruction(TensorAccess::Core(dstLocal));
    const U *src = VectorOperand(srcLocal, count, false, "Cast", "src");
    T *dst = VectorOperand(dstLocal, count, true, "Cast", "dst");
    CountVector(TensorAccess::Core(dstLocal), static_cast<uint64_t>(count) * sizeof(T), sizeof(T));
    for (uint32_t i = 0; i < count; ++i) {
        dst[i] = static_cast<T>(static_cast<uint32_t>(static_cast<uint64_t>(src[i])));
    }
}

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_VECTOR_H
