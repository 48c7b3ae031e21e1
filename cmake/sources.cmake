# Source lists of MoeReRouting, shared by both builds: the CPU backend (op_host/, op_kernel/
# CMakeLists) and the CANN package (cmake/cann.cmake) take their files from these variables only,
# so a file added here is built by both. Paths are absolute.
#
#   MOE_RE_ROUTING_HOST_SOURCES       pure host logic (checks, output inference, tiling); no CANN types
#   MOE_RE_ROUTING_CANN_GLUE_SOURCES  OpDef, InferShape/InferDataType, TilingFunc (CANN only)
#   MOE_RE_ROUTING_HOST_INCLUDE_DIRS  what the host sources include (op_host/, op_kernel/ for the
#                                     tiling struct and the row split)
#   MOE_RE_ROUTING_KERNEL_DIR         the kernel base directory (CANN copies all of it)
#   MOE_RE_ROUTING_KERNEL_FILE        the kernel source, relative to MOE_RE_ROUTING_KERNEL_DIR
#   MOE_RE_ROUTING_KERNEL_V2_FILE     MoeReRoutingV2's kernel entry (the same kernel, with weights)
#   MOE_RE_ROUTING_KERNEL_CAPACITY_FILE  MoeReRoutingWithCapacity's kernel entry (the same kernel,
#                                     slot strides from the tiling)
#   MOE_RE_ROUTING_ONNX_PLUGIN_SOURCES  the ATC plugin (CANN only)
set(_moe_root "${CMAKE_CURRENT_LIST_DIR}/..")
get_filename_component(_moe_root "${_moe_root}" ABSOLUTE)

set(MOE_RE_ROUTING_HOST_SOURCES
    "${_moe_root}/op_host/moe_re_routing_check.cpp"
    "${_moe_root}/op_host/moe_re_routing_infer.cpp"
    "${_moe_root}/op_host/moe_re_routing_tiling.cpp")
set(MOE_RE_ROUTING_CANN_GLUE_SOURCES
    "${_moe_root}/op_host/moe_re_routing_def.cpp"
    "${_moe_root}/op_host/moe_re_routing_infershape.cpp"
    "${_moe_root}/op_host/moe_re_routing_tiling_cann.cpp")
set(MOE_RE_ROUTING_HOST_INCLUDE_DIRS
    "${_moe_root}/op_host"
    "${_moe_root}/op_kernel")
set(MOE_RE_ROUTING_KERNEL_DIR "${_moe_root}/op_kernel")
set(MOE_RE_ROUTING_KERNEL_FILE "moe_re_routing.cpp")
set(MOE_RE_ROUTING_KERNEL_V2_FILE "moe_re_routing_v2.cpp")
set(MOE_RE_ROUTING_KERNEL_CAPACITY_FILE "moe_re_routing_with_capacity.cpp")
set(MOE_RE_ROUTING_ONNX_PLUGIN_SOURCES
    "${_moe_root}/framework/onnx_plugin/moe_re_routing_onnx_plugin.cc")
unset(_moe_root)
