# CANN build of MoeReRouting: OPP package custom_opp_<os>_<arch>.run with the aclnn API
# (libcust_opapi.so + aclnn_moe_re_routing.h generated from the OpDef), the tiling library, the
# graph prototype, the kernel compiled per SoC, and the ONNX plugin for ATC.
# Uses the CMake functions CANN ships with its Ascend C toolchain (find_package(ASC)).
# Included by the top-level CMakeLists.txt when MOE_RE_ROUTING_BACKEND is "cann"; not compiled on
# any machine of this project (no CANN here): see docs/cann_build.md.
#
#   cmake -S . -B build/cann -DMOE_RE_ROUTING_BACKEND=cann && cmake --build build/cann --target package

set(ASCEND_CANN_PACKAGE_PATH "$ENV{ASCEND_HOME_PATH}" CACHE PATH "CANN toolkit (ASCEND_HOME_PATH)")
if(ASCEND_CANN_PACKAGE_PATH STREQUAL "")
    set(ASCEND_CANN_PACKAGE_PATH "$ENV{ASCEND_TOOLKIT_HOME}" CACHE PATH "" FORCE)
endif()
set(ASCEND_COMPUTE_UNIT "ascend910b;ascend910_93" CACHE STRING "SoCs the kernel is compiled for")
set(vendor_name "moe_re_routing" CACHE STRING "vendor directory under <opp>/vendors/")
option(MOE_RE_ROUTING_ONNX_PLUGIN "Build the ONNX plugin for ATC" ON)

find_package(ASC REQUIRED HINTS
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

# ---- host: OpDef, shape/dtype inference, tiling; the pure check/tiling code shared with the CPU
# backend is compiled into the same libraries unchanged.
set(MOE_RE_ROUTING_HOST_SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/op_host/moe_re_routing_def.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/op_host/moe_re_routing_infershape.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/op_host/moe_re_routing_tiling_cann.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/op_host/moe_re_routing_check.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/op_host/moe_re_routing_tiling.cpp)

npu_op_code_gen(
    SRC ${MOE_RE_ROUTING_HOST_SOURCES}
    PACKAGE ${package_name}
    OUT_DIR ${ASCEND_AUTOGEN_PATH}
    COMPILE_OPTIONS -std=c++17 -I${CMAKE_CURRENT_SOURCE_DIR}/op_host -I${CMAKE_CURRENT_SOURCE_DIR}/op_kernel)

npu_op_library(cust_optiling TILING ${MOE_RE_ROUTING_HOST_SOURCES})
target_include_directories(cust_optiling PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/op_host ${CMAKE_CURRENT_SOURCE_DIR}/op_kernel)

file(GLOB MOE_RE_ROUTING_ACLNN_SOURCES ${ASCEND_AUTOGEN_PATH}/aclnn_*.cpp)
set_source_files_properties(${MOE_RE_ROUTING_ACLNN_SOURCES} PROPERTIES GENERATED TRUE)
npu_op_library(cust_opapi ACLNN ${MOE_RE_ROUTING_ACLNN_SOURCES})
target_compile_options(cust_opapi PRIVATE -fvisibility=hidden)

file(GLOB MOE_RE_ROUTING_PROTO_SOURCES ${ASCEND_AUTOGEN_PATH}/op_proto.cc)
set_source_files_properties(${MOE_RE_ROUTING_PROTO_SOURCES} PROPERTIES GENERATED TRUE)
npu_op_library(cust_proto GRAPH ${MOE_RE_ROUTING_PROTO_SOURCES})

npu_op_package_add(${package_name} LIBRARY cust_optiling cust_opapi cust_proto)

# ---- kernel: op_kernel/moe_re_routing.cpp for every SoC of ASCEND_COMPUTE_UNIT, optimised and
# with debug info so msprof op can show source lines (never -O0).
npu_op_kernel_sources(ascendc_kernels
    OP_TYPE MoeReRouting
    KERNEL_DIR ${CMAKE_CURRENT_SOURCE_DIR}/op_kernel
    KERNEL_FILE moe_re_routing.cpp)
npu_op_kernel_library(ascendc_kernels
    SRC_BASE ${CMAKE_CURRENT_SOURCE_DIR}/op_kernel
    TILING_LIBRARY cust_optiling)
npu_op_kernel_options(ascendc_kernels ALL OPTIONS -O2 -g)
npu_op_package_add(${package_name} LIBRARY ascendc_kernels)

# ---- framework: ONNX plugin for ATC (libcust_onnx_parsers.so under framework/onnx/).
if(MOE_RE_ROUTING_ONNX_PLUGIN)
    add_library(cust_onnx_parsers SHARED
        ${CMAKE_CURRENT_SOURCE_DIR}/framework/onnx_plugin/moe_re_routing_onnx_plugin.cc)
    target_include_directories(cust_onnx_parsers PRIVATE
        ${ASCEND_CANN_PACKAGE_PATH}/include
        ${ASCEND_CANN_PACKAGE_PATH}/include/external
        ${ASCEND_CANN_PACKAGE_PATH}/include/experiment/metadef/common/util/error_manager)
    target_link_directories(cust_onnx_parsers PRIVATE ${ASCEND_CANN_PACKAGE_PATH}/lib64)
    target_link_libraries(cust_onnx_parsers PRIVATE graph register)
    install(TARGETS cust_onnx_parsers
        LIBRARY DESTINATION packages/vendors/${vendor_name}/framework/onnx)
endif()
