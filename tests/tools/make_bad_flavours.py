#!/usr/bin/env python3
"""Writes the malformed 32-bit / FreeBSD / NetBSD cores of test-data/bad and ELFCLASS32 seeds
for fuzz/corpus/elfcore. All synthetic, from the note layouts cited in
tests/test_core_flavours.cpp. Run from the repository root."""
import os
import struct

BAD = 'test-data/bad'
SEEDS = 'fuzz/corpus/elfcore'


def core(is64, machine, notes):
    ph = 64 if is64 else 52
    start = ph + (56 if is64 else 32)
    body = b''
    for owner, typ, desc in notes:
        name = owner.encode() + b'\0'
        body += struct.pack('<III', len(name), len(desc), typ)
        body += name + b'\0' * (-len(name) % 4) + desc + b'\0' * (-len(desc) % 4)
    h = bytearray(start)
    h[0:7] = b'\x7fELF' + bytes([2 if is64 else 1, 1, 1])
    struct.pack_into('<HHI', h, 16, 4, machine, 1)
    if is64:
        struct.pack_into('<Q', h, 32, ph)
        struct.pack_into('<HHH', h, 52, 64, 56, 1)
        struct.pack_into('<IIQQQQQQ', h, ph, 4, 0, start, 0, 0, len(body), 0, 4)
    else:
        struct.pack_into('<I', h, 28, ph)
        struct.pack_into('<HHH', h, 40, 52, 32, 1)
        struct.pack_into('<IIIIIIII', h, ph, 4, start, 0, 0, len(body), 0, 0, 4)
    return bytes(h) + body


def pid(size, at, tid):
    d = bytearray(size)
    struct.pack_into('<I', d, at, tid)
    return bytes(d)


fx = bytearray(512)
struct.pack_into('<HH', fx, 0, 0x27f, 0)
struct.pack_into('<II', fx, 24, 0x1f80, 0xffff)
fx = bytes(fx)
fs = bytearray(108)
struct.pack_into('<III', fs, 0, 0xffff037f, 0xffff0000, 0xffffffff)
fs = bytes(fs)
xs = bytearray(832)
struct.pack_into('<Q', xs, 464, 7)
struct.pack_into('<Q', xs, 512, 7)
xs = bytes(xs)

bad = {
    'elf32-truncated-header.bin': core(False, 3, [])[:30],
    'elf32-prxfpreg-short.bin': core(False, 3, [('CORE', 1, pid(144, 24, 1)), ('LINUX', 0x46e62b7f, fx[:100])]),
    'elf32-fsave-short.bin': core(False, 3, [('CORE', 1, pid(144, 24, 1)), ('CORE', 2, fs[:50])]),
    'elf32-prstatus-short.bin': core(False, 3, [('CORE', 1, pid(20, 0, 1)), ('CORE', 2, fs)]),
    'elf32-phoff-past-end.bin': core(False, 3, [('CORE', 2, fs)])[:60],
    'elf-no-fp-notes.bin': core(True, 62, [('CORE', 1, pid(336, 32, 1)), ('CORE', 3, bytes(136))]),
    'freebsd-prstatus-short.bin': core(True, 62, [('FreeBSD', 1, pid(40, 0, 1)), ('FreeBSD', 0x202, xs)]),
    'freebsd-fpregset-short.bin': core(True, 62, [('FreeBSD', 1, pid(224, 40, 1)), ('FreeBSD', 2, fx[:511])]),
    'netbsd-xstate-short.bin': core(True, 62, [('NetBSD-CORE@1', 41, fx)]),
    'netbsd-lwp-not-number.bin': core(True, 62, [('NetBSD-CORE@1x', 35, fx)]),
    'fxsave-600-bytes.bin': bytes(600),
}
for name, data in bad.items():
    with open(os.path.join(BAD, name), 'wb') as f:
        f.write(data)

seeds = {
    'linux-i386-all-notes.core': core(False, 3, [('CORE', 1, pid(144, 24, 10)), ('CORE', 2, fs),
                                                 ('LINUX', 0x46e62b7f, fx), ('LINUX', 0x202, xs)]),
    'linux-x32-fxsave.core': core(False, 62, [('CORE', 1, pid(296, 24, 11)), ('CORE', 2, fx)]),
    'freebsd-amd64.core': core(True, 62, [('FreeBSD', 1, pid(224, 40, 100100)), ('FreeBSD', 2, fx),
                                          ('FreeBSD', 0x202, xs), ('FreeBSD', 8, bytes(16))]),
    'freebsd-i386.core': core(False, 3, [('FreeBSD', 1, pid(96, 24, 100101)), ('FreeBSD', 2, fs + bytes(68))]),
    'netbsd-amd64.core': core(True, 62, [('NetBSD-CORE', 1, bytes(32)), ('NetBSD-CORE@1', 35, fx),
                                         ('NetBSD-CORE@1', 41, struct.pack('<QQ', 7, 7) + fx + bytes(256))]),
    'netbsd-i386.core': core(False, 3, [('NetBSD-CORE@3', 35, fs)]),
}
for name, data in seeds.items():
    with open(os.path.join(SEEDS, name), 'wb') as f:
        f.write(data)
for name in bad:
    if name.startswith(('elf32', 'freebsd', 'netbsd')):
        with open(os.path.join(SEEDS, name), 'wb') as f:
            f.write(bad[name])
