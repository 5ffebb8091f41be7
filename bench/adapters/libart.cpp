// libart (github.com/armon/libart), an adaptive radix tree in C, as a
// comparison peer only: memkv never ships or builds it. CMake compiles this
// file only with -DMEMKV_BENCH_LIBART=ON and an installed libart (art.h,
// libart.a/.so found through CMAKE_PREFIX_PATH).
//
// Caveats, and how the adapter deals with them:
//   * libart cannot tell "ab" from "ab" + more when one key is a prefix of
//     another unless every key carries a terminator byte. The adapter passes
//     key.size() + 1 bytes: the harness guarantees a '\0' right after every
//     key it hands to insert()/find(). The callbacks strip it again.
//   * Keys may contain '\0' as long as no key followed by '\0' begins another
//     key (true of any set of equal-length keys): the adapter sets
//     needs_nul_terminator and the harness skips it on sets where one does.
//   * Node16 places its child bytes with a signed SIMD compare (x86), so
//     iteration leaves byte order once a Node16 holds a byte >= 0x80:
//     ordered = false, and iteration is checked as a set (count, values, no
//     repeats), not as a sequence.
//   * Values are void*; a null value means "absent", so value v is stored as
//     the pointer-sized integer v + 1.
//   * libart reports no memory figure: memory_usage() is nullopt and the RSS
//     delta is used.

#include <art.h>

#include <climits>
#include <memory>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "registry.hpp"

namespace {

class Libart {
public:
    static constexpr std::string_view name = "libart";
    static constexpr bool ordered = false;
    static constexpr bool sorted_build = false;
    static constexpr bool needs_nul_terminator = true;

    Libart() { art_tree_init(&tree_); }
    ~Libart() { art_tree_destroy(&tree_); }
    Libart(const Libart&) = delete;
    Libart& operator=(const Libart&) = delete;

    void insert(std::string_view key, std::uint64_t value) {
        art_insert(&tree_, bytes(key), terminated_length(key), to_pointer(value));
    }

    std::optional<std::uint64_t> find(std::string_view key) const {
        void* const v = art_search(&tree_, bytes(key), terminated_length(key));
        if (v == nullptr) return std::nullopt;
        return reinterpret_cast<std::uintptr_t>(v) - 1;
    }

    template <class F>
    void for_each(F&& f) const {
        // art_iter takes a non-const tree but does not modify it.
        art_iter(const_cast<art_tree*>(&tree_), &visit<F>, erase(f));
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        if (prefix.size() > INT_MAX) throw std::length_error("libart: prefix too long");
        art_iter_prefix(const_cast<art_tree*>(&tree_), bytes(prefix), static_cast<int>(prefix.size()),
                        &visit<F>, erase(f));
    }

    std::optional<std::size_t> memory_usage() const { return std::nullopt; }

private:
    static const unsigned char* bytes(std::string_view s) {
        return reinterpret_cast<const unsigned char*>(s.data());
    }
    static int terminated_length(std::string_view key) {
        if (key.size() >= INT_MAX) throw std::length_error("libart: key too long");
        return static_cast<int>(key.size() + 1);
    }
    static void* to_pointer(std::uint64_t value) {
        return reinterpret_cast<void*>(static_cast<std::uintptr_t>(value + 1));
    }

    template <class F>
    static void* erase(F& f) {
        return const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    }

    template <class F>
    static int visit(void* data, const unsigned char* key, std::uint32_t key_len, void* value) {
        // key_len counts the terminator the adapter added.
        const std::string_view k(reinterpret_cast<const char*>(key), key_len - 1);
        (*static_cast<std::remove_reference_t<F>*>(data))(k, reinterpret_cast<std::uintptr_t>(value) - 1);
        return 0;
    }

    art_tree tree_{};
};

}  // namespace

MEMKV_BENCH_REGISTER(Libart)
