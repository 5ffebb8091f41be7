#pragma once

// memkv::detail::byte_sink: where a writer's bytes go, chosen once when the
// writer is made (fst's Builder<W: io::Write>): memory_sink (memory) or
// file_sink (a file through file_writer). The writer appends, asks how many
// bytes it has written, patches bytes already written (a header whose fields
// are known only at the end, the last two bytes of the output) and takes a running
// CRC-32C of everything after a point; it never branches on the kind.
//
//   stage (this class)          backend (virtual, called per 64 KiB)
//   [... drained ...][staged ]  -> memory_sink: huge_buffer  /  file_sink: file
//                     ^ the last two bytes written are always still staged
//
// Appends go to a small stage in the base class (no virtual call per write);
// the stage is drained to the backend when it reaches 64 KiB, all but its
// last two bytes, so patching them (a chain node folded into the node
// written after it) is always a store into the stage. Patching older bytes goes to the backend; it must not touch bytes
// inside the checksummed range (they were checksummed as drained).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/huge_pages.hpp>

namespace memkv::detail {

class byte_sink {
public:
    byte_sink() { stage_.reserve(stage_limit); }
    byte_sink(const byte_sink&) = delete;
    byte_sink& operator=(const byte_sink&) = delete;
    virtual ~byte_sink() = default;

    void write(const unsigned char* p, std::size_t n) {
        if (n >= stage_limit) {  // a bulk write (a value column): skip the stage
            drain(stage_.size());
            checksum(p, n);
            backend_write(p, n);
            drained_ += n;
            size_ += n;
            return;
        }
        stage_.insert(stage_.end(), p, p + n);
        size_ += n;
        if (stage_.size() >= stage_limit) drain(stage_.size() - kept_tail);
    }
    void push(unsigned char b) {
        stage_.push_back(b);
        ++size_;
        if (stage_.size() >= stage_limit) drain(stage_.size() - kept_tail);
    }

    //! Bytes written so far.
    std::uint64_t size() const noexcept { return size_; }

    //! Overwrites n bytes at offset (all already written).
    void patch(std::uint64_t offset, const unsigned char* p, std::size_t n) {
        MEMKV_ASSERT(offset + n <= size_);
        if (offset >= drained_) {
            std::memcpy(stage_.data() + (offset - drained_), p, n);
            return;
        }
        // Drained bytes were checksummed as they left the stage.
        MEMKV_ASSERT(!crc_on_ || offset + n <= crc_from_);
        if (offset + n > drained_) drain(stage_.size());
        backend_patch(offset, p, n);
    }
    //! Rewrites the last byte written (always still staged).
    void patch_last(unsigned char b) noexcept { patch_back(0, b); }
    //! Rewrites the byte `from_end` bytes before the last one written
    //! (0 or 1: always still staged, unless a bulk write came after it).
    void patch_back(std::size_t from_end, unsigned char b) noexcept {
        MEMKV_ASSERT(from_end < kept_tail && from_end < stage_.size());
        stage_[stage_.size() - 1 - from_end] = b;
    }

    //! Starts the running CRC-32C: it covers every byte written from now on.
    void begin_checksum() noexcept {
        MEMKV_ASSERT(!crc_on_);
        crc_on_ = true;
        crc_from_ = size_;
    }
    //! The CRC-32C of the bytes written since begin_checksum() (drains the
    //! stage, so they can no longer be patched).
    std::uint32_t checksum() {
        drain(stage_.size());
        return crc_;
    }

    //! Sends everything to the backend and completes it (a file is flushed,
    //! fsynced and closed). Nothing may be written afterwards.
    void finish() {
        drain(stage_.size());
        backend_finish();
    }

    //! finish(), then everything written, readable while the sink lives (a
    //! file sink maps its file).
    std::span<const unsigned char> contents() {
        finish();
        return backend_contents();
    }

    virtual std::size_t memory_usage() const noexcept { return stage_.capacity(); }

protected:
    static constexpr std::size_t stage_limit = std::size_t{1} << 16;
    static constexpr std::size_t kept_tail = 2;  // bytes a drain leaves staged

    virtual void backend_write(const unsigned char* p, std::size_t n) = 0;
    virtual void backend_patch(std::uint64_t offset, const unsigned char* p, std::size_t n) = 0;
    virtual void backend_finish() = 0;
    virtual std::span<const unsigned char> backend_contents() = 0;

private:
    void checksum(const unsigned char* p, std::size_t n) noexcept {
        if (!crc_on_) return;
        // The bytes at [drained_, drained_ + n); only those at >= crc_from_ count.
        const std::uint64_t skip = drained_ < crc_from_ ? std::min<std::uint64_t>(crc_from_ - drained_, n) : 0;
        crc_ = crc32c_update(crc_, p + skip, n - static_cast<std::size_t>(skip));
    }
    void drain(std::size_t n) {
        if (n == 0) return;
        checksum(stage_.data(), n);
        backend_write(stage_.data(), n);
        drained_ += n;
        stage_.erase(stage_.begin(), stage_.begin() + static_cast<std::ptrdiff_t>(n));
    }

    std::vector<unsigned char> stage_;
    std::uint64_t size_ = 0;     // bytes written
    std::uint64_t drained_ = 0;  // bytes handed to the backend (size_ - stage_.size())
    bool crc_on_ = false;
    std::uint64_t crc_from_ = 0;
    std::uint32_t crc_ = 0;
};

// The bytes in a huge_buffer (huge pages from 2 MiB on: the image is walked
// at random once it is a layer); take() hands it over after finish().
class memory_sink final : public byte_sink {
public:
    huge_buffer take() {
        finish();
        // Mapped: unmaps the tail, no copy; the capacity memory_usage()
        // reports stays within 2 MiB of the size.
        bytes_.shrink_to_fit();
        return std::move(bytes_);
    }
    // Takes back what take() handed over, for a caller whose use of it
    // failed (FrozenLayerBuilder::finish(), which may then be retried).
    void restore(huge_buffer b) noexcept { bytes_ = std::move(b); }
    // A hint (a big merge sized from its inputs; the builder's expected
    // bytes): growth then costs no mremap.
    void reserve(std::size_t n) { bytes_.reserve(n); }
    std::size_t memory_usage() const noexcept override {
        return byte_sink::memory_usage() + bytes_.capacity();
    }

protected:
    void backend_write(const unsigned char* p, std::size_t n) override { bytes_.append(p, n); }
    void backend_patch(std::uint64_t offset, const unsigned char* p, std::size_t n) override {
        MEMKV_ASSERT(offset + n <= bytes_.size());
        std::memcpy(bytes_.data() + offset, p, n);
    }
    void backend_finish() override {}
    std::span<const unsigned char> backend_contents() override { return {bytes_.data(), bytes_.size()}; }

private:
    huge_buffer bytes_;
};

// The bytes in a file, created (or truncated) at construction. The file is
// the caller's to rename or remove.
class file_sink final : public byte_sink {
public:
    explicit file_sink(std::string path) : file_(std::move(path)) {}
    const std::string& path() const noexcept { return file_.path(); }
    std::size_t memory_usage() const noexcept override { return byte_sink::memory_usage() + (std::size_t{1} << 20); }

protected:
    void backend_write(const unsigned char* p, std::size_t n) override { file_.write(p, n); }
    void backend_patch(std::uint64_t offset, const unsigned char* p, std::size_t n) override {
        file_.pwrite_at(offset, p, n);
    }
    void backend_finish() override {
        if (file_.is_open()) file_.close();
    }
    std::span<const unsigned char> backend_contents() override {
        if (map_.data() == nullptr) map_ = mapped_file(file_.path());
        return {map_.data(), map_.size()};
    }

private:
    file_writer file_;
    mapped_file map_;
};

}  // namespace memkv::detail
