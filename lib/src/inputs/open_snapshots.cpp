// The input table's snapshot rows: CRIU images and Cloud Hypervisor state.json, each thread or
// vCPU an area with the CPU model it is laid out in and its other registers as context.
#include "xsave/cloudhv.hpp"
#include "xsave/components.hpp"
#include "xsave/criu.hpp"
#include "xsave/error.hpp"
#include "xsave/file_bytes.hpp"
#include "xsave/nested.hpp"
#include "xsave/open.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace xsave::formats {
namespace {

namespace fs = std::filesystem;

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

Source criu_source(const criu::Images& in, const SourceRequest& req) {
    Source s;
    uint32_t vendor = in.cpuinfo ? in.cpuinfo->vendor : 0;
    if (in.cpuinfo && in.cpuinfo->xfeatures_mask)
        s.notes.push_back(fmt::format("cpuinfo.img: {}, xfeatures_mask 0x{:x}, xsave_size {}, xsave_size_max {}",
                                      vendor == 1 ? "Intel" : vendor == 2 ? "AMD" : "vendor unknown", *in.cpuinfo->xfeatures_mask,
                                      in.cpuinfo->xsave_size.value_or(0), in.cpuinfo->xsave_size_max.value_or(0)));
    for (const auto& t : in.threads) {
        if (!t.has_fpregs) throw Error(fmt::format("{}: thread_info has no fpregs: no FPU state was dumped", t.label));
        uint64_t mask = t.mask();
        SourceArea a;
        a.label = fs::path(t.label).filename().string();
        a.tid = t.tid;
        std::string how;
        // The image stores components, not offsets: the area is laid out in the model it is read with.
        a.cpu = req.cpu ? req.cpu : criu::model_for(mask, vendor, host_model(), how);
        if (!a.cpu) throw Error(fmt::format("{}: no known CPU lays out {}: pass --cpuid", t.label, mask_names(mask)));
        a.notes.push_back(fmt::format("CRIU core image: fpregs fields ({}) as a standard XSAVE area", mask_names(mask)));
        if (!how.empty()) a.notes.push_back(how);
        if (uint64_t lost = t.xstate_bv & ~mask)
            a.notes.push_back(fmt::format("XSTATE_BV 0x{:x} names {}, which CRIU images have no field for: that state was not saved",
                                          t.xstate_bv, mask_names(lost)));
        a.xcr0 = mask;
        try {
            a.bytes = criu::to_area(t, a.cpu->standard(mask));
        } catch (const Error& e) {
            throw Error(t.label + ": " + e.what());
        }
        if (t.rip) a.context.emplace_back("rip", hex(*t.rip));
        if (t.rsp) a.context.emplace_back("rsp", hex(*t.rsp));
        s.areas.push_back(std::move(a));
    }
    return s;
}

Source cloudhv_source(std::span<const uint8_t> b, const SourceRequest& req) {
    auto snap = cloudhv::read_state({reinterpret_cast<const char*>(b.data()), b.size()});
    Source s;
    for (auto& v : snap.vcpus) {
        SourceArea a;
        a.label = "vCPU " + v.id;
        if (!v.id.empty() && v.id.size() < 9 && v.id.find_first_not_of("0123456789") == std::string::npos) a.tid = std::stoi(v.id);
        if (v.mshv) {
            a.notes.push_back(fmt::format("Cloud Hypervisor MSHV vCPU {}: XSAVE page from vp_states (bytes {}..{})", v.id,
                                          cloudhv::kMshvXsaveOffset, cloudhv::kMshvXsaveOffset + 4095));
            if (!req.cpu)
                a.notes.push_back("an MSHV vCPU state carries no CPUID: laid out with this machine's CPUID (--cpuid names the saving CPU)");
        } else {
            a.notes.push_back(fmt::format("Cloud Hypervisor vCPU {}: xsave region 4096 bytes{}", v.id,
                                          v.extra_words ? fmt::format(" + extra {} bytes", 4 * v.extra_words) : ""));
        }
        if (req.cpu) {
            a.cpu = req.cpu;
        } else if (!v.mshv) {
            try {
                a.cpu = std::make_shared<const CpuModel>(v.profile);
            } catch (const Error& e) {
                throw Error(fmt::format("{}: the snapshot's CPUID cannot describe layouts ({}): pass --cpuid", a.label, e.what()));
            }
            a.notes.push_back(fmt::format("layout from the snapshot's own CPUID entries, XCR0 {} from xcrs",
                                          v.xcr0 ? hex(*v.xcr0) : "unknown"));
        }
        if (!v.nested_state.empty()) {
            nested::State st = naming(a.label + " nested_state", [&] { return nested::parse_nested_state(v.nested_state); });
            a.notes.push_back(fmt::format("nested_state: kvm_nested_state, {} format, size {} (check --for kvm checks it)",
                                          st.vmx() ? "VMX" : "SVM", st.hdr.size));
            a.nested = std::move(st);
        }
        a.xcr0 = req.xcr0 ? req.xcr0 : v.xcr0;
        for (auto [name, value] : {std::pair{"rip", v.rip}, {"rsp", v.rsp}, {"cr0", v.cr0}, {"cr4", v.cr4}, {"efer", v.efer}})
            if (value) a.context.emplace_back(name, hex(*value));
        a.bytes = std::move(v.xsave);
        s.areas.push_back(std::move(a));
    }
    return s;
}

bool has_core_images(const std::string& path) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(path, ec)) {
        std::string name = e.path().filename().string();
        if (name.starts_with("core-") && name.ends_with(".img")) return true;
    }
    return false;
}

} // namespace

bool is_criu(std::span<const uint8_t> b) { return criu::is_criu_image(b); }

Source read_criu(std::span<const uint8_t> b, const SourceRequest& req) {
    criu::Images in;
    in.threads.push_back(criu::read_core(b, req.path));
    return criu_source(in, req);
}

bool is_criu_dir(const std::string& path) { return has_core_images(path); }

Source read_criu_dir(const std::string& path, const SourceRequest& req) { return criu_source(criu::read_images(path), req); }

bool is_cloudhv(std::span<const uint8_t> b) {
    std::string_view t(reinterpret_cast<const char*>(b.data()), b.size());
    // serde_json writes the Snapshot struct compactly, "snapshots" first.
    return t.starts_with("{\"snapshots\":") && cloudhv::is_state_json(t);
}

Source read_cloudhv(std::span<const uint8_t> b, const SourceRequest& req) { return cloudhv_source(b, req); }

bool is_cloudhv_dir(const std::string& path) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(path) / "state.json", ec);
}

Source read_cloudhv_dir(const std::string& path, const SourceRequest& req) {
    std::string file = (fs::path(path) / "state.json").string();
    try {
        FileBytes fb = map_file(file);
        return cloudhv_source(fb.bytes(), req);
    } catch (const Error& e) {
        throw Error(fmt::format("state.json: {}", e.what()));
    }
}

} // namespace xsave::formats
