"""cffi binding (ABI mode: ``ffi.dlopen``, no compiled extension) and library discovery.

Lookup order of the library that provides the aclnn and AscendCL functions:

1. ``$MOE_RE_ROUTING_LIBRARY``: an explicit path to a ``libmoe_re_routing.so`` (or compatible).
2. CANN, when ``libcust_opapi.so`` is found under ``<dir>/op_api/lib`` for a ``<dir>`` in
   ``$ASCEND_CUSTOM_OPP_PATH`` (colon-separated, as ``set_env.bash`` writes it): the aclnn
   functions then come from ``libcust_opapi.so`` and the AscendCL ones from ``libascendcl.so`` /
   ``libnnopbase.so`` (found through ``LD_LIBRARY_PATH`` or ``$ASCEND_HOME_PATH/lib64``). The CPU
   backend's extension functions (dtype table, platform, trace) do not exist there.
3. The package's own ``lib/libmoe_re_routing.so`` (CPU backend, installed by ``pip install .``).

``$MOE_RE_ROUTING_BACKEND=cpu`` skips step 2, ``=cann`` makes a failure in step 2 an error.

The cdef below declares what Python calls from the C headers (aclnn_moe_re_routing.h, acl/acl.h,
aclnn/acl_meta.h and cpu_backend/aclnn/moe_re_routing_cpu.h); enums are ``int`` in the C ABI.
tests/python/test_ffi.py parses the installed headers and checks every declaration against them.

The operator's facts that live in C (the dtype table and its roles, the status table) are always
read from the package's own library (:data:`facts`), whichever backend runs the operator: CANN's
libraries do not export them.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from typing import Any, Optional

import cffi

from .errors import MoeReRoutingError

__all__ = ["CDEF", "BackendInfo", "backend", "cmake_prefix", "facts", "ffi", "lib"]

CDEF = r"""
typedef int aclError;
typedef int32_t aclnnStatus;
typedef int aclDataType;
typedef int aclFormat;
typedef int aclrtMemMallocPolicy;
typedef int aclrtMemcpyKind;
typedef void *aclrtStream;
typedef struct aclTensor aclTensor;
typedef struct aclOpExecutor aclOpExecutor;

aclError aclInit(const char *configPath);
aclError aclFinalize(void);
aclError aclrtSetDevice(int32_t deviceId);
aclError aclrtResetDevice(int32_t deviceId);
aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy);
aclError aclrtFree(void *devPtr);
aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count, aclrtMemcpyKind kind);
aclError aclrtCreateStream(aclrtStream *stream);
aclError aclrtDestroyStream(aclrtStream stream);
aclError aclrtSynchronizeStream(aclrtStream stream);
const char *aclGetRecentErrMsg(void);

aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
                           const int64_t *stride, int64_t offset, aclFormat format,
                           const int64_t *storageDims, uint64_t storageDimsNum, void *tensorData);
aclnnStatus aclDestroyTensor(const aclTensor *tensor);

aclnnStatus aclnnMoeReRoutingGetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank,
    const aclTensor *perTokenScalesOptional, int64_t expertTokenNumType, int64_t idxType,
    const aclTensor *permuteTokensOut, const aclTensor *permutePerTokenScalesOut,
    const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
    uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMoeReRouting(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                              aclrtStream stream);
aclnnStatus aclnnMoeReRoutingV2GetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank,
    const aclTensor *perTokenScalesOptional, const aclTensor *expertTopkWeightOptional,
    int64_t expertTokenNumTypeOptional, int64_t idxTypeOptional,
    const aclTensor *permuteTokensOut, const aclTensor *permutePerTokenScalesOut,
    const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
    const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMoeReRoutingV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                aclrtStream stream);
aclnnStatus aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank,
    const aclTensor *perTokenScalesOptional, const aclTensor *expertTopkWeightOptional,
    int64_t numMaxTokensPerRank, int64_t expertTokenNumTypeOptional, int64_t idxTypeOptional,
    bool restoreOptional, const aclTensor *permuteTokensOut, const aclTensor *permutePerTokenScalesOut,
    const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
    const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnMoeReRoutingWithCapacity(void *workspace, uint64_t workspaceSize,
                                          aclOpExecutor *executor, aclrtStream stream);

typedef struct {
    int32_t code;
    const char *name;
    uint32_t bits;
    uint32_t roles;
} MoeReRoutingDtypeInfo;
int32_t MoeReRoutingDtypeTable(const MoeReRoutingDtypeInfo **table);
uint32_t MoeReRoutingDtypeRole(const char *role);
typedef struct {
    int32_t code;
    const char *name;
} MoeReRoutingStatusInfo;
int32_t MoeReRoutingStatusTable(const MoeReRoutingStatusInfo **table);
const char *MoeReRoutingStatusName(aclnnStatus status);
int32_t MoeReRoutingLastErrorKind(void);
const char *MoeReRoutingErrorKindName(int32_t kind);
const char *MoeReRoutingVersion(void);
typedef struct {
    const char *name;
    uint32_t aivCoreNum;
    uint32_t ubBytes;
    uint32_t ubReservedBytes;
    uint32_t ubUsableBytes;
} MoeReRoutingSocInfo;
int32_t MoeReRoutingCpuSocTable(const MoeReRoutingSocInfo **table);
const char *MoeReRoutingCpuDefaultSoc(void);
aclnnStatus MoeReRoutingCpuSelectPlatform(const char *name, uint32_t aivCoreNum);
aclnnStatus MoeReRoutingCpuSetPlatform(uint32_t aivCoreNum, uint32_t ubBytes);
void MoeReRoutingCpuGetPlatform(uint32_t *aivCoreNum, uint32_t *ubBytes);
const char *MoeReRoutingCpuPlatformName(void);
aclnnStatus MoeReRoutingCpuSetEngine(const char *engine);
const char *MoeReRoutingCpuEngineName(void);
aclnnStatus MoeReRoutingCpuSetThreads(uint32_t threads);
uint32_t MoeReRoutingCpuGetThreads(void);
aclnnStatus MoeReRoutingCpuSetTrace(int32_t enabled, const char *chromeTracePath);
const char *MoeReRoutingCpuLastRunJson(void);
typedef struct {
    double bytesIn;
    double bytesOut;
    double dmaInOps;
    double dmaOutOps;
    double gmScalarOps;
    double scalarUbOps;
    double vectorOps;
} MoeReRoutingModelCore;
typedef struct {
    double mte2Us;
    double mte3Us;
    double scalarUs;
    double vectorUs;
    double coreUs;
} MoeReRoutingModelCoreTime;
int32_t MoeReRoutingModelParameters(const char *const **names, const double **values);
double MoeReRoutingModelEvaluate(const MoeReRoutingModelCore *cores, int32_t coreNum,
                                 const double *params, MoeReRoutingModelCoreTime *perCore);
int32_t MoeReRoutingCpuLastRunModelCores(MoeReRoutingModelCore *cores, int32_t capacity);
aclnnStatus MoeReRoutingCpuSetProfileDir(const char *dir);
const char *MoeReRoutingCpuLastProfilePath(void);
aclnnStatus MoeReRoutingCpuSetProfileSimulator(int32_t enabled);
aclnnStatus MoeReRoutingCpuRunHost(const int64_t *desc, int64_t descLen, void *tokens,
                                   void *expertTokenNumPerRank, void *perTokenScales,
                                   void *permuteTokens, void *permutePerTokenScales,
                                   void *permuteTokenIdx, void *expertTokenNum,
                                   int64_t expertTokenNumType, int64_t idxType);
#define MOE_RE_ROUTING_INFER_SLOT 10
#define MOE_RE_ROUTING_INFER_OUTPUTS_LEN 50
aclnnStatus MoeReRoutingInferOutputs(const int64_t *inputs, int64_t inputsLen, int64_t *outputs);
aclnnStatus MoeReRoutingCpuRunHostV2(const int64_t *desc, int64_t descLen, void *tokens,
                                     void *expertTokenNumPerRank, void *perTokenScales,
                                     void *expertTopkWeight, void *permuteTokens,
                                     void *permutePerTokenScales, void *permuteTokenIdx,
                                     void *expertTokenNum, void *permuteTopkWeight,
                                     int64_t expertTokenNumType, int64_t idxType);
aclnnStatus MoeReRoutingCpuRunHostWithCapacity(const int64_t *desc, int64_t descLen, void *tokens,
                                               void *expertTokenNumPerRank, void *perTokenScales,
                                               void *expertTopkWeight, void *permuteTokens,
                                               void *permutePerTokenScales, void *permuteTokenIdx,
                                               void *expertTokenNum, void *permuteTopkWeight,
                                               int64_t numMaxTokensPerRank, int64_t expertTokenNumType,
                                               int64_t idxType, int32_t restore);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)

_PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARY_NAME = "libmoe_re_routing.so"


def cmake_prefix() -> str:
    """The CMake prefix of the installed C package (for ``-DCMAKE_PREFIX_PATH=...``).

    It is the package directory, which holds ``lib/libmoe_re_routing.so``, ``include/`` and
    ``lib/cmake/MoeReRouting/``.
    """
    return str(_PACKAGE_DIR)


class BackendInfo:
    """What was loaded: ``name`` ("cpu" or "cann") and the library paths, aclnn library first."""

    def __init__(self, name: str, libraries: list[str]) -> None:
        self.name = name
        self.libraries = libraries

    @property
    def library(self) -> str:
        return self.libraries[0]

    def __repr__(self) -> str:
        return f"BackendInfo(name={self.name!r}, libraries={self.libraries!r})"


class _Lib:
    """Resolves each function from the first loaded library that exports it.

    Missing functions raise :class:`MoeReRoutingError` naming the function and the backend when they
    are used (never at import), so a CANN install without the CPU extensions still imports.
    """

    def __init__(self, handles: list[Any], backend_name: str) -> None:
        self._handles = handles
        self._backend = backend_name
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def has(self, name: str) -> bool:
        try:
            self._resolve(name)
        except AttributeError:
            return False
        return True

    def _resolve(self, name: str) -> Any:
        fn = self._cache.get(name)
        if fn is not None:
            return fn
        for h in self._handles:
            try:
                fn = getattr(h, name)
            except AttributeError:
                continue
            with self._lock:
                self._cache[name] = fn
            return fn
        raise AttributeError(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._resolve(name)
        except AttributeError:
            raise MoeReRoutingError(
                None, f"{name} is not available in the loaded {self._backend} backend library"
            ) from None


def _cann_candidates() -> Optional[Path]:
    for d in os.environ.get("ASCEND_CUSTOM_OPP_PATH", "").split(":"):
        if not d:
            continue
        p = Path(d) / "op_api" / "lib" / "libcust_opapi.so"
        if p.is_file():
            return p
    return None


def _open_system_lib(name: str) -> Any:
    """dlopen ``name`` through the loader path, else under the CANN toolkit's lib64."""
    try:
        return ffi.dlopen(name, ffi.RTLD_NOW | ffi.RTLD_GLOBAL)
    except OSError as first:
        for var in ("ASCEND_HOME_PATH", "ASCEND_TOOLKIT_HOME"):
            home = os.environ.get(var)
            if home and (Path(home) / "lib64" / name).is_file():
                return ffi.dlopen(str(Path(home) / "lib64" / name), ffi.RTLD_NOW | ffi.RTLD_GLOBAL)
        raise first


def _load() -> tuple[_Lib, BackendInfo]:
    explicit = os.environ.get("MOE_RE_ROUTING_LIBRARY")
    if explicit:
        explicit_path = os.path.abspath(explicit)
        try:
            handle = ffi.dlopen(explicit_path, ffi.RTLD_NOW)
        except OSError as exc:
            raise MoeReRoutingError(
                None, f"MOE_RE_ROUTING_LIBRARY={explicit!r} cannot be loaded: {exc}"
            ) from exc
        lib = _Lib([handle], "explicit")
        name = "cpu" if lib.has("MoeReRoutingCpuGetPlatform") else "cann"
        lib._backend = name
        return lib, BackendInfo(name, [explicit_path])

    choice = os.environ.get("MOE_RE_ROUTING_BACKEND", "auto").lower()
    if choice not in ("auto", "cpu", "cann"):
        raise MoeReRoutingError(None, f"MOE_RE_ROUTING_BACKEND must be auto, cpu or cann, got {choice!r}")
    cust = _cann_candidates() if choice != "cpu" else None
    if choice == "cann" and cust is None:
        raise MoeReRoutingError(
            None,
            "MOE_RE_ROUTING_BACKEND=cann but no op_api/lib/libcust_opapi.so under $ASCEND_CUSTOM_OPP_PATH",
        )
    if cust is not None:
        try:
            acl = _open_system_lib("libascendcl.so")
            nnop = _open_system_lib("libnnopbase.so")
            opapi = ffi.dlopen(str(cust), ffi.RTLD_NOW)
            return _Lib([opapi, nnop, acl], "cann"), BackendInfo(
                "cann", [str(cust), "libnnopbase.so", "libascendcl.so"]
            )
        except OSError as exc:
            if choice == "cann":
                raise MoeReRoutingError(None, f"cannot load the CANN libraries: {exc}") from exc
            warnings.warn(f"CANN libraries not loadable ({exc}); using the CPU backend", stacklevel=3)

    path = _package_library()
    handle = ffi.dlopen(str(path), ffi.RTLD_NOW)
    return _Lib([handle], "cpu"), BackendInfo("cpu", [str(path)])


def _package_library() -> Path:
    """The package's own ``lib/libmoe_re_routing.so`` (CPU backend, installed by ``pip install .``)."""
    path = _PACKAGE_DIR / "lib" / LIBRARY_NAME
    if not path.is_file() and (_PACKAGE_DIR / "lib64" / LIBRARY_NAME).is_file():
        path = _PACKAGE_DIR / "lib64" / LIBRARY_NAME
    if not path.is_file():
        raise MoeReRoutingError(
            None,
            f"{path} not found: install the package with `pip install .` from the repository root, "
            "or set MOE_RE_ROUTING_LIBRARY to a built libmoe_re_routing.so",
        )
    return path


lib, backend = _load()
#: The library the operator's facts are read from (dtype table, roles, status table): ``lib``
#: itself when it exports them, else the package's own CPU-backend library.
facts = lib if lib.has("MoeReRoutingDtypeTable") else _Lib([ffi.dlopen(str(_package_library()))], "cpu")
