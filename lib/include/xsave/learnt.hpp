#pragma once
// A hint a const object learns on its hot path (a layout, a plan): an atomic that copies, so a
// copied object starts from what the original last learnt.
#include <atomic>

namespace xsave::detail {

template <class T>
struct Learnt {
    std::atomic<T> v;
    Learnt() : v(T{}) {}
    explicit Learnt(T init) : v(init) {}
    Learnt(const Learnt& o) : v(o.v.load(std::memory_order_acquire)) {}
    Learnt& operator=(const Learnt& o) {
        v.store(o.v.load(std::memory_order_acquire), std::memory_order_release);
        return *this;
    }
};

} // namespace xsave::detail
