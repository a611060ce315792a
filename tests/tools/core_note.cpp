// Prints what read_elf_core finds in a core file, or writes one thread's NT_X86_XSTATE note:
//   core_note CORE              list threads (index, tid, note offset, size, XCR0)
//   core_note CORE INDEX OUT    write thread INDEX's note bytes to OUT
// Used to refresh test-data/core-*-xstate.bin (see make_core_data.sh).
#include "xsave/error.hpp"
#include "xsave/input.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2 && argc != 4) {
        std::fprintf(stderr, "usage: core_note CORE [INDEX OUT]\n");
        return 2;
    }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "core_note: cannot open %s\n", argv[1]);
        return 2;
    }
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), {}};
    try {
        auto core = xsave::read_elf_core(bytes);
        if (argc == 2) {
            for (size_t i = 0; i < core.threads.size(); ++i) {
                const auto& t = core.threads[i];
                std::printf("%zu tid=%d note_offset=%#llx size=%zu xcr0=%#llx\n", i, t.tid,
                            (unsigned long long)t.note_offset, t.xstate.size(), (unsigned long long)t.xcr0());
            }
            return 0;
        }
        size_t i = std::strtoul(argv[2], nullptr, 10);
        if (i >= core.threads.size()) {
            std::fprintf(stderr, "core_note: no thread %zu\n", i);
            return 2;
        }
        std::ofstream o(argv[3], std::ios::binary);
        o.write(reinterpret_cast<const char*>(core.threads[i].xstate.data()), std::streamsize(core.threads[i].xstate.size()));
        return o ? 0 : 2;
    } catch (const xsave::Error& e) {
        std::fprintf(stderr, "core_note: %s: %s\n", argv[1], e.what());
        return 2;
    }
}
