# Compiles and runs the consumer's main.cpp with nothing but the compiler and
# `pkg-config --cflags --libs memkv` against the staged install (STAGE), the way
# a Makefile user builds against an installed memkv.
file(REMOVE_RECURSE ${BINARY_DIR})
file(MAKE_DIRECTORY ${BINARY_DIR})
set(ENV{PKG_CONFIG_PATH} ${STAGE}/share/pkgconfig)
# Only the staged memkv may answer, not one installed on the machine.
set(ENV{PKG_CONFIG_LIBDIR} ${STAGE}/share/pkgconfig)

function(run out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer (pkg-config) step failed (${rc}): ${ARGN}\n${o}\n${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
endfunction()

run(version ${PKG_CONFIG} --modversion memkv)
if(NOT version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "pkg-config reports memkv ${version}, the project is ${EXPECTED_VERSION}")
endif()
run(cflags ${PKG_CONFIG} --cflags memkv)
run(libs ${PKG_CONFIG} --libs memkv)
if(NOT cflags MATCHES "-I${STAGE}/share/pkgconfig/../../include")
  message(FATAL_ERROR "pkg-config --cflags memkv does not point into the staged tree: ${cflags}")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
separate_arguments(libs UNIX_COMMAND "${libs}")
run(ignored ${CXX} -std=c++20 ${cflags} ${PROJECT_DIR}/main.cpp ${libs} -o ${BINARY_DIR}/consumer)
run(ignored ${BINARY_DIR}/consumer)
