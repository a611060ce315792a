#pragma once
// A CpuModel's caches: layouts per (format, mask), and the conversion plans whose target is
// one of its layouts (ops makes those on first use).
#include "xsave/layout.hpp"

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>

namespace xsave {

struct CpuModel::LayoutCache {
    static constexpr unsigned kRecentSlots = 16;
    static unsigned recent_slot(uint64_t mask) { return unsigned((mask * 0x9E3779B97F4A7C15ull) >> 59) % kRecentSlots; }

    struct Entry {
        uint64_t key;
        Layout layout;
    };
    std::mutex mu;
    std::map<std::pair<int, uint64_t>, std::unique_ptr<Entry>> entries;
    // Lock-free hits for the hot path: entries are immutable and live as long as the model.
    std::array<std::array<std::atomic<const Entry*>, kRecentSlots>, 2> recent{};
    std::once_flag plans_once;
    std::shared_ptr<PlanCache> plans;
    std::atomic<PlanCache*> plans_ready{nullptr};   // set once made
};

} // namespace xsave
