# ctest script: proves that an installed MoeReRouting package is usable with find_package alone.
# Inputs: BUILD_DIR (a built tree), EXAMPLES_DIR, WORK_DIR, GENERATOR, CONSUMER_FLAGS, CTEST.
function(run step)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${step} failed (${rc}):\n${out}\n${err}")
    endif()
    message(STATUS "${step}: ok")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run("install into ${prefix}" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/include/aclnn_moe_re_routing.h" OR NOT EXISTS "${prefix}/include/acl/acl.h")
    message(FATAL_ERROR "the install lacks the public headers")
endif()
run("configure examples/ against the install" "${CMAKE_COMMAND}" -S "${EXAMPLES_DIR}" -B "${WORK_DIR}/build"
    -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}")
run("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("run the example and compare its output" "${CTEST}" --test-dir "${WORK_DIR}/build" --output-on-failure)
