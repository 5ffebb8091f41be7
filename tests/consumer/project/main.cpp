#include <memkv/memkv.hpp>

#include <cstdio>

int main() {
    std::printf("memkv %d.%d.%d\n", memkv::version.major, memkv::version.minor,
                memkv::version.patch);
    return memkv::version.major == 0 && memkv::version.minor >= 1 ? 0 : 1;
}
