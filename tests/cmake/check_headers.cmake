# Compiles every public header alone (included twice, for the include guard) with
# -fsyntax-only and warnings as errors. Usage: cmake -DCXX= -DINCLUDE_DIR= -DWORK_DIR= -DHEADERS= -P
# With -DNVCC=path, compiles the headers that need nvcc instead (as .cu files, host and device
# code, nvcc's warnings as errors). -DFLAGS=... adds compiler flags (a library's include folders).
file(MAKE_DIRECTORY ${WORK_DIR})
set(failed "")
foreach(h IN LISTS HEADERS)
  string(MAKE_C_IDENTIFIER "${h}" id)
  if(NVCC)
    set(tu ${WORK_DIR}/${id}.cu)
    set(command ${NVCC} -std=c++20 -Werror all-warnings -Xcompiler=-Wall,-Wextra,-Werror -I${INCLUDE_DIR} -c ${tu}
                -o ${WORK_DIR}/${id}.o)
  else()
    set(tu ${WORK_DIR}/${id}.cpp)
    set(command ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I${INCLUDE_DIR} ${FLAGS} ${tu})
  endif()
  file(WRITE ${tu} "#include <${h}>\n#include <${h}>\nint main() { return 0; }\n")
  execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc)
    message("header ${h} does not compile on its own:\n${out}")
    list(APPEND failed ${h})
  endif()
endforeach()
list(LENGTH HEADERS n)
if(failed)
  message(FATAL_ERROR "headers that do not stand alone: ${failed}")
endif()
message("all ${n} public headers compile on their own")
