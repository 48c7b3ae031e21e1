// MoeReRoutingWithCapacity's AI Core kernel entry: the one MoeReRouting kernel (moe_re_routing.cpp),
// with the slot stride of num_max_tokens_per_rank carried by the tiling (srcSlotRows for the forward,
// dstSlotRows for the restore; the kernel's header comment says what each changes). Its arguments are
// MoeReRoutingV2's: the inputs (weights optional), the outputs, then workspace and tiling.
#define MOE_RE_ROUTING_KERNEL_NO_V1_ENTRY
#include "moe_re_routing.cpp"

extern "C" __global__ __aicore__ void moe_re_routing_with_capacity(
    GM_ADDR tokens, GM_ADDR expertTokenNumPerRank, GM_ADDR perTokenScales, GM_ADDR expertTopkWeight,
    GM_ADDR permuteTokens, GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx, GM_ADDR expertTokenNum,
    GM_ADDR permuteTopkWeight, GM_ADDR workspace, GM_ADDR tiling)
{
    (void)workspace;
    KERNEL_TASK_TYPE_DEFAULT(KERNEL_TYPE_AIV_ONLY);
    REGISTER_TILING_DEFAULT(MoeReRoutingTilingData);
    GET_TILING_DATA_WITH_STRUCT(MoeReRoutingTilingData, tilingData, tiling);
    Dispatch(tokens, expertTokenNumPerRank, perTokenScales, expertTopkWeight, permuteTokens, permutePerTokenScales,
             permuteTokenIdx, expertTokenNum, permuteTopkWeight, &tilingData);
}
