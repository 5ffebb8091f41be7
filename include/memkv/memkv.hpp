#pragma once

/// @file
/// @brief Umbrella header: everything memkv offers.

/// @namespace memkv
/// @brief memkv's public API: ordered maps from byte-string keys to values.
///
/// memkv::detail holds the engines behind the classes; it is not part of
/// the API and not in this reference.

#include <memkv/entry.hpp>
#include <memkv/errors.hpp>
#include <memkv/fast_art.hpp>
#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>
#include <memkv/hybrid_kv.hpp>
#include <memkv/key_view.hpp>
#include <memkv/version.hpp>
