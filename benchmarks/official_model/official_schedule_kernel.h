// A test-only Ascend C kernel that follows the published schedule of the official A2/A3
// MoeReRouting kernel (docs/time_model.md, "The official schedule"), written for this project
// from that description alone. It exists to give the time model per-core traces of the kernel
// that produced the public baseline numbers; it is not part of the library and is not shipped.
//
//   blockFactor = ceil(N / cores), blockDim = ceil(N / blockFactor); core b takes whole ranks
//   b, b + blockDim, ... . Per rank: the source prefix by scalar GM reads of every count of the
//   ranks above; per expert: the destination offset by scalar GM reads (the column above the rank,
//   then the rest of the column for the next expert's base); the cell's rows in chunks of
//   ubFactor rows, ubFactor = ((UB - 12288) / 2) / (rowBytes + 4 + 4). Per chunk: DataCopyPad of
//   the rows GM -> UB (+ the scales), CreateVecIndex of the source rows, DataCopyPad of the index
//   to GM, DataCopyPad of the rows (+ scales) UB -> GM. One TQueBind<VECIN, VECOUT> with 2 buffers
//   (rows + scales), one TQue<VECOUT> with 2 index buffers. expert_token_num (counts) is written
//   by the core that owns rank 0 with scalar GM read-modify-writes.
#ifndef MOE_RE_ROUTING_OFFICIAL_SCHEDULE_KERNEL_H
#define MOE_RE_ROUTING_OFFICIAL_SCHEDULE_KERNEL_H

#include <cstdint>

#include "kernel_operator.h"

namespace official_model {

// What the host side of the official schedule computes.
struct OfficialTiling {
    int64_t tokenNum = 0;      // A
    int64_t rowBytes = 0;      // H * itemsize
    int64_t rankNum = 0;       // N
    int64_t expertNum = 0;     // E
    int64_t hasScales = 0;     // per_token_scales [A] float32 present
    int64_t blockFactor = 0;   // ranks per core, ceil(N / cores)
    int64_t blockDim = 0;      // ceil(N / blockFactor)
    int64_t ubFactor = 0;      // rows per chunk
};

constexpr int64_t kReservedUb = 12288;  // UB the official tiling leaves out of its budget
constexpr int64_t kScaleBytes = 4;      // float32 scale, counted even without scales
constexpr int64_t kIndexBytes = 4;      // int32 index

inline OfficialTiling MakeOfficialTiling(int64_t A, int64_t rowBytes, int64_t N, int64_t E, bool scales,
                                         int64_t cores, int64_t ubBytes)
{
    OfficialTiling t;
    t.tokenNum = A;
    t.rowBytes = rowBytes;
    t.rankNum = N;
    t.expertNum = E;
    t.hasScales = scales ? 1 : 0;
    t.blockFactor = (N + cores - 1) / cores;
    t.blockDim = A == 0 ? 1 : (N + t.blockFactor - 1) / t.blockFactor;
    t.ubFactor = ((ubBytes - kReservedUb) / 2) / (rowBytes + kScaleBytes + kIndexBytes);
    return t;
}

inline uint32_t RoundUp32(int64_t bytes) { return static_cast<uint32_t>((bytes + 31) / 32 * 32); }

template <typename CountT>
class OfficialScheduleKernel {
public:
    void Init(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales, GM_ADDR outTokens, GM_ADDR outScales,
              GM_ADDR outIdx, GM_ADDR expertTokenNum, const OfficialTiling &t, AscendC::TPipe *pipe)
    {
        t_ = t;
        const int64_t A = t.tokenNum;
        tokens_.SetGlobalBuffer((__gm__ uint8_t *)tokens, A * t.rowBytes);
        outTokens_.SetGlobalBuffer((__gm__ uint8_t *)outTokens, A * t.rowBytes);
        counts_.SetGlobalBuffer((__gm__ CountT *)counts, t.rankNum * t.expertNum);
        expertTokenNum_.SetGlobalBuffer((__gm__ CountT *)expertTokenNum, t.expertNum);
        outIdx_.SetGlobalBuffer((__gm__ int32_t *)outIdx, A);
        if (t.hasScales != 0) {
            scales_.SetGlobalBuffer((__gm__ float *)scales, A);
            outScales_.SetGlobalBuffer((__gm__ float *)outScales, A);
        }
        rowsRegion_ = RoundUp32(t.ubFactor * t.rowBytes);
        pipe->InitBuffer(dataQue_, 2, rowsRegion_ + RoundUp32(t.ubFactor * kScaleBytes));
        pipe->InitBuffer(idxQue_, 2, RoundUp32(t.ubFactor * kIndexBytes));
    }

    void Process()
    {
        const int64_t core = AscendC::GetBlockIdx();
        for (int64_t r = core; r < t_.rankNum; r += t_.blockDim) {
            ProcessRank(r);
        }
        if (core == 0) {
            WriteExpertTokenNum();
        }
    }

private:
    void ProcessRank(int64_t r)
    {
        const int64_t E = t_.expertNum;
        int64_t src = 0;
        for (int64_t i = 0; i < r * E; ++i) {  // every count of the ranks above
            src += static_cast<int64_t>(counts_.GetValue(i));
        }
        int64_t expertBase = 0;
        for (int64_t e = 0; e < E; ++e) {
            int64_t above = 0;
            for (int64_t q = 0; q < r; ++q) {
                above += static_cast<int64_t>(counts_.GetValue(q * E + e));
            }
            const int64_t cell = static_cast<int64_t>(counts_.GetValue(r * E + e));
            MoveCell(src, expertBase + above, cell);
            src += cell;
            int64_t below = 0;  // the rest of the column, for the next expert's base
            for (int64_t q = r + 1; q < t_.rankNum; ++q) {
                below += static_cast<int64_t>(counts_.GetValue(q * E + e));
            }
            expertBase += above + cell + below;
        }
    }

    void MoveCell(int64_t src, int64_t dst, int64_t rows)
    {
        for (int64_t done = 0; done < rows; done += t_.ubFactor) {
            const int64_t n = rows - done < t_.ubFactor ? rows - done : t_.ubFactor;
            MoveChunk(src + done, dst + done, n);
        }
    }

    void MoveChunk(int64_t src, int64_t dst, int64_t n)
    {
        AscendC::LocalTensor<uint8_t> data = dataQue_.template AllocTensor<uint8_t>();
        AscendC::DataCopyExtParams rowsIn{1, static_cast<uint32_t>(n * t_.rowBytes), 0, 0, 0};
        AscendC::DataCopyPad(data, tokens_[src * t_.rowBytes], rowsIn, AscendC::DataCopyPadExtParams<uint8_t>{});
        AscendC::LocalTensor<float> scales = data[rowsRegion_].template ReinterpretCast<float>();
        AscendC::DataCopyExtParams scalesCopy{1, static_cast<uint32_t>(n * kScaleBytes), 0, 0, 0};
        if (t_.hasScales != 0) {
            AscendC::DataCopyPad(scales, scales_[src], scalesCopy, AscendC::DataCopyPadExtParams<float>{});
        }
        dataQue_.EnQue(data);

        AscendC::LocalTensor<int32_t> idx = idxQue_.template AllocTensor<int32_t>();
        // On dav-c220 CreateVecIndex writes its first 32 B with scalar stores, which the VECOUT
        // queue's AllocTensor does not order after the previous MTE3 read of this buffer. The
        // official kernel is built with compiler auto-sync, which inserts this MTE3 -> S wait; the
        // emulator accepts only explicit synchronisation, so it is written out here.
        AscendC::SetFlag<AscendC::HardEvent::MTE3_S>(0);
        AscendC::WaitFlag<AscendC::HardEvent::MTE3_S>(0);
        AscendC::CreateVecIndex(idx, static_cast<int32_t>(src), static_cast<uint32_t>(n));
        idxQue_.EnQue(idx);
        idx = idxQue_.template DeQue<int32_t>();
        AscendC::DataCopyExtParams idxOut{1, static_cast<uint32_t>(n * kIndexBytes), 0, 0, 0};
        AscendC::DataCopyPad(outIdx_[dst], idx, idxOut);
        idxQue_.FreeTensor(idx);

        data = dataQue_.template DeQue<uint8_t>();
        AscendC::DataCopyPad(outTokens_[dst * t_.rowBytes], data, rowsIn);
        if (t_.hasScales != 0) {
            scales = data[rowsRegion_].template ReinterpretCast<float>();
            AscendC::DataCopyPad(outScales_[dst], scales, scalesCopy);
        }
        dataQue_.FreeTensor(data);
    }

    void WriteExpertTokenNum()
    {
        for (int64_t e = 0; e < t_.expertNum; ++e) {
            expertTokenNum_.SetValue(e, static_cast<CountT>(0));
        }
        for (int64_t r = 0; r < t_.rankNum; ++r) {
            for (int64_t e = 0; e < t_.expertNum; ++e) {
                const CountT value = counts_.GetValue(r * t_.expertNum + e);
                expertTokenNum_.SetValue(e, static_cast<CountT>(expertTokenNum_.GetValue(e) + value));
            }
        }
    }

    OfficialTiling t_;
    uint32_t rowsRegion_ = 0;
    AscendC::GlobalTensor<uint8_t> tokens_, outTokens_;
    AscendC::GlobalTensor<float> scales_, outScales_;
    AscendC::GlobalTensor<int32_t> outIdx_;
    AscendC::GlobalTensor<CountT> counts_, expertTokenNum_;
    AscendC::TQueBind<AscendC::TPosition::VECIN, AscendC::TPosition::VECOUT, 1> dataQue_;
    AscendC::TQue<AscendC::TPosition::VECOUT, 1> idxQue_;
};

}  // namespace official_model

#endif  // MOE_RE_ROUTING_OFFICIAL_SCHEDULE_KERNEL_H
