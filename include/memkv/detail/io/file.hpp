#pragma once

// Every file operation memkv performs (memkv::detail): a read-only memory
// mapping, a buffered sequential writer, whole-file read and synced write,
// fsync of a file or directory, atomic rename, path splitting. Errors become
// memkv::io_error naming the operation, the path and strerror(errno). The
// FrozenLayer image and the HybridKV checkpoint both go through here.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memkv/errors.hpp>

namespace memkv::detail {

[[noreturn]] inline void throw_io(const std::string& what, const std::string& path) {
    throw io_error(what + " '" + path + "': " + std::strerror(errno));
}

// A whole file mapped read-only. Movable, not copyable. An empty file maps to
// an empty span (mmap rejects length 0).
class mapped_file {
public:
    mapped_file() = default;
    explicit mapped_file(const std::string& path) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw_io("cannot open", path);
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            const int e = errno;
            ::close(fd);
            errno = e;
            throw_io("cannot stat", path);
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ != 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                const int e = errno;
                ::close(fd);
                errno = e;
                throw_io("cannot mmap", path);
            }
            data_ = static_cast<const unsigned char*>(p);
        }
        ::close(fd);  // the mapping keeps the file alive
    }
    mapped_file(mapped_file&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    mapped_file& operator=(mapped_file&& o) noexcept {
        if (this != &o) {
            reset();
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    ~mapped_file() { reset(); }

    const unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

private:
    void reset() noexcept {
        if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
        data_ = nullptr;
        size_ = 0;
    }
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

// Sequential writer with a 1 MiB buffer plus positioned writes (for patching a
// header once its fields are known). close() flushes and reports errors; the
// destructor closes silently (used on error paths only).
class file_writer {
public:
    file_writer() = default;
    explicit file_writer(std::string path) : path_(std::move(path)) {
        // The buffer first: a std::bad_alloc after the open would leave the
        // file created and its descriptor open (no destructor runs).
        buf_.reserve(kBuffer);
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw_io("cannot create", path_);
    }
    file_writer(file_writer&& o) noexcept
        : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), buf_(std::move(o.buf_)),
          written_(o.written_) {}
    file_writer& operator=(file_writer&& o) noexcept {
        if (this != &o) {
            discard();
            path_ = std::move(o.path_);
            fd_ = std::exchange(o.fd_, -1);
            buf_ = std::move(o.buf_);
            written_ = o.written_;
        }
        return *this;
    }
    file_writer(const file_writer&) = delete;
    file_writer& operator=(const file_writer&) = delete;
    ~file_writer() { discard(); }

    bool is_open() const noexcept { return fd_ >= 0; }
    const std::string& path() const noexcept { return path_; }
    std::uint64_t size() const noexcept { return written_ + buf_.size(); }

    void write(const unsigned char* p, std::size_t n) {
        if (buf_.size() + n > kBuffer) {
            flush();
            if (n >= kBuffer) {
                write_all(p, n);
                return;
            }
        }
        buf_.insert(buf_.end(), p, p + n);
    }

    void pwrite_at(std::uint64_t offset, const unsigned char* p, std::size_t n) {
        flush();
        while (n > 0) {
            const ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
            if (w < 0) {
                if (errno == EINTR) continue;
                throw_io("cannot write", path_);
            }
            p += w;
            n -= static_cast<std::size_t>(w);
            offset += static_cast<std::uint64_t>(w);
        }
    }

    void flush() {
        if (!buf_.empty()) {
            write_all(buf_.data(), buf_.size());
            buf_.clear();
        }
    }

    void close() {
        flush();
        if (::fsync(fd_) != 0) throw_io("cannot fsync", path_);
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) throw_io("cannot close", path_);
    }

private:
    static constexpr std::size_t kBuffer = 1U << 20;

    void write_all(const unsigned char* p, std::size_t n) {
        while (n > 0) {
            const ssize_t w = ::write(fd_, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                throw_io("cannot write", path_);
            }
            p += w;
            n -= static_cast<std::size_t>(w);
            written_ += static_cast<std::uint64_t>(w);
        }
    }
    void discard() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    std::string path_;
    int fd_ = -1;
    std::vector<unsigned char> buf_;
    std::uint64_t written_ = 0;
};

inline void rename_file(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) throw_io("cannot rename to '" + to + "' from", from);
}

inline void remove_file_noexcept(const std::string& path) noexcept { ::unlink(path.c_str()); }

// Writes bytes to path (created or truncated) and fsyncs it before closing.
inline void write_file_synced(const std::string& path, const unsigned char* p, std::size_t n) {
    file_writer w(path);
    w.write(p, n);
    w.close();
}

// fsync of an existing file, or of a directory (after a rename into it).
inline void fsync_path(const std::string& path, bool directory) {
    const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) throw_io("cannot open", path);
    if (::fsync(fd) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        throw_io("cannot fsync", path);
    }
    ::close(fd);
}

inline std::string read_whole_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_io("cannot open", path);
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const ::ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            errno = e;
            throw_io("cannot read", path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// The names in a directory (no "." or ".."); entries that are not regular
// files are left out when regular_only (d_type, or stat where the file
// system does not say). Empty if the directory cannot be read. POSIX
// readdir rather than std::filesystem::directory_iterator: libstdc++ 12
// builds each entry's path inside a noexcept function, so a std::bad_alloc
// there terminates the process; here it reaches the caller.
inline std::vector<std::string> list_directory(const std::string& dir, bool regular_only) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return names;
    struct closer {
        DIR* d;
        ~closer() { ::closedir(d); }
    } close_at_exit{d};
    while (const dirent* e = ::readdir(d)) {
        const std::string_view n(e->d_name);
        if (n == "." || n == "..") continue;
        if (regular_only) {
            if (e->d_type == DT_UNKNOWN) {
                struct stat st {};
                if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
            } else if (e->d_type != DT_REG) {
                continue;
            }
        }
        names.emplace_back(n);
    }
    return names;
}

// Splits PATH into (directory, file name); the directory is "." for a bare name.
inline std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace memkv::detail
