# The module DAG: light headers (space/, search/, profile/, nn/) must not pull in xtensor,
# BLAS, CUDA or yaml-cpp; only backend/ (and io/ for yaml-cpp) may. Runs `g++ -M` (system headers included) on each.
# First proves the detector works on a probe that includes xtensor.
file(MAKE_DIRECTORY ${WORK_DIR})
set(heavy "xtensor|xtl/|xsimd|cblas|openblas|cublas|cuda_runtime|/cuda/|yaml-cpp")

function(deps_of header out_var)
  string(MAKE_C_IDENTIFIER "${header}" id)
  file(WRITE ${WORK_DIR}/${id}.cpp "#include <${header}>\n")
  execute_process(COMMAND ${CXX} -std=c++20 -M -I${INCLUDE_DIR} ${WORK_DIR}/${id}.cpp
                  RESULT_VARIABLE rc OUTPUT_VARIABLE deps ERROR_VARIABLE err)
  if(rc)
    message(FATAL_ERROR "g++ -M failed on ${header}:\n${err}")
  endif()
  set(${out_var} "${deps}" PARENT_SCOPE)
endfunction()

# Self-check: the probe must be caught, or this test could never fail.
# (A stand-in xtensor header keeps the check independent of what is installed.)
file(WRITE ${WORK_DIR}/probe/xtensor/xtensor.hpp "#pragma once\n")
file(WRITE ${WORK_DIR}/probe/hat_probe.hpp "#include <xtensor/xtensor.hpp>\n")
execute_process(COMMAND ${CXX} -std=c++20 -M -I${WORK_DIR}/probe -x c++ ${WORK_DIR}/probe/hat_probe.hpp
                OUTPUT_VARIABLE probe_deps ERROR_QUIET)
if(NOT probe_deps MATCHES "${heavy}")
  message(FATAL_ERROR "layering self-check failed: a header including xtensor was not detected")
endif()

file(GLOB_RECURSE light RELATIVE ${INCLUDE_DIR}
     ${INCLUDE_DIR}/hat/space/*.hpp ${INCLUDE_DIR}/hat/search/*.hpp
     ${INCLUDE_DIR}/hat/profile/*.hpp ${INCLUDE_DIR}/hat/nn/*.hpp ${INCLUDE_DIR}/hat/train/*.hpp)
set(bad "")
foreach(h IN LISTS light)
  deps_of(${h} deps)
  string(REGEX MATCHALL "[^ \\\n]*(${heavy})[^ \\\n]*" hits "${deps}")
  if(hits)
    list(GET hits 0 first)
    message("${h} pulls in a heavy dependency: ${first}")
    list(APPEND bad ${h})
  endif()
endforeach()
list(LENGTH light n)
if(bad)
  message(FATAL_ERROR "layering violated by: ${bad}")
endif()
message("layering ok: ${n} light headers include no xtensor, BLAS, CUDA or yaml-cpp")
