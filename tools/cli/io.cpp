#include "cli/io.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/common.hpp"
#include "cli/escape.hpp"

namespace memkv::cli {

// ---- output -----------------------------------------------------------------

void output::put_u64(std::uint64_t v) {
    char digits[20];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) put(digits[--n]);
}

void output::put_key(std::string_view key, bool escape) {
    if (!escape) {
        put(key);
        return;
    }
    scratch_.clear();
    append_escaped(scratch_, key);
    put(scratch_);
}

void output::flush() {
    if (buf_.empty()) return;
    // Emptied before writing, so a failed write is not retried by a later
    // flush.
    std::string pending;
    pending.swap(buf_);
    buf_.reserve(capacity);
    write_all(pending.data(), pending.size());
}

void output::write_all(const char* p, std::size_t n) {
    if (const int e = write_fully(fd_, p, n); e != 0) {
        if (e == EPIPE) throw broken_pipe{};
        throw failure(std::string("cannot write to standard output: ") + std::strerror(e));
    }
}

// ---- line_reader ------------------------------------------------------------

line_reader::line_reader(const std::string& path) {
    if (path == "-") {
        name_ = "<stdin>";
        fd_ = STDIN_FILENO;
    } else {
        name_ = path;
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw failure("cannot open '" + path + "': " + std::strerror(errno));
        own_fd_ = true;
    }
    struct ::stat st {};
    if (::fstat(fd_, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (own_fd_) ::close(fd_);
            throw failure("cannot read '" + name_ + "': it is a directory");
        }
        if (S_ISREG(st.st_mode)) {
            size_ = static_cast<std::uint64_t>(st.st_size);
            ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
        }
    }
    buf_.resize(std::size_t{1} << 20);
}

line_reader::~line_reader() {
    if (own_fd_) ::close(fd_);
}

bool line_reader::next(std::string_view& line) {
    for (;;) {
        const char* base = buf_.data() + begin_;
        const std::size_t avail = end_ - begin_;
        if (const void* nl = std::memchr(base + scan_, '\n', avail - scan_)) {
            const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
            line = std::string_view(base, len);
            begin_ += len + 1;
            consumed_ += len + 1;
            scan_ = 0;
            ++line_;
            return true;
        }
        scan_ = avail;
        if (eof_) {
            if (avail == 0) return false;
            line = std::string_view(base, avail);  // the last line, without '\n'
            begin_ = end_;
            consumed_ += avail;
            scan_ = 0;
            ++line_;
            return true;
        }
        if (!fill()) eof_ = true;
    }
}

// Moves the unread part to the front (growing the buffer for a line longer
// than it) and reads more. False at the end of the input.
bool line_reader::fill() {
    if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    for (;;) {
        check_interrupt();
        const ::ssize_t r = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw failure("cannot read '" + name_ + "': " + std::strerror(errno));
        }
        end_ += static_cast<std::size_t>(r);
        return r > 0;
    }
}

std::vector<unsigned char> read_stdin() {
    std::vector<unsigned char> data;
    std::size_t size = 0;
    for (;;) {
        if (data.size() - size < (std::size_t{1} << 16)) data.resize(data.size() * 2 + (std::size_t{1} << 20));
        check_interrupt();
        const ::ssize_t r = ::read(STDIN_FILENO, data.data() + size, data.size() - size);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw failure(std::string("cannot read <stdin>: ") + std::strerror(errno));
        }
        if (r == 0) break;
        size += static_cast<std::size_t>(r);
    }
    data.resize(size);
    return data;
}

std::string parent_dir(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void sync_dir(const std::string& dir) noexcept {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

std::optional<std::uint64_t> file_size(const std::string& path) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace memkv::cli
