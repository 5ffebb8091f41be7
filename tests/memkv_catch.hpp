#pragma once

// Tests include this instead of a Catch2 header so they build against Catch2 v2
// (single header) and v3 (split headers) alike.
#if defined(MEMKV_CATCH2_V3)
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif
