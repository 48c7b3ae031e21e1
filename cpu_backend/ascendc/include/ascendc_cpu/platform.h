// The SoCs the emulator can stand in for: AIV core count and unified buffer (UB) per core, as the
// SoC reports them, and the part of UB that the Ascend C runtime keeps for itself. This table is
// the project's one copy of these numbers: the emulator's default launch, the CPU backend's
// platforms, the Python package (through the C library) and the CLI all read it.
//
// Usable UB. On dav-c220 (Ascend910B, Ascend910_93) the Ascend C runtime reserves the top 8 KiB of
// UB for APIs that need scratch space unless the kernel is compiled with
// --cce-disable-asc-reserved-ubuf. MoeReRouting's kernel is built WITHOUT that flag, so its tiling
// plans within UsableUbBytes() = ubBytes - ubReservedBytes, and the emulator gives a kernel exactly
// that much UB. On Ascend 950 (dav-3510) UB is 256 KiB, of which 248 KiB are usable by default
// (6 KiB vector-function stack + 2 KiB reserved, freed only by compile options).
//
// Not known (so not in the table): the AIV core count of Ascend 950 (0 here: whoever selects that
// SoC must give a core count), and what GetCoreMemSize(UB) reports on Ascend 950 (ubBytes is its
// physical size there).
#ifndef ASCENDC_CPU_PLATFORM_H
#define ASCENDC_CPU_PLATFORM_H

#include <cstdint>
#include <cstring>

namespace ascendc_cpu {

// The AI Core architecture whose API implementation the emulator follows where it differs by SoC.
enum class Arch {
    kDavC220,  // Atlas A2/A3 (Ascend910B, Ascend910_93): the default
    kDav3510,  // Ascend 950
};

struct SocPlatform {
    const char *name;          // the SoC version name, e.g. "Ascend910B"
    Arch arch;                 // its AI Core architecture
    uint32_t aivCoreNum;       // vector cores; 0 when not known
    uint32_t ubBytes;          // UB per core as the SoC reports it (GetCoreMemSize(UB))
    uint32_t ubReservedBytes;  // kept by the Ascend C runtime by default (see above)

    constexpr uint32_t UsableUbBytes() const { return ubBytes - ubReservedBytes; }
};

// The top 8 KiB of UB that Ascend C reserves on dav-c220 (TMP_UB_OFFSET = 184 KiB of 192 KiB).
inline constexpr uint32_t kDavC220ReservedUbBytes = 8 * 1024;
// Ascend 950: 256 KiB physical, 248 KiB usable by default.
inline constexpr uint32_t kDav3510UbBytes = 256 * 1024;
inline constexpr uint32_t kDav3510ReservedUbBytes = 8 * 1024;

inline constexpr SocPlatform kSocPlatforms[] = {
    // Atlas A2 (Ascend910B1/B2): GetCoreMemSize(UB) reports 192 KiB - 256 B on the ASCEND910B family.
    {"Ascend910B", Arch::kDavC220, 48, 196352, kDavC220ReservedUbBytes},
    {"Ascend910B3", Arch::kDavC220, 40, 196352, kDavC220ReservedUbBytes},
    {"Ascend910B4", Arch::kDavC220, 40, 196352, kDavC220ReservedUbBytes},
    // Atlas A3, per die: the full 192 KiB reported.
    {"Ascend910_93", Arch::kDavC220, 48, 196608, kDavC220ReservedUbBytes},
    // dav-3510: core count not known (0).
    {"Ascend950", Arch::kDav3510, 0, kDav3510UbBytes, kDav3510ReservedUbBytes},
};
inline constexpr int kSocPlatformCount = static_cast<int>(sizeof(kSocPlatforms) / sizeof(kSocPlatforms[0]));

// The SoC of a default launch (LaunchConfig) and of the CPU backend's checked runs.
inline constexpr const SocPlatform &kDefaultSoc = kSocPlatforms[0];

static_assert(kDefaultSoc.UsableUbBytes() == 188160, "Ascend910B leaves 192 KiB - 256 B - 8 KiB of UB");

// The table entry named `name` (exact match), or nullptr.
inline const SocPlatform *FindSoc(const char *name)
{
    if (name == nullptr) {
        return nullptr;
    }
    for (const SocPlatform &soc : kSocPlatforms) {
        if (std::strcmp(soc.name, name) == 0) {
            return &soc;
        }
    }
    return nullptr;
}

// The table entry for a SoC version as the toolkit names it (what a CPU-debug test picks with
// tikicpulib::<SocVersion>, e.g. "Ascend910B2", "Ascend910_9391", "Ascend950PR_9599"): an exact
// table name first, else the entry of its family; nullptr for anything else.
inline const SocPlatform *FindSocByVersion(const char *name)
{
    if (const SocPlatform *exact = FindSoc(name)) {
        return exact;
    }
    if (name == nullptr) {
        return nullptr;
    }
    struct Family {
        const char *prefix;
        const char *entry;
    };
    static constexpr Family kFamilies[] = {
        {"Ascend910B1", "Ascend910B"},  {"Ascend910B2", "Ascend910B"},  {"Ascend910B3", "Ascend910B3"},
        {"Ascend910B4", "Ascend910B4"}, {"Ascend910_93", "Ascend910_93"}, {"Ascend950PR_", "Ascend950"},
        {"Ascend950DT_", "Ascend950"},
    };
    for (const Family &family : kFamilies) {
        if (std::strncmp(name, family.prefix, std::strlen(family.prefix)) == 0) {
            return FindSoc(family.entry);
        }
    }
    return nullptr;
}

}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_PLATFORM_H
