#pragma once

// Umbrella header: everything memkv offers.

#include <memkv/entry.hpp>
#include <memkv/errors.hpp>
#include <memkv/fast_art.hpp>
#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>
#include <memkv/hybrid_kv.hpp>
#include <memkv/key_view.hpp>
#include <memkv/version.hpp>
