#pragma once

// The tool's own I/O on file descriptors: standard output with a broken pipe
// reported as such, and a line reader that tells the line number and polls
// for interruption. Plain read(2)/write(2) rather than iostreams: the build
// reads whole key files line by line, and a stream would neither say where
// it failed nor return on a signal.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memkv::cli {

// Buffered writer to a descriptor (standard output). A closed pipe throws
// broken_pipe; any other failed write throws failure naming the output.
class output {
public:
    explicit output(int fd) : fd_(fd) { buf_.reserve(capacity); }
    output(const output&) = delete;
    output& operator=(const output&) = delete;

    void put(std::string_view s) {
        if (buf_.size() + s.size() > capacity) {
            flush();
            if (s.size() > capacity) {
                write_all(s.data(), s.size());
                return;
            }
        }
        buf_.append(s);
    }
    void put(char c) {
        if (buf_.size() == capacity) flush();
        buf_.push_back(c);
    }
    void put_u64(std::uint64_t v);
    // The key as raw bytes, or escaped (--escape).
    void put_key(std::string_view key, bool escape);
    void flush();

private:
    static constexpr std::size_t capacity = std::size_t{1} << 16;
    void write_all(const char* p, std::size_t n);

    int fd_;
    std::string buf_;
    std::string scratch_;
};

// Lines of a file, or of standard input for "-". A line is everything up to
// a '\n' (not included; a '\r' before it is kept: keys are bytes); the last
// line needs no '\n'. So an empty line is the empty key, and a file that
// ends in "\n\n" holds an empty key at its end.
class line_reader {
public:
    explicit line_reader(const std::string& path);
    ~line_reader();
    line_reader(const line_reader&) = delete;
    line_reader& operator=(const line_reader&) = delete;

    // The next line; valid until the next call. False at the end.
    bool next(std::string_view& line);
    // 1-based number of the line last returned.
    std::uint64_t line_number() const noexcept { return line_; }
    // For messages: the path, or "<stdin>".
    const std::string& name() const noexcept { return name_; }
    // The size of a regular file (for a progress ETA); none for a pipe.
    std::optional<std::uint64_t> size() const noexcept { return size_; }
    std::uint64_t bytes_consumed() const noexcept { return consumed_; }

private:
    bool fill();

    std::string name_;
    int fd_ = -1;
    bool own_fd_ = false;
    bool eof_ = false;
    std::optional<std::uint64_t> size_;
    std::vector<char> buf_;
    std::size_t begin_ = 0;  // first unread byte
    std::size_t end_ = 0;    // one past the last byte read
    std::size_t scan_ = 0;   // bytes after begin_ already known to hold no '\n'
    std::uint64_t line_ = 0;
    std::uint64_t consumed_ = 0;
};

// The whole of standard input (for a FrozenLayer image piped in).
std::vector<unsigned char> read_stdin();

// "dir/name" -> "dir" ("." without a slash), and -> "name".
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

// After a rename into `dir`: syncs the directory so the new name survives
// a crash. Best effort (the output is complete either way).
void sync_dir(const std::string& dir) noexcept;

// A file's size, or none if it cannot be stat'ed.
std::optional<std::uint64_t> file_size(const std::string& path);

}  // namespace memkv::cli
