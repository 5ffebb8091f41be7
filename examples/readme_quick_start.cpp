// The README's quick start, built and run as a test.

#include <memkv/memkv.hpp>

#include <cassert>
#include <cstdint>
#include <cstdio>

int main() {
    memkv::MemKV<std::uint64_t> kv;
    kv.insert("user:1001", 1001);
    kv.insert("user:1500", 1500);
    kv.insert("user:2500", 2500);
    kv.insert("item:42", 42);
    assert(kv.get("user:1001") == 1001);

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
    // assert() vanishes in release builds; the test must still fail there.
    if (users != 3 || in_range != 2 || kv.get("user:1001") != 1001) return 1;
    return 0;
}
