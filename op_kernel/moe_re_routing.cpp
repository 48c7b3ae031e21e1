/*
 * MoeReRouting AI Core kernel (vector cores only).
 *
 * Each core owns the destination rows [rowBegin, rowEnd) of the split in moe_re_routing_split.h:
 * equal rows, hence equal bytes, on every core whatever N and E are. It moves the rows of every
 * (rank, expert) cell that overlaps its range GM -> UB -> GM in chunks as large as its UB buffers
 * allow, double-buffered, one DataCopyPad burst each (a cell's rows are contiguous in both layouts),
 * with the cell's scale rows, weight rows (MoeReRoutingV2's expert_topk_weight: one more column that
 * moves like a scale column) and index run.
 *
 * Count metadata with O(N + E + own cells) scalar work per core. The counts are read as tiles of
 * R ranks x 8 experts, converted to int32 [R][8] in UB by vector instructions (Cast for int64):
 *   1. column totals: per tile, a log2(R)-step vector fold over the ranks; the scalar unit reads 8
 *      lanes per tile, keeps the running expert base and stops at the column holding this core's
 *      first row (the last core reads every column: it writes expert_token_num);
 *   2. rank cursors: per slab of R ranks, the tiles are summed by vector Adds into [R][8] lanes; the
 *      scalar unit reads 8 lanes per rank twice (before the first column: the partial row sums;
 *      after all of them: the row totals), so cursor[r] = source row of cell (r, first column);
 *   3. walk: from the first column in destination order (for e: for r), moving the overlap of each
 *      cell with [rowBegin, rowEnd), until the range is done.
 * When every tile fits the UB budget the counts are loaded once (resident); otherwise they are
 * streamed tile by tile through a double-buffered VECIN queue, the next tile prefetched while the
 * current one is used, so a reload never waits for data DMAs issued after that prefetch.
 *
 * Synchronisation is explicit: queues for the data path (VECIN->VECOUT) and the index (VECOUT),
 * SetFlag/WaitFlag with ids from TPipe::FetchEventID between units everywhere else, and
 * PipeBarrier<PIPE_V> between two vector instructions where the second reads or overwrites UB the
 * first wrote or read (dav-c220 does not order those by itself). Nothing relies on
 * compiler-inserted synchronisation: the emulator runs the kernel tests with auto-sync off, where it
 * aborts on any such pair left unordered. DMA buffers are VECIN (GM -> UB) or VECOUT (UB -> GM).
 *
 * Compile-time specialisation: the count dtype is the kernel's template parameter, taken from the
 * op build's dtype macro of expert_token_num_per_rank (one binary per OpDef column) or, in the CPU
 * build, chosen by the tiling key; the tiling data holds only what varies per call.
 *
 * Device-side safety: every count the scalar unit reads (cells, column and row sums, which the
 * vector unit may have wrapped) is clamped to [0, A], bases and cursors saturate at A, and every run
 * is cut to [0, A) on both sides, so lying counts (possible on an NPU, where the host cannot read
 * them) never make the kernel read or write outside the tensors.
 *
 * Slot strides (MoeReRoutingWithCapacity; at most one is set, A is then the slotted row count):
 *   srcSlotRows = C (the forward): rank r's tokens start at source row r*C, so cursor[r] is r*C plus
 *     the rank's rows before the first column (clamped to C), and a cell's source run is cut to the
 *     slot end (r+1)*C: rows past a rank's capacity are never read (the destination rows they would
 *     fill are unspecified; the host refuses such counts wherever it can read them).
 *   dstSlotRows = C (the restore): column e's destination rows start at e*C and a cell's run is cut
 *     to (e+1)*C; the walk restarts at e*C in every column.
 * Every core then reads every column in pass 1 (it needs T, the clamped total, or each column's
 * total), and fills within its own rows [rowBegin, rowEnd): zeros on the data outputs and, in gather
 * mode, -1 on the index at the destination rows no token lands in (forward [T, A), restore each slot
 * tail [e*C + total_e, (e+1)*C)); in scatter mode the split is one of index positions, which get -1
 * at the source rows holding no token (forward each slot tail [r*C + total_r, (r+1)*C), restore
 * [T, A)). No-slot calls run exactly the instructions they ran before.
 */
#include "kernel_operator.h"
#include "moe_re_routing_split.h"
#include "moe_re_routing_tiling_data.h"

using namespace AscendC;

namespace {

constexpr int32_t kBufferNum = 2;   // buffers per queue (double buffering), as the tiling plans them
constexpr int32_t kQueueDepth = 1;  // at most one EnQue outstanding per queue (the documented default)
constexpr int64_t kLanes = kMoeReRoutingCountLanes;  // experts per count tile

template <typename CountT>
class MoeReRoutingKernel {
public:
    __aicore__ inline MoeReRoutingKernel() {}

    __aicore__ inline void Init(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales, GM_ADDR weights,
                                GM_ADDR permuteTokens, GM_ADDR permuteScales, GM_ADDR permuteIdx,
                                GM_ADDR expertTokenNum, GM_ADDR permuteWeights, const MoeReRoutingTilingData *tiling,
                                TPipe *pipe)
    {
        t_ = tiling;
        pipe_ = pipe;
        const int64_t blockIdx = GetBlockIdx();
        const MoeReRoutingRowRange rows =
            MoeReRoutingCoreRows(MoeReRoutingRowSplit{t_->rowsPerCore, t_->rowsRemainder}, blockIdx);
        rowBegin_ = rows.begin;
        rowEnd_ = rows.end;
        isLastCore_ = blockIdx + 1 == static_cast<int64_t>(t_->usedCoreNum);
        srcSlot_ = t_->srcSlotRows > 0 ? t_->srcSlotRows : 0;
        dstSlot_ = t_->dstSlotRows > 0 ? t_->dstSlotRows : 0;
        tileRanks_ = t_->countTileRanks;
        slabs_ = (t_->rankNum + tileRanks_ - 1) / tileRanks_;
        strips_ = (t_->expertNum + kLanes - 1) / kLanes;

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
        }
        // Sized by the tiling for absent scales and, with a slot stride, for the gap fills (0: neither).
        if (t_->zeroBufBytes > 0) {
            pipe->InitBuffer(zeroBuf_, t_->zeroBufBytes);
        }
        if (t_->weightRowBytes > 0) {
            weightsGm_.SetGlobalBuffer((__gm__ uint8_t *)weights, A * t_->weightRowBytes);
            permuteWeightsGm_.SetGlobalBuffer((__gm__ uint8_t *)permuteWeights, A * t_->weightRowBytes);
            pipe->InitBuffer(weightQue_, kBufferNum, t_->weightBufBytes);
        }
        pipe->InitBuffer(tokenQue_, kBufferNum, t_->tokenBufBytes);
        pipe->InitBuffer(idxQue_, kBufferNum, t_->idxBufBytes);
        pipe->InitBuffer(rampBuf_, t_->idxBufBytes);
        if (t_->idxType == 0) {
            pipe->InitBuffer(deltaBuf_, t_->idxBufBytes);
        }
        pipe->InitBuffer(cursorBuf_, t_->cursorBufBytes);
        bySlab_ = t_->columnBufBytes != 0;
        if (bySlab_) {
            pipe->InitBuffer(columnBuf_, t_->columnBufBytes);
        }
        pipe->InitBuffer(countQue_, kBufferNum, t_->countBufBytes);
        pipe->InitBuffer(workBuf_, t_->countWorkBytes);
        pipe->InitBuffer(accBuf_, t_->countSumBytes);
        pipe->InitBuffer(foldBuf_, t_->countSumBytes);
        pipe->InitBuffer(expertBuf_, t_->expertBufBytes);
    }

    __aicore__ inline void Process()
    {
        if (t_->zeroBufBytes > 0) {
            PrepareZeros();
        }
        if (t_->scaleRowBytes == 0) {
            ZeroFillScales();
        }
        BuildRamp();
        cursor_ = cursorBuf_.Get<int32_t>();
        if (bySlab_) {
            column_ = columnBuf_.Get<int32_t>();
        }
        work_ = workBuf_.Get<int32_t>();
        acc_ = accBuf_.Get<int32_t>();
        fold_ = foldBuf_.Get<int32_t>();
        expertStage_ = expertBuf_.Get<CountT>();
        if (t_->countsResident != 0) {
            LoadResident();
        }
        FindFirstColumn();
        if (srcSlot_ > 0) {
            FillDestinationGap(total_, t_->tokenNum);  // the forward: rows [T, A) of the packed output
        }
        if (dstSlot_ > 0 && t_->idxType == 1) {
            FillIndex(total_, t_->tokenNum);  // the restore: input rows [T, A) hold no token
        }
        // The forward's scatter index needs every rank's total (its slot tail gets -1), even on a core
        // that moves nothing.
        if (firstExpert_ < t_->expertNum || (srcSlot_ > 0 && t_->idxType == 1)) {
            SetRankCursors();  // walks each slab right after its cursors when bySlab_
            if (!bySlab_ && firstExpert_ < t_->expertNum) {
                Walk();
            }
        }
        DropPrefetch();
        if (t_->idxType == 0) {
            FlushGatherIndex();
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

    __aicore__ inline int64_t Clamp(int64_t count) const
    {
        return count < 0 ? 0 : (count > t_->tokenNum ? t_->tokenNum : count);
    }

    __aicore__ inline int64_t Saturate(int64_t value) const { return value > t_->tokenNum ? t_->tokenNum : value; }

    __aicore__ inline int64_t SlabRanks(int64_t slab) const
    {
        const int64_t left = t_->rankNum - slab * tileRanks_;
        return left < tileRanks_ ? left : tileRanks_;
    }

    // ---- count tiles ----------------------------------------------------------------------------
    // Tile (slab s, strip t): ranks [s*R, s*R + R), experts [8t, 8t + 8), as int32 [R][8] in UB;
    // ranks and experts past the matrix are 0.

    // Issues the DMA of tile (s, t) into a buffer of the count queue and enqueues it.
    __aicore__ inline void IssueTile(int64_t slab, int64_t strip)
    {
        const int64_t E = t_->expertNum;
        const int64_t ranks = SlabRanks(slab);
        const int64_t cols = E - strip * kLanes < kLanes ? E - strip * kLanes : kLanes;
        const uint32_t rankPitch = static_cast<uint32_t>(kLanes * sizeof(CountT));  // 32 or 64 bytes
        LocalTensor<CountT> raw = countQue_.AllocTensor<CountT>();
        if (ranks < tileRanks_ || cols < kLanes) {
            // Lanes and ranks the DMA does not write must read as 0. The buffer's AllocTensor orders
            // only V -> MTE2; the barrier orders this write after the conversion that last read it.
            PipeBarrier<PIPE_V>();
            Duplicate(raw.template ReinterpretCast<int32_t>(), static_cast<int32_t>(0),
                      static_cast<int32_t>(t_->countBufBytes / sizeof(int32_t)));
            Fence<HardEvent::V_MTE2>();
        }
        const uint32_t blockBytes = static_cast<uint32_t>(cols * static_cast<int64_t>(sizeof(CountT)));
        const uint32_t footprint = (blockBytes + 31) / 32 * 32;  // each rank's block starts 32 B aligned
        DataCopyExtParams params{static_cast<uint16_t>(ranks), blockBytes,
                                 static_cast<uint32_t>((E - cols) * static_cast<int64_t>(sizeof(CountT))),
                                 (rankPitch - footprint) / 32, 0};
        DataCopyPadExtParams<CountT> pad{footprint != blockBytes, 0,
                                         static_cast<uint8_t>((footprint - blockBytes) / sizeof(CountT)), 0};
        DataCopyPad(raw, countsGm_[static_cast<uint64_t>(slab * tileRanks_ * E + strip * kLanes)], params, pad);
        countQue_.EnQue(raw);
        pendingSlab_ = slab;
        pendingStrip_ = strip;
    }

    // Dequeues the tile in flight, issues the DMA of tile (nextSlab, nextStrip) when nextSlab >= 0
    // (it overlaps with the use of this one), and converts this one to int32 into `dst`: Cast for
    // int64 counts, a copy (Adds 0) for int32, so the queue buffer is free again at once.
    __aicore__ inline void TakeTile(const LocalTensor<int32_t> &dst, int64_t nextSlab, int64_t nextStrip)
    {
        LocalTensor<CountT> raw = countQue_.DeQue<CountT>();
        pendingSlab_ = -1;
        if (nextSlab >= 0) {
            IssueTile(nextSlab, nextStrip);
        }
        const int32_t n = static_cast<int32_t>(tileRanks_ * kLanes);
        PipeBarrier<PIPE_V>();  // vector reads of `dst` (folds, row sums of the previous tile) are done
        if constexpr (sizeof(CountT) == sizeof(int64_t)) {
            Cast(dst, raw.template ReinterpretCast<int64_t>(), RoundMode::CAST_NONE, static_cast<uint32_t>(n));
        } else {
            Adds(dst, raw.template ReinterpretCast<int32_t>(), static_cast<int32_t>(0), n);
        }
        countQue_.FreeTensor(raw);
    }

    // A prefetched tile nobody asked for is dequeued and dropped (no queue entry or flag may outlive
    // the kernel).
    __aicore__ inline void DropPrefetch()
    {
        if (pendingSlab_ >= 0) {
            LocalTensor<CountT> raw = countQue_.DeQue<CountT>();
            countQue_.FreeTensor(raw);
            pendingSlab_ = -1;
        }
    }

    // Resident counts: every strip through the count queue (the next one prefetched) into work_.
    __aicore__ inline void LoadResident()
    {
        IssueTile(0, 0);
        for (int64_t strip = 0; strip < strips_; ++strip) {
            TakeTile(work_[static_cast<uint32_t>(strip * tileRanks_ * kLanes)], strip + 1 < strips_ ? 0 : -1,
                     strip + 1);
        }
        Fence<HardEvent::V_S>();
    }

    // The int32 tile (slab, strip), ready for scalar and vector reads. Streamed counts: loads it
    // (unless it is the current one), and prefetches tile (nextSlab, nextStrip) when nextSlab >= 0.
    __aicore__ inline LocalTensor<int32_t> Tile(int64_t slab, int64_t strip, int64_t nextSlab, int64_t nextStrip)
    {
        if (t_->countsResident != 0) {
            return work_[static_cast<uint32_t>(strip * tileRanks_ * kLanes)];
        }
        if (slab == currentSlab_ && strip == currentStrip_) {
            return work_;
        }
        if (pendingSlab_ != slab || pendingStrip_ != strip) {
            DropPrefetch();
            IssueTile(slab, strip);
        }
        Fence<HardEvent::S_V>();  // scalar reads of the previous tile are done before it is overwritten
        TakeTile(work_, nextSlab, nextStrip);
        Fence<HardEvent::V_S>();
        currentSlab_ = slab;
        currentStrip_ = strip;
        return work_;
    }

    // ---- pass 1: column totals, expert bases, expert_token_num ----------------------------------

    // fold_[0, 8) = column sums of `tile` over its ranks: a copy, then log2(R) halving Adds.
    __aicore__ inline void FoldRanks(const LocalTensor<int32_t> &tile)
    {
        Fence<HardEvent::S_V>();  // the scalar reads of the previous fold are done
        Adds(fold_, tile, static_cast<int32_t>(0), static_cast<int32_t>(tileRanks_ * kLanes));
        for (int64_t half = tileRanks_ / 2; half >= 1; half /= 2) {
            PipeBarrier<PIPE_V>();  // each halving reads what the previous step wrote
            Add(fold_, fold_, fold_[static_cast<uint32_t>(half * kLanes)], static_cast<int32_t>(half * kLanes));
        }
        Fence<HardEvent::V_S>();
    }

    // Finds the column holding this core's first row and its base (the rows of earlier experts).
    // The last core reads every column and writes expert_token_num; the others stop at their column.
    // With a slot stride every core reads every column: total_ = T (the forward's packed rows end
    // there), and the restore fills each column's slot tail as soon as it knows the column's total.
    __aicore__ inline void FindFirstColumn()
    {
        const int64_t E = t_->expertNum;
        int64_t base = 0;
        int64_t filledEnd = 0;  // one past the last column holding a token
        firstExpert_ = E;
        endExpert_ = E;
        for (int64_t strip = 0; strip < strips_; ++strip) {
            int64_t sums[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int64_t slab = 0; slab < slabs_; ++slab) {
                const bool lastOfStrip = slab + 1 == slabs_;
                const int64_t nextStrip = lastOfStrip ? strip + 1 : strip;
                const bool hasNext = !(lastOfStrip && nextStrip == strips_);
                FoldRanks(Tile(slab, strip, hasNext ? (lastOfStrip ? 0 : slab + 1) : -1, nextStrip));
                for (int64_t k = 0; k < kLanes; ++k) {
                    sums[k] += fold_.GetValue(static_cast<uint32_t>(k));
                }
            }
            const int64_t cols = E - strip * kLanes < kLanes ? E - strip * kLanes : kLanes;
            for (int64_t k = 0; k < cols; ++k) {
                const int64_t expert = strip * kLanes + k;
                const int64_t total = Clamp(sums[k]);
                // The column's first destination row and the rows its cells fill from there.
                const int64_t columnBase = dstSlot_ > 0 ? expert * dstSlot_ : base;
                const int64_t filled = dstSlot_ > 0 && total > dstSlot_ ? dstSlot_ : total;
                if (firstExpert_ == E && rowBegin_ < columnBase + filled) {
                    firstExpert_ = expert;
                    firstBase_ = columnBase;
                }
                if (bySlab_ && firstExpert_ < E && endExpert_ == E && columnBase < rowEnd_) {
                    column_.SetValue(static_cast<uint32_t>(expert - firstExpert_), static_cast<int32_t>(columnBase));
                }
                if (endExpert_ == E && columnBase >= rowEnd_) {
                    endExpert_ = expert;  // this column and the later ones start after the core's rows
                }
                if (dstSlot_ > 0) {
                    FillDestinationGap(columnBase + filled, columnBase + dstSlot_);  // the slot's tail
                }
                filledEnd = total > 0 ? expert + 1 : filledEnd;
                base = Saturate(base + total);
                if (isLastCore_) {
                    StageExpertValue(expert, t_->expertTokenNumType == 1 ? total : base);
                }
            }
            // The last core reads every column (expert_token_num); another stops once it knows its
            // first column, or in the slab walk its first column after its rows (with a slot stride,
            // never: see above).
            if (!isLastCore_ && srcSlot_ == 0 && dstSlot_ == 0 && (bySlab_ ? endExpert_ < E : firstExpert_ < E)) {
                break;
            }
        }
        total_ = base;
        // The forward with source slots: the slab walk needs no column after the last one holding a
        // token (the later ones start at T and are empty), however far this core's rows reach past T.
        if (srcSlot_ > 0 && filledEnd < endExpert_) {
            endExpert_ = filledEnd;
        }
    }

    // ---- pass 2: rank cursors ---------------------------------------------------------------------

    __aicore__ inline int64_t LaneSum(const LocalTensor<int32_t> &tile, int64_t rank, int64_t lanes) const
    {
        int64_t sum = 0;
        for (int64_t k = 0; k < lanes; ++k) {
            sum += tile.GetValue(static_cast<uint32_t>(rank * kLanes + k));
        }
        return sum;
    }

    // cursor[r] = source row of cell (r, firstExpert_): the rows of ranks before r plus those of
    // rank r for experts before firstExpert_ (with source slots: r*C plus the latter, at most C).
    // Per slab: tiles summed by vector Adds into acc_. On a core that moves nothing (firstExpert_ ==
    // E; called for the forward's scatter index only) no cursor is set: only the slot tails are filled.
    __aicore__ inline void SetRankCursors()
    {
        const bool moves = firstExpert_ < t_->expertNum;
        const int64_t firstStrip = firstExpert_ / kLanes;
        const int64_t firstLane = firstExpert_ % kLanes;
        int64_t ranksBefore = 0;  // rows of the ranks of earlier slabs (saturated at A)
        for (int64_t slab = 0; slab < slabs_; ++slab) {
            const int64_t ranks = SlabRanks(slab);
            Fence<HardEvent::S_V>();  // acc_ of the previous slab has been read
            Duplicate(acc_, static_cast<int32_t>(0), static_cast<int32_t>(tileRanks_ * kLanes));
            for (int64_t strip = 0; strip < strips_; ++strip) {
                const bool lastOfSlab = strip + 1 == strips_;
                const int64_t nextSlab = lastOfSlab ? slab + 1 : slab;
                const int64_t next = lastOfSlab && nextSlab == slabs_ ? -1 : nextSlab;
                const LocalTensor<int32_t> tile = Tile(slab, strip, next, lastOfSlab ? 0 : strip + 1);
                if (moves && strip == firstStrip) {
                    Fence<HardEvent::V_S>();
                    for (int64_t r = 0; r < ranks; ++r) {
                        const int64_t partial = Clamp(LaneSum(acc_, r, kLanes) + LaneSum(tile, r, firstLane));
                        cursor_.SetValue(CursorIndex(slab, r), static_cast<int32_t>(partial));
                    }
                    Fence<HardEvent::S_V>();
                }
                PipeBarrier<PIPE_V>();  // acc_ was just zeroed or summed by the previous Add
                Add(acc_, acc_, tile, static_cast<int32_t>(tileRanks_ * kLanes));
            }
            Fence<HardEvent::V_S>();
            if (srcSlot_ > 0) {
                SetSlotCursors(slab, moves);
            } else {
                for (int64_t r = 0; r < ranks; ++r) {
                    const uint32_t rank = CursorIndex(slab, r);
                    cursor_.SetValue(rank, static_cast<int32_t>(Saturate(ranksBefore + cursor_.GetValue(rank))));
                    ranksBefore = Saturate(ranksBefore + Clamp(LaneSum(acc_, r, kLanes)));
                }
            }
            if (bySlab_ && moves) {
                WalkSlab(slab);
            }
        }
    }

    // The forward (source slots of C rows): cursor[r] = r*C + (the partial sum, clamped to C); in
    // scatter mode the slot's tail [r*C + total_r, (r+1)*C) gets index -1 where it meets this core's
    // index positions.
    __aicore__ inline void SetSlotCursors(int64_t slab, bool moves)
    {
        const int64_t C = srcSlot_;
        const int64_t ranks = SlabRanks(slab);
        for (int64_t r = 0; r < ranks; ++r) {
            const int64_t slotBase = (slab * tileRanks_ + r) * C;
            if (moves) {
                const uint32_t rank = CursorIndex(slab, r);
                const int64_t before = cursor_.GetValue(rank);
                cursor_.SetValue(rank, static_cast<int32_t>(slotBase + (before < C ? before : C)));
            }
            if (t_->idxType == 1 && slotBase < rowEnd_ && slotBase + C > rowBegin_) {
                const int64_t total = Clamp(LaneSum(acc_, r, kLanes));
                FillIndex(slotBase + (total < C ? total : C), slotBase + C);
            }
        }
    }

    // Cursors: one per rank, or (bySlab_) one per rank of the current slab.
    __aicore__ inline uint32_t CursorIndex(int64_t slab, int64_t r) const
    {
        return static_cast<uint32_t>(bySlab_ ? r : slab * tileRanks_ + r);
    }

    // ---- pass 3: the walk -------------------------------------------------------------------------

    // Cells in destination order from (0, firstExpert_) until this core's rows are done. With
    // destination slots every column starts at e*C and its cells are cut to (e+1)*C; the walk ends at
    // the first column starting at or after rowEnd_, and every rank of a visited column is read (its
    // cursor must pass the column).
    __aicore__ inline void Walk()
    {
        const int64_t E = t_->expertNum;
        int64_t dst = firstBase_;
        // The forward with source slots: no token lands past T, so the walk ends there rather than
        // visiting every empty cell left (O(N*E) scalar reads on the core holding T).
        const int64_t walkEnd = srcSlot_ > 0 && total_ < rowEnd_ ? total_ : rowEnd_;
        for (int64_t expert = firstExpert_; expert < E; ++expert) {
            const int64_t strip = expert / kLanes;
            const int64_t lane = expert % kLanes;
            int64_t dstLimit = t_->tokenNum;
            if (dstSlot_ > 0) {
                dst = expert * dstSlot_;
                if (dst >= rowEnd_) {
                    return;
                }
                dstLimit = dst + dstSlot_;
            }
            for (int64_t slab = 0; slab < slabs_; ++slab) {
                // The tile this walk needs after this one: with one slab, the next strip's (the
                // current tile serves the 8 columns of its strip); else the next slab, then the next
                // column's first slab.
                int64_t nextSlab = slab + 1;
                int64_t nextStrip = strip;
                if (slabs_ == 1) {
                    nextSlab = strip + 1 < strips_ ? 0 : -1;
                    nextStrip = strip + 1;
                } else if (nextSlab == slabs_) {
                    nextSlab = expert + 1 < E ? 0 : -1;
                    nextStrip = (expert + 1) / kLanes;
                }
                const LocalTensor<int32_t> tile = Tile(slab, strip, nextSlab, nextStrip);
                const int64_t ranks = SlabRanks(slab);
                for (int64_t r = 0; r < ranks; ++r) {
                    const int64_t count = Clamp(tile.GetValue(static_cast<uint32_t>(r * kLanes + lane)));
                    if (count == 0) {
                        continue;  // an empty cell moves nothing and leaves the cursor where it is
                    }
                    const uint32_t rank = static_cast<uint32_t>(slab * tileRanks_ + r);
                    const int64_t src = cursor_.GetValue(rank);
                    cursor_.SetValue(rank, static_cast<int32_t>(Saturate(src + count)));
                    MoveCell(src, dst, count, SourceLimit(rank), dstLimit);
                    if (dstSlot_ > 0) {
                        dst = dst + count < dstLimit ? dst + count : dstLimit;
                        continue;
                    }
                    dst += count;
                    if (dst >= walkEnd) {
                        return;
                    }
                }
            }
        }
    }

    // Slab walk (too many ranks for one cursor each): the cells of one slab's ranks in the core's
    // columns [firstExpert_, endExpert_), column_[e] = destination row of the next cell of column e
    // (the expert base, then advanced over each slab's cells). A slab stops at the first column whose
    // next cell starts after the core's rows: every later column starts later still.
    __aicore__ inline void WalkSlab(int64_t slab)
    {
        const int64_t ranks = SlabRanks(slab);
        for (int64_t expert = firstExpert_; expert < endExpert_; ++expert) {
            const uint32_t column = static_cast<uint32_t>(expert - firstExpert_);
            int64_t dst = column_.GetValue(column);
            if (dst >= rowEnd_) {
                return;
            }
            // With destination slots the column's cells end at (e+1)*C, and column_ stays below it.
            const int64_t dstLimit = dstSlot_ > 0 ? (expert + 1) * dstSlot_ : t_->tokenNum;
            const int64_t strip = expert / kLanes;
            const bool nextStripInRange = (strip + 1) * kLanes < endExpert_;
            const LocalTensor<int32_t> tile = Tile(slab, strip, nextStripInRange ? slab : (slab + 1 < slabs_ ? slab + 1 : -1),
                                                   nextStripInRange ? strip + 1 : 0);
            for (int64_t r = 0; r < ranks; ++r) {
                const int64_t count = Clamp(tile.GetValue(static_cast<uint32_t>(r * kLanes + expert % kLanes)));
                if (count == 0) {
                    continue;
                }
                const int64_t src = cursor_.GetValue(static_cast<uint32_t>(r));
                cursor_.SetValue(static_cast<uint32_t>(r), static_cast<int32_t>(Saturate(src + count)));
                MoveCell(src, dst, count, SourceLimit(slab * tileRanks_ + r), dstLimit);
                dst = dst + count < dstLimit ? dst + count : dstLimit;
            }
            column_.SetValue(column, static_cast<int32_t>(dst));
        }
    }

    // End of rank `rank`'s source rows: its slot's end with source slots, else A.
    __aicore__ inline int64_t SourceLimit(int64_t rank) const
    {
        return srcSlot_ > 0 ? (rank + 1) * srcSlot_ : t_->tokenNum;
    }

    // Moves the rows of a cell (source rows from `src`, destination rows from `dst`) that fall in
    // this core's destination range, cut to [0, srcLimit) and [0, dstLimit) (A, or a slot's end;
    // never past A).
    __aicore__ inline void MoveCell(int64_t src, int64_t dst, int64_t count, int64_t srcLimit, int64_t dstLimit)
    {
        const int64_t lo = dst > rowBegin_ ? dst : rowBegin_;
        const int64_t end = dstLimit < rowEnd_ ? dstLimit : rowEnd_;
        const int64_t hi = dst + count < end ? dst + count : end;
        if (lo >= hi) {
            return;
        }
        const int64_t srcRow = src + (lo - dst);
        if (srcRow >= srcLimit) {
            return;  // counts sum past A (or past the rank's slot): nothing valid to read
        }
        const int64_t rows = hi - lo < srcLimit - srcRow ? hi - lo : srcLimit - srcRow;
        MoveRows(tokensGm_, permuteTokensGm_, tokenQue_, srcRow, lo, rows, t_->tokenRowBytes, t_->tokenBufBytes);
        if (t_->scaleRowBytes > 0) {
            MoveRows(scalesGm_, permuteScalesGm_, scaleQue_, srcRow, lo, rows, t_->scaleRowBytes, t_->scaleBufBytes);
        }
        if (t_->weightRowBytes > 0) {
            MoveRows(weightsGm_, permuteWeightsGm_, weightQue_, srcRow, lo, rows, t_->weightRowBytes,
                     t_->weightBufBytes);
        }
        if (t_->idxType == 0) {
            AppendGatherIndex(lo, srcRow, rows);  // gather: idx[dst + k] = src + k
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
        if (t_->idxType == 0) {
            delta_ = deltaBuf_.Get<int32_t>();
        }
        CreateVecIndex(ramp_, static_cast<int32_t>(0), t_->idxBufBytes / static_cast<uint32_t>(sizeof(int32_t)));
        Fence<HardEvent::S_V>();
        PipeBarrier<PIPE_V>();  // its last vector Adds is done before any index run reads the ramp
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

    // Gather mode: the core's index rows are its destination rows, contiguous across cells visited in
    // destination order, so the runs of consecutive cells share one index chunk and one DMA. delta_[j] = source - destination
    // row of the run holding chunk row j (written by the scalar unit up to the first 32-byte
    // boundary of a run, by Duplicate after it); the flush makes the chunk ramp + delta + base with
    // two vector instructions. delta_ is never touched by a DMA.
    __aicore__ inline void AppendGatherIndex(int64_t dstRow, int64_t srcRow, int64_t n)
    {
        const int64_t capacity = t_->idxBufBytes / static_cast<int64_t>(sizeof(int32_t));
        while (n > 0) {
            if (idxFill_ > 0 && dstRow != idxBase_ + idxFill_) {
                FlushGatherIndex();  // not adjacent (the slab walk visits cells out of destination order)
            }
            if (idxFill_ == 0) {
                if (deltaInUse_) {
                    Fence<HardEvent::V_S>();  // the previous flush has read delta_
                    deltaInUse_ = false;
                }
                idxBase_ = dstRow;
            }
            const int64_t m = n < capacity - idxFill_ ? n : capacity - idxFill_;
            const int32_t offset = static_cast<int32_t>(srcRow - dstRow);
            const int64_t toBoundary = (kLanes - idxFill_ % kLanes) % kLanes;
            const int64_t head = m < toBoundary ? m : toBoundary;
            for (int64_t j = 0; j < head; ++j) {
                delta_.SetValue(static_cast<uint32_t>(idxFill_ + j), offset);
            }
            if (m > head) {
                Duplicate(delta_[static_cast<uint32_t>(idxFill_ + head)], offset, static_cast<int32_t>(m - head));
            }
            idxFill_ += m;
            dstRow += m;
            srcRow += m;
            n -= m;
            if (idxFill_ == capacity) {
                FlushGatherIndex();
            }
        }
    }

    __aicore__ inline void FlushGatherIndex()
    {
        if (idxFill_ == 0) {
            return;
        }
        Fence<HardEvent::S_V>();  // the scalar writes of delta_ are visible to the vector unit
        const int32_t n = static_cast<int32_t>(idxFill_);
        LocalTensor<int32_t> run = idxQue_.AllocTensor<int32_t>();
        PipeBarrier<PIPE_V>();  // the Duplicates that filled delta_ are done
        Add(run, ramp_, delta_, n);
        PipeBarrier<PIPE_V>();
        Adds(run, run, static_cast<int32_t>(idxBase_), n);
        idxQue_.EnQue(run);
        run = idxQue_.DeQue<int32_t>();
        DataCopyExtParams params{1, static_cast<uint32_t>(n * static_cast<int32_t>(sizeof(int32_t))), 0, 0, 0};
        DataCopyPad(permuteIdxGm_[idxBase_], run, params);
        idxQue_.FreeTensor(run);
        idxFill_ = 0;
        deltaInUse_ = true;
    }

    // The zero buffer: Duplicate once; after the V -> MTE3 fence only DMAs read it.
    __aicore__ inline void PrepareZeros()
    {
        LocalTensor<float> zeros = zeroBuf_.Get<float>();
        Duplicate(zeros, 0.0f, static_cast<int32_t>(t_->zeroBufBytes / static_cast<uint32_t>(sizeof(float))));
        Fence<HardEvent::V_MTE3>();
    }

    // permute_per_token_scales is zero-filled FLOAT [A] when no scales are given: this core's rows.
    __aicore__ inline void ZeroFillScales()
    {
        LocalTensor<float> zeros = zeroBuf_.Get<float>();
        const int64_t perBurst = t_->zeroBufBytes / static_cast<int64_t>(sizeof(float));
        for (int64_t row = rowBegin_; row < rowEnd_; row += perBurst) {
            const int64_t n = rowEnd_ - row < perBurst ? rowEnd_ - row : perBurst;
            DataCopyExtParams params{1, static_cast<uint32_t>(n * sizeof(float)), 0, 0, 0};
            DataCopyPad(zeroScalesGm_[row], zeros, params);
        }
    }

    // Slot strides: destination rows [from, to) (cut to this core's rows) hold no token: zeros in
    // every moved data output (absent scales were zero-filled whole) and, in gather mode, index -1.
    __aicore__ inline void FillDestinationGap(int64_t from, int64_t to)
    {
        from = from > rowBegin_ ? from : rowBegin_;
        to = to < rowEnd_ ? to : rowEnd_;
        if (from >= to) {
            return;
        }
        ZeroRows(permuteTokensGm_, from, to, t_->tokenRowBytes);
        if (t_->scaleRowBytes > 0) {
            ZeroRows(permuteScalesGm_, from, to, t_->scaleRowBytes);
        }
        if (t_->weightRowBytes > 0) {
            ZeroRows(permuteWeightsGm_, from, to, t_->weightRowBytes);
        }
        if (t_->idxType == 0) {
            FillIndex(from, to);
        }
    }

    // Rows [from, to) of `dst` (rowBytes each) from the zero buffer, in bursts of its size.
    __aicore__ inline void ZeroRows(GlobalTensor<uint8_t> &dst, int64_t from, int64_t to, int64_t rowBytes)
    {
        LocalTensor<uint8_t> zeros = zeroBuf_.Get<uint8_t>();
        const int64_t bytes = (to - from) * rowBytes;
        const int64_t perBurst = t_->zeroBufBytes;
        for (int64_t done = 0; done < bytes; done += perBurst) {
            const int64_t n = bytes - done < perBurst ? bytes - done : perBurst;
            DataCopyExtParams params{1, static_cast<uint32_t>(n), 0, 0, 0};
            DataCopyPad(dst[from * rowBytes + done], zeros, params);
        }
    }

    // permute_token_idx[pos] = -1 for pos in [from, to) (cut to this core's rows, which in scatter
    // mode are index positions): Duplicate into a VECOUT buffer of the index queue, whose AllocTensor
    // orders the previous MTE3 read of it before the vector write, then one DMA per buffer.
    __aicore__ inline void FillIndex(int64_t from, int64_t to)
    {
        from = from > rowBegin_ ? from : rowBegin_;
        to = to < rowEnd_ ? to : rowEnd_;
        const int64_t perBurst = t_->idxBufBytes / static_cast<int64_t>(sizeof(int32_t));
        for (int64_t pos = from; pos < to; pos += perBurst) {
            const int64_t k = to - pos < perBurst ? to - pos : perBurst;
            LocalTensor<int32_t> run = idxQue_.AllocTensor<int32_t>();
            Duplicate(run, static_cast<int32_t>(-1), static_cast<int32_t>(k));
            idxQue_.EnQue(run);
            run = idxQue_.DeQue<int32_t>();
            DataCopyExtParams params{1, static_cast<uint32_t>(k * static_cast<int64_t>(sizeof(int32_t))), 0, 0, 0};
            DataCopyPad(permuteIdxGm_[pos], run, params);
            idxQue_.FreeTensor(run);
        }
    }

    // expert_token_num values are staged in UB and written in bursts by the last core.
    __aicore__ inline void StageExpertValue(int64_t expert, int64_t value)
    {
        constexpr int64_t kCountBytes = static_cast<int64_t>(sizeof(CountT));
        const int64_t capacity = t_->expertBufBytes / kCountBytes;
        expertStage_.SetValue(static_cast<uint32_t>(expertStaged_), static_cast<CountT>(value));
        ++expertStaged_;
        if (expertStaged_ == capacity || expert + 1 == t_->expertNum) {
            Fence<HardEvent::S_MTE3>();
            DataCopyExtParams params{1, static_cast<uint32_t>(expertStaged_ * kCountBytes), 0, 0, 0};
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
    int64_t srcSlot_ = 0;    // C of the forward's source slots (0: packed)
    int64_t dstSlot_ = 0;    // C of the restore's destination slots (0: packed)
    int64_t total_ = 0;      // T: every token (clamped column totals, saturated at A); slotted calls only
    int64_t tileRanks_ = 1;  // R: ranks per count tile (a power of two)
    int64_t slabs_ = 1;      // ceil(N / R)
    int64_t strips_ = 1;     // ceil(E / 8)

    int64_t firstExpert_ = 0;  // column holding rowBegin_ (E: none)
    int64_t firstBase_ = 0;    // destination row of cell (0, firstExpert_)
    int64_t endExpert_ = 0;    // first column starting at or after rowEnd_ (E: none)
    bool bySlab_ = false;      // slab walk: cursors for one slab, a destination row per column
    int64_t expertStaged_ = 0;
    int64_t idxBase_ = 0;       // gather mode: destination row of the open index chunk's first row
    int64_t idxFill_ = 0;       // gather mode: rows in the open index chunk
    bool deltaInUse_ = false;   // gather mode: a flush's vector read of delta_ may be in flight
    int64_t currentSlab_ = -1;  // streamed counts: the tile in work_
    int64_t currentStrip_ = -1;
    int64_t pendingSlab_ = -1;  // streamed counts: the tile in the count queue (-1: none)
    int64_t pendingStrip_ = -1;

    GlobalTensor<uint8_t> tokensGm_;
    GlobalTensor<uint8_t> permuteTokensGm_;
    GlobalTensor<uint8_t> scalesGm_;
    GlobalTensor<uint8_t> permuteScalesGm_;
    GlobalTensor<float> zeroScalesGm_;
    GlobalTensor<uint8_t> weightsGm_;
    GlobalTensor<uint8_t> permuteWeightsGm_;
    GlobalTensor<int32_t> permuteIdxGm_;
    GlobalTensor<CountT> countsGm_;
    GlobalTensor<CountT> expertTokenNumGm_;

    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> tokenQue_;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> scaleQue_;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, kQueueDepth> weightQue_;
    TQue<TPosition::VECOUT, kQueueDepth> idxQue_;
    TQue<TPosition::VECIN, kQueueDepth> countQue_;  // count tiles as loaded (CountT)
    TBuf<TPosition::VECCALC> cursorBuf_;  // scalar only: int32 source cursor per rank (of the slab)
    TBuf<TPosition::VECCALC> columnBuf_;  // scalar only (slab walk): int32 destination row per column
    TBuf<TPosition::VECCALC> rampBuf_;    // vector only: 0, 1, 2, ...
    TBuf<TPosition::VECCALC> deltaBuf_;   // gather mode, scalar and vector only: run offsets
    TBuf<TPosition::VECCALC> workBuf_;    // int32 tiles: all of them (resident) or the current one
    TBuf<TPosition::VECCALC> accBuf_;     // int32 [R][8] running row sums
    TBuf<TPosition::VECCALC> foldBuf_;    // int32 [R][8] fold of a tile over its ranks
    TBuf<TPosition::VECOUT> expertBuf_;   // UB -> GM
    TBuf<TPosition::VECOUT> zeroBuf_;     // UB -> GM

    LocalTensor<int32_t> cursor_;
    LocalTensor<int32_t> column_;
    LocalTensor<int32_t> work_;
    LocalTensor<int32_t> acc_;
    LocalTensor<int32_t> fold_;
    LocalTensor<CountT> expertStage_;
    LocalTensor<int32_t> ramp_;
    LocalTensor<int32_t> delta_;
};

// Runs the kernel with counts of type CountT (int32_t or int64_t). MoeReRouting passes no weights.
template <typename CountT>
__aicore__ inline void RunMoeReRouting(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales, GM_ADDR weights,
                                       GM_ADDR permuteTokens, GM_ADDR permuteScales, GM_ADDR permuteIdx,
                                       GM_ADDR expertTokenNum, GM_ADDR permuteWeights,
                                       const MoeReRoutingTilingData *tiling)
{
    TPipe pipe;
    MoeReRoutingKernel<CountT> op;
    op.Init(tokens, counts, scales, weights, permuteTokens, permuteScales, permuteIdx, expertTokenNum, permuteWeights,
            tiling, &pipe);
    op.Process();
}

// The kernel instantiation of the binary: CANN builds one binary per OpDef column and passes its
// count dtype as DTYPE_EXPERT_TOKEN_NUM_PER_RANK; the CPU build holds both instantiations and the
// launch's tiling key chooses.
__aicore__ inline void Dispatch(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales, GM_ADDR weights,
                                GM_ADDR permuteTokens, GM_ADDR permuteScales, GM_ADDR permuteIdx,
                                GM_ADDR expertTokenNum, GM_ADDR permuteWeights, const MoeReRoutingTilingData *tiling)
{
#if defined(DTYPE_EXPERT_TOKEN_NUM_PER_RANK)
    RunMoeReRouting<DTYPE_EXPERT_TOKEN_NUM_PER_RANK>(tokens, counts, scales, weights, permuteTokens, permuteScales,
                                                     permuteIdx, expertTokenNum, permuteWeights, tiling);
#else
    if (TILING_KEY_IS(MOE_RE_ROUTING_TILING_KEY_INT64_COUNTS)) {
        RunMoeReRouting<int64_t>(tokens, counts, scales, weights, permuteTokens, permuteScales, permuteIdx,
                                 expertTokenNum, permuteWeights, tiling);
    } else if (TILING_KEY_IS(MOE_RE_ROUTING_TILING_KEY_INT32_COUNTS)) {
        RunMoeReRouting<int32_t>(tokens, counts, scales, weights, permuteTokens, permuteScales, permuteIdx,
                                 expertTokenNum, permuteWeights, tiling);
    }
#endif
}

}  // namespace

#ifndef MOE_RE_ROUTING_KERNEL_NO_V1_ENTRY
extern "C" __global__ __aicore__ void moe_re_routing(GM_ADDR tokens, GM_ADDR expertTokenNumPerRank,
                                                     GM_ADDR perTokenScales, GM_ADDR permuteTokens,
                                                     GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx,
                                                     GM_ADDR expertTokenNum, GM_ADDR workspace, GM_ADDR tiling)
{
    (void)workspace;
    KERNEL_TASK_TYPE_DEFAULT(KERNEL_TYPE_AIV_ONLY);
    REGISTER_TILING_DEFAULT(MoeReRoutingTilingData);
    GET_TILING_DATA_WITH_STRUCT(MoeReRoutingTilingData, tilingData, tiling);
    Dispatch(tokens, expertTokenNumPerRank, perTokenScales, nullptr, permuteTokens, permutePerTokenScales,
             permuteTokenIdx, expertTokenNum, nullptr, &tilingData);
}
#endif
