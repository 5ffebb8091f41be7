#include "cli/store.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/io/file_kind.hpp>

#include "cli/io.hpp"

namespace memkv::cli {

file_kind detect_kind(const std::string& path) {
    if (path == "-") return file_kind::frozen;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw failure("cannot open '" + path + "': " + std::strerror(errno));
    struct ::stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw failure("cannot open '" + path + "': it is a directory");
    }
    unsigned char head[8];
    std::size_t n = 0;
    while (n < sizeof head) {
        const ::ssize_t r = ::read(fd, head + n, sizeof head - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            const int e = errno;
            ::close(fd);
            throw failure("cannot read '" + path + "': " + std::strerror(e));
        }
        if (r == 0) break;
        n += static_cast<std::size_t>(r);
    }
    ::close(fd);
    // A file that starts like one kind but is shorter than its magic is a
    // truncated file of that kind: its reader says so.
    if (detail::starts_like(head, n, detail::frozen_magic_bytes)) return file_kind::frozen;
    if (detail::starts_like(head, n, detail::hybrid_magic_bytes)) return file_kind::checkpoint;
    throw failure("'" + path + "' is not a FrozenLayer file or a memkv checkpoint (" +
                  detail::describe_foreign_file(head, n) + ")");
}

failure about(const std::string& path, const std::exception& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) return failure(what);
    return failure("'" + path + "': " + what);
}

std::unique_ptr<frozen_file> open_frozen(const std::string& path, const std::string& command) {
    auto f = std::make_unique<frozen_file>();
    f->path = path == "-" ? "<stdin>" : path;
    try {
        if (path == "-") {
            f->image = read_stdin();
            f->layer = FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(f->image));
        } else {
            if (detect_kind(path) == file_kind::checkpoint) {
                throw failure("'" + path + "' is a memkv checkpoint; " + command + " reads FrozenLayer files only");
            }
            f->layer = FrozenLayer<std::uint64_t>::open(path);
        }
    } catch (const memkv::error& e) {
        throw about(f->path, e);
    }
    return f;
}

bool keys_only(const FrozenLayer<std::uint64_t>& layer) {
    const std::span<const unsigned char> b = layer.bytes();
    const detail::frozen_header h =
        detail::decode_frozen_header(b.data(), b.size(), detail::frozen_type_tag<std::uint64_t>(), sizeof(std::uint64_t));
    return h.value_kind == detail::frozen_value_kind::ordinal;
}

}  // namespace memkv::cli
