// README "Using the structures": FastArt and FrozenLayer, built and run as a test.

#include <memkv/memkv.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

int main() {
    // FastArt: a mutable ordered map, like std::map<std::string, V>.
    memkv::FastArt<std::uint64_t> art;
    art.insert("https://example.org/a", 1);
    art.insert_or_assign("https://example.org/b", std::uint64_t{2});
    art["https://example.com/"] = 3;
    std::uint64_t sum = 0;
    for (auto it = art.lower_bound("https://example.org/"); it != art.end(); ++it) {
        std::printf("%s -> %llu\n", it.key().c_str(), static_cast<unsigned long long>(it.value()));
        sum += it.value();
    }
    const auto n_org = std::distance(art.prefix("https://example.org/").begin(),
                                     art.prefix("https://example.org/").end());

    // FrozenLayer: built once from sorted keys, saved, memory-mapped back.
    memkv::FrozenLayerBuilder<std::uint64_t> builder;
    for (auto it = art.begin(); it != art.end(); ++it) builder.insert(it.key(), it.value());
    memkv::FrozenLayer<std::uint64_t> frozen = builder.finish();
    const std::string path = "memkv_example_structures.frz";
    frozen.save(path);
    auto mapped = memkv::FrozenLayer<std::uint64_t>::open(path);
    const bool ok = mapped.size() == 3 && mapped.get("https://example.org/b") == 2 &&
                    mapped.ordinal("https://example.com/") == 0 && sum == 3 && n_org == 2;
    std::remove(path.c_str());
    return ok ? 0 : 1;
}
