// FastArt's engine (detail::art::tree) beside a std::map model, for the tests
// that drive the engine directly (the jump, the top rows): every change is
// made on both and its answer compared.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <memkv/fast_art.hpp>

#include "memkv_catch.hpp"

namespace memkv::test {

class engine_pair {
public:
    using engine = memkv::detail::art::tree<std::uint64_t>;

    void insert(const std::string& k, std::uint64_t v) {
        const auto [leaf, inserted] = t_.emplace(k, v);
        REQUIRE(inserted == m_.insert({k, v}).second);
        REQUIRE(t_.value(leaf) == m_.at(k));
    }
    void erase(const std::string& k) { REQUIRE(t_.erase(k) == m_.erase(k)); }
    void erase_prefix(const std::string& p) {
        std::size_t n = 0;
        for (auto it = m_.lower_bound(p); it != m_.end() && it->first.compare(0, p.size(), p) == 0;) {
            it = m_.erase(it);
            ++n;
        }
        REQUIRE(t_.erase_prefix(p) == n);
        REQUIRE_NOTHROW(t_.verify());
    }
    // An insert the engine made on its own (under fault injection, say).
    void record(const std::string& k, std::uint64_t v) { m_.emplace(k, v); }
    engine& tree() { return t_; }
    const std::map<std::string, std::uint64_t>& model() const { return m_; }

protected:
    engine t_;
    std::map<std::string, std::uint64_t> m_;
};

}  // namespace memkv::test
