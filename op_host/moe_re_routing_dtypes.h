// The one table of data types MoeReRouting knows: codes (aclDataType values), names, sizes and the
// roles each type may play. Everything else (checks, tiling, the C API, the Python layer via
// MoeReRoutingDtypeTable and MoeReRoutingDtypeRole) reads this table; nothing retypes it.
#ifndef MOE_RE_ROUTING_DTYPES_H
#define MOE_RE_ROUTING_DTYPES_H

#include <cstdint>

namespace moe_re_routing {

// Roles a dtype may play (bit mask).
enum DtypeRole : uint32_t {
    kRoleTokens = 1u << 0,          // tokens / permute_tokens
    kRoleTokensOfficial = 1u << 1,  // accepted by the official A2/A3 operator (not an [ext])
    kRoleCounts = 1u << 2,          // expert_token_num_per_rank / expert_token_num
    kRoleScales = 1u << 3,          // per_token_scales / permute_per_token_scales
    kRolePacked4 = 1u << 4,         // two elements per byte (fp4): H must be even, a row is H/2 bytes
};

struct DtypeInfo {
    int32_t code;       // aclDataType value
    const char *name;   // ACL enum name without the ACL_ prefix
    uint32_t bits;      // bits per element
    uint32_t roles;     // DtypeRole mask
};

// aclDataType numeric values (acl_base.h). Types with no role are listed so that messages can
// name them. A unit test (tests/ut/api) checks that the CPU backend's aclDataType enum agrees.
inline constexpr DtypeInfo kDtypeTable[] = {
    {0, "FLOAT", 32, kRoleTokens | kRoleScales},
    {1, "FLOAT16", 16, kRoleTokens | kRoleTokensOfficial},
    {2, "INT8", 8, kRoleTokens | kRoleTokensOfficial},
    {3, "INT32", 32, kRoleTokens | kRoleCounts},
    {4, "UINT8", 8, kRoleTokens},
    {6, "INT16", 16, kRoleTokens},
    {7, "UINT16", 16, kRoleTokens},
    {8, "UINT32", 32, 0},
    {9, "INT64", 64, kRoleCounts},
    {10, "UINT64", 64, 0},
    {11, "DOUBLE", 64, 0},
    {12, "BOOL", 8, 0},
    {16, "COMPLEX64", 64, 0},
    {17, "COMPLEX128", 128, 0},
    {29, "INT4", 4, 0},
    {33, "COMPLEX32", 32, 0},
    {27, "BF16", 16, kRoleTokens | kRoleTokensOfficial},
    {34, "HIFLOAT8", 8, kRoleTokens},
    {35, "FLOAT8_E5M2", 8, kRoleTokens},
    {36, "FLOAT8_E4M3FN", 8, kRoleTokens},
    {37, "FLOAT8_E8M0", 8, kRoleScales},
    {40, "FLOAT4_E2M1", 4, kRoleTokens | kRolePacked4},
    {41, "FLOAT4_E1M2", 4, kRoleTokens | kRolePacked4},
    {38, "FLOAT6_E3M2", 6, 0},
    {39, "FLOAT6_E2M3", 6, 0},
};

inline constexpr int32_t kDtypeCount = static_cast<int32_t>(sizeof(kDtypeTable) / sizeof(kDtypeTable[0]));

// Returns the entry for an aclDataType code, or nullptr when the operator does not know it.
inline const DtypeInfo *FindDtype(int32_t code)
{
    for (const DtypeInfo &d : kDtypeTable) {
        if (d.code == code) {
            return &d;
        }
    }
    return nullptr;
}

// The aclDataType code of a table entry by name (-1 when absent); constexpr, so code that needs one
// code (e.g. the FLOAT of absent scales) names it instead of repeating the number.
constexpr int32_t DtypeCode(const char *name)
{
    for (const DtypeInfo &d : kDtypeTable) {
        const char *a = d.name;
        const char *b = name;
        while (*a != '\0' && *a == *b) {
            ++a;
            ++b;
        }
        if (*a == *b) {
            return d.code;
        }
    }
    return -1;
}

// Name for messages; "UNKNOWN" for codes outside the table.
inline const char *DtypeName(int32_t code)
{
    const DtypeInfo *d = FindDtype(code);
    return d != nullptr ? d->name : "UNKNOWN";
}

}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_DTYPES_H
