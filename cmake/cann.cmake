# CANN build of MoeReRouting: the OPP package custom_opp_<os>_<arch>.run, built with the Ascend C
# CMake functions of the toolkit (find_package(ASC): npu_op_code_gen, npu_op_library,
# npu_op_kernel_sources/_library/_options, npu_op_package, npu_op_package_add).
# Included by the top-level CMakeLists.txt when MOE_RE_ROUTING_BACKEND is "cann". The file lists
# come from cmake/sources.cmake, the same variables the CPU build uses. docs/cann_build.md
# describes the targets, the variables, the package contents and what was verified.
#
#   cmake -S . -B build/cann -DMOE_RE_ROUTING_BACKEND=cann
#   cmake --build build/cann --target binary package      # binary: kernels per SoC; package: .run

# ---- toolkit ------------------------------------------------------------------------------------
# The ASC package configuration reads ASCEND_HOME_PATH (set by <toolkit>/set_env.sh) and stops
# without it. Older environments export only ASCEND_TOOLKIT_HOME: take it for this configure run
# and say so (build.sh exports it for the build too).
if("$ENV{ASCEND_HOME_PATH}" STREQUAL "" AND NOT "$ENV{ASCEND_TOOLKIT_HOME}" STREQUAL "")
    message(WARNING "ASCEND_HOME_PATH is not set; using ASCEND_TOOLKIT_HOME=$ENV{ASCEND_TOOLKIT_HOME}. "
        "Source <toolkit>/set_env.sh (or export ASCEND_HOME_PATH) for the build step too.")
    set(ENV{ASCEND_HOME_PATH} "$ENV{ASCEND_TOOLKIT_HOME}")
endif()
if("$ENV{ASCEND_HOME_PATH}" STREQUAL "")
    message(FATAL_ERROR "The CANN build needs ASCEND_HOME_PATH: source <toolkit>/set_env.sh first.")
endif()
set(ASCEND_CANN_PACKAGE_PATH "$ENV{ASCEND_HOME_PATH}" CACHE PATH "CANN toolkit (ASCEND_HOME_PATH)")

# Read by the ASC configuration when it is loaded, so they are set before find_package(ASC).
set(ASCEND_COMPUTE_UNIT "ascend910b;ascend910_93;ascend950" CACHE STRING
    "SoCs the kernel is compiled for (Atlas A2: ascend910b, Atlas A3: ascend910_93, Ascend 950: ascend950)")
set(vendor_name "moe_re_routing" CACHE STRING "vendor directory under <opp>/vendors/")
option(MOE_RE_ROUTING_ONNX_PLUGIN "Build the ONNX plugin for ATC (libcust_onnx_parsers.so)" ON)

# Current toolkits install the package configuration (asc-config.cmake) under lib64/cmake and
# <arch>-linux/lib64/cmake; earlier ones under compiler/tikcpp/ascendc_kernel_cmake.
find_package(ASC REQUIRED HINTS
    "${ASCEND_CANN_PACKAGE_PATH}/lib64/cmake"
    "${ASCEND_CANN_PACKAGE_PATH}/${CMAKE_SYSTEM_PROCESSOR}-linux/lib64/cmake"
    "${ASCEND_CANN_PACKAGE_PATH}/compiler/tikcpp/ascendc_kernel_cmake"
    "${ASCEND_CANN_PACKAGE_PATH}/tools/tikcpp/ascendc_kernel_cmake")

set(package_name ${vendor_name})
npu_op_package(${package_name}
    TYPE RUN
    CONFIG
        ENABLE_SOURCE_PACKAGE True
        ENABLE_BINARY_PACKAGE True
        INSTALL_PATH ${CMAKE_BINARY_DIR}/
        VENDOR_NAME ${vendor_name})

# ---- host ---------------------------------------------------------------------------------------
# opbuild loads the OpDef from these sources and writes aclnn_moe_re_routing.{h,cpp}, op_proto.{h,cc}
# and aic-<soc>-ops-info.ini into ASCEND_AUTOGEN_PATH (at configure time).
set(MOE_RE_ROUTING_CANN_HOST_SOURCES ${MOE_RE_ROUTING_CANN_GLUE_SOURCES} ${MOE_RE_ROUTING_HOST_SOURCES})
set(_moe_includes "")
foreach(dir IN LISTS MOE_RE_ROUTING_HOST_INCLUDE_DIRS)
    list(APPEND _moe_includes "-I${dir}")
endforeach()
npu_op_code_gen(
    SRC ${MOE_RE_ROUTING_CANN_HOST_SOURCES}
    PACKAGE ${package_name}
    OUT_DIR ${ASCEND_AUTOGEN_PATH}
    COMPILE_OPTIONS -std=c++17 ${_moe_includes})

# Tiling library (op_impl/.../op_tiling): OpDef + TilingFunc + TilingParse + the shared checks/tiling.
npu_op_library(cust_optiling TILING ${MOE_RE_ROUTING_CANN_HOST_SOURCES})

# Graph prototype library (op_proto/): the generated prototype plus the op_host sources, because
# OP_ADD registers InferShape/InferDataType only where it is compiled with OP_PROTO_LIB.
file(GLOB MOE_RE_ROUTING_PROTO_SOURCES ${ASCEND_AUTOGEN_PATH}/op_proto.cc)
set_source_files_properties(${MOE_RE_ROUTING_PROTO_SOURCES} PROPERTIES GENERATED TRUE)
npu_op_library(cust_op_proto GRAPH ${MOE_RE_ROUTING_CANN_HOST_SOURCES} ${MOE_RE_ROUTING_PROTO_SOURCES})

# aclnn library (op_api/lib/libcust_opapi.so) from the generated aclnn_*.cpp.
file(GLOB MOE_RE_ROUTING_ACLNN_SOURCES ${ASCEND_AUTOGEN_PATH}/aclnn_*.cpp)
set_source_files_properties(${MOE_RE_ROUTING_ACLNN_SOURCES} PROPERTIES GENERATED TRUE)
npu_op_library(cust_opapi ACLNN ${MOE_RE_ROUTING_ACLNN_SOURCES})

foreach(lib cust_optiling cust_op_proto cust_opapi)
    target_include_directories(${lib} PRIVATE ${MOE_RE_ROUTING_HOST_INCLUDE_DIRS})
    target_compile_options(${lib} PRIVATE -fvisibility=hidden)
endforeach()

# ---- kernel -------------------------------------------------------------------------------------
# op_kernel/moe_re_routing.cpp (and its V2 and WithCapacity entries) for every SoC of ASCEND_COMPUTE_UNIT, built by the `binary` target
# (not ALL). KERNEL_DIR is relative to SRC_BASE: "." copies the whole kernel directory (the
# kernel's headers with it) into the source package and the per-SoC compile directory.
# Optimised with debug info so msprof op can show source lines (never -O0).
npu_op_kernel_sources(ascendc_kernels
    OP_TYPE MoeReRouting
    KERNEL_DIR .
    KERNEL_FILE ${MOE_RE_ROUTING_KERNEL_FILE})
# MoeReRoutingV2: the same kernel through its V2 entry (op_kernel/moe_re_routing_v2.cpp).
npu_op_kernel_sources(ascendc_kernels
    OP_TYPE MoeReRoutingV2
    KERNEL_DIR .
    KERNEL_FILE ${MOE_RE_ROUTING_KERNEL_V2_FILE})
# MoeReRoutingWithCapacity: the same kernel through its entry (op_kernel/moe_re_routing_with_capacity.cpp).
npu_op_kernel_sources(ascendc_kernels
    OP_TYPE MoeReRoutingWithCapacity
    KERNEL_DIR .
    KERNEL_FILE ${MOE_RE_ROUTING_KERNEL_CAPACITY_FILE})
npu_op_kernel_library(ascendc_kernels
    SRC_BASE ${MOE_RE_ROUTING_KERNEL_DIR}
    TILING_LIBRARY cust_optiling)
npu_op_kernel_options(ascendc_kernels ALL OPTIONS -O2 -g)

set(_moe_package_libraries cust_optiling cust_op_proto cust_opapi ascendc_kernels)

# ---- framework: ONNX plugin for ATC (framework/onnx/libcust_onnx_parsers.so) --------------------
# Built by npu_op_library(ONNX_PLUGIN) so it gets the toolkit's compile and link flags. It parses
# the node's attributes with nlohmann/json (header only), which the toolkit does not ship: taken
# from the system (Debian/Ubuntu: nlohmann-json3-dev) or -Dnlohmann_json_DIR=<dir with its config>.
if(MOE_RE_ROUTING_ONNX_PLUGIN)
    find_package(nlohmann_json 3.2 REQUIRED)
    npu_op_library(cust_onnx_parsers ONNX_PLUGIN ${MOE_RE_ROUTING_ONNX_PLUGIN_SOURCES})
    target_link_libraries(cust_onnx_parsers PRIVATE nlohmann_json::nlohmann_json)
    list(APPEND _moe_package_libraries cust_onnx_parsers)
endif()

npu_op_package_add(${package_name} LIBRARY ${_moe_package_libraries})

# ---- CMake package for applications: find_package(MoeReRouting) -> MoeReRouting::aclnn ----------
# Installed as vendors/<vendor>/op_api/lib/cmake/MoeReRouting/, next to libcust_opapi.so, so an
# application uses the same find_package(MoeReRouting) + MoeReRouting::aclnn as with the CPU
# package. The target puts libcust_opapi.so first on the link line and never links CANN's
# built-in op API library: aclnnMoeReRouting resolves to this package (docs/cann_build.md,
# "Coexistence with CANN's built-in MoeReRouting").
include(CMakePackageConfigHelpers)
configure_file(${CMAKE_CURRENT_LIST_DIR}/MoeReRoutingCannConfig.cmake.in
    ${CMAKE_BINARY_DIR}/moe_re_routing_cmake/MoeReRoutingConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/moe_re_routing_cmake/MoeReRoutingConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
npu_op_package_add(${package_name}
    FILES ${CMAKE_BINARY_DIR}/moe_re_routing_cmake/MoeReRoutingConfig.cmake
          ${CMAKE_BINARY_DIR}/moe_re_routing_cmake/MoeReRoutingConfigVersion.cmake
    PACKAGE_PATH op_api/lib/cmake/MoeReRouting)
unset(_moe_includes)
unset(_moe_package_libraries)
