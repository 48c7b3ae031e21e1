// DataCopy and DataCopyPad between GM and UB (and UB to UB).
#ifndef ASCENDC_CPU_KERNEL_DATA_COPY_H
#define ASCENDC_CPU_KERNEL_DATA_COPY_H

#include <cstdint>
#include <cstring>

#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/kernel/tensor.h"

namespace AscendC {

// DataCopy bursts: blockLen and both strides in 32-byte units.
struct DataCopyParams {
    DataCopyParams() {}
    DataCopyParams(const uint16_t count, const uint16_t len, const uint16_t srcStrideIn, const uint16_t dstStrideIn)
        : blockCount(count), blockLen(len), srcStride(srcStrideIn), dstStride(dstStrideIn)
    {
    }
    uint16_t blockCount = 1;
    uint16_t blockLen = 0;
    uint16_t srcStride = 0;
    uint16_t dstStride = 0;
};

// DataCopyPad bursts: blockLen in bytes; stride on the GM side in bytes, on the UB side in 32 B blocks.
struct DataCopyExtParams {
    DataCopyExtParams() {}
    DataCopyExtParams(const uint16_t count, const uint32_t len, const uint32_t srcStrideIn,
                      const uint32_t dstStrideIn, const uint32_t rsvIn)
        : blockCount(count), blockLen(len), srcStride(srcStrideIn), dstStride(dstStrideIn), rsv(rsvIn)
    {
    }
    uint16_t blockCount = 1;
    uint32_t blockLen = 0;
    uint32_t srcStride = 0;
    uint32_t dstStride = 0;
    uint32_t rsv = 0;
};

// Padding of each block in UB (GM->UB): paddings in elements, at most 32 bytes each.
template <typename T>
struct DataCopyPadExtParams {
    DataCopyPadExtParams() {}
    DataCopyPadExtParams(const bool isPadValue, const uint8_t leftPadValue, const uint8_t rightPadValue, T padValue)
        : isPad(isPadValue), leftPadding(leftPadValue), rightPadding(rightPadValue), paddingValue(padValue)
    {
    }
    bool isPad = false;
    uint8_t leftPadding = 0;
    uint8_t rightPadding = 0;
    T paddingValue = 0;
};

// The older padding struct used with DataCopyParams; paddingValue holds the element's bit pattern.
struct DataCopyPadParams {
    DataCopyPadParams() {}
    DataCopyPadParams(const bool isPadValue, const uint8_t leftPadValue, const uint8_t rightPadValue,
                      const uint64_t padValue)
        : isPad(isPadValue), leftPadding(leftPadValue), rightPadding(rightPadValue), paddingValue(padValue)
    {
    }
    bool isPad = false;
    uint8_t leftPadding = 0;
    uint8_t rightPadding = 0;
    uint64_t paddingValue = 0;
};

}  // namespace AscendC

namespace ascendc_cpu {
namespace detail {

constexpr uint32_t kMaxBlockCount = 4095;
constexpr uint32_t kMaxPadBlockLen = 2097151;

inline uint32_t RoundUp32(uint64_t bytes) { return static_cast<uint32_t>((bytes + 31) / 32 * 32); }

// Layout of DataCopy with DataCopyParams (everything in 32 B units).
inline DmaLayout BurstLayout(const AscendC::DataCopyParams &params, const char *api)
{
    if (params.blockCount == 0 || params.blockCount > kMaxBlockCount || params.blockLen == 0) {
        Violation("DataCopy params", "%s blockCount %u (must be 1..4095), blockLen %u (must be >= 1, 32 B units)",
                  api, static_cast<unsigned>(params.blockCount), static_cast<unsigned>(params.blockLen));
    }
    DmaLayout layout;
    layout.blockCount = params.blockCount;
    layout.blockBytes = static_cast<uint32_t>(params.blockLen) * 32u;
    layout.srcPitch = (static_cast<uint64_t>(params.blockLen) + params.srcStride) * 32u;
    layout.dstPitch = (static_cast<uint64_t>(params.blockLen) + params.dstStride) * 32u;
    layout.ubBlockFootprint = layout.blockBytes;
    return layout;
}

inline void CheckPadParams(const char *api, uint32_t blockCount, uint32_t blockLen, uint32_t elementBytes,
                           uint32_t leftPadding, uint32_t rightPadding)
{
    if (blockCount > kMaxBlockCount) {
        Violation("DataCopyPad params", "%s blockCount %u > 4095", api, blockCount);
    }
    if (blockLen > kMaxPadBlockLen) {
        Violation("DataCopyPad params", "%s blockLen %u > 2097151", api, blockLen);
    }
    if (blockLen % elementBytes != 0) {
        Violation("DataCopyPad params", "%s blockLen %u is not a multiple of sizeof(T) = %u", api, blockLen,
                  elementBytes);
    }
    if (leftPadding * elementBytes > 32 || rightPadding * elementBytes > 32) {
        Violation("DataCopyPad params", "%s padding left %u / right %u elements of %u B exceeds 32 B", api,
                  leftPadding, rightPadding, elementBytes);
    }
}

// GM->UB DataCopyPad layout: each UB block starts 32 B aligned and holds left pad, data, right pad.
inline DmaLayout PadInLayout(const AscendC::DataCopyExtParams &params, uint32_t elementBytes, uint32_t leftPadding,
                             uint32_t rightPadding)
{
    CheckPadParams("DataCopyPad(GM->UB)", params.blockCount, params.blockLen, elementBytes, leftPadding,
                   rightPadding);
    DmaLayout layout;
    layout.blockCount = params.blockCount;
    layout.blockBytes = params.blockLen;
    layout.leftPadBytes = leftPadding * elementBytes;
    layout.rightPadBytes = rightPadding * elementBytes;
    layout.ubBlockFootprint = RoundUp32(static_cast<uint64_t>(layout.leftPadBytes) + params.blockLen +
                                        layout.rightPadBytes);
    layout.srcPitch = static_cast<uint64_t>(params.blockLen) + params.srcStride;
    layout.dstPitch = static_cast<uint64_t>(layout.ubBlockFootprint) + static_cast<uint64_t>(params.dstStride) * 32u;
    return layout;
}

// UB->GM DataCopyPad layout: each UB block starts 32 B aligned.
inline DmaLayout PadOutLayout(const AscendC::DataCopyExtParams &params, uint32_t elementBytes)
{
    CheckPadParams("DataCopyPad(UB->GM)", params.blockCount, params.blockLen, elementBytes, 0, 0);
    DmaLayout layout;
    layout.blockCount = params.blockCount;
    layout.blockBytes = params.blockLen;
    layout.ubBlockFootprint = RoundUp32(params.blockLen);
    layout.srcPitch = static_cast<uint64_t>(layout.ubBlockFootprint) + static_cast<uint64_t>(params.srcStride) * 32u;
    layout.dstPitch = static_cast<uint64_t>(params.blockLen) + params.dstStride;
    return layout;
}

inline DmaLayout ContiguousLayout(uint32_t bytes)
{
    DmaLayout layout;
    layout.blockCount = bytes == 0 ? 0 : 1;
    layout.blockBytes = bytes;
    layout.srcPitch = bytes;
    layout.dstPitch = bytes;
    layout.ubBlockFootprint = bytes;
    return layout;
}

template <typename T>
inline PadFill MakePadFill(bool enabled, const T &value)
{
    static_assert(sizeof(T) <= 8, "padding element larger than 8 bytes");
    PadFill fill;
    fill.enabled = enabled;
    fill.elementBytes = sizeof(T);
    std::memcpy(fill.element, &value, sizeof(T));
    return fill;
}

inline AscendC::DataCopyExtParams ToExt(const AscendC::DataCopyParams &params)
{
    return AscendC::DataCopyExtParams(params.blockCount, params.blockLen, params.srcStride, params.dstStride, 0);
}

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

// ---- DataCopy: count elements; count * sizeof(T) must be a multiple of 32 B ----

template <typename T>
inline void DataCopy(const LocalTensor<T> &dstLocal, const GlobalTensor<T> &srcGlobal, const uint32_t count,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "DataCopy", where);
    CoreContext &core = TensorAccess::Core(dstLocal);
    const uint32_t bytes = DataCopyBytes("DataCopy(GM->UB)", count, sizeof(T));
    DmaGmToUb(core, "DataCopy(GM->UB)", TensorAccess::Ub(dstLocal, "DataCopy"), TensorAccess::Gm(srcGlobal),
              ContiguousLayout(bytes), PadFill{});
}

template <typename T>
inline void DataCopy(const GlobalTensor<T> &dstGlobal, const LocalTensor<T> &srcLocal, const uint32_t count,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopy", where);
    CoreContext &core = TensorAccess::Core(srcLocal);
    const uint32_t bytes = DataCopyBytes("DataCopy(UB->GM)", count, sizeof(T));
    DmaUbToGm(core, "DataCopy(UB->GM)", TensorAccess::Gm(dstGlobal), TensorAccess::Ub(srcLocal, "DataCopy"),
              ContiguousLayout(bytes));
}

template <typename T>
inline void DataCopy(const LocalTensor<T> &dstLocal, const LocalTensor<T> &srcLocal, const uint32_t count,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopy", where);
    CoreContext &core = TensorAccess::Core(srcLocal);
    const uint32_t bytes = DataCopyBytes("DataCopy(UB->UB)", count, sizeof(T));
    DmaUbToUb(core, "DataCopy(UB->UB)", TensorAccess::Ub(dstLocal, "DataCopy"), TensorAccess::Ub(srcLocal, "DataCopy"),
              ContiguousLayout(bytes));
}

// ---- DataCopy with DataCopyParams: blockLen and strides in 32 B units ----

template <typename T>
inline void DataCopy(const LocalTensor<T> &dstLocal, const GlobalTensor<T> &srcGlobal, const DataCopyParams &params,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "DataCopy", where);
    DmaGmToUb(TensorAccess::Core(dstLocal), "DataCopy(GM->UB)", TensorAccess::Ub(dstLocal, "DataCopy"),
              TensorAccess::Gm(srcGlobal), BurstLayout(params, "DataCopy(GM->UB)"), PadFill{});
}

template <typename T>
inline void DataCopy(const GlobalTensor<T> &dstGlobal, const LocalTensor<T> &srcLocal, const DataCopyParams &params,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopy", where);
    DmaUbToGm(TensorAccess::Core(srcLocal), "DataCopy(UB->GM)", TensorAccess::Gm(dstGlobal),
              TensorAccess::Ub(srcLocal, "DataCopy"), BurstLayout(params, "DataCopy(UB->GM)"));
}

template <typename T>
inline void DataCopy(const LocalTensor<T> &dstLocal, const LocalTensor<T> &srcLocal, const DataCopyParams &params,
                     ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopy", where);
    DmaUbToUb(TensorAccess::Core(srcLocal), "DataCopy(UB->UB)", TensorAccess::Ub(dstLocal, "DataCopy"),
              TensorAccess::Ub(srcLocal, "DataCopy"), BurstLayout(params, "DataCopy(UB->UB)"));
}

// ---- DataCopyPad ----

template <typename T>
inline void DataCopyPad(const LocalTensor<T> &dstLocal, const GlobalTensor<T> &srcGlobal,
                        const DataCopyExtParams &dataCopyParams, const DataCopyPadExtParams<T> &padParams,
                        ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "DataCopyPad", where);
    CheckPadPosition(TensorAccess::Core(dstLocal), "DataCopyPad(GM->UB)", TensorAccess::Position(dstLocal), true);
    const DmaLayout layout = PadInLayout(dataCopyParams, sizeof(T), padParams.leftPadding, padParams.rightPadding);
    DmaGmToUb(TensorAccess::Core(dstLocal), "DataCopyPad(GM->UB)", TensorAccess::Ub(dstLocal, "DataCopyPad"),
              TensorAccess::Gm(srcGlobal), layout, MakePadFill<T>(padParams.isPad, padParams.paddingValue));
}

template <typename T>
inline void DataCopyPad(const GlobalTensor<T> &dstGlobal, const LocalTensor<T> &srcLocal,
                        const DataCopyExtParams &dataCopyParams,
                        ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopyPad", where);
    CheckPadPosition(TensorAccess::Core(srcLocal), "DataCopyPad(UB->GM)", TensorAccess::Position(srcLocal), false);
    DmaUbToGm(TensorAccess::Core(srcLocal), "DataCopyPad(UB->GM)", TensorAccess::Gm(dstGlobal),
              TensorAccess::Ub(srcLocal, "DataCopyPad"), PadOutLayout(dataCopyParams, sizeof(T)));
}

template <typename T>
inline void DataCopyPad(const LocalTensor<T> &dstLocal, const GlobalTensor<T> &srcGlobal,
                        const DataCopyParams &dataCopyParams, const DataCopyPadParams &padParams,
                        ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(dstLocal), "DataCopyPad", where);
    CheckPadPosition(TensorAccess::Core(dstLocal), "DataCopyPad(GM->UB)", TensorAccess::Position(dstLocal), true);
    const DmaLayout layout =
        PadInLayout(ToExt(dataCopyParams), sizeof(T), padParams.leftPadding, padParams.rightPadding);
    PadFill fill;
    fill.enabled = padParams.isPad;
    fill.elementBytes = sizeof(T);
    std::memcpy(fill.element, &padParams.paddingValue, sizeof(T) <= 8 ? sizeof(T) : 8);  // little-endian low bytes
    DmaGmToUb(TensorAccess::Core(dstLocal), "DataCopyPad(GM->UB)", TensorAccess::Ub(dstLocal, "DataCopyPad"),
              TensorAccess::Gm(srcGlobal), layout, fill);
}

template <typename T>
inline void DataCopyPad(const GlobalTensor<T> &dstGlobal, const LocalTensor<T> &srcLocal,
                        const DataCopyParams &dataCopyParams,
                        ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    using namespace ascendc_cpu::detail;
    EnterApi(TensorAccess::Core(srcLocal), "DataCopyPad", where);
    CheckPadPosition(TensorAccess::Core(srcLocal), "DataCopyPad(UB->GM)", TensorAccess::Position(srcLocal), false);
    DmaUbToGm(TensorAccess::Core(srcLocal), "DataCopyPad(UB->GM)", TensorAccess::Gm(dstGlobal),
              TensorAccess::Ub(srcLocal, "DataCopyPad"), PadOutLayout(ToExt(dataCopyParams), sizeof(T)));
}

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_DATA_COPY_H
