# Configures, builds and runs the consumer project in MODE; fails on any error.
file(REMOVE_RECURSE ${BINARY_DIR})

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer (${MODE}) step failed (${rc}): ${ARGN}")
  endif()
endfunction()

step(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${BINARY_DIR} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX}
  -DMEMKV_CONSUME=${MODE}
  -DMEMKV_SOURCE=${MEMKV_SOURCE}
  -DCMAKE_PREFIX_PATH=${STAGE}
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON)
step(${CMAKE_COMMAND} --build ${BINARY_DIR})
step(${BINARY_DIR}/consumer)
