// FrozenLayerBuilder and FrozenLayer under allocation failure (alloc_fault.hpp):
// the k-th allocation of an operation throws std::bad_alloc, for k = 0, 1, ...
// until the operation completes without reaching k (sampled past the first
// few dozen in CI, every k at MEMKV_TEST_SCALE >= 10).
//
// The contracts checked (frozen_builder.hpp, frozen_layer.hpp):
//   * insert: the failure reaches the caller and spends the builder: every
//     later call throws std::logic_error saying so. Before the fix a
//     bad_alloc inside insert() left the builder "building" with its sample
//     or unfinished path half-updated, and later inserts and finish() went
//     on as if nothing had happened ("a failed insert spends the builder"
//     failed: the next insert was accepted).
//     A streaming builder whose constructor failed after creating its
//     temporary left "out.frz.tmp" behind (the first sink was made outside
//     the cleanup), and file_writer created its file before allocating its
//     buffer, so a bad_alloc there left "out.frz.tmp" from an in-memory
//     finish(path) and its descriptor open.
//   * finish() / finish(path): a failure either leaves the builder retryable
//     (the next finish returns the whole layer) or spent, never silently
//     wrong; no temporary file is left once the builder is gone.
//   * FrozenLayer::open / from_bytes / save and iteration over the result:
//     a failure leaks nothing, leaves no file behind (save: no temporary, the
//     previous file intact), and a retry works.
// LeakSanitizer (the ASan build) checks that nothing leaks on any path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <memkv/frozen_layer.hpp>

#include "alloc_fault.hpp"
#include "memkv_catch.hpp"
#include "scratch_dir.hpp"

namespace {

namespace af = memkv::test::alloc_fault;
namespace fs = std::filesystem;
using layer = memkv::FrozenLayer<std::uint64_t>;
using builder = memkv::FrozenLayerBuilder<std::uint64_t>;
using model = std::map<std::string, std::uint64_t>;

using memkv::test::scratch_dir;

// URL-like keys sharing prefixes and suffixes (so the registry and pair nodes
// work), values that are not ordinals (so the value column is spooled).
model make_keys(std::size_t n) {
    model m;
    for (std::uint64_t i = 0; i < n; ++i) {
        m.emplace("https://github.com/user" + std::to_string(i % 37) + "/repo-" + std::to_string(i) + "/tree/main",
                  i * 7 + 3);
    }
    return m;
}

memkv::frozen_layer_options small_options() {
    memkv::frozen_layer_options o;
    o.table_sample_keys = 64;  // the compiler starts inside the sweep
    o.registry_rows = 256;
    return o;
}

std::vector<std::pair<std::string, std::uint64_t>> items(const layer& f) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (auto it = f.begin(); it != f.end(); ++it) out.emplace_back(it.key(), it.value());
    return out;
}

void require_layer(const layer& f, const model& m) {
    REQUIRE_NOTHROW(f.verify());
    REQUIRE(f.size() == m.size());
    REQUIRE(items(f) == std::vector<std::pair<std::string, std::uint64_t>>(m.begin(), m.end()));
}

// Whether f throws std::logic_error saying the builder is spent.
template <class F>
bool says_spent(F&& f) {
    try {
        f();
    } catch (const std::logic_error& e) {
        return std::string(e.what()).find("spent") != std::string::npos;
    }
    return false;
}

}  // namespace

TEST_CASE("FrozenLayerBuilder: a failed insert spends the builder; nothing leaks or stays on disk",
          "[frozen][alloc]") {
    const model m = make_keys(400);
    for (const bool streaming : {false, true}) {
        std::size_t failures = 0;
        for (std::uint64_t k = 0;; k = af::next_k(k, af::sweep::sampled)) {
            scratch_dir dir;
            const std::string path = dir.file("out.frz");
            af::outcome r;
            {
                std::optional<builder> b;
                r = af::fail_at(k, [&] {
                    if (streaming) {
                        b.emplace(path, small_options());
                    } else {
                        b.emplace(small_options());
                    }
                    for (const auto& [key, v] : m) b->insert(key, v);
                });
                INFO((streaming ? "streaming" : "in-memory") << " builder, failing allocation " << k);
                if (r.threw) {
                    ++failures;
                    if (b) {
                        REQUIRE(says_spent([&] { b->insert("\xff\xff", 1); }));
                        REQUIRE(says_spent([&] { (void)b->finish(); }));
                    }
                } else {
                    require_layer(streaming ? b->finish() : b->finish(path), m);
                }
            }
            // The builder is gone: only a finished file may remain.
            REQUIRE(dir.names() == (r.threw ? std::set<std::string>{} : std::set<std::string>{"out.frz"}));
            if (!r.fired) break;
        }
        CHECK(failures > 0);
    }
}

TEST_CASE("FrozenLayerBuilder: a failed finish is retried or says it is spent", "[frozen][alloc]") {
    const model m = make_keys(400);
    enum class how { memory, memory_to_file, streaming };
    for (const how h : {how::memory, how::memory_to_file, how::streaming}) {
        std::size_t retried = 0;
        std::size_t spent = 0;
        // Every allocation of an in-memory finish(): the last ones open the
        // finished image as a layer, and a failure there once left the
        // builder saying "used after finish()" with the image lost.
        const af::sweep sweep = h == how::memory ? af::sweep::full : af::sweep::sampled;
        for (std::uint64_t k = 0;; k = af::next_k(k, sweep)) {
            scratch_dir dir;
            const std::string path = dir.file("out.frz");
            af::outcome r;
            {
                std::optional<builder> b;
                if (h == how::streaming) {
                    b.emplace(path, small_options());
                } else {
                    b.emplace(small_options());
                }
                for (const auto& [key, v] : m) b->insert(key, v);
                std::optional<layer> f;
                r = af::fail_at(k, [&] { f.emplace(h == how::memory ? b->finish() : b->finish(path)); });
                INFO("finish " << static_cast<int>(h) << ", failing allocation " << k);
                if (r.threw) {
                    REQUIRE_FALSE(f.has_value());
                    if (h == how::memory_to_file) REQUIRE(dir.names().count("out.frz.tmp") == 0);
                    // A retry either completes the whole layer or says the
                    // builder is spent.
                    try {
                        f.emplace(h == how::memory ? b->finish() : b->finish(path));
                        ++retried;
                    } catch (const std::logic_error& e) {
                        INFO(e.what());
                        REQUIRE(std::string(e.what()).find("spent") != std::string::npos);
                        ++spent;
                    }
                }
                if (f) require_layer(*f, m);
            }
            const std::set<std::string> left = dir.names();
            REQUIRE((left.empty() || left == std::set<std::string>{"out.frz"}));
            if (!r.fired) break;
        }
        INFO("finish " << static_cast<int>(h) << ": retried " << retried << ", spent " << spent);
        CHECK(retried + spent > 0);
    }
}

TEST_CASE("FrozenLayer: open, from_bytes, save and iteration under bad_alloc", "[frozen][alloc]") {
    const model m = make_keys(300);
    scratch_dir dir;
    const std::string path = dir.file("base.frz");
    {
        builder b(small_options());
        for (const auto& [key, v] : m) b.insert(key, v);
        (void)b.finish(path);
    }
    const layer mapped = layer::open(path);
    const std::vector<unsigned char> bytes(mapped.bytes().begin(), mapped.bytes().end());
    enum class op { open, from_bytes, save };
    for (const op o : {op::open, op::from_bytes, op::save}) {
        for (std::uint64_t k = 0;; ++k) {
            const std::string copy = dir.file("copy.frz");
            if (o == op::save) {
                REQUIRE(fs::copy_file(path, copy, fs::copy_options::overwrite_existing));  // the previous file
            }
            std::optional<layer> f;
            std::size_t walked = 0;
            const af::outcome r = af::fail_at(k, [&] {
                switch (o) {
                    case op::open: f.emplace(layer::open(path)); break;
                    case op::from_bytes: f.emplace(layer::from_bytes(bytes)); break;
                    case op::save: mapped.save(copy); break;
                }
                // Iteration and seeks over what was opened allocate too.
                const layer& l = f ? *f : mapped;
                for (auto it = l.begin(); it != l.end(); ++it) ++walked;
                auto it = l.find("https://github.com/user3/repo-3/tree/main");
                ++it;
                --it;
                walked += l.prefix("https://github.com/user1").empty() ? 0U : 1U;
            });
            INFO("operation " << static_cast<int>(o) << ", failing allocation " << k);
            // The file written or read is intact and no temporary is left.
            REQUIRE(dir.names() == (o == op::save ? std::set<std::string>{"base.frz", "copy.frz"}
                                                  : std::set<std::string>{"base.frz"}));
            if (o == op::save) require_layer(layer::open(copy), m);
            if (!r.threw) {
                REQUIRE(walked == m.size() + 1);
                if (f) require_layer(*f, m);
            }
            if (o == op::save) fs::remove(copy);
            if (!r.fired) break;
        }
    }
    require_layer(mapped, m);
}
