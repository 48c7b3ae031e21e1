// Ascend C keywords, enums and scalar types for the CPU emulator. Kernel code sees these through
// kernel_operator.h exactly as it sees the toolkit's definitions; values of enums that the public
// documentation does not fix are our own.
#ifndef ASCENDC_CPU_KERNEL_TYPES_H
#define ASCENDC_CPU_KERNEL_TYPES_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifndef ASCENDC_CPU_DEBUG
#define ASCENDC_CPU_DEBUG 1
#endif

// Address-space and entry qualifiers are empty in CPU-debug builds.
#define __global__
#define __aicore__
#define __gm__
#define __ubuf__
#define GM_ADDR __gm__ uint8_t *

// Kernel type markers: accepted and ignored (every emulated core is an AIV core).
enum KernelMetaType {
    KERNEL_TYPE_AIV_ONLY,
    KERNEL_TYPE_AIC_ONLY,
    KERNEL_TYPE_MIX_AIV_1_0,
    KERNEL_TYPE_MIX_AIC_1_0,
    KERNEL_TYPE_MIX_AIC_1_1,
    KERNEL_TYPE_MIX_AIC_1_2,
};
#define KERNEL_TASK_TYPE_DEFAULT(type)

// Hardware pipes (global names, as in the toolkit).
enum pipe_t : uint8_t {
    PIPE_S = 0,
    PIPE_V,
    PIPE_M,
    PIPE_MTE1,
    PIPE_MTE2,
    PIPE_MTE3,
    PIPE_ALL,
    PIPE_FIX,
};

// Event ids for SetFlag/WaitFlag (6 and 7 are reserved for the framework).
enum event_t : uint8_t {
    EVENT_ID0 = 0,
    EVENT_ID1,
    EVENT_ID2,
    EVENT_ID3,
    EVENT_ID4,
    EVENT_ID5,
    EVENT_ID6,
    EVENT_ID7,
};

namespace ascendc_cpu {
namespace detail {

inline uint32_t FloatBits(float value)
{
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return bits;
}

inline float BitsFloat(uint32_t bits)
{
    float value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
}

// IEEE binary16 <-> binary32, round to nearest even.
inline uint16_t FloatToHalfBits(float value)
{
    const uint32_t bits = FloatBits(value);
    const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
    const uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x7f800000u) {  // inf or nan (keep nan quiet)
        return static_cast<uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
    }
    if (magnitude >= 0x477ff000u) {  // >= 65520 rounds to inf
        return static_cast<uint16_t>(sign | 0x7c00u);
    }
    if (magnitude < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        const float scaled = BitsFloat(magnitude) * 16777216.0f;  // units of 2^-24
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(scaled)));
    }
    const uint32_t exponent = (magnitude >> 23) - 127 + 15;
    const uint32_t mantissa = magnitude & 0x7fffffu;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) {
        ++half;
    }
    return static_cast<uint16_t>(sign | half);
}

inline float HalfBitsToFloat(uint16_t half)
{
    const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
    const uint32_t exponent = (half >> 10) & 0x1fu;
    const uint32_t mantissa = half & 0x3ffu;
    if (exponent == 0) {
        const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) {
        return BitsFloat(sign | 0x7f800000u | (mantissa << 13));
    }
    return BitsFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

inline uint16_t FloatToBf16Bits(float value)
{
    const uint32_t bits = FloatBits(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return static_cast<uint16_t>(((bits >> 16) & 0x8000u) | 0x7fc0u);
    }
    const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float Bf16BitsToFloat(uint16_t bf16) { return BitsFloat(static_cast<uint32_t>(bf16) << 16); }

}  // namespace detail
}  // namespace ascendc_cpu

// 16-bit storage types with float conversions: arithmetic happens in float.
struct half {
    uint16_t bits = 0;
    half() = default;
    template <typename U, typename = std::enable_if_t<std::is_arithmetic<U>::value>>
    half(U value) : bits(ascendc_cpu::detail::FloatToHalfBits(static_cast<float>(value)))
    {
    }
    operator float() const { return ascendc_cpu::detail::HalfBitsToFloat(bits); }
};

struct bfloat16_t {
    uint16_t bits = 0;
    bfloat16_t() = default;
    template <typename U, typename = std::enable_if_t<std::is_arithmetic<U>::value>>
    bfloat16_t(U value) : bits(ascendc_cpu::detail::FloatToBf16Bits(static_cast<float>(value)))
    {
    }
    operator float() const { return ascendc_cpu::detail::Bf16BitsToFloat(bits); }
};

static_assert(sizeof(half) == 2 && sizeof(bfloat16_t) == 2, "16-bit storage types");

namespace AscendC {

enum class TPosition : uint8_t {
    GM,
    A1,
    A2,
    B1,
    B2,
    C1,
    C2,
    CO1,
    CO2,
    VECIN,
    VECOUT,
    VECCALC,
    LCM = VECCALC,
    SPM,
    SHM = SPM,
    TSCM,
    C2PIPE2GM,
    C2PIPE2LOCAL,
    MAX,
};
using QuePosition = TPosition;

enum class HardEvent : uint8_t {
    MTE2_MTE1,
    MTE1_MTE2,
    MTE1_M,
    M_MTE1,
    MTE2_V,
    V_MTE2,
    MTE3_V,
    V_MTE3,
    M_V,
    V_M,
    V_V,
    MTE3_MTE1,
    MTE1_MTE3,
    MTE1_V,
    MTE2_M,
    M_MTE2,
    V_MTE1,
    M_FIX,
    FIX_M,
    MTE3_MTE2,
    MTE2_MTE3,
    S_V,
    V_S,
    S_MTE2,
    MTE2_S,
    S_MTE3,
    MTE3_S,
    MTE2_FIX,
    FIX_MTE2,
    FIX_S,
    M_S,
    FIX_MTE3,
    MTE1_FIX,
    FIX_MTE1,
    FIX_FIX,
    MAX,
};

using TEventID = int8_t;

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_TYPES_H
