// Prints `xsavetool dump --json` for a file, through the installed C++ API.
// Usage: xsave_dump_cpp FILE [PROFILE]   (PROFILE: host, a built-in name, or a profile file)
#include <xsave/area_json.hpp>
#include <xsave/import.hpp>
#include <xsave/open.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " FILE [PROFILE]\n";
        return 2;
    }
    try {
        xsave::OpenOptions opt;
        if (argc > 2) opt.cpu = std::make_shared<const xsave::CpuModel>(xsave::resolve_profile(argv[2]));
        for (const auto& area : xsave::open_file(argv[1], opt).areas) {
            std::string text;
            xsave::append_area_json(text, area, xsave::decode(area.image, *area.cpu), 0);
            std::cout << text << "\n";
        }
    } catch (const xsave::Error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    return 0;
}
