# Builds the TGZ and DEB packages of this build tree with cpack and checks that
# each holds what a user installs memkv for: the headers, the CMake package, the
# pkg-config file and, when it is built, the memkv tool.
file(REMOVE_RECURSE ${OUT_DIR})
file(MAKE_DIRECTORY ${OUT_DIR})

set(expected
  include/memkv/memkv.hpp
  include/memkv/hybrid_kv.hpp
  include/memkv/detail/io/file.hpp
  share/cmake/memkv/memkvConfig.cmake
  share/cmake/memkv/memkvConfigVersion.cmake
  share/cmake/memkv/memkvTargets.cmake
  share/pkgconfig/memkv.pc)
if(WITH_TOOL)
  list(APPEND expected bin/memkv)
endif()

foreach(generator TGZ DEB)
  execute_process(COMMAND ${CPACK} -G ${generator} --config ${BUILD_DIR}/CPackConfig.cmake -B ${OUT_DIR}
    RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cpack -G ${generator} failed (${rc}):\n${o}\n${e}")
  endif()
  if(generator STREQUAL "TGZ")
    file(GLOB package ${OUT_DIR}/*.tar.gz)
    set(list_command ${CMAKE_COMMAND} -E tar tzf ${package})
  else()
    file(GLOB package ${OUT_DIR}/*.deb)
    if(NOT DPKG_DEB)
      message(STATUS "dpkg-deb not found: the DEB package is built but not listed")
      continue()
    endif()
    set(list_command ${DPKG_DEB} --contents ${package})
  endif()
  list(LENGTH package n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "cpack -G ${generator}: expected one package in ${OUT_DIR}, found '${package}'")
  endif()
  execute_process(COMMAND ${list_command} RESULT_VARIABLE rc OUTPUT_VARIABLE listing ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot list ${package}: ${e}")
  endif()
  foreach(f ${expected})
    # TGZ: <package name>/<path>; DEB: ./usr/<path>.
    if(NOT listing MATCHES "/${f}(\n|$)")
      message(FATAL_ERROR "${package} lacks ${f}; it holds:\n${listing}")
    endif()
  endforeach()
  message(STATUS "${package}: ${f} and the rest present")
endforeach()
