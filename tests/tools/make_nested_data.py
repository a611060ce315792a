#!/usr/bin/env python3
"""Writes KVM nested-state samples (struct kvm_nested_state, arch/x86/include/uapi/asm/kvm.h):
test-data/nested/*.bin (README examples, CLI tests), test-data/bad/nested-*.bin and the seed
corpus fuzz/corpus/nested. Offsets from the kernel's vmcs12.h CHECK_OFFSET list and asm/svm.h,
the same values tests/nested_builders.hpp writes. Run: python3 tests/tools/make_nested_data.py"""
import os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
NESTED = os.path.join(ROOT, 'test-data', 'nested')
BAD = os.path.join(ROOT, 'test-data', 'bad')
CORPUS = os.path.join(ROOT, 'fuzz', 'corpus', 'nested')
for d in (NESTED, BAD, CORPUS):
    os.makedirs(d, exist_ok=True)


def put(b, off, v, n):
    b[off:off + n] = (v & ((1 << (8 * n)) - 1)).to_bytes(n, 'little')


def vmx(flags=1):
    b = bytearray(128 + 4096)
    put(b, 0, flags, 2); put(b, 2, 0, 2); put(b, 4, len(b), 4)
    put(b, 8, 0x10000, 8); put(b, 16, 0x11000, 8)              # vmxon_pa, vmcs12_pa
    v = 128
    for off, val, n in [(0, 0x11e57ed0, 4), (8, 1, 4), (56, 0x12000, 8), (120, 0x1305e, 8), (176, -1, 8),
                        (424, 0x80050033, 8), (432, 0x7000, 8), (440, 0x2020, 8), (536, 0x7fffc000, 8),
                        (544, 0xffffffff81000000, 8), (552, 2, 8), (584, 0x80050033, 8), (592, 0x8000, 8),
                        (600, 0x2020, 8), (672, 0xffffffff81001000, 8), (748, (1 << 31) | (1 << 28), 4),
                        (768, 1 << 9, 4), (780, 1 << 9, 4), (804, (1 << 1) | (1 << 5), 4), (960, 1, 2),
                        (966, 0x10, 2), (984, 0x10, 2), (986, 0x18, 2), (994, 0x40, 2)]:
        put(b, v + off, val, n)
    return b


def svm(flags=0x101):
    b = bytearray(128 + 4096)
    put(b, 0, flags, 2); put(b, 2, 1, 2); put(b, 4, len(b), 4); put(b, 8, 0x20000, 8)
    c, s = 128, 128 + 0x400
    for off, val, n in [(c + 0x0c, 2, 4), (c + 0x10, 1, 4), (c + 0x40, 0x30000, 8), (c + 0x48, 0x40000, 8),
                        (c + 0x58, 1, 4), (c + 0x90, 1, 8), (c + 0xb0, 0x60000, 8), (s + 0x10, 0x10, 2),
                        (s + 0x12, 0x29b, 2), (s + 0xd0, 0x1d01, 8), (s + 0x148, 0x20, 8), (s + 0x150, 0x50000, 8),
                        (s + 0x158, 0x80050033, 8), (s + 0x160, 0x400, 8), (s + 0x168, 0xffff0ff0, 8),
                        (s + 0x170, 2, 8), (s + 0x178, 0xffffffff81002000, 8), (s + 0x1d8, 0xffffc90000003f00, 8),
                        (s + 0x268, 0x0007040600070406, 8)]:
        put(b, off, val, n)
    return b


def w(path, data):
    with open(path, 'wb') as f:
        f.write(bytes(data))


# ---- good samples
w(os.path.join(NESTED, 'vmx-l2.bin'), vmx())
moved = vmx(3)                                   # RUN_PENDING, L2 one instruction further
put(moved, 128 + 544, 0xffffffff81000003, 8)
w(os.path.join(NESTED, 'vmx-l2-pending.bin'), moved)
bad_vmcs = vmx()
put(bad_vmcs, 128 + 960, 0, 2)                   # VPID enabled with virtual_processor_id 0
put(bad_vmcs, 128 + 916, 2, 4)                   # activity state shutdown
w(os.path.join(NESTED, 'vmx-l2-refused.bin'), bad_vmcs)
w(os.path.join(NESTED, 'svm-l2.bin'), svm())
bad_vmcb = svm()
put(bad_vmcb, 128 + 0x58, 0, 4)                  # ASID 0
w(os.path.join(NESTED, 'svm-l2-asid0.bin'), bad_vmcb)

# ---- bad
w(os.path.join(BAD, 'nested-truncated-header.bin'), vmx()[:100])
past = vmx()
put(past, 4, 128 + 8192, 4)
w(os.path.join(BAD, 'nested-size-past-end.bin'), past)
zero = vmx()
put(zero, 4, 0, 4)
w(os.path.join(BAD, 'nested-size-zero.bin'), zero)
fmt5 = vmx()
put(fmt5, 2, 5, 2)
w(os.path.join(BAD, 'nested-format-unknown.bin'), fmt5)
w(os.path.join(BAD, 'nested-not-xsave.bin'), svm())

# ---- fuzz seeds
w(os.path.join(CORPUS, 'vmx-l2.bin'), vmx())
w(os.path.join(CORPUS, 'vmx-l2-refused.bin'), bad_vmcs)
w(os.path.join(CORPUS, 'svm-l2.bin'), svm())
w(os.path.join(CORPUS, 'header-only.bin'), struct.pack('<HHIqq', 0, 0, 128, -1, -1) + bytes(104))
shadow = vmx()
put(shadow, 128 + 804, (1 << 1) | (1 << 5) | (1 << 14), 4)
put(shadow, 128 + 176, 0x16000, 8)
shadow += bytes(4096)
put(shadow, 4, len(shadow), 4)
put(shadow, 128 + 4096, 0x91e57ed0, 4)
w(os.path.join(CORPUS, 'vmx-shadow.bin'), shadow)
w(os.path.join(CORPUS, 'truncated.bin'), vmx()[:100])
