// The vector instructions a data-movement kernel needs: Duplicate, CreateVecIndex, Adds.
// Operands must start 32-byte aligned in UB; they run on the vector unit (PIPE_V).
#ifndef ASCENDC_CPU_KERNEL_VECTOR_H
#define ASCENDC_CPU_KERNEL_VECTOR_H

#include <cstdint>
#include <type_traits>

#include "ascendc_cpu/kernel/core.h"
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

// Checks one vector operand and returns its first element; notes the access for the hazard checker.
template <typename T>
inline T *VectorOperand(const AscendC::LocalTensor<T> &tensor, uint64_t count, bool write, const char *api,
                        const char *operand)
{
    CoreContext &core = TensorAccess::Core(tensor);
    const UbOperand ub = TensorAccess::Ub(tensor, api);
    CheckUbAligned(core, ub.address, api, operand);
    const size_t bytes = static_cast<size_t>(count * sizeof(T));
    CheckUbRange(core, api, ub.address, bytes, ub.bufferBegin, ub.bufferEnd);
    MaterialiseUb(core, ub.address, bytes);
    if (core.checked) {
        IssueTo(core, kVector);
        if (write) {
            NoteUbWrite(core, kVector, ub.address, bytes);
        } else {
            CheckUbRead(core, kVector, ub.address, bytes, api);
        }
    }
    return reinterpret_cast<T *>(ub.address);
}

inline void CheckVectorCount(int64_t count, const char *api)
{
    if (count < 0) {
        Violation("vector params", "%s count %lld is negative", api, static_cast<long long>(count));
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

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

// dst[i] = scalarValue for i in [0, count).
template <typename T, bool isSetMask = true>
inline void Duplicate(const LocalTensor<T> &dstLocal, const T &scalarValue, const int32_t &count)
{
    using namespace ascendc_cpu::detail;
    static_assert(IsOneOf<T, half, bfloat16_t, int16_t, uint16_t, int32_t, uint32_t, float>::value,
                  "Duplicate supports half, bfloat16_t, int16_t, uint16_t, int32_t, uint32_t, float");
    CheckVectorCount(count, "Duplicate");
    T *dst = VectorOperand(dstLocal, static_cast<uint64_t>(count), true, "Duplicate", "dst");
    for (int32_t i = 0; i < count; ++i) {
        dst[i] = scalarValue;
    }
}

// dst[i] = firstValue + i for i in [0, count).
template <typename T>
inline void CreateVecIndex(LocalTensor<T> dst, const T &firstValue, uint32_t count)
{
    using namespace ascendc_cpu::detail;
    static_assert(IsOneOf<T, half, int16_t, int32_t, float>::value,
                  "CreateVecIndex supports half, int16_t, int32_t, float");
    T *out = VectorOperand(dst, count, true, "CreateVecIndex", "dst");
    for (uint32_t i = 0; i < count; ++i) {
        if constexpr (std::is_integral<T>::value) {
            out[i] = AddScalar<T>(firstValue, static_cast<T>(i));
        } else {
            out[i] = T(static_cast<float>(firstValue) + static_cast<float>(i));
        }
    }
}

// dst[i] = src[i] + scalarValue for i in [0, count). dst may equal src.
template <typename T, bool isSetMask = true>
inline void Adds(const LocalTensor<T> &dstLocal, const LocalTensor<T> &srcLocal, const T &scalarValue,
                 const int32_t &count)
{
    using namespace ascendc_cpu::detail;
    static_assert(IsOneOf<T, half, int16_t, int32_t, float>::value, "Adds supports half, int16_t, int32_t, float");
    CheckVectorCount(count, "Adds");
    const T *src = VectorOperand(srcLocal, static_cast<uint64_t>(count), false, "Adds", "src");
    T *dst = VectorOperand(dstLocal, static_cast<uint64_t>(count), true, "Adds", "dst");
    for (int32_t i = 0; i < count; ++i) {
        dst[i] = AddScalar<T>(src[i], scalarValue);
    }
}

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_VECTOR_H
