# Warnings and sanitizers for memkv's own targets (tests, benchmarks, examples).
# They are applied per target, never through CMAKE_CXX_FLAGS, so a project that
# consumes memkv never inherits them.

function(memkv_target_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
    if(MEMKV_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(MEMKV_SANITIZE)
      target_compile_options(${target} PRIVATE
        -fsanitize=${MEMKV_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
      target_link_options(${target} PRIVATE -fsanitize=${MEMKV_SANITIZE})
      # Invariant assertions and FastArt's iterator generations
      # (detail/assert.hpp), also when the sanitizer build is optimized.
      target_compile_definitions(${target} PRIVATE MEMKV_DEBUG=1)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 /permissive-)
    if(MEMKV_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  endif()
endfunction()
