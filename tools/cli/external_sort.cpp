#include "cli/external_sort.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/common.hpp"
#include "cli/escape.hpp"
#include "cli/progress.hpp"

namespace memkv::cli {

// ---- run files ---------------------------------------------------------------
//
// A run file is the run's records in order, front-coded (runs of URLs or
// paths share long prefixes, and the temporary disk space is what a 100 GB
// input spends), all integers LEB128 varints:
//
//   shared    bytes in common with the previous key (0 for the first)
//   suffix    length of the rest, then the rest's bytes
//   order     the input line (build) or file index (union)
//   value     only when the build has values
//
// No header and no checksum: the files live for one command in a directory
// it created; a short read is reported as a truncated file.

namespace {

std::string errno_text() { return std::strerror(errno); }

class run_writer {
public:
    run_writer(std::string path, bool values, std::size_t buffer) : path_(std::move(path)), values_(values) {
        buf_.reserve(buffer);
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd_ < 0) throw failure("cannot create temporary file '" + path_ + "': " + errno_text());
    }
    ~run_writer() {
        if (fd_ >= 0) ::close(fd_);
    }
    run_writer(const run_writer&) = delete;
    run_writer& operator=(const run_writer&) = delete;

    void add(std::string_view key, std::uint64_t value, std::uint64_t order) {
        const std::size_t m = std::min(key.size(), prev_.size());
        std::size_t shared = 0;
        while (shared < m && key[shared] == prev_[shared]) ++shared;
        varint(shared);
        varint(key.size() - shared);
        bytes(key.data() + shared, key.size() - shared);
        varint(order);
        if (values_) varint(value);
        prev_.assign(key);
    }

    void close() {
        flush();
        const int fd = std::exchange(fd_, -1);
        // No fsync: the file is gone when the command ends.
        if (::close(fd) != 0) throw failure("cannot write temporary file '" + path_ + "': " + errno_text());
    }

private:
    void varint(std::uint64_t v) {
        unsigned char b[10];
        std::size_t n = 0;
        while (v >= 0x80) {
            b[n++] = static_cast<unsigned char>(v | 0x80);
            v >>= 7;
        }
        b[n++] = static_cast<unsigned char>(v);
        bytes(reinterpret_cast<const char*>(b), n);
    }
    void bytes(const char* p, std::size_t n) {
        if (buf_.size() + n > buf_.capacity()) {
            flush();
            if (n > buf_.capacity()) {
                write_all(p, n);
                return;
            }
        }
        buf_.append(p, n);
    }
    void flush() {
        write_all(buf_.data(), buf_.size());
        buf_.clear();
    }
    void write_all(const char* p, std::size_t n) {
        if (const int e = write_fully(fd_, p, n); e != 0) {
            throw failure("cannot write temporary file '" + path_ + "': " + std::strerror(e));
        }
    }

    std::string path_;
    bool values_;
    int fd_ = -1;
    std::string buf_;
    std::string prev_;
};

class run_reader final : public record_source {
public:
    run_reader(std::string path, bool values, std::size_t buffer)
        : path_(std::move(path)), values_(values), buf_(buffer) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw failure("cannot open temporary file '" + path_ + "': " + errno_text());
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    ~run_reader() override { ::close(fd_); }
    run_reader(const run_reader&) = delete;
    run_reader& operator=(const run_reader&) = delete;

    bool next(record& r) override {
        if (pos_ == end_ && !refill()) return false;
        const std::uint64_t shared = varint();
        const std::uint64_t suffix = varint();
        if (shared > key_.size()) truncated();
        key_.resize(static_cast<std::size_t>(shared));
        while (suffix > 0 && key_.size() < shared + suffix) {
            if (pos_ == end_ && !refill()) truncated();
            const std::size_t n = std::min<std::uint64_t>(end_ - pos_, shared + suffix - key_.size());
            key_.append(buf_.data() + pos_, n);
            pos_ += n;
        }
        r.key.assign(key_);
        r.order = varint();
        r.value = values_ ? varint() : 0;
        return true;
    }

private:
    [[noreturn]] void truncated() const {
        throw failure("temporary file '" + path_ + "' is truncated (was it changed while memkv ran?)");
    }
    bool refill() {
        for (;;) {
            const ::ssize_t r = ::read(fd_, buf_.data(), buf_.size());
            if (r < 0) {
                if (errno == EINTR) {
                    check_interrupt();
                    continue;
                }
                throw failure("cannot read temporary file '" + path_ + "': " + errno_text());
            }
            pos_ = 0;
            end_ = static_cast<std::size_t>(r);
            return r > 0;
        }
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
            if (pos_ == end_ && !refill()) truncated();
            const auto b = static_cast<unsigned char>(buf_[pos_++]);
            v |= std::uint64_t{b & 0x7Fu} << shift;
            if ((b & 0x80) == 0) return v;
        }
        truncated();
    }

    std::string path_;
    bool values_;
    int fd_ = -1;
    std::vector<char> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    std::string key_;
};

}  // namespace

// ---- frozen_source -------------------------------------------------------------

bool frozen_source::next(record& r) {
    if (it_ == layer_.end()) return false;
    r.key.assign(it_.key());
    r.value = it_.value();
    r.order = base_ + (per_key_ ? it_.ordinal() : 0);
    ++it_;
    return true;
}

// ---- temp_dir ------------------------------------------------------------------

temp_dir::temp_dir(const std::string& parent, const std::string& stem) {
    std::string t = (parent.empty() ? std::string(".") : parent) + "/" + stem + "XXXXXX";
    if (::mkdtemp(t.data()) == nullptr) {
        throw failure("cannot create a temporary directory like '" + t + "': " + errno_text() +
                      " (choose another place with --tmp DIR)");
    }
    path_ = std::move(t);
}

temp_dir::~temp_dir() {
    for (const std::string& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
}

std::string temp_dir::new_file() {
    char name[32];
    std::snprintf(name, sizeof name, "/run-%06llu", static_cast<unsigned long long>(++next_));
    std::string f = path_ + name;
    files_.insert(f);
    return f;
}

void temp_dir::remove(const std::string& file) noexcept {
    ::unlink(file.c_str());
    files_.erase(file);
}

// ---- run_builder ---------------------------------------------------------------
//
// The buffer holds key bytes growing up from the front and fixed-size
// entries growing down from the back; it is full when they would meet. One
// allocation of exactly --memory bytes, touched only as it fills, and no
// per-key allocation:
//
//   [key bytes ...........>     free      <.... entries (newest first)]
//   0                   key_bytes_                              slots_end_

struct run_builder::entry {
    std::uint64_t head;    // the key's first 8 bytes, big-endian, zero-padded
    std::uint64_t offset;  // of the key's bytes in the buffer
    std::uint64_t size;
    std::uint64_t value;
    std::uint64_t order;
};

namespace {

std::uint64_t key_head(std::string_view key) noexcept {
    std::uint64_t h = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        h <<= 8;
        if (i < key.size()) h |= static_cast<unsigned char>(key[i]);
    }
    return h;
}

}  // namespace

run_builder::run_builder(temp_dir& dir, std::uint64_t memory, bool values)
    : dir_(dir), values_(values), capacity_(static_cast<std::size_t>(memory)),
      slots_end_(capacity_ / alignof(entry) * alignof(entry)) {}

run_builder::~run_builder() = default;

run_builder::entry* run_builder::entries() noexcept {
    return reinterpret_cast<entry*>(buf_.get() + slots_end_) - count_;
}

void run_builder::add(std::string_view key, std::uint64_t value, std::uint64_t order) {
    const std::size_t need = key.size() + sizeof(entry);
    if (need > slots_end_) {
        // Longer than the whole buffer: a run of its own (one record is
        // sorted), so a long line never fails a build.
        const std::string file = dir_.new_file();
        runs_.push_back(file);
        run_writer w(file, values_, std::size_t{1} << 16);
        w.add(key, value, order);
        w.close();
        ++records_;
        return;
    }
    if (!buf_) {
        try {
            buf_ = std::make_unique_for_overwrite<unsigned char[]>(capacity_);
        } catch (const std::bad_alloc&) {
            throw failure("cannot allocate the --memory buffer of " + std::to_string(capacity_) +
                          " bytes; give a smaller --memory");
        }
    }
    if (key_bytes_ + need > slots_end_ - count_ * sizeof(entry)) spill();
    std::memcpy(buf_.get() + key_bytes_, key.data(), key.size());
    ++count_;
    *entries() = entry{key_head(key), key_bytes_, key.size(), value, order};
    key_bytes_ += key.size();
    ++records_;
}

// Sorts the buffered records and writes them as the next run.
void run_builder::spill() {
    if (count_ == 0) return;
    const unsigned char* keys = buf_.get();
    entry* first = entries();
    std::sort(first, first + count_, [keys](const entry& a, const entry& b) {
        if (a.head != b.head) return a.head < b.head;
        const std::size_t m = std::min(a.size, b.size);
        // The first 8 bytes are equal (or padding of a shorter key).
        if (m > 8) {
            const int c = std::memcmp(keys + a.offset + 8, keys + b.offset + 8, m - 8);
            if (c != 0) return c < 0;
        }
        if (a.size != b.size) return a.size < b.size;
        return a.order < b.order;
    });
    check_interrupt();
    const std::string file = dir_.new_file();
    runs_.push_back(file);
    run_writer w(file, values_, std::size_t{1} << 20);
    for (std::size_t i = 0; i < count_; ++i) {
        const entry& e = first[i];
        w.add(std::string_view(reinterpret_cast<const char*>(keys + e.offset), e.size), e.value, e.order);
    }
    w.close();
    count_ = 0;
    key_bytes_ = 0;
}

std::vector<std::string> run_builder::finish() {
    spill();
    buf_.reset();
    return std::move(runs_);
}

// ---- merger --------------------------------------------------------------------

merger::merger(std::vector<std::unique_ptr<record_source>> sources, duplicates policy, std::string input)
    : sources_(std::move(sources)), current_(sources_.size()), policy_(policy), input_(std::move(input)) {
    for (std::uint32_t i = 0; i < sources_.size(); ++i) {
        if (sources_[i]->next(current_[i])) {
            heap_.push_back(i);
            std::push_heap(heap_.begin(), heap_.end(), [this](std::uint32_t a, std::uint32_t b) { return less(b, a); });
        }
    }
}

merger::~merger() = default;

bool merger::less(std::uint32_t a, std::uint32_t b) const noexcept {
    const record& x = current_[a];
    const record& y = current_[b];
    const int c = x.key.compare(y.key);  // std::string compares bytes as unsigned char
    if (c != 0) return c < 0;
    return x.order < y.order;
}

// The smallest record over all sources, uncombined.
bool merger::pop(record& out) {
    if (heap_.empty()) return false;
    const auto greater = [this](std::uint32_t a, std::uint32_t b) { return less(b, a); };
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    const std::uint32_t s = heap_.back();
    std::swap(out, current_[s]);
    if (sources_[s]->next(current_[s])) {
        std::push_heap(heap_.begin(), heap_.end(), greater);
    } else {
        heap_.pop_back();
    }
    if ((++consumed_ & 0xFFFF) == 0) check_interrupt();
    return true;
}

bool merger::next(record& out) {
    if (!have_pending_) {
        if (!pop(pending_)) return false;
        have_pending_ = true;
    }
    for (;;) {
        if (!pop(look_)) {
            std::swap(out, pending_);
            have_pending_ = false;
            return true;
        }
        if (look_.key != pending_.key) {
            std::swap(out, pending_);
            std::swap(pending_, look_);
            return true;
        }
        combine(pending_, look_);
    }
}

// `later` has the same key and a higher order than `kept`.
void merger::combine(record& kept, record& later) {
    switch (policy_) {
    case duplicates::error:
        throw failure("duplicate key " + quoted(kept.key) + " (first on line " + std::to_string(kept.order) +
                          "; use --dedup first|last to keep one)",
                      at_line(input_, later.order));
    case duplicates::first:
        return;
    case duplicates::last:
        kept.value = later.value;
        break;
    case duplicates::sum:
        if (kept.value > UINT64_MAX - later.value) {
            throw failure("the sum of the values of key " + quoted(kept.key) + " overflows 64 bits");
        }
        kept.value += later.value;
        break;
    }
    kept.order = later.order;
}

// ---- merge passes --------------------------------------------------------------

merge_shape shape_for(std::uint64_t memory) noexcept {
    const std::uint64_t fan_in = std::clamp<std::uint64_t>(memory / (std::uint64_t{64} << 10), 4, 128);
    const std::uint64_t buffer = std::clamp<std::uint64_t>(memory / fan_in, std::uint64_t{4} << 10,
                                                           std::uint64_t{1} << 20);
    return {static_cast<std::size_t>(fan_in), static_cast<std::size_t>(buffer)};
}

std::unique_ptr<merger> merge_runs(std::unique_ptr<record_source> first, std::vector<std::string> runs, temp_dir& dir,
                                   bool values, duplicates policy, const std::string& input, merge_shape shape,
                                   progress& meter) {
    const std::size_t final_fan_in = shape.fan_in - (first ? 1 : 0);
    std::size_t pass = 0;
    // Oldest runs first, each pass's output at the back: every record is
    // rewritten about log_fan_in(runs) times.
    std::size_t at = 0;
    while (runs.size() - at > final_fan_in) {
        const std::size_t n = std::min(shape.fan_in, runs.size() - at);
        std::vector<std::unique_ptr<record_source>> group;
        for (std::size_t i = 0; i < n; ++i) {
            group.push_back(std::make_unique<run_reader>(runs[at + i], values, shape.buffer));
        }
        meter.phase("merging runs (pass " + std::to_string(++pass) + ")", std::nullopt);
        merger m(std::move(group), policy, input);
        const std::string file = dir.new_file();
        {
            run_writer w(file, values, std::size_t{1} << 20);
            record r;
            std::uint64_t written = 0;
            while (m.next(r)) {
                w.add(r.key, r.value, r.order);
                meter.update(++written, 0);
            }
            w.close();
        }
        for (std::size_t i = 0; i < n; ++i) dir.remove(runs[at + i]);
        at += n;
        runs.push_back(file);
    }
    std::vector<std::unique_ptr<record_source>> sources;
    if (first) sources.push_back(std::move(first));
    for (std::size_t i = at; i < runs.size(); ++i) {
        sources.push_back(std::make_unique<run_reader>(runs[i], values, shape.buffer));
    }
    return std::make_unique<merger>(std::move(sources), policy, input);
}

}  // namespace memkv::cli
