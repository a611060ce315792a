#!/usr/bin/env python3
"""A QEMU stream of a VM with GIB GiB of non-zero RAM, for the dump benchmark: the real 2-vCPU
TCG stream (test-data/qemu/tcg-2cpu.mig) with one RAM section of GIB GiB of normal pages
(RAM_SAVE_FLAG_PAGE, 4096 bytes each) inserted before QEMU_VM_EOF, as QEMU sends a dirty pass.
usage: make_big_stream.py OUT [GIB]   (default 4; fractions allowed)"""
import os, struct, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
out, gib = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 4
real = open(os.path.join(ROOT, "test-data/qemu/tcg-2cpu.mig"), "rb").read()
# The description starts at the last "\x00\x06<be32 len>{" whose length reaches the end.
p = next(p for p in range(len(real) - 6, 0, -1)
         if real[p] == 6 and real[p - 1] == 0 and struct.unpack(">I", real[p + 1:p + 5])[0] == len(real) - p - 5)
ram = real.index(b"\x03ram")            # START: 0x01, be32 section id, "\x03ram"
sid = struct.unpack(">I", real[ram - 4:ram])[0]
page = bytes((i * 13 + 7) & 0xff or 1 for i in range(4096))
with open(out, "wb") as f:
    f.write(real[:p - 1])
    f.write(b"\x02" + struct.pack(">I", sid))
    pages = int(gib * (1 << 18))
    # The first record names the block; the rest continue it. Records are built 4096 at a time
    # in one buffer whose headers are patched in place (fast enough to make 4 GiB per bench run).
    f.write(struct.pack(">Q", 0x08) + b"\x06pc.ram" + page)
    rec, per = 8 + len(page), 4096
    chunk = bytearray((bytes(8) + page) * per)
    for base in range(1, pages, per):
        n = min(per, pages - base)
        for i in range(n):
            struct.pack_into(">Q", chunk, i * rec, (base + i) << 12 | 0x08 | 0x20)
        f.write(memoryview(chunk)[:n * rec])
    f.write(struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", sid))
    f.write(real[p - 1:])
