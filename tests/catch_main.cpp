// Catch2 v2 has no main library; this translation unit provides it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
