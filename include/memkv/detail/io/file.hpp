#pragma once

// Every file operation memkv performs (memkv::detail): a read-only memory
// mapping, a buffered sequential writer, a reader, whole-file read and synced
// write, fsync of a file or directory, atomic rename, hard links, directory
// creation and listing, path splitting. Errors become memkv::io_error naming
// the operation, the path and strerror(errno). The FrozenLayer image and the
// HybridKV checkpoint both go through here, and nothing else in memkv calls
// the OS on a file: every system call below goes through one io_* function
// of the seam (next section).

#include <atomic>
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

// ---- the system-call seam (for tests) ---------------------------------------
//
// Not a public API: it exists so that memkv's own tests
// (tests/test_io_faults.cpp) can make any file operation fail and check what
// the library does then, as SQLite's tests do with their VFS. Its shape may
// change in any release.
//
// Each io_* function below makes one system call; before it, when
// io_fault_hook is set, it asks the hook, which returns 0 to let the call run
// or an errno value to fail it with that error (the call is then not made,
// except that a failed close still releases the descriptor, as Linux's
// close does). For read, write and pwrite the hook may also lower n (not to
// 0): the call then transfers fewer bytes than asked, as the OS may, and the
// callers loop. The hook is null in normal use, so the seam costs one relaxed
// load and a predictable branch per system call (never per key). It is
// process-wide: a test sets it around one operation, with no other memkv
// store doing I/O meanwhile. munmap is left out: it cannot fail on a mapping
// memkv made, and it runs in destructors that could not report it.
enum class io_call : std::uint8_t {
    open,       // open an existing file or directory for reading
    create,     // open for writing, created or truncated
    read,
    write,
    pwrite,
    fsync,      // of a file
    fsync_dir,  // of a directory, after a rename or link into it
    close,
    rename,
    link,
    unlink,
    stat,       // stat or fstat
    mmap,
    mkdir,
    list,       // open a directory to list it
};

inline constexpr const char* io_call_name(io_call c) noexcept {
    constexpr const char* names[] = {"open", "create", "read",   "write",  "pwrite", "fsync", "fsync_dir", "close",
                                     "rename", "link", "unlink", "stat",   "mmap",   "mkdir", "list"};
    return names[static_cast<std::size_t>(c)];
}

using io_fault_hook_type = int (*)(io_call call, const char* path, std::size_t& n) noexcept;
inline std::atomic<io_fault_hook_type> io_fault_hook{nullptr};

// 0, or the errno value the hook chose (which is also stored in errno).
inline int io_injected(io_call call, const char* path, std::size_t& n) noexcept {
    const io_fault_hook_type hook = io_fault_hook.load(std::memory_order_relaxed);
    if (hook == nullptr) [[likely]] return 0;
    const std::size_t asked = n;
    const int e = hook(call, path, n);
    if (n == 0 || n > asked) n = asked;
    if (e != 0) errno = e;
    return e;
}
inline int io_injected(io_call call, const char* path) noexcept {
    std::size_t n = 0;
    return io_injected(call, path, n);
}

// open(2); O_CREAT makes it a `create` call.
inline int io_open(const char* path, int flags, mode_t mode = 0) noexcept {
    if (io_injected((flags & O_CREAT) != 0 ? io_call::create : io_call::open, path) != 0) return -1;
    return ::open(path, flags, mode);
}
inline ::ssize_t io_read(int fd, void* p, std::size_t n, const char* path) noexcept {
    if (io_injected(io_call::read, path, n) != 0) return -1;
    return ::read(fd, p, n);
}
inline ::ssize_t io_write(int fd, const void* p, std::size_t n, const char* path) noexcept {
    if (io_injected(io_call::write, path, n) != 0) return -1;
    return ::write(fd, p, n);
}
inline ::ssize_t io_pwrite(int fd, const void* p, std::size_t n, off_t offset, const char* path) noexcept {
    if (io_injected(io_call::pwrite, path, n) != 0) return -1;
    return ::pwrite(fd, p, n, offset);
}
inline int io_fsync(int fd, const char* path, bool directory) noexcept {
    if (io_injected(directory ? io_call::fsync_dir : io_call::fsync, path) != 0) return -1;
    return ::fsync(fd);
}
inline int io_close(int fd, const char* path) noexcept {
    if (const int e = io_injected(io_call::close, path); e != 0) {
        ::close(fd);
        errno = e;
        return -1;
    }
    return ::close(fd);
}
inline int io_rename(const char* from, const char* to) noexcept {
    if (io_injected(io_call::rename, to) != 0) return -1;
    return ::rename(from, to);
}
inline int io_link(const char* from, const char* to) noexcept {
    if (io_injected(io_call::link, to) != 0) return -1;
    return ::link(from, to);
}
inline int io_unlink(const char* path) noexcept {
    if (io_injected(io_call::unlink, path) != 0) return -1;
    return ::unlink(path);
}
inline int io_stat(const char* path, struct ::stat& st) noexcept {
    if (io_injected(io_call::stat, path) != 0) return -1;
    return ::stat(path, &st);
}
inline int io_fstat(int fd, struct ::stat& st, const char* path) noexcept {
    if (io_injected(io_call::stat, path) != 0) return -1;
    return ::fstat(fd, &st);
}
// A private read-only mapping of the first n bytes of fd.
inline void* io_mmap(int fd, std::size_t n, const char* path) noexcept {
    if (io_injected(io_call::mmap, path) != 0) return MAP_FAILED;
    return ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
}
inline int io_mkdir(const char* path, mode_t mode) noexcept {
    if (io_injected(io_call::mkdir, path) != 0) return -1;
    return ::mkdir(path, mode);
}
inline ::DIR* io_opendir(const char* path) noexcept {
    if (io_injected(io_call::list, path) != 0) return nullptr;
    return ::opendir(path);
}

// ---- files ---------------------------------------------------------------------

[[noreturn]] inline void throw_io(const std::string& what, const std::string& path) {
    throw io_error(what + " '" + path + "': " + std::strerror(errno));
}

// Closes fd on an error path: errno stays that of the error being reported.
inline void close_quietly(int fd, const std::string& path) noexcept {
    const int e = errno;
    io_close(fd, path.c_str());
    errno = e;
}

// A whole file mapped read-only. Movable, not copyable. An empty file maps to
// an empty span (mmap rejects length 0). A directory is refused as such (it
// opens, and mmap would say "No such device").
class mapped_file {
public:
    mapped_file() = default;
    explicit mapped_file(const std::string& path) {
        const int fd = io_open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw_io("cannot open", path);
        struct ::stat st {};
        if (io_fstat(fd, st, path.c_str()) != 0) {
            close_quietly(fd, path);
            throw_io("cannot stat", path);
        }
        if (S_ISDIR(st.st_mode)) {
            close_quietly(fd, path);
            throw io_error("cannot open '" + path + "': it is a directory");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ != 0) {
            void* p = io_mmap(fd, size_, path.c_str());
            if (p == MAP_FAILED) {
                size_ = 0;
                close_quietly(fd, path);
                throw_io("cannot mmap", path);
            }
            data_ = static_cast<const unsigned char*>(p);
        }
        // The mapping keeps the file alive; a failed close of a read-only
        // descriptor loses nothing.
        io_close(fd, path.c_str());
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

    // How the mapping will be read, passed to the kernel (posix_madvise):
    // random turns off the read-around of a page fault, which on a file
    // larger than the page cache reads up to read_ahead_kb around every
    // fault (8 MiB on the project's VM) for a point read that needs 4 KiB.
    // A hint: a refusal changes nothing the caller could act on, so it is
    // ignored; and it changes nothing the object holds, so it is const.
    enum class access { normal, random, sequential };
    void advise(access a) const noexcept {
        if (data_ == nullptr) return;
        const int advice = a == access::random       ? POSIX_MADV_RANDOM
                           : a == access::sequential ? POSIX_MADV_SEQUENTIAL
                                                     : POSIX_MADV_NORMAL;
        (void)::posix_madvise(const_cast<unsigned char*>(data_), size_, advice);
    }

private:
    void reset() noexcept {
        if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
        data_ = nullptr;
        size_ = 0;
    }
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
};

// A file open for reading. Opened without blocking (a FIFO in a checkpoint
// directory must not hang a scan of it); kind() says what it is.
class file_reader {
public:
    // if_openable: a file that does not exist, or that this process may not
    // open (permissions, a socket, a symlink loop), makes exists() false
    // instead of an error; a failure of the system (EIO, no descriptors)
    // still throws.
    explicit file_reader(std::string path, bool if_openable = false) : path_(std::move(path)) {
        fd_ = io_open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd_ < 0 && if_openable &&
            (errno == ENOENT || errno == EACCES || errno == EPERM || errno == ENXIO || errno == ELOOP)) {
            return;
        }
        if (fd_ < 0) throw_io("cannot open", path_);
        struct ::stat st {};
        if (io_fstat(fd_, st, path_.c_str()) != 0) {
            close_quietly(std::exchange(fd_, -1), path_);
            throw_io("cannot stat", path_);
        }
        mode_ = st.st_mode;
        size_ = static_cast<std::uint64_t>(st.st_size);
    }
    file_reader(const file_reader&) = delete;
    file_reader& operator=(const file_reader&) = delete;
    ~file_reader() {
        if (fd_ >= 0) io_close(fd_, path_.c_str());  // read-only: nothing to lose
    }

    bool exists() const noexcept { return fd_ >= 0; }
    bool is_directory() const noexcept { return S_ISDIR(mode_); }
    bool is_regular() const noexcept { return S_ISREG(mode_); }
    std::uint64_t size() const noexcept { return size_; }  // when opened

    // Reads up to n bytes (fewer only at the end of the file).
    std::size_t read(void* out, std::size_t n) {
        auto* p = static_cast<unsigned char*>(out);
        std::size_t got = 0;
        while (got < n) {
            const ::ssize_t r = io_read(fd_, p + got, n - got, path_.c_str());
            if (r < 0) {
                if (errno == EINTR) continue;
                throw_io("cannot read", path_);
            }
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
        }
        return got;
    }

    // Everything from the current position to the end.
    std::string read_rest() {
        std::string out;
        char buf[1 << 16];
        for (;;) {
            const std::size_t n = read(buf, sizeof buf);
            out.append(buf, n);
            if (n < sizeof buf) return out;
        }
    }

private:
    std::string path_;
    int fd_ = -1;
    mode_t mode_ = 0;
    std::uint64_t size_ = 0;
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
        fd_ = io_open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
            const ::ssize_t w = io_pwrite(fd_, p, n, static_cast<off_t>(offset), path_.c_str());
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
        if (io_fsync(fd_, path_.c_str(), false) != 0) throw_io("cannot fsync", path_);
        const int fd = std::exchange(fd_, -1);
        if (io_close(fd, path_.c_str()) != 0) throw_io("cannot close", path_);
    }

private:
    static constexpr std::size_t kBuffer = 1U << 20;

    void write_all(const unsigned char* p, std::size_t n) {
        while (n > 0) {
            const ::ssize_t w = io_write(fd_, p, n, path_.c_str());
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
        if (fd_ >= 0) io_close(fd_, path_.c_str());
        fd_ = -1;
    }

    std::string path_;
    int fd_ = -1;
    std::vector<unsigned char> buf_;
    std::uint64_t written_ = 0;
};

inline void rename_file(const std::string& from, const std::string& to) {
    if (io_rename(from.c_str(), to.c_str()) != 0) throw_io("cannot rename to '" + to + "' from", from);
}

// Best effort (cleanup paths): false when the file could not be removed.
inline bool remove_file_noexcept(const std::string& path) noexcept { return io_unlink(path.c_str()) == 0; }

// A hard link `to` of `from`; false (errno set) when it cannot be made, e.g.
// across file systems: the caller then copies.
inline bool link_file_noexcept(const std::string& from, const std::string& to) noexcept {
    return io_link(from.c_str(), to.c_str()) == 0;
}

// Writes bytes to path (created or truncated) and fsyncs it before closing.
inline void write_file_synced(const std::string& path, const unsigned char* p, std::size_t n) {
    file_writer w(path);
    w.write(p, n);
    w.close();
}

// fsync of an existing file, or of a directory (after a rename into it).
inline void fsync_path(const std::string& path, bool directory) {
    const int fd = io_open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) throw_io("cannot open", path);
    if (io_fsync(fd, path.c_str(), directory) != 0) {
        close_quietly(fd, path);
        throw_io("cannot fsync", path);
    }
    io_close(fd, path.c_str());  // the data is durable: a failed close loses nothing
}

// stat(2): false (errno set) when it fails.
inline bool stat_noexcept(const std::string& path, struct ::stat& st) noexcept {
    return io_stat(path.c_str(), st) == 0;
}

// Whether path is a directory; false when it does not exist or is another
// kind of file. io_error when stat fails otherwise (it cannot say).
inline bool is_directory(const std::string& path) {
    struct ::stat st {};
    if (io_stat(path.c_str(), st) == 0) return S_ISDIR(st.st_mode);
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_io("cannot stat", path);
}

// mkdir -p: creates path and its missing parents (mode 0755 before umask).
inline void make_directories(const std::string& path) {
    if (path.empty()) return;
    if (io_mkdir(path.c_str(), 0755) == 0) return;
    if (errno == EEXIST) {
        if (is_directory(path)) return;
        errno = EEXIST;
        throw_io("cannot create directory", path);
    }
    if (errno != ENOENT) throw_io("cannot create directory", path);
    std::string parent = path;
    while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
    const auto slash = parent.find_last_of('/');
    if (slash == std::string::npos || slash == 0) throw_io("cannot create directory", path);
    make_directories(parent.substr(0, slash));
    if (io_mkdir(path.c_str(), 0755) != 0 && !(errno == EEXIST && is_directory(path))) {
        throw_io("cannot create directory", path);
    }
}

// The names in a directory, without "." and "..".
inline std::vector<std::string> list_directory(const std::string& path) {
    ::DIR* d = io_opendir(path.c_str());
    if (d == nullptr) throw_io("cannot list", path);
    struct closer {
        ::DIR* d;
        ~closer() { ::closedir(d); }
    } guard{d};
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const ::dirent* e = ::readdir(d);
        if (e == nullptr) {
            if (errno != 0) throw_io("cannot list", path);
            return names;
        }
        const std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
}

// Splits PATH into (directory, file name); the directory is "." for a bare name.
inline std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace memkv::detail
