// The README's quick start, built and run as a test.

#include <memkv/memkv.hpp>

#include <cassert>
#include <cstdint>
#include <cstdio>
#include <ranges>
#include <string>

int main() {
    memkv::MemKV<std::uint64_t> kv;
    kv.insert("user:1001", 1001);
    kv.insert("user:1500", 1500);
    kv.insert("user:2500", 2500);
    kv.insert("item:42", 42);
    assert(kv.get("user:1001") == 1001);

    // insert never overwrites (std::map's meaning); insert_or_assign does.
    const bool added = kv.insert("item:42", 0);              // false: kept 42
    const bool fresh = kv.insert_or_assign("item:42", 43);   // false: assigned
    assert(!added && !fresh && kv.at("item:42") == 43);

    int users = 0;
    for (auto [k, v] : kv.prefix("user:")) {
        std::printf("%s -> %llu\n", k.c_str(), static_cast<unsigned long long>(v));
        ++users;
    }
    int in_range = 0;
    for (auto [k, v] : kv.range("user:1000", "user:2000")) {
        std::printf("in range: %s -> %llu\n", k.c_str(), static_cast<unsigned long long>(v));
        ++in_range;
    }
    // Views are bidirectional: scan backwards, newest user first.
    std::string last_user;
    for (auto [k, v] : kv.prefix("user:") | std::views::reverse) {
        if (last_user.empty()) last_user = k;
    }
    // from(k): every key >= k, in byte order (seek, then iterate).
    int from_user = 0;
    for (auto [k, v] : kv.from("user:1500")) ++from_user;

    // assert() vanishes in release builds; the test must still fail there.
    if (users != 3 || in_range != 2 || kv.get("user:1001") != 1001 || added || fresh ||
        kv.get("item:42") != 43 || last_user != "user:2500" || from_user != 2) {
        return 1;
    }
    return 0;
}
