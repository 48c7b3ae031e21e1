/*
 * MoeReRouting AI Core kernel (vector cores only).
 *
 * Each core owns the destination rows [rowBegin, rowEnd) given by the tiling: equal rows, hence
 * equal bytes, on every core whatever N and E are. The core walks the count matrix in destination
 * order (expert-major: for e, for r) keeping one source cursor per rank in UB, and for every
 * (rank, expert) cell that overlaps its rows moves that run of rows GM -> UB -> GM in chunks as
 * large as its UB buffers allow, double-buffered, one DataCopyPad burst each (a cell's rows are
 * contiguous in both layouts). The same cell range yields the index run, generated in UB by
 * CreateVecIndex, and the scale rows. The last core also totals each expert column in UB and
 * writes expert_token_num by DMA.
 *
 * Device-side safety: counts are clamped to [0, A] and every run is cut to [0, A) on both sides,
 * so lying counts (possible on an NPU, where the host cannot read them) never make the kernel read
 * or write outside the tensors.
 */
#include "kernel_operator.h"
#include "moe_re_routing_split.h"
#include "moe_re_routing_tiling_data.h"

using namespace AscendC;

namespace {

constexpr int32_t kBufferNum = 2;  // buffers per data queue (double buffering); == MoeReRoutingTilingData::bufferNum
constexpr int32_t kQueueDepth = 1;  // at most one EnQue outstanding per queue (the documented default)

template <typename CountT>
class MoeReRoutingKernel {
public:
    __aicore__ inline MoeReRoutingKernel() {}

    __aicore__ inline void Init(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales, GM_ADDR permuteTokens,
                                GM_ADDR permuteScales, GM_ADDR permuteIdx, GM_ADDR expertTokenNum,
                                const MoeReRoutingTilingData *tiling, TPipe *pipe)
    {
        t_ = tiling;
        pipe_ = pipe;
        const int64_t blockIdx = GetBlockIdx();
        const MoeReRoutingRowRange rows =
            MoeReRoutingCoreRows(MoeReRoutingRowSplit{t_->rowsPerCore, t_->rowsRemainder}, blockIdx);
        rowBegin_ = rows.begin;
        rowEnd_ = rows.end;
        isLastCore_ = blockIdx + 1 == static_cast<int64_t>(t_->usedCoreNum);

        const int64_t A = t_->tokenNum;
        tokensGm_.SetGlobalBuffer((__gm__ uint8_t *)tokens, A * t_->tokenRowBytes);
        permuteTokensGm_.SetGlobalBuffer((__gm__ uint8_t *)permuteTokens, A * t_->tokenRowBytes);
        countsGm_.SetGlobalBuffer((__gm__ CountT *)counts, t_->rankNum * t_->expertNum);
        expertTokenNumGm_.SetGlobalBuffer((__gm__ CountT *)expertTokenNum, t_->expertNum);
        permuteIdxGm_.SetGlobalBuffer((__gm__ int32_t *)permuteIdx, A);
        if (t_->scaleRowBytes > 0) {
            scalesGm_.SetGlobalBuffer((__gm__ uint8_t *)scales, A * t_->scaleRowBytes);
            permuteScalesGm_.SetGlobalBuffer((__gm__ uint8_t *)permuteScales, A * t_->scaleRowBytes);
            pipe->InitBuffer(scaleQue_, kBufferNum, t_->scaleBufBytes);
        } else {
            zeroScalesGm_.SetGlobalBuffer((__gm__ float *)permuteScales, A);
            pipe->InitBuffer(zeroBuf_, t_->zeroBufBytes);
        }
        pipe->InitBuffer(tokenQue_, kBufferNum, t_->tokenBufBytes);
        pipe->InitBuffer(idxQue_, kBufferNum, t_->idxBufBytes);
        pipe->InitBuffer(rampBuf_, t_->idxBufBytes);
        pipe->InitBuffer(cursorBuf_, t_->cursorBufBytes);
        pipe->InitBuffer(countBuf_, t_->countBufBytes);
        pipe->InitBuffer(expertBuf_, t_->expertBufBytes);
    }

    __aicore__ inline void Process()
    {
        if (t_->scaleRowBytes == 0) {
            ZeroFillScales();
        }
        BuildRamp();
        cursor_ = cursorBuf_.Get<int64_t>();
        counts_ = countBuf_.Get<CountT>();
        expertStage_ = expertBuf_.Get<CountT>();
        if (t_->countsResident != 0) {
            LoadAllCounts();
        }
        if (t_->walkByRank == 0) {
            ForEachCount<CountPass::kRankBases>();
            WalkExpertMajor();
        } else {
            ForEachCount<CountPass::kExpertTotals>();
            FinishExpertBases();
            ForEachCount<CountPass::kRankMajorMoves>();
        }
    }

private:
    // Waits until everything `event`'s producer pipe issued is done, for its consumer pipe. The id
    // comes from the pipe so it never collides with the ids the queues use.
    template <HardEvent event>
    __aicore__ inline void Fence()
    {
        const event_t id = static_cast<event_t>(pipe_->FetchEventID(event));
        SetFlag<event>(id);
        WaitFlag<event>(id);
    }

    // ---- counts -------------------------------------------------------------------------------

    __aicore__ inline int64_t Clamp(int64_t count) const
    {
        return count < 0 ? 0 : (count > t_->tokenNum ? t_->tokenNum : count);
    }

    // Scalar reads of `counts_` must finish before a DMA overwrites it, and the DMA must finish
    // before the next scalar read.
    __aicore__ inline void LoadCountsBlocks(uint64_t gmOffset, uint16_t blockCount, uint32_t blockBytes,
                                            uint32_t gmGapBytes)
    {
        Fence<HardEvent::S_MTE2>();
        DataCopyExtParams params{blockCount, blockBytes, gmGapBytes, 0, 0};
        DataCopyPadExtParams<CountT> pad{false, 0, 0, 0};
        DataCopyPad(counts_, countsGm_[gmOffset], params, pad);
        Fence<HardEvent::MTE2_S>();
    }

    __aicore__ inline void LoadAllCounts()
    {
        const uint32_t bytes = static_cast<uint32_t>(t_->rankNum * t_->expertNum * t_->countBytes);
        LoadCountsBlocks(0, 1, bytes, 0);
    }

    // The passes over the counts in row-major order (rank r, expert e), with the count clamped.
    enum class CountPass { kRankBases, kExpertTotals, kRankMajorMoves };

    // Runs pass `kPass` over every count: from the resident matrix, or from contiguous loads of
    // the staging buffer. Rank and expert are tracked by counters, not divisions: the scalar unit
    // divides slowly.
    template <CountPass kPass>
    __aicore__ inline void ForEachCount()
    {
        const int64_t E = t_->expertNum;
        const int64_t total = t_->rankNum * E;
        const int64_t perLoad = t_->countsResident != 0 ? total : t_->countBufBytes / t_->countBytes;
        int64_t rank = 0;
        int64_t expert = 0;
        for (int64_t offset = 0; offset < total; offset += perLoad) {
            const int64_t n = total - offset < perLoad ? total - offset : perLoad;
            if (t_->countsResident == 0) {
                LoadCountsBlocks(static_cast<uint64_t>(offset), 1, static_cast<uint32_t>(n * t_->countBytes), 0);
            }
            for (int64_t i = 0; i < n; ++i) {
                const int64_t count = Clamp(static_cast<int64_t>(counts_.GetValue(static_cast<uint32_t>(i))));
                if (kPass == CountPass::kRankBases) {
                    // cursor[r] = tokens from ranks before r (row-major exclusive prefix)
                    if (expert == 0) {
                        cursor_.SetValue(static_cast<uint32_t>(rank), running_);
                    }
                    running_ += count;
                } else if (kPass == CountPass::kExpertTotals) {
                    // cursor[e] = tokens for expert e (column totals)
                    const int64_t before = rank == 0 ? 0 : cursor_.GetValue(static_cast<uint32_t>(expert));
                    cursor_.SetValue(static_cast<uint32_t>(expert), before + count);
                } else {
                    // cells in source order; the destination comes from the expert cursor
                    const int64_t dst = cursor_.GetValue(static_cast<uint32_t>(expert));
                    cursor_.SetValue(static_cast<uint32_t>(expert), dst + count);
                    MoveCell(srcCursor_, dst, count);
                    srcCursor_ += count;
                }
                if (++expert == E) {
                    expert = 0;
                    ++rank;
                }
            }
        }
    }

    // Rank-major walk: the last core writes expert_token_num from the column totals, then every
    // core turns them into destination bases (column-major exclusive prefix).
    __aicore__ inline void FinishExpertBases()
    {
        int64_t running = 0;
        for (int64_t e = 0; e < t_->expertNum; ++e) {
            const int64_t total = cursor_.GetValue(static_cast<uint32_t>(e));
            cursor_.SetValue(static_cast<uint32_t>(e), running);
            running += total;
            if (isLastCore_) {
                StageExpertValue(e, t_->expertTokenNumType == 1 ? total : running);
            }
        }
    }

    // ---- destination-order walk ---------------------------------------------------------------

    // Expert-major walk, pass 2: cells in destination order, one source cursor per rank. A core
    // stops once its rows are done; the last core walks every expert to total them.
    __aicore__ inline void WalkExpertMajor()
    {
        const int64_t N = t_->rankNum;
        const int64_t E = t_->expertNum;
        const int64_t tileCols = t_->countTileCols;
        const int64_t tileRanks = t_->countTileRanks;
        // Distance between one rank's count and the next one's in UB: a matrix row when resident,
        // one 32-byte block per rank in a column tile.
        const int64_t stride = t_->countsResident != 0 ? E : 32 / static_cast<int64_t>(sizeof(CountT));
        for (int64_t e0 = 0; e0 < E; e0 += tileCols) {
            const int64_t cols = E - e0 < tileCols ? E - e0 : tileCols;
            for (int64_t e = e0; e < e0 + cols; ++e) {
                if (!isLastCore_ && dstCursor_ >= rowEnd_) {
                    return;  // this core's rows are done; only the last core totals every expert
                }
                const int64_t columnStart = dstCursor_;
                for (int64_t r0 = 0; r0 < N; r0 += tileRanks) {
                    const int64_t ranks = N - r0 < tileRanks ? N - r0 : tileRanks;
                    if (t_->countsResident == 0 && (e == e0 || tileRanks < N)) {
                        LoadCountsBlocks(static_cast<uint64_t>(r0 * E + e0), static_cast<uint16_t>(ranks),
                                         static_cast<uint32_t>(cols * t_->countBytes),
                                         static_cast<uint32_t>((E - cols) * t_->countBytes));
                    }
                    int64_t local = t_->countsResident != 0 ? r0 * E + e : e - e0;
                    for (int64_t r = r0; r < r0 + ranks; ++r, local += stride) {
                        VisitCell(r, Clamp(static_cast<int64_t>(counts_.GetValue(static_cast<uint32_t>(local)))));
                    }
                }
                if (isLastCore_) {
                    StageExpertValue(e, t_->expertTokenNumType == 1 ? dstCursor_ - columnStart : dstCursor_);
                }
            }
        }
    }

    // Cell (r, current expert) holds `count` rows: source rows start at cursor[r], destination rows
    // at the running destination cursor.
    __aicore__ inline void VisitCell(int64_t rank, int64_t count)
    {
        const int64_t src = cursor_.GetValue(static_cast<uint32_t>(rank));
        cursor_.SetValue(static_cast<uint32_t>(rank), src + count);
        const int64_t dst = dstCursor_;
        dstCursor_ += count;
        MoveCell(src, dst, count);
    }

    // Moves the rows of a cell (source rows from `src`, destination rows from `dst`) that fall in
    // this core's destination range, cut to [0, A) on both sides.
    __aicore__ inline void MoveCell(int64_t src, int64_t dst, int64_t count)
    {
        const int64_t lo = dst > rowBegin_ ? dst : rowBegin_;
        const int64_t hi = dst + count < rowEnd_ ? dst + count : rowEnd_;
        if (lo >= hi) {
            return;
        }
        const int64_t srcRow = src + (lo - dst);
        if (srcRow >= t_->tokenNum) {
            return;  // counts sum past A: nothing valid to read
        }
        const int64_t rows = hi - lo < t_->tokenNum - srcRow ? hi - lo : t_->tokenNum - srcRow;
        MoveRows(tokensGm_, permuteTokensGm_, tokenQue_, srcRow, lo, rows, t_->tokenRowBytes, t_->tokenBufBytes);
        if (t_->scaleRowBytes > 0) {
            MoveRows(scalesGm_, permuteScalesGm_, scaleQue_, srcRow, lo, rows, t_->scaleRowBytes, t_->scaleBufBytes);
        }
        if (t_->idxType == 0) {
            WriteIndexRun(lo, srcRow, rows);  // gather: idx[dst + k] = src + k
        } else {
            WriteIndexRun(srcRow, lo, rows);  // scatter: idx[src + k] = dst + k
        }
    }

    // ---- data movement ------------------------------------------------------------------------

    // Moves `rows` rows of `rowBytes` from src row `srcRow` to dst row `dstRow` through `que`,
    // whose buffers hold `bufBytes`: several rows per burst, or a row in segments when it is larger.
    __aicore__ inline void MoveRows(GlobalTensor<uint8_t> &src, GlobalTensor<uint8_t> &dst,
                                    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> &que, int64_t srcRow,
                                    int64_t dstRow, int64_t rows, int64_t rowBytes, uint32_t bufBytes)
    {
        if (rowBytes <= static_cast<int64_t>(bufBytes)) {
            const int64_t rowsPerBurst = bufBytes / rowBytes;
            for (int64_t done = 0; done < rows; done += rowsPerBurst) {
                const int64_t n = rows - done < rowsPerBurst ? rows - done : rowsPerBurst;
                MoveBytes(src, dst, que, (srcRow + done) * rowBytes, (dstRow + done) * rowBytes,
                          static_cast<uint32_t>(n * rowBytes));
            }
            return;
        }
        for (int64_t row = 0; row < rows; ++row) {
            for (int64_t offset = 0; offset < rowBytes; offset += bufBytes) {
                const int64_t n = rowBytes - offset < bufBytes ? rowBytes - offset : bufBytes;
                MoveBytes(src, dst, que, (srcRow + row) * rowBytes + offset, (dstRow + row) * rowBytes + offset,
                          static_cast<uint32_t>(n));
            }
        }
    }

    __aicore__ inline void MoveBytes(GlobalTensor<uint8_t> &src, GlobalTensor<uint8_t> &dst,
                                     TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> &que,
                                     int64_t srcOffset, int64_t dstOffset, uint32_t bytes)
    {
        DataCopyExtParams params{1, bytes, 0, 0, 0};
        DataCopyPadExtParams<uint8_t> pad{false, 0, 0, 0};
        LocalTensor<uint8_t> chunk = que.AllocTensor<uint8_t>();
        DataCopyPad(chunk, src[srcOffset], params, pad);
        que.EnQue(chunk);
        chunk = que.DeQue<uint8_t>();
        DataCopyPad(dst[dstOffset], chunk, params);
        que.FreeTensor(chunk);
    }

    // ramp[i] = i, built once in a buffer that no DMA touches. CreateVecIndex may write its first
    // 32 bytes with scalar stores (dav-c220); the S->V fence orders them before the Adds that read
    // the ramp, so every index run below is pure vector work.
    __aicore__ inline void BuildRamp()
    {
        ramp_ = rampBuf_.Get<int32_t>();
        CreateVecIndex(ramp_, static_cast<int32_t>(0), t_->idxBufBytes / static_cast<uint32_t>(sizeof(int32_t)));
        Fence<HardEvent::S_V>();
    }

    // permute_token_idx[pos + k] = first + k for k < n: ramp + first (Adds, PIPE_V) into a VECOUT
    // buffer, whose AllocTensor orders the previous MTE3 read of it before the vector write.
    __aicore__ inline void WriteIndexRun(int64_t pos, int64_t first, int64_t n)
    {
        const int64_t perBurst = t_->idxBufBytes / static_cast<int64_t>(sizeof(int32_t));
        for (int64_t done = 0; done < n; done += perBurst) {
            const int64_t k = n - done < perBurst ? n - done : perBurst;
            LocalTensor<int32_t> run = idxQue_.AllocTensor<int32_t>();
            Adds(run, ramp_, static_cast<int32_t>(first + done), static_cast<int32_t>(k));
            idxQue_.EnQue(run);
            run = idxQue_.DeQue<int32_t>();
            DataCopyExtParams params{1, static_cast<uint32_t>(k * sizeof(int32_t)), 0, 0, 0};
            DataCopyPad(permuteIdxGm_[pos + done], run, params);
            idxQue_.FreeTensor(run);
        }
    }

    // permute_per_token_scales is zero-filled FLOAT [A] when no scales are given: this core's rows.
    __aicore__ inline void ZeroFillScales()
    {
        LocalTensor<float> zeros = zeroBuf_.Get<float>();
        const int64_t perBurst = t_->zeroBufBytes / static_cast<int64_t>(sizeof(float));
        Duplicate(zeros, 0.0f, static_cast<int32_t>(perBurst));
        Fence<HardEvent::V_MTE3>();
        for (int64_t row = rowBegin_; row < rowEnd_; row += perBurst) {
            const int64_t n = rowEnd_ - row < perBurst ? rowEnd_ - row : perBurst;
            DataCopyExtParams params{1, static_cast<uint32_t>(n * sizeof(float)), 0, 0, 0};
            DataCopyPad(zeroScalesGm_[row], zeros, params);
        }
    }

    // expert_token_num values are staged in UB and written in bursts by the last core.
    __aicore__ inline void StageExpertValue(int64_t expert, int64_t value)
    {
        const int64_t capacity = t_->expertBufBytes / t_->countBytes;
        expertStage_.SetValue(static_cast<uint32_t>(expertStaged_), static_cast<CountT>(value));
        ++expertStaged_;
        if (expertStaged_ == capacity || expert + 1 == t_->expertNum) {
            Fence<HardEvent::S_MTE3>();
            DataCopyExtParams params{1, static_cast<uint32_t>(expertStaged_ * t_->countBytes), 0, 0, 0};
            DataCopyPad(expertTokenNumGm_[expert + 1 - expertStaged_], expertStage_, params);
            Fence<HardEvent::MTE3_S>();  // the next SetValue must not overwrite bytes in flight
            expertStaged_ = 0;
        }
    }

    const MoeReRoutingTilingData *t_ = nullptr;
    TPipe *pipe_ = nullptr;
    int64_t rowBegin_ = 0;
    int64_t rowEnd_ = 0;
    bool isLastCore_ = false;

    int64_t dstCursor_ = 0;    // destination row of the next cell in expert-major order
    int64_t running_ = 0;      // running row-major total in the rank-bases pass
    int64_t srcCursor_ = 0;    // source row of the next cell in the rank-major walk
    int64_t expertStaged_ = 0;

    GlobalTensor<uint8_t> tokensGm_;
    GlobalTensor<uint8_t> permuteTokensGm_;
    GlobalTensor<uint8_t> scalesGm_;
    GlobalTensor<uint8_t> permuteScalesGm_;
    GlobalTensor<float> zeroScalesGm_;
    GlobalTensor<int32_t> permuteIdxGm_;
    GlobalTensor<CountT> countsGm_;
    GlobalTensor<CountT> expertTokenNumGm_;

    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> tokenQue_;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> scaleQue_;
    TQue<TPosition::VECOUT, kQueueDepth> idxQue_;
    TBuf<TPosition::VECCALC> cursorBuf_;  // scalar only
    TBuf<TPosition::VECCALC> rampBuf_;    // vector only
    TBuf<TPosition::VECIN> countBuf_;     // GM -> UB
    TBuf<TPosition::VECOUT> expertBuf_;   // UB -> GM
    TBuf<TPosition::VECOUT> zeroBuf_;     // UB -> GM

    LocalTensor<int64_t> cursor_;
    LocalTensor<CountT> counts_;
    LocalTensor<CountT> expertStage_;
    LocalTensor<int32_t> ramp_;
};

}  // namespace

extern "C" __global__ __aicore__ void moe_re_routing(GM_ADDR tokens, GM_ADDR expertTokenNumPerRank,
                                                     GM_ADDR perTokenScales, GM_ADDR permuteTokens,
                                                     GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx,
                                                     GM_ADDR expertTokenNum, GM_ADDR workspace, GM_ADDR tiling)
{
    (void)workspace;
    KERNEL_TASK_TYPE_DEFAULT(KERNEL_TYPE_AIV_ONLY);
    REGISTER_TILING_DEFAULT(MoeReRoutingTilingData);
    GET_TILING_DATA_WITH_STRUCT(MoeReRoutingTilingData, tilingData, tiling);
    TPipe pipe;
    if (tilingData.countBytes == sizeof(int64_t)) {
        MoeReRoutingKernel<int64_t> op;
        op.Init(tokens, expertTokenNumPerRank, perTokenScales, permuteTokens, permutePerTokenScales, permuteTokenIdx,
                expertTokenNum, &tilingData, &pipe);
        op.Process();
    } else {
        MoeReRoutingKernel<int32_t> op;
        op.Init(tokens, expertTokenNumPerRank, perTokenScales, permuteTokens, permutePerTokenScales, permuteTokenIdx,
                expertTokenNum, &tilingData, &pipe);
        op.Process();
    }
}
