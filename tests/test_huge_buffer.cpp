// detail::huge_buffer, the storage of in-memory FrozenLayer images: appends
// across the 2 MiB switch to a huge-page mapping, growth in place and by
// moving pages (two buffers growing in turn take each other's room), tail
// unmapping, moves, and the strong guarantee when memory runs out (operator
// new below 2 MiB via alloc_fault; mmap above it in a child process whose
// address space is capped).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include <memkv/detail/huge_pages.hpp>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "alloc_fault.hpp"
#include "memkv_catch.hpp"

namespace {

namespace af = memkv::test::alloc_fault;
using memkv::detail::huge_buffer;
using memkv::detail::huge_page_bytes;

unsigned char pattern(std::size_t i, unsigned seed) { return static_cast<unsigned char>((i * 131 + seed * 7 + (i >> 13)) & 0xFF); }

// Appends `n` bytes of the pattern in pieces of 1..~70 KiB.
void fill(huge_buffer& b, std::size_t n, unsigned seed) {
    std::vector<unsigned char> piece;
    std::size_t step = 1;
    while (b.size() < n) {
        const std::size_t k = std::min(n - b.size(), step);
        piece.resize(k);
        for (std::size_t j = 0; j < k; ++j) piece[j] = pattern(b.size() + j, seed);
        b.append(piece.data(), k);
        step = step * 3 % 70001 + 1;
    }
}

bool holds_pattern(const huge_buffer& b, unsigned seed) {
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (b.data()[i] != pattern(i, seed)) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("huge_buffer: appends keep every byte across the switch to a mapping", "[huge_buffer]") {
    huge_buffer b;
    CHECK(b.empty());
    CHECK(b.data() == nullptr);
    CHECK(b.capacity() == 0);
    fill(b, 1000, 1);
    CHECK(b.capacity() < huge_page_bytes);
    fill(b, 9 * huge_page_bytes + 12345, 1);  // several growths past 2 MiB
    REQUIRE(b.size() == 9 * huge_page_bytes + 12345);
    CHECK(holds_pattern(b, 1));
#if defined(__linux__)
    CHECK(b.capacity() % huge_page_bytes == 0);  // before the shrink
    CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % huge_page_bytes == 0);
#endif
    b.shrink_to_fit();
    CHECK(b.capacity() >= b.size());
    CHECK(b.capacity() - b.size() < (std::size_t{64} << 10));  // a base page at most
    CHECK(holds_pattern(b, 1));
    fill(b, 12 * huge_page_bytes, 1);  // grows again after the tail went
    CHECK(holds_pattern(b, 1));
}

TEST_CASE("huge_buffer: buffers growing in turn, moved pages keep their bytes", "[huge_buffer]") {
    // Each growth of one can find the other's mapping right after it, so
    // some growths move pages instead of extending in place.
    std::vector<huge_buffer> bufs(3);
    for (std::size_t round = 1; round <= 12; ++round) {
        for (unsigned i = 0; i < bufs.size(); ++i) fill(bufs[i], round * (huge_page_bytes + 4097 * i), i + 2);
    }
    for (unsigned i = 0; i < bufs.size(); ++i) {
        CHECK(bufs[i].size() == 12 * (huge_page_bytes + 4097 * i));
        CHECK(holds_pattern(bufs[i], i + 2));
    }
}

TEST_CASE("huge_buffer: reserve, moves, swap and a small shrink", "[huge_buffer]") {
    huge_buffer a;
    a.reserve(5 * huge_page_bytes);
    CHECK(a.capacity() >= 5 * huge_page_bytes);
    CHECK(a.empty());
    fill(a, 3 * huge_page_bytes, 4);
    const unsigned char* at = a.data();
    huge_buffer b(std::move(a));
    CHECK(b.data() == at);  // the bytes stay where they are
    CHECK(a.data() == nullptr);
    CHECK(a.size() == 0);
    CHECK(a.capacity() == 0);
    huge_buffer c;
    fill(c, 100, 5);
    c = std::move(b);
    CHECK(c.data() == at);
    CHECK(holds_pattern(c, 4));
    huge_buffer d;
    fill(d, 300, 6);
    d.reserve(4000);
    d.shrink_to_fit();
    CHECK(d.capacity() == 300);
    CHECK(holds_pattern(d, 6));
    c.swap(d);
    CHECK(c.size() == 300);
    CHECK(holds_pattern(c, 6));
    CHECK(holds_pattern(d, 4));
    huge_buffer e;
    e.shrink_to_fit();  // empty: nothing to give back
    CHECK(e.data() == nullptr);
}

TEST_CASE("huge_buffer: operator new failing leaves the buffer as it was", "[huge_buffer][alloc]") {
    for (std::uint64_t k = 0;; ++k) {
        huge_buffer b;
        fill(b, 777, 7);
        af::arm(k);
        bool threw = false;
        try {
            fill(b, huge_page_bytes / 2, 7);  // a few growths below 2 MiB
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        const bool fired = af::fired();
        af::disarm();
        CHECK(threw == fired);
        CHECK(holds_pattern(b, 7));  // whatever got appended, in order
        if (!threw) {
            CHECK(b.size() == huge_page_bytes / 2);
            break;
        }
        REQUIRE(k < 100);
    }
}

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_CASE("huge_buffer: mmap failing throws bad_alloc and keeps the bytes", "[huge_buffer][alloc]") {
    // In a child with its address space capped just above what it maps
    // before growing: the growth's mmap or mremap fails.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 0;
        huge_buffer b;
        fill(b, 3 * huge_page_bytes, 8);
        b.shrink_to_fit();
        // Cap the address space at 64 MiB above what is mapped now.
        rlimit cap{};
        ::getrlimit(RLIMIT_AS, &cap);
        std::FILE* f = std::fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (f == nullptr || std::fscanf(f, "%lu", &pages) != 1) code = 10;
        if (f != nullptr) std::fclose(f);
        cap.rlim_cur = pages * static_cast<unsigned long>(::sysconf(_SC_PAGESIZE)) + (64UL << 20);
        if (code == 0 && ::setrlimit(RLIMIT_AS, &cap) != 0) code = 11;
        if (code == 0) {
            try {
                b.reserve(std::size_t{1} << 34);  // 16 GiB
                code = 12;                          // should not fit
            } catch (const std::bad_alloc&) {
                if (b.size() != 3 * huge_page_bytes || !holds_pattern(b, 8)) code = 13;
            }
        }
        if (code == 0) {
            // Still usable within the cap.
            try {
                fill(b, 5 * huge_page_bytes, 8);
                if (!holds_pattern(b, 8)) code = 14;
            } catch (...) {
                code = 15;
            }
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
