// README "Using the structures": FastArt and FrozenLayer, built and run as a test.

#include <memkv/memkv.hpp>

#include <cstdint>
#include <cstdio>
#include <ranges>
#include <string>

int main() {
    // FastArt: a mutable ordered map, used like std::map<std::string, V>.
    memkv::FastArt<std::uint64_t> art;
    art.insert("https://example.org/a", 1);
    art.insert_or_assign("https://example.org/b", std::uint64_t{2});
    art["https://example.com/"] = 3;
    for (auto& [url, n] : art.prefix("https://example.org/")) n += 10;  // values by reference
    std::uint64_t sum = 0;
    for (const auto& [url, n] : art | std::views::reverse) {  // keys in descending byte order
        std::printf("%s -> %llu\n", url.c_str(), static_cast<unsigned long long>(n));
        sum += n;
    }
    const auto a = art.find("https://example.org/a");  // an iterator, like std::map::find

    // FrozenLayer: built once from sorted (key, value) pairs, saved,
    // memory-mapped back.
    auto frozen = memkv::FrozenLayer<std::uint64_t>::from_sorted(art);
    const std::string path = "memkv_example_structures.frz";
    frozen.save(path);
    auto mapped = memkv::FrozenLayer<std::uint64_t>::open(path);  // mmap, no rebuild
    std::uint64_t org = 0;
    for (auto [url, n] : mapped.from("https://example.org/")) org += n;  // seek, then scan
    const bool ok = mapped.size() == 3 && mapped.get("https://example.org/b") == 12 &&
                    mapped.find("https://example.com/")->second == 3 && mapped.ordinal("https://example.com/") == 0 &&
                    a->second == 11 && sum == 26 && org == 23;
    std::remove(path.c_str());
    return ok ? 0 : 1;
}
