#pragma once

// Umbrella header: everything memkv offers.

#include <memkv/version.hpp>
